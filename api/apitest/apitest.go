// Package apitest boots a complete esig server in-process for tests and
// benchmarks: a real store (a SQLite file, or PostgreSQL), a CA created on
// first start (with file keys or on a SoftHSM2 token), and the HTTP API on a
// real listener at 127.0.0.1:0.
package apitest

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for fresh test databases

	"esig/api"
	"esig/api/auth"
	"esig/app"
	"esig/internal/config"
)

// Options selects the server's parts. The zero value is SQLite in a temp
// directory with an ECDSA P-256 CA in files.
type Options struct {
	// Postgres runs the store on a fresh database of the server that
	// ESIG_TEST_POSTGRES_DSN names; the test is skipped when it is unset.
	Postgres bool
	// HSM keeps the CA's keys on this token (a pkcs11: URI with the PIN).
	HSM     string
	KeyType string
	// Background runs the RA's jobs and the webhook dispatcher every
	// ra.interval, as esig serve does.
	Background bool
	// Configure may adjust the configuration before the server opens.
	Configure func(*config.Config)
}

// Env is a running server.
type Env struct {
	URL        string // base URL, http://127.0.0.1:port
	AdminToken string
	App        *app.App
	Server     *api.Server
	Client     *http.Client
}

// Start boots a server and stops it when the test ends.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	cfg := config.Default()
	cfg.Data = t.TempDir()
	cfg.Log.Level = "warn"
	if opts.KeyType != "" {
		cfg.CA.KeyType = opts.KeyType
	}
	if opts.HSM != "" {
		cfg.CA.HSM = opts.HSM
	}
	if opts.Postgres {
		cfg.Database = FreshPostgres(t)
	}
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.BaseURL = "http://" + ln.Addr().String()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.Open(context.Background(), cfg, log)
	if err != nil {
		ln.Close()
		t.Fatalf("opening the CA: %v", err)
	}
	token, _, err := auth.Create(context.Background(), a.Store, "test admin", []string{auth.ScopeAdmin}, "test")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(api.Deps{
		Authority: a.Authority, Store: a.Store, CRL: a.CRL, OCSP: a.OCSP, Root: a.Hierarchy.Root, Issuing: a.Hierarchy.Issuing, TSA: a.TSA, RA: a.RA, Intake: a.Intake, BaseURL: a.Config.BaseURL,
		Log: log, MaxBodyBytes: cfg.HTTP.MaxBodyBytes, RateLimit: float64(cfg.HTTP.RateLimit), RateBurst: cfg.HTTP.RateBurst,
		RootCRL: a.Hierarchy.RootCRLDER,
	})
	if err != nil {
		t.Fatal(err)
	}
	a.OCSP.SetObserver(srv.ObserveOCSP)
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout, ReadTimeout: cfg.HTTP.ReadTimeout,
		WriteTimeout: cfg.HTTP.WriteTimeout, IdleTimeout: cfg.HTTP.IdleTimeout}
	go hs.Serve(ln)
	bg, stopBG := context.WithCancel(context.Background())
	if opts.Background {
		go a.RA.Run(bg, cfg.RA.Interval)
		go a.Webhooks.Run(bg, cfg.RA.Interval)
	}
	t.Cleanup(func() {
		stopBG()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
		_ = a.Close()
	})
	return &Env{URL: cfg.BaseURL, AdminToken: token, App: a, Server: srv, Client: &http.Client{Timeout: 30 * time.Second}}
}

// FreshPostgres creates an empty database on the server named by
// ESIG_TEST_POSTGRES_DSN, drops it when the test ends, and returns its URL.
// It skips the test when the variable is unset.
func FreshPostgres(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("ESIG_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("ESIG_TEST_POSTGRES_DSN is not set; skipping the PostgreSQL variant")
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("esig_test_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		t.Fatalf("creating a test database: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		admin.Close()
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Do sends a request with the given bearer token ("" for none) and JSON
// body (nil for none) and returns the response with its body read.
func (e *Env) Do(t testing.TB, method, path, token string, body []byte) (*http.Response, []byte) {
	t.Helper()
	var r *http.Request
	var err error
	if body != nil {
		r, err = http.NewRequest(method, e.URL+path, strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
	} else {
		r, err = http.NewRequest(method, e.URL+path, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.Client.Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp, b
}
