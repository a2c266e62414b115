package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"esig/ca/audit"
	"esig/ca/store"
)

// Paging limits of ListCertificates.
const (
	// DefaultPageSize is used when ListFilter.PageSize is zero or negative.
	DefaultPageSize = 50
	// MaxPageSize caps ListFilter.PageSize, since every row carries its DER.
	MaxPageSize = 1000
)

// certColumns is the column list every certificate query reads, in the
// order scanCertificate expects.
const certColumns = `serial, der, profile, subject, subscriber_id, shard, not_before, not_after, issued_at, status, revoked_at, reason`

type scanner interface{ Scan(dest ...any) error }

// scanCertificate reads one row of certColumns, plus any extra destinations
// a query appends after them.
func scanCertificate(row scanner, extra ...any) (*store.Certificate, error) {
	var (
		c                        store.Certificate
		notBefore, notAfter, iss int64
		status                   string
		revokedAt                sql.NullInt64
	)
	dest := []any{&c.Serial, &c.DER, &c.Profile, &c.Subject, &c.SubscriberID, &c.Shard,
		&notBefore, &notAfter, &iss, &status, &revokedAt, &c.Reason}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	c.NotBefore, c.NotAfter, c.IssuedAt = fromMicros(notBefore), fromMicros(notAfter), fromMicros(iss)
	c.Status = store.Status(status)
	c.RevokedAt = fromNullMicros(revokedAt)
	return &c, nil
}

// pageWindow turns a 1-based page and a page size into LIMIT and OFFSET:
// size defaults to DefaultPageSize and is capped at MaxPageSize; ok is
// false for a page so far out that its offset would overflow.
func pageWindow(page, size int) (limit, offset int, ok bool) {
	page = max(page, 1)
	if size <= 0 {
		size = DefaultPageSize
	}
	size = min(size, MaxPageSize)
	if page-1 > math.MaxInt32/size {
		return 0, 0, false
	}
	return size, (page - 1) * size, true
}

