package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"esig/ca/audit"
	"esig/ca/store"
	"esig/ca/store/sqlite"
	"esig/ca/store/storetest"
)

func open(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "ca.db"))
	})
}

// TestReplicas opens one file twice, as two processes would.
func TestReplicas(t *testing.T) {
	storetest.RunReplicas(t, func(t *testing.T) (store.Store, store.Store) {
		path := filepath.Join(t.TempDir(), "ca.db")
		return open(t, path), open(t, path)
	})
}

// TestReopen checks that a second Open finds the data and the chain of the
// first, and that applying the migrations again is a no-op.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ca.db")
	ctx := context.Background()
	s := open(t, path)
	ev := audit.Event{Kind: audit.KindCACreated, Actor: "test", Object: "ca"}
	if err := s.AppendAudit(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	if err := s.AppendAudit(ctx, ev); err != nil {
		t.Fatal(err)
	}
	var v audit.Verifier
	if err := s.WalkAudit(ctx, v.Add); err != nil {
		t.Fatalf("chain after reopening: %v", err)
	}
	if v.Count() != 2 {
		t.Fatalf("chain after reopening has %d entries, want 2", v.Count())
	}
}

// TestDurabilitySettings checks what a CA relies on: WAL, synchronous=FULL
// and a file only its owner can read.
func TestDurabilitySettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ca.db")
	s := open(t, path)
	ctx := context.Background()
	var mode string
	if err := s.DB().QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q (%v), want wal", mode, err)
	}
	var sync, busy, fk int
	if err := s.DB().QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil || sync != 2 {
		t.Errorf("synchronous = %d (%v), want 2 (FULL)", sync, err)
	}
	if err := s.DB().QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil || busy <= 0 {
		t.Errorf("busy_timeout = %d (%v), want > 0", busy, err)
	}
	if err := s.DB().QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d (%v), want 1", fk, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("database file mode %v, want 0600", perm)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, path, want string
	}{
		{"empty", "", "empty"},
		{"in memory", ":memory:", "in-memory"},
		{"URI", "file:ca.db?mode=memory", "URI"},
		{"query character", filepath.Join(dir, "ca?.db"), "'?'"},
		{"missing directory", filepath.Join(dir, "no", "such", "ca.db"), "create"},
		{"directory", dir, "create"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := sqlite.Open(context.Background(), tc.path)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func BenchmarkInsertCertificate(b *testing.B) {
	storetest.BenchmarkInsert(b, open(b, filepath.Join(b.TempDir(), "ca.db")))
}

// TestGroupCommit holds the store's only write connection, so requests pile
// up behind the writer, and checks they are committed as one batch.
func TestGroupCommit(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "ca.db"))
	storetest.RunGroupCommit(t, s, func(t *testing.T) func() {
		conn, err := s.DB().Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return func() { conn.Close() }
	})
}
