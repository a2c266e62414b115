package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"esig/app"
	"esig/ca/store"
	"esig/ca/store/engines"
	"esig/internal/config"
)

var (
	configFile string
	dataDir    string
)

func init() {
	rootCmd.PersistentFlags().StringVar(&configFile, "config", "", "YAML configuration file (settings are overridden by ESIG_* variables and flags)")
	rootCmd.PersistentFlags().StringVar(&dataDir, "data", "", "data directory (default ./esig-data; ESIG_DATA)")
}

// loadConfig reads the configuration and applies the global flags.
func loadConfig(cmd *cobra.Command) (config.Config, error) {
	cfg, err := config.Load(configFile, os.Environ())
	if err != nil {
		return cfg, usageError{err}
	}
	if cmd.Flags().Changed("data") {
		cfg.Data = dataDir
	}
	return cfg, nil
}

// isTerminal reports whether f is a terminal (logs are text there, JSON
// otherwise).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// newLogger builds the logger the configuration asks for; format "" means
// JSON unless stderr is a terminal.
func newLogger(cfg config.Config) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Log.Level)); err != nil {
		return nil, usageError{fmt.Errorf("log.level: %w", err)}
	}
	opts := &slog.HandlerOptions{Level: level}
	switch cfg.Log.Format {
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "":
		if isTerminal(os.Stderr) {
			return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
		}
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, usageError{fmt.Errorf("log.format %q: use json or text", cfg.Log.Format)}
}

// openStore opens only the store, for commands that need nothing else (and
// must not create a CA as a side effect).
func openStore(cmd *cobra.Command) (store.Full, error) {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return nil, err
	}
	if err := cfg.Resolve(); err != nil {
		return nil, usageError{err}
	}
	if _, err := os.Stat(cfg.Data); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	return engines.Open(cmd.Context(), cfg.Database)
}

// openApp opens the CA for the offline ca, apikey and audit commands. The
// base URL only matters if the CA is created here; it defaults to the
// listen address, as for serve.
func openApp(cmd *cobra.Command) (*app.App, error) {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return nil, err
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://" + cfg.Listen
	}
	if cfg.Log.Format == "" {
		cfg.Log.Format = "text"
	}
	log, err := newLogger(cfg)
	if err != nil {
		return nil, err
	}
	return app.Open(context.Background(), cfg, log)
}
