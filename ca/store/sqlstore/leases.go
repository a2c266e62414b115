package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"esig/ca/store"
)

// Leases on CRL shards. Each call is one statement in its own transaction on
// the write handle, beside the group-commit writer rather than inside one of
// its batches: a lease must be decided at once, and must not wait for (or
// hold) the audit chain head that every batch locks.

// TakeCRLLease gives holder the lease on shard until until, if the shard has
// no lease, its lease ran out before now, or holder already holds it.
//
// One upsert decides it: the row is inserted, or updated only where the WHERE
// clause allows, and RETURNING yields a row exactly when holder got the
// lease. PostgreSQL evaluates that WHERE against the latest committed row
// under its lock, and SQLite runs writers one at a time, so two replicas
// never both win.
func (s *Store) TakeCRLLease(ctx context.Context, shard int, holder string, now, until time.Time) (store.Lease, bool, error) {
	if err := checkLease(shard, holder, until); err != nil {
		return store.Lease{}, false, fmt.Errorf("%s: take CRL lease: %w", s.d.Name, err)
	}
	if !until.After(now) {
		return store.Lease{}, false, fmt.Errorf("%s: take CRL lease on shard %d: until %s is not after now %s", s.d.Name, shard, until.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano))
	}
	var (
		got     store.Lease
		untilUS int64
	)
	err := s.write.QueryRowContext(ctx, s.q(`INSERT INTO crl_leases (shard, holder, until) VALUES (?, ?, ?)
ON CONFLICT (shard) DO UPDATE SET holder = excluded.holder, until = excluded.until
WHERE crl_leases.holder = excluded.holder OR crl_leases.until < ?
RETURNING shard, holder, until`), shard, holder, micros(until), micros(now)).Scan(&got.Shard, &got.Holder, &untilUS)
	switch {
	case err == nil:
		got.Until = fromMicros(untilUS)
		return got, true, nil
	case !errors.Is(err, sql.ErrNoRows):
		return store.Lease{}, false, fmt.Errorf("%s: take CRL lease on shard %d for %s: %w", s.d.Name, shard, holder, err)
	}
	// Another holder's lease runs. Report it; it may have been released
	// since, and then the caller sees a zero lease and may try again.
	err = s.read.QueryRowContext(ctx, s.q(`SELECT shard, holder, until FROM crl_leases WHERE shard = ?`), shard).
		Scan(&got.Shard, &got.Holder, &untilUS)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Lease{Shard: shard}, false, nil
	}
	if err != nil {
		return store.Lease{}, false, fmt.Errorf("%s: read CRL lease on shard %d: %w", s.d.Name, shard, err)
	}
	got.Until = fromMicros(untilUS)
	return got, false, nil
}

// RenewCRLLease extends holder's lease to until, or returns
// store.ErrConflict if holder lost it. A lease that ran out but that nobody
// took since is still holder's to renew: no other replica wrote the shard
// in between.
func (s *Store) RenewCRLLease(ctx context.Context, shard int, holder string, until time.Time) error {
	if err := checkLease(shard, holder, until); err != nil {
		return fmt.Errorf("%s: renew CRL lease: %w", s.d.Name, err)
	}
	res, err := s.write.ExecContext(ctx, s.q(`UPDATE crl_leases SET until = ? WHERE shard = ? AND holder = ?`), micros(until), shard, holder)
	if err != nil {
		return fmt.Errorf("%s: renew CRL lease on shard %d for %s: %w", s.d.Name, shard, holder, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: renew CRL lease on shard %d for %s: %w", s.d.Name, shard, holder, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: CRL lease on shard %d is no longer held by %s: %w", s.d.Name, shard, holder, store.ErrConflict)
	}
	return nil
}

// ReleaseCRLLease deletes holder's lease on shard, if holder holds it.
func (s *Store) ReleaseCRLLease(ctx context.Context, shard int, holder string) error {
	if err := checkLease(shard, holder, time.Unix(0, 0)); err != nil {
		return fmt.Errorf("%s: release CRL lease: %w", s.d.Name, err)
	}
	if _, err := s.write.ExecContext(ctx, s.q(`DELETE FROM crl_leases WHERE shard = ? AND holder = ?`), shard, holder); err != nil {
		return fmt.Errorf("%s: release CRL lease on shard %d for %s: %w", s.d.Name, shard, holder, err)
	}
	return nil
}

// checkLease refuses arguments no lease can have.
func checkLease(shard int, holder string, until time.Time) error {
	switch {
	case shard < 0:
		return fmt.Errorf("shard %d is negative", shard)
	case holder == "":
		return errors.New("holder is empty")
	case until.IsZero():
		return fmt.Errorf("until of the lease on shard %d is zero", shard)
	}
	return nil
}
