package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"esig/ca/audit"
	"esig/ca/store"
)

// LatestCRL returns the CRL with the highest number stored for shard.
func (s *Store) LatestCRL(ctx context.Context, shard int) (*store.CRL, error) {
	var (
		c          store.CRL
		this, next int64
	)
	err := s.read.QueryRowContext(ctx,
		s.q(`SELECT shard, number, this_update, next_update, der FROM crl WHERE shard = ? ORDER BY number DESC LIMIT 1`), shard).
		Scan(&c.Shard, &c.Number, &this, &next, &c.DER)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s: CRL of shard %d: %w", s.d.Name, shard, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: read CRL of shard %d: %w", s.d.Name, shard, err)
	}
	c.ThisUpdate, c.NextUpdate = fromMicros(this), fromMicros(next)
	return &c, nil
}

// SaveCRL stores a CRL whose number is above every number stored for its
// shard (ErrConflict otherwise). Every CRL is kept, so the history of what
// was published stays auditable.
func (s *Store) SaveCRL(ctx context.Context, c *store.CRL, ev audit.Event) error {
	switch {
	case c == nil:
		return fmt.Errorf("%s: save CRL: CRL is nil", s.d.Name)
	case c.Shard < 0:
		return fmt.Errorf("%s: save CRL: Shard %d is negative", s.d.Name, c.Shard)
	case c.Number < 0:
		return fmt.Errorf("%s: save CRL of shard %d: Number %d is negative", s.d.Name, c.Shard, c.Number)
	case len(c.DER) == 0:
		return fmt.Errorf("%s: save CRL %d of shard %d: DER is empty", s.d.Name, c.Number, c.Shard)
	case c.ThisUpdate.IsZero():
		return fmt.Errorf("%s: save CRL %d of shard %d: ThisUpdate is zero", s.d.Name, c.Number, c.Shard)
	case c.NextUpdate.Before(c.ThisUpdate):
		return fmt.Errorf("%s: save CRL %d of shard %d: NextUpdate %s is before ThisUpdate %s", s.d.Name, c.Number, c.Shard, c.NextUpdate, c.ThisUpdate)
	}
	if err := checkEvent(ev); err != nil {
		return fmt.Errorf("%s: save CRL %d of shard %d: %w", s.d.Name, c.Number, c.Shard, err)
	}
	return s.w.do(ctx, func(t *wtx) error {
		// Every writer holds the chain head, so nothing can slip in between
		// this check and the insert; the primary key backs it up regardless.
		var newest sql.NullInt64
		if err := t.queryRow(`SELECT MAX(number) FROM crl WHERE shard = ?`, c.Shard).Scan(&newest); err != nil {
			return fmt.Errorf("%s: newest CRL number of shard %d: %w", t.s.d.Name, c.Shard, err)
		}
		if newest.Valid && c.Number <= newest.Int64 {
			return fmt.Errorf("%s: CRL number %d of shard %d is not above the stored %d: %w", t.s.d.Name, c.Number, c.Shard, newest.Int64, store.ErrConflict)
		}
		_, err := t.exec(`INSERT INTO crl (shard, number, this_update, next_update, der) VALUES (?, ?, ?, ?, ?)`,
			c.Shard, c.Number, micros(c.ThisUpdate), micros(c.NextUpdate), c.DER)
		if err != nil {
			if t.s.d.IsDuplicate(err) {
				return fmt.Errorf("%s: CRL number %d of shard %d: %w", t.s.d.Name, c.Number, c.Shard, store.ErrConflict)
			}
			return fmt.Errorf("%s: insert CRL %d of shard %d: %w", t.s.d.Name, c.Number, c.Shard, err)
		}
		return t.appendAudit(ev)
	})
}
