package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// Migrate applies every pending migration in fsys (goose SQL files at its
// root) to db. Each engine keeps its own history, because the column types
// and literals differ; opts lets an engine add a lock so replicas starting
// together do not migrate twice.
func Migrate(ctx context.Context, db *sql.DB, dialect goose.Dialect, fsys fs.FS, opts ...goose.ProviderOption) error {
	opts = append([]goose.ProviderOption{goose.WithLogger(goose.NopLogger())}, opts...)
	p, err := goose.NewProvider(dialect, db, fsys, opts...)
	if err != nil {
		return fmt.Errorf("%s: migrations: %w", dialect, err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("%s: apply migrations: %w", dialect, err)
	}
	return nil
}
