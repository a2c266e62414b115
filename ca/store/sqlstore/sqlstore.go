// Package sqlstore is the engine-independent core of the CA's SQL stores
// (ca/store/sqlite, ca/store/postgres): the queries, the audit chain
// bookkeeping and the group-commit writer. An engine opens its database,
// applies its own migrations and hands the result to New together with a
// Dialect; everything else is shared, so both engines behave identically.
//
// Every write goes through one writer goroutine per Store, which drains all
// queued requests into one transaction and acknowledges callers only after
// the COMMIT succeeded. On an engine with a durable commit this turns one
// fsync per certificate into one fsync per batch. A request that fails (a
// duplicate serial, say) fails only its own caller: the batch is then run
// again with a savepoint around each request, and the failing one is rolled
// back to its savepoint while the others commit.
//
// The audit chain head lives in a one-row table that every write
// transaction reads first (and, on PostgreSQL, locks), so writers in several
// processes append to one chain. Work that must not queue behind the audit
// chain, such as the CRL shard leases replicas will take, belongs in its own
// short transactions beside the writer, not inside a batch.
//
// Times are stored as integer microseconds since the Unix epoch, the
// precision audit.Event promises, so they round-trip exactly on every engine.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"esig/ca/store"
)

// ErrClosed is returned by writes attempted after Close.
var ErrClosed = errors.New("store: closed")

// Defaults of Config.
const (
	// DefaultMaxBatch bounds how many write requests share one transaction,
	// so one batch never holds the write lock for long.
	DefaultMaxBatch = 256
	// DefaultBatchTimeout bounds one write transaction, so a stuck database
	// fails queued callers instead of blocking them forever.
	DefaultBatchTimeout = 30 * time.Second
)

// Config is what an engine hands to New.
type Config struct {
	Dialect Dialect
	// Write is the handle the writer goroutine begins its transactions on.
	// An engine with a single writer (SQLite) limits it to one connection.
	Write *sql.DB
	// Read serves every read. It may be the same handle as Write.
	Read *sql.DB
	// MaxBatch is the most requests one transaction carries (0: DefaultMaxBatch).
	MaxBatch int
	// BatchTimeout bounds one write transaction (0: DefaultBatchTimeout).
	BatchTimeout time.Duration
	// CommitDelay is how long a batch waits for more requests before it
	// commits (0: none). Engines whose commit costs an fsync set it.
	CommitDelay time.Duration
}

// Store implements store.Store on a database/sql handle. The engines embed it.
type Store struct {
	d     Dialect
	write *sql.DB
	read  *sql.DB
	w     *writer

	rebound sync.Map // query with "?" -> query in the dialect's form
}

var _ store.Store = (*Store)(nil)

// New starts the writer goroutine of a store over an already migrated
// database. The Store owns both handles from now on: Close closes them.
func New(cfg Config) (*Store, error) {
	switch {
	case cfg.Write == nil:
		return nil, errors.New("sqlstore: Config.Write is nil")
	case cfg.Read == nil:
		return nil, errors.New("sqlstore: Config.Read is nil")
	case cfg.Dialect.Name == "":
		return nil, errors.New("sqlstore: Config.Dialect.Name is empty")
	case cfg.Dialect.IsDuplicate == nil:
		return nil, fmt.Errorf("sqlstore: dialect %s: IsDuplicate is nil", cfg.Dialect.Name)
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.BatchTimeout <= 0 {
		cfg.BatchTimeout = DefaultBatchTimeout
	}
	s := &Store{d: cfg.Dialect, write: cfg.Write, read: cfg.Read}
	s.w = newWriter(s, cfg.MaxBatch, cfg.BatchTimeout, cfg.CommitDelay)
	return s, nil
}

// DB returns the handle the store writes through, for tests and maintenance
// tools that need raw SQL. Anything written through it bypasses the audit
// chain and the group-commit writer.
func (s *Store) DB() *sql.DB { return s.write }

// Ping reports whether the store answers, by reading the audit chain head
// through the read pool: a database that answers but lacks the schema fails.
func (s *Store) Ping(ctx context.Context) error {
	var seq int64
	if err := s.read.QueryRowContext(ctx, s.q(`SELECT seq FROM audit_head WHERE id = 1`)).Scan(&seq); err != nil {
		return fmt.Errorf("%s: ping: %w", s.d.Name, err)
	}
	return nil
}

// Close stops accepting writes, commits every request already queued, and
// closes the database handles.
func (s *Store) Close() error {
	if !s.w.close() {
		return nil
	}
	err := s.write.Close()
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return err
}

// q returns query rebound for the dialect, caching the result: the set of
// distinct queries is small and fixed.
func (s *Store) q(query string) string {
	if v, ok := s.rebound.Load(query); ok {
		return v.(string)
	}
	r := s.d.Rebind(query)
	s.rebound.Store(query, r)
	return r
}

// micros converts t to the stored form: microseconds since the Unix epoch.
func micros(t time.Time) int64 { return t.UnixMicro() }

// nullMicros is micros for optional times: the zero time is stored as NULL.
func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

// fromMicros converts a stored time back, in UTC.
func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// fromNullMicros converts an optional stored time back; NULL is the zero time.
func fromNullMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}
