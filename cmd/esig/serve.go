package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"esig/api"
	"esig/api/auth"
	"esig/app"
	"esig/internal/config"
)

var serveListen string

var serveCmd = &cobra.Command{
	Use:   "serve",
	Short: "Run the CA, OCSP responder, time-stamping authority and HTTP API",
	Long: `Run esig's HTTP service.

On first start in an empty data directory, esig creates a SQLite database,
a CA hierarchy (root, issuing CA, OCSP responder and TSA certificates) and
an admin API key, which it writes to <data>/admin.key (mode 0600) and prints
once. SIGTERM or SIGINT stops it gracefully.`,
	Args: cobra.NoArgs,
	RunE: func(cmd *cobra.Command, _ []string) error {
		cfg, err := loadConfig(cmd)
		if err != nil {
			return err
		}
		if cmd.Flags().Changed("listen") {
			cfg.Listen = serveListen
		}
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		return serve(ctx, cfg, cmd.OutOrStdout())
	},
}

func init() {
	serveCmd.Flags().StringVar(&serveListen, "listen", "", "listen address (default 127.0.0.1:8080; ESIG_LISTEN)")
	rootCmd.AddCommand(serveCmd)
}

// serve runs the service until ctx ends. It prints the admin key made on
// first start to out.
func serve(ctx context.Context, cfg config.Config, out interface{ Write([]byte) (int, error) }) error {
	log, err := newLogger(cfg)
	if err != nil {
		return err
	}
	app.TuneGC()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://" + ln.Addr().String()
	}
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := firstAdminKey(ctx, a, out); err != nil {
		return err
	}
	srv, err := api.New(api.Deps{
		Authority: a.Authority, Store: a.Store, CRL: a.CRL, OCSP: a.OCSP,
		Root: a.Hierarchy.Root, Issuing: a.Hierarchy.Issuing, TSA: a.TSA, RA: a.RA, Intake: a.Intake, BaseURL: a.Config.BaseURL, Log: log, MaxBodyBytes: a.Config.HTTP.MaxBodyBytes, RateLimit: float64(a.Config.HTTP.RateLimit), RateBurst: a.Config.HTTP.RateBurst,
		RootCRL: a.Hierarchy.RootCRLDER,
	})
	if err != nil {
		return err
	}
	a.OCSP.SetObserver(srv.ObserveOCSP)

	bg, cancelBG := context.WithCancel(context.Background())
	defer cancelBG()
	go a.CRL.Run(bg, a.Config.CRL.Refresh)
	go a.OCSP.Watch(bg, a.Config.OCSP.Propagation)
	go a.RA.Run(bg, a.Config.RA.Interval)
	go a.Webhooks.Run(bg, a.Config.RA.Interval)

	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: a.Config.HTTP.ReadHeaderTimeout,
		ReadTimeout:       a.Config.HTTP.ReadTimeout,
		WriteTimeout:      a.Config.HTTP.WriteTimeout,
		IdleTimeout:       a.Config.HTTP.IdleTimeout,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("esig serving", "url", a.Config.BaseURL, "data", a.Config.Data, "database", redactDSN(a.Config.Database))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", a.Config.HTTP.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), a.Config.HTTP.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// firstAdminKey makes an admin key when the store has none, writes it to
// <data>/admin.key with mode 0600 and prints it once.
func firstAdminKey(ctx context.Context, a *app.App, out interface{ Write([]byte) (int, error) }) error {
	keys, err := a.Store.ListAPIKeys(ctx)
	if err != nil || len(keys) > 0 {
		return err
	}
	token, _, err := auth.Create(ctx, a.Store, "initial admin", []string{auth.ScopeAdmin}, "system")
	if err != nil {
		return err
	}
	path := filepath.Join(a.Config.Data, "admin.key")
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	fmt.Fprintf(out, "Admin API key (shown once; also in %s):\n%s\n", path, token)
	return nil
}

// redactDSN hides a password in a database URL for logs.
func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			return u.Redacted()
		}
	}
	return dsn
}