// InsertCertificate stores a newly issued certificate (Status empty or
// valid) with its audit event; ErrDuplicate if the serial is taken.
func (s *Store) InsertCertificate(ctx context.Context, c *store.Certificate, ev audit.Event) error {
	if err := errors.Join(checkNewCertificate(c), checkEvent(ev)); err != nil {
		return fmt.Errorf("%s: %w", s.d.Name, err)
	}
	changedAt := audit.Normalize(ev).Time
	return s.w.do(ctx, func(t *wtx) error {
		_, err := t.exec(`INSERT INTO certificates (`+certColumns+`, status_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.Serial, c.DER, c.Profile, c.Subject, c.SubscriberID, c.Shard,
			micros(c.NotBefore), micros(c.NotAfter), micros(c.IssuedAt),
			string(store.StatusValid), nil, 0, micros(changedAt))
		if err != nil {
			if t.s.d.IsDuplicate(err) {
				return fmt.Errorf("%s: certificate %s: %w", t.s.d.Name, c.Serial, store.ErrDuplicate)
			}
			return fmt.Errorf("%s: insert certificate %s: %w", t.s.d.Name, c.Serial, err)
		}
		return t.appendAudit(ev)
	})
}

// checkNewCertificate rejects a certificate the store could not keep
// faithfully, naming the field at fault.
func checkNewCertificate(c *store.Certificate) error {
	switch {
	case c == nil:
		return errors.New("certificate is nil")
	case !isLowerHex(c.Serial):
		return fmt.Errorf("certificate %q: Serial must be non-empty lowercase hex", c.Serial)
	case len(c.DER) == 0:
		return fmt.Errorf("certificate %s: DER is empty", c.Serial)
	case c.Shard < 0:
		return fmt.Errorf("certificate %s: Shard %d is negative", c.Serial, c.Shard)
	case c.NotBefore.IsZero():
		return fmt.Errorf("certificate %s: NotBefore is zero", c.Serial)
	case c.NotAfter.IsZero():
		return fmt.Errorf("certificate %s: NotAfter is zero", c.Serial)
	case c.IssuedAt.IsZero():
		return fmt.Errorf("certificate %s: IssuedAt is zero", c.Serial)
	case c.Status != "" && c.Status != store.StatusValid:
		return fmt.Errorf("certificate %s: Status %q: a newly issued certificate must be valid (revoke it afterwards)", c.Serial, c.Status)
	case !c.RevokedAt.IsZero():
		return fmt.Errorf("certificate %s: RevokedAt is set on a newly issued certificate", c.Serial)
	}
	return nil
}

func isLowerHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if ch := s[i]; (ch < '0' || ch > '9') && (ch < 'a' || ch > 'f') {
			return false
		}
	}
	return true
}

// normalizeSerial lets lookups accept upper-case hex, as serials arrive from
// URLs and tools that print them that way; stored serials are lowercase.
func normalizeSerial(serial string) string { return strings.ToLower(serial) }

// Certificate returns the certificate with this serial, or ErrNotFound.
func (s *Store) Certificate(ctx context.Context, serial string) (*store.Certificate, error) {
	serial = normalizeSerial(serial)
	c, err := scanCertificate(s.read.QueryRowContext(ctx, s.q(`SELECT `+certColumns+` FROM certificates WHERE serial = ?`), serial))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s: certificate %s: %w", s.d.Name, serial, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: read certificate %s: %w", s.d.Name, serial, err)
	}
	return c, nil
}

// certificate reads a certificate inside the write transaction.
func (t *wtx) certificate(serial string) (*store.Certificate, error) {
	c, err := scanCertificate(t.queryRow(`SELECT `+certColumns+` FROM certificates WHERE serial = ?`, serial))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s: certificate %s: %w", t.s.d.Name, serial, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: read certificate %s: %w", t.s.d.Name, serial, err)
	}
	return c, nil
}

// ListCertificates returns one page of certificates, newest first (ties
// broken by serial, descending), and the number matching the filter. Page
// below 1 means 1; PageSize defaults to DefaultPageSize and is capped at
// MaxPageSize.
func (s *Store) ListCertificates(ctx context.Context, f store.ListFilter) ([]*store.Certificate, int, error) {
	var (
		where []string
		args  []any
	)
	if f.Status != "" {
		if !knownStatus(f.Status) {
			return nil, 0, fmt.Errorf("%s: list certificates: ListFilter.Status %q is not a status", s.d.Name, f.Status)
		}
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	if f.Profile != "" {
		where, args = append(where, "profile = ?"), append(args, f.Profile)
	}
	if f.SubscriberID != "" {
		where, args = append(where, "subscriber_id = ?"), append(args, f.SubscriberID)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	size, offset, ok := pageWindow(f.Page, f.PageSize)
	if !ok {
		return nil, 0, fmt.Errorf("%s: list certificates: ListFilter.Page %d is out of range", s.d.Name, f.Page)
	}

	// COUNT(*) OVER () is computed before LIMIT, so one statement (one
	// snapshot) yields the page and the total together.
	rows, err := s.read.QueryContext(ctx,
		s.q(`SELECT `+certColumns+`, COUNT(*) OVER () FROM certificates`+cond+` ORDER BY issued_at DESC, serial DESC LIMIT ? OFFSET ?`),
		append(args, size, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: list certificates: %w", s.d.Name, err)
	}
	defer rows.Close()
	var (
		out   []*store.Certificate
		total int64
	)
	for rows.Next() {
		c, err := scanCertificate(rows, &total)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: list certificates: %w", s.d.Name, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("%s: list certificates: %w", s.d.Name, err)
	}
	if len(out) == 0 && offset > 0 {
		// A page past the end has no row to carry the total.
		if err := s.read.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM certificates`+cond), args...).Scan(&total); err != nil {
			return nil, 0, fmt.Errorf("%s: count certificates: %w", s.d.Name, err)
		}
	}
	return out, int(total), nil
}

func knownStatus(st store.Status) bool {
	return st == store.StatusValid || st == store.StatusRevoked || st == store.StatusOnHold
}

// revocable reports whether reason may be passed to Revoke: every RFC 5280
// CRLReason except the unused value 7 and removeFromCRL, which is what
// ReleaseHold records.
func revocable(reason int) bool {
	return reason >= store.ReasonUnspecified && reason <= 10 && reason != 7 && reason != store.ReasonRemoveFromCRL
}

