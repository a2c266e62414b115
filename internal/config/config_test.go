package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadPrecedence(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "esig.yaml")
	os.WriteFile(path, []byte("listen: 127.0.0.1:9000\ncrl:\n  shards: 4\n  validity: 48h\nocsp:\n  validity: 1h\n"), 0o600)
	c, err := Load(path, []string{"ESIG_CRL_SHARDS=8", "ESIG_DATA=" + dir, "UNRELATED=1"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9000" || c.CRL.Shards != 8 || c.CRL.Validity != 48*time.Hour || c.OCSP.Validity != time.Hour || c.Data != dir {
		t.Fatalf("unexpected config: %+v", c)
	}
	if err := c.Resolve(); err != nil {
		t.Fatal(err)
	}
	if c.Database != "sqlite:"+filepath.Join(dir, "esig.db") || c.CA.Dir != filepath.Join(dir, "ca") {
		t.Fatalf("derived settings: %q %q", c.Database, c.CA.Dir)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("lisen: x\n"), 0o600)
	tests := []struct {
		name, path string
		env        []string
		want       string
	}{
		{"unknown key", bad, nil, "lisen"},
		{"missing file", filepath.Join(dir, "none.yaml"), nil, "none.yaml"},
		{"bad duration", "", []string{"ESIG_CRL_VALIDITY=soon"}, "ESIG_CRL_VALIDITY"},
		{"bad number", "", []string{"ESIG_CRL_SHARDS=many"}, "ESIG_CRL_SHARDS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.path, tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load error = %v, want one naming %q", err, tt.want)
			}
		})
	}
	for name, tt := range map[string]struct {
		change func(*Config)
		want   string
	}{
		"no shards":       {func(c *Config) { c.CRL.Shards = 0 }, "crl.shards"},
		"short lease":     {func(c *Config) { c.CRL.LeaseTTL = 100 * time.Millisecond }, "crl.leaseTTL"},
		"very long lease": {func(c *Config) { c.CRL.LeaseTTL = time.Hour }, "crl.leaseTTL"},
	} {
		c := Default()
		tt.change(&c)
		if err := c.Resolve(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Resolve error = %v, want one naming %s", name, err, tt.want)
		}
	}
	c, err := Load("", []string{"ESIG_CRL_LEASE_TTL=30s", "ESIG_DATA=" + t.TempDir()})
	if err != nil || c.CRL.LeaseTTL != 30*time.Second {
		t.Fatalf("ESIG_CRL_LEASE_TTL=30s gave %v, %v", c.CRL.LeaseTTL, err)
	}
}
