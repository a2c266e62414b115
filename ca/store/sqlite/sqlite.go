// Package sqlite is the embedded engine of the CA store: one SQLite file,
// opened through the pure-Go modernc.org/sqlite driver, no server needed.
//
// The file runs in WAL mode with synchronous=FULL, so an acknowledged
// certificate survives a power cut. SQLite has one writer and pays an fsync
// per commit, so writes go through the group-commit writer of
// ca/store/sqlstore: one connection commits whole batches, while reads use a
// separate pool of read-only connections that WAL lets run alongside it.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"esig/ca/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// commitDelay lets a batch wait a moment for company: every commit costs an
// fsync of the WAL, so fewer, larger batches carry more certificates per
// second (see sqlstore.Config.CommitDelay).
const commitDelay = time.Millisecond

// Tuning of the connections.
const (
	// busyTimeoutMS is how long a connection waits for a lock held by
	// another process sharing the file before it gives up.
	busyTimeoutMS = 10000
	// readConns is the size of the read pool; WAL readers never block the
	// writer or each other.
	readConns = 4
)

// Store is the SQLite engine. It implements store.Store through the
// embedded *sqlstore.Store, whose DB method returns the write handle.
type Store struct {
	*sqlstore.Store
}

// dialect is what SQLite needs from the shared core. No head lock is needed:
// the writer's transactions start with BEGIN IMMEDIATE, which excludes every
// other writer of the file, in this process or another.
var dialect = sqlstore.Dialect{
	Name:           "sqlite",
	IsDuplicate:    isDuplicate,
	PrepareInBatch: true,
}

func isDuplicate(err error) bool {
	var e *sqlitedrv.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// Open opens the store in the SQLite file at path, creating the file (mode
// 0600: it holds API key hashes) and applying pending migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	if err := createFile(path); err != nil {
		return nil, err
	}
	common := fmt.Sprintf("_busy_timeout=%d&_foreign_keys=1&_journal_mode=WAL&_synchronous=FULL", busyTimeoutMS)

	write, err := sql.Open("sqlite", path+"?"+common+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// One connection: SQLite has one writer anyway, and the group-commit
	// writer is the only user besides migrations and DB().
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	if err := checkDurability(ctx, write, path); err != nil {
		write.Close()
		return nil, err
	}
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: migrations: %w", err)
	}
	if err := sqlstore.Migrate(ctx, write, goose.DialectSQLite3, fsys); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}

	read, err := sql.Open("sqlite", path+"?"+common+"&_query_only=1")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	read.SetMaxOpenConns(readConns)
	read.SetMaxIdleConns(readConns)
	read.SetConnMaxLifetime(0)

	s, err := sqlstore.New(sqlstore.Config{Dialect: dialect, Write: write, Read: read, CommitDelay: commitDelay})
	if err != nil {
		write.Close()
		read.Close()
		return nil, err
	}
	return &Store{Store: s}, nil
}

// checkPath refuses what the store cannot honour: an in-memory database is
// not shared between the writer and the read pool, and the driver would read
// a "?" as the start of its parameters.
func checkPath(path string) error {
	switch {
	case path == "":
		return errors.New("sqlite: database path is empty")
	case path == ":memory:" || strings.HasPrefix(path, "file:"):
		return fmt.Errorf("sqlite: database path %q: give a plain file path (in-memory and URI databases are not supported)", path)
	case strings.ContainsAny(path, "?#"):
		return fmt.Errorf("sqlite: database path %q contains '?' or '#'", path)
	}
	return nil
}

// createFile creates the database file owner-only if it does not exist yet;
// SQLite would otherwise create it with the process umask.
func createFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	return f.Close()
}

// checkDurability confirms the pragmas took: journal_mode=WAL can silently
// stay "delete" on file systems without shared memory, and the CA relies on
// synchronous=FULL to keep what it acknowledged.
func checkDurability(ctx context.Context, db *sql.DB, path string) error {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("sqlite: %s: journal_mode is %q, want wal", path, mode)
	}
	var sync int
	if err := db.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if sync != 2 { // FULL
		return fmt.Errorf("sqlite: %s: synchronous is %d, want 2 (FULL)", path, sync)
	}
	return nil
}