// Revoke records a revocation or, with reason certificateHold, a hold. A
// certificate on hold that is revoked for good takes the new time and
// reason. The status change time StatusChangedSince goes by is the time of
// ev (the moment of the change, normally now), not at, so a back-dated
// revocation is still noticed.
func (s *Store) Revoke(ctx context.Context, serial string, reason int, at time.Time, ev audit.Event) (*store.Certificate, bool, error) {
	serial = normalizeSerial(serial)
	switch {
	case !revocable(reason):
		return nil, false, fmt.Errorf("%s: revoke %s: reason %d is not a revocation reason", s.d.Name, serial, reason)
	case at.IsZero():
		return nil, false, fmt.Errorf("%s: revoke %s: revocation time is zero", s.d.Name, serial)
	}
	if err := checkEvent(ev); err != nil {
		return nil, false, fmt.Errorf("%s: revoke %s: %w", s.d.Name, serial, err)
	}
	var (
		out       *store.Certificate
		changed   bool
		changedAt = audit.Normalize(ev).Time
	)
	err := s.w.do(ctx, func(t *wtx) error {
		c, err := t.certificate(serial)
		if err != nil {
			return err
		}
		next := store.StatusRevoked
		if reason == store.ReasonCertificateHold {
			next = store.StatusOnHold
		}
		// Only a valid certificate may go on hold, and only a valid or held
		// one may be revoked; anything else is a repeat and changes nothing.
		if c.Status == store.StatusRevoked || (c.Status == store.StatusOnHold && next == store.StatusOnHold) {
			out, changed = c, false
			return nil
		}
		at := at.UTC().Truncate(time.Microsecond)
		if _, err := t.exec(`UPDATE certificates SET status = ?, revoked_at = ?, reason = ?, status_changed_at = ? WHERE serial = ?`,
			string(next), micros(at), reason, micros(changedAt), serial); err != nil {
			return fmt.Errorf("%s: revoke %s: %w", t.s.d.Name, serial, err)
		}
		if err := t.appendAudit(ev); err != nil {
			return err
		}
		c.Status, c.RevokedAt, c.Reason = next, at, reason
		out, changed = c, true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, changed, nil
}

// ReleaseHold makes a certificate on hold valid again, clearing its
// revocation time and reason.
func (s *Store) ReleaseHold(ctx context.Context, serial string, ev audit.Event) (*store.Certificate, bool, error) {
	serial = normalizeSerial(serial)
	if err := checkEvent(ev); err != nil {
		return nil, false, fmt.Errorf("%s: release hold of %s: %w", s.d.Name, serial, err)
	}
	var (
		out       *store.Certificate
		changed   bool
		changedAt = audit.Normalize(ev).Time
	)
	err := s.w.do(ctx, func(t *wtx) error {
		c, err := t.certificate(serial)
		if err != nil {
			return err
		}
		switch c.Status {
		case store.StatusValid:
			out, changed = c, false
			return nil
		case store.StatusRevoked:
			return fmt.Errorf("%s: release hold of %s: revoked for good with reason %d: %w", t.s.d.Name, serial, c.Reason, store.ErrConflict)
		}
		if _, err := t.exec(`UPDATE certificates SET status = ?, revoked_at = NULL, reason = 0, status_changed_at = ? WHERE serial = ?`,
			string(store.StatusValid), micros(changedAt), serial); err != nil {
			return fmt.Errorf("%s: release hold of %s: %w", t.s.d.Name, serial, err)
		}
		if err := t.appendAudit(ev); err != nil {
			return err
		}
		c.Status, c.RevokedAt, c.Reason = store.StatusValid, time.Time{}, 0
		out, changed = c, true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, changed, nil
}

// RevokedInShard lists the revoked and on-hold certificates of a shard whose
// NotAfter is at or after notAfter, ordered by serial so that two CRLs built
// from the same state are identical.
func (s *Store) RevokedInShard(ctx context.Context, shard int, notAfter time.Time) ([]store.RevokedEntry, error) {
	rows, err := s.read.QueryContext(ctx,
		s.q(`SELECT serial, revoked_at, reason FROM certificates WHERE shard = ? AND status IN ('revoked', 'on-hold') AND not_after >= ? ORDER BY serial`),
		shard, micros(notAfter))
	if err != nil {
		return nil, fmt.Errorf("%s: revoked certificates of shard %d: %w", s.d.Name, shard, err)
	}
	defer rows.Close()
	var out []store.RevokedEntry
	for rows.Next() {
		var (
			e  store.RevokedEntry
			at sql.NullInt64
		)
		if err := rows.Scan(&e.Serial, &at, &e.Reason); err != nil {
			return nil, fmt.Errorf("%s: revoked certificates of shard %d: %w", s.d.Name, shard, err)
		}
		e.RevokedAt = fromNullMicros(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: revoked certificates of shard %d: %w", s.d.Name, shard, err)
	}
	return out, nil
}

// StatusChangedSince lists serials whose latest status change happened at or
// after t, oldest change first. A change is dated by the time of the audit
// event that recorded it (the caller's clock, normally now); issuance counts
// as a change, since a cache may hold "unknown" for a serial just issued.
// Changes become visible at commit, possibly after later-dated ones, so
// pollers should ask with some overlap.
func (s *Store) StatusChangedSince(ctx context.Context, t time.Time) ([]string, error) {
	rows, err := s.read.QueryContext(ctx,
		s.q(`SELECT serial FROM certificates WHERE status_changed_at >= ? ORDER BY status_changed_at, serial`), micros(t))
	if err != nil {
		return nil, fmt.Errorf("%s: status changes since %s: %w", s.d.Name, t.Format(time.RFC3339Nano), err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var serial string
		if err := rows.Scan(&serial); err != nil {
			return nil, fmt.Errorf("%s: status changes: %w", s.d.Name, err)
		}
		out = append(out, serial)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: status changes: %w", s.d.Name, err)
	}
	return out, nil
}
