package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"esig/ca/audit"
	"esig/ca/store"
	"esig/ca/store/postgres"
	"esig/ca/store/postgres/pgtest"
	"esig/ca/store/storetest"
)

// open opens a store on a fresh database and closes it before the database
// is dropped (cleanups run last-registered first).
func open(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	pgtest.Require(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, pgtest.Database(t)) })
}

func TestReplicas(t *testing.T) {
	pgtest.Require(t)
	storetest.RunReplicas(t, func(t *testing.T) (store.Store, store.Store) {
		dsn := pgtest.Database(t)
		return open(t, dsn), open(t, dsn)
	})
}

// TestReopen checks that a second Open finds the data and the chain of the
// first, and that applying the migrations again is a no-op.
func TestReopen(t *testing.T) {
	dsn := pgtest.Database(t)
	ctx := context.Background()
	s := open(t, dsn)
	ev := audit.Event{Kind: audit.KindCACreated, Actor: "test", Object: "ca"}
	if err := s.AppendAudit(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dsn)
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

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name, dsn, want string
	}{
		{"malformed", "postgres://[::1", "connection string"},
		{"nobody listening", "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", "connect to database x on 127.0.0.1:1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := postgres.Open(context.Background(), tc.dsn)
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
	storetest.BenchmarkInsert(b, open(b, pgtest.Database(b)))
}

// TestGroupCommit locks the audit chain head from another connection, as
// another replica's batch would, so requests pile up behind the writer, and
// checks they are committed as one batch.
func TestGroupCommit(t *testing.T) {
	s := open(t, pgtest.Database(t))
	storetest.RunGroupCommit(t, s, func(t *testing.T) func() {
		ctx := context.Background()
		tx, err := s.DB().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var seq int64
		if err := tx.QueryRowContext(ctx, "SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE").Scan(&seq); err != nil {
			t.Fatal(err)
		}
		return func() { tx.Rollback() }
	})
}
