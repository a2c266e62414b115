// Package engines opens a CA store by URL, so configuration and the command
// line name a database without knowing which engine packages exist. It is
// the one place that links every engine into the binary.
package engines

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"esig/ca/store"
	"esig/ca/store/postgres"
	"esig/ca/store/sqlite"
)

// Open opens the store a URL names:
//
//	sqlite:PATH                 a SQLite file (sqlite:///abs/path also works)
//	PATH.db                     a bare path ending in .db, also SQLite
//	postgres://... or postgresql://...   a PostgreSQL database
//
// Anything else is an error that says which forms are accepted.
func Open(ctx context.Context, u string) (store.Full, error) {
	switch {
	case u == "":
		return nil, errors.New("store URL is empty; want sqlite:PATH, PATH.db or postgres://...")
	case strings.HasPrefix(u, "sqlite:"):
		path := strings.TrimPrefix(u, "sqlite:")
		// sqlite:///var/lib/esig.db is the URL form of /var/lib/esig.db.
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return nil, fmt.Errorf("store URL %q names no file", u)
		}
		return sqlite.Open(ctx, path)
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return postgres.Open(ctx, u)
	case strings.HasSuffix(u, ".db") && !strings.Contains(u, "://"):
		return sqlite.Open(ctx, u)
	}
	return nil, fmt.Errorf("store URL %q: unsupported; want sqlite:PATH, PATH.db or postgres://...", redact(u))
}

// redact hides a password an unsupported URL may carry, since the error is
// likely to be logged.
func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		if i := strings.Index(u, "@"); i >= 0 && strings.Contains(u[:i], ":") {
			return "[redacted]@" + u[i+1:]
		}
		return u
	}
	return p.Redacted()
}
