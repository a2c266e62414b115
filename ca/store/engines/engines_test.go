package engines_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"esig/ca/audit"
	"esig/ca/store"
	"esig/ca/store/engines"
	"esig/ca/store/postgres"
	"esig/ca/store/postgres/pgtest"
	"esig/ca/store/sqlite"
)

// works opens u, checks the store answers and keeps what it is given, and
// returns it for a type check.
func works(t *testing.T, u string) store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := engines.Open(ctx, u)
	if err != nil {
		t.Fatalf("Open(%q): %v", u, err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.AppendAudit(ctx, audit.Event{Kind: audit.KindCACreated, Actor: "test"}); err != nil {
		t.Fatalf("AppendAudit through %q: %v", u, err)
	}
	var v audit.Verifier
	if err := s.WalkAudit(ctx, v.Add); err != nil || v.Count() != 1 {
		t.Fatalf("chain through %q: %d entries, %v; want 1", u, v.Count(), err)
	}
	return s
}

func TestOpenSQLite(t *testing.T) {
	dir := t.TempDir()
	abs := filepath.Join(dir, "abs.db")
	t.Chdir(dir)
	tests := []struct {
		name, url, file string
	}{
		{"sqlite scheme, relative", "sqlite:rel.db", filepath.Join(dir, "rel.db")},
		{"sqlite scheme, any extension", "sqlite:ca.sqlite3", filepath.Join(dir, "ca.sqlite3")},
		{"sqlite URL, absolute", "sqlite://" + abs, abs},
		{"bare path", "bare.db", filepath.Join(dir, "bare.db")},
		{"bare absolute path", filepath.Join(dir, "bare-abs.db"), filepath.Join(dir, "bare-abs.db")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := works(t, tc.url).(*sqlite.Store); !ok {
				t.Fatalf("Open(%q) did not choose SQLite", tc.url)
			}
			if _, err := os.Stat(tc.file); err != nil {
				t.Fatalf("Open(%q) did not create %s: %v", tc.url, tc.file, err)
			}
		})
	}
}

func TestOpenPostgres(t *testing.T) {
	dsn := pgtest.Database(t)
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		t.Skipf("%s is not in URL form; engines.Open only takes URLs", pgtest.EnvDSN)
	}
	if _, ok := works(t, dsn).(*postgres.Store); !ok {
		t.Fatal("Open did not choose PostgreSQL")
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name, url string
		want      []string // substrings the error must contain
		notWant   string   // a substring it must not contain
	}{
		{"empty", "", []string{"empty", "sqlite:PATH"}, ""},
		{"unknown scheme", "mysql://esig:hunter2@db.example/esig", []string{"unsupported", "mysql://esig:", "db.example"}, "hunter2"},
		{"path without .db", "ca.sqlite", []string{"unsupported", "ca.sqlite"}, ""},
		{"sqlite without path", "sqlite:", []string{"names no file"}, ""},
		{"sqlite URL without path", "sqlite://", []string{"names no file"}, ""},
		{"http URL ending in .db", "http://example.org/ca.db", []string{"unsupported"}, ""},
		{"postgres typo", "postgress://db/esig", []string{"unsupported"}, ""},
		{"sqlite in memory", "sqlite::memory:", []string{"in-memory"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := engines.Open(context.Background(), tc.url)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded", tc.url)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Open(%q) error %q does not mention %q", tc.url, err, w)
				}
			}
			if tc.notWant != "" && strings.Contains(err.Error(), tc.notWant) {
				t.Errorf("Open(%q) error %q reveals %q", tc.url, err, tc.notWant)
			}
		})
	}
}
