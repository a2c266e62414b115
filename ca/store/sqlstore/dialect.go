package sqlstore

import (
	"strconv"
	"strings"
)

// Dialect is everything the shared core needs to know about one SQL engine.
// Queries are written once with "?" placeholders and plain SQL that both
// engines accept; the few real differences live here.
type Dialect struct {
	// Name names the engine in error messages ("sqlite", "postgres").
	Name string
	// NumberedPlaceholders is true for engines that want $1, $2, ... instead
	// of repeated "?" (PostgreSQL).
	NumberedPlaceholders bool
	// IsDuplicate reports whether err is a unique or primary key violation,
	// so an insert that lost to an existing row becomes store.ErrDuplicate
	// rather than an opaque driver error.
	IsDuplicate func(err error) bool
	// HeadLock is appended to the SELECT that reads the audit chain head at
	// the start of every write transaction. On PostgreSQL it is " FOR UPDATE":
	// the row lock makes writers in other processes wait, so the chain stays
	// one chain. It is empty where the transaction already excludes every
	// other writer (SQLite's BEGIN IMMEDIATE).
	HeadLock string
	// PrepareInBatch prepares each statement once per batch transaction.
	// SQLite's driver would otherwise parse every statement anew; pgx
	// already keeps its own cache of prepared statements, and preparing
	// again per batch would only add round trips.
	PrepareInBatch bool
}

// Rebind rewrites the "?" placeholders of query into the dialect's form.
// Queries in this package never contain "?" inside string literals, so a
// plain scan is enough.
func (d *Dialect) Rebind(query string) string {
	if !d.NumberedPlaceholders || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}
