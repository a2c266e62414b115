// Package postgres is the server engine of the CA store, for deployments
// that run several replicas on one PostgreSQL database.
//
// Every write transaction starts by locking the single row of audit_head
// (SELECT ... FOR UPDATE), so appends from every replica are serialized and
// the audit chain stays one chain. Writes go through the group-commit writer
// of ca/store/sqlstore, so concurrent issuances in one process share that
// lock and one commit instead of each paying for both.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"esig/ca/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Pool sizing. The writer needs one connection at a time; the rest serve
// reads.
const (
	maxConns     = 16
	maxIdleConns = 8
	connIdleTime = 5 * time.Minute
)

// maxBatch keeps a write batch within PostgreSQL's cache of 64
// subtransactions per transaction: a batch retried with a savepoint per
// request then never overflows it (an overflow slows every other session's
// snapshots until the transaction ends).
const maxBatch = 64

// migrationLockID is the advisory lock replicas take while migrating, so two
// replicas starting together do not apply the same migration twice. The
// value is arbitrary but fixed ("esig" in ASCII).
const migrationLockID = 0x65736967

// uniqueViolation is PostgreSQL's SQLSTATE for a duplicate key.
const uniqueViolation = "23505"

// Store is the PostgreSQL engine. It implements store.Store through the
// embedded *sqlstore.Store, whose DB method returns the connection pool.
type Store struct {
	*sqlstore.Store
}

var dialect = sqlstore.Dialect{
	Name:                 "postgres",
	NumberedPlaceholders: true,
	IsDuplicate:          isDuplicate,
	HeadLock:             " FOR UPDATE",
}

func isDuplicate(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == uniqueViolation
}

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value connection string) and applies pending migrations.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's error does not repeat a password; the DSN itself is not printed.
		return nil, fmt.Errorf("postgres: connection string: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxIdleConns)
	db.SetConnMaxIdleTime(connIdleTime)
	where := fmt.Sprintf("database %s on %s:%d", cfg.Database, cfg.Host, cfg.Port)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect to %s: %w", where, err)
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(1, 300))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: migration lock: %w", err)
	}
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	if err := sqlstore.Migrate(ctx, db, goose.DialectPostgres, fsys, goose.WithSessionLocker(locker)); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %s: %w", where, err)
	}
	s, err := sqlstore.New(sqlstore.Config{Dialect: dialect, Write: db, Read: db, MaxBatch: maxBatch})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Store{Store: s}, nil
}
