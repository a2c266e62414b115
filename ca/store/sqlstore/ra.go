package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"esig/ca/audit"
	"esig/ca/store"
)

var _ store.RAStore = (*Store)(nil)

const subscriberColumns = `id, identity_key, created_at, deactivated_at`

func scanSubscriber(row scanner) (*store.Subscriber, error) {
	var (
		s       store.Subscriber
		created int64
		deact   sql.NullInt64
	)
	if err := row.Scan(&s.ID, &s.IdentityKey, &created, &deact); err != nil {
		return nil, err
	}
	s.CreatedAt, s.DeactivatedAt = fromMicros(created), fromNullMicros(deact)
	return &s, nil
}

// EnsureSubscriber finds or creates the subscriber of an identity key, and
// reactivates a deactivated one; ev is written whenever something changes.
func (s *Store) EnsureSubscriber(ctx context.Context, identityKey, newID string, ev audit.Event) (*store.Subscriber, bool, error) {
	if identityKey == "" || newID == "" {
		return nil, false, fmt.Errorf("%s: subscriber: identity key and new id are required", s.d.Name)
	}
	if err := checkEvent(ev); err != nil {
		return nil, false, fmt.Errorf("%s: subscriber: %w", s.d.Name, err)
	}
	var (
		out     *store.Subscriber
		created bool
	)
	err := s.w.do(ctx, func(t *wtx) error {
		sub, err := scanSubscriber(t.queryRow(`SELECT `+subscriberColumns+` FROM subscribers WHERE identity_key = ?`, identityKey))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			now := audit.Normalize(ev).Time
			if _, err := t.exec(`INSERT INTO subscribers (id, identity_key, created_at) VALUES (?, ?, ?)`, newID, identityKey, micros(now)); err != nil {
				return fmt.Errorf("%s: create subscriber: %w", t.s.d.Name, err)
			}
			ev.Object = newID
			out, created = &store.Subscriber{ID: newID, IdentityKey: identityKey, CreatedAt: now}, true
			return t.appendAudit(ev)
		case err != nil:
			return fmt.Errorf("%s: read subscriber: %w", t.s.d.Name, err)
		case !sub.DeactivatedAt.IsZero():
			if _, err := t.exec(`UPDATE subscribers SET deactivated_at = NULL WHERE id = ?`, sub.ID); err != nil {
				return fmt.Errorf("%s: reactivate subscriber %s: %w", t.s.d.Name, sub.ID, err)
			}
			sub.DeactivatedAt = time.Time{}
			ev.Object = sub.ID
			out, created = sub, false
			return t.appendAudit(ev)
		default:
			out, created = sub, false
			return nil
		}
	})
	return out, created, err
}

// Subscriber returns a subscriber by ID.
func (s *Store) Subscriber(ctx context.Context, id string) (*store.Subscriber, error) {
	sub, err := scanSubscriber(s.read.QueryRowContext(ctx, s.q(`SELECT `+subscriberColumns+` FROM subscribers WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s: subscriber %s: %w", s.d.Name, id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: read subscriber %s: %w", s.d.Name, id, err)
	}
	return sub, nil
}

// DeactivateSubscriber marks a subscriber deactivated, once.
func (s *Store) DeactivateSubscriber(ctx context.Context, id string, at time.Time, ev audit.Event) (bool, error) {
	if err := checkEvent(ev); err != nil {
		return false, fmt.Errorf("%s: deactivate %s: %w", s.d.Name, id, err)
	}
	var changed bool
	err := s.w.do(ctx, func(t *wtx) error {
		res, err := t.exec(`UPDATE subscribers SET deactivated_at = ? WHERE id = ? AND deactivated_at IS NULL`, micros(at), id)
		if err != nil {
			return fmt.Errorf("%s: deactivate %s: %w", t.s.d.Name, id, err)
		}
		n, _ := res.RowsAffected()
		if n == 0 {
			var one int
			if err := t.queryRow(`SELECT 1 FROM subscribers WHERE id = ?`, id).Scan(&one); errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%s: subscriber %s: %w", t.s.d.Name, id, store.ErrNotFound)
			}
			changed = false
			return nil
		}
		changed = true
		return t.appendAudit(ev)
	})
	return changed, err
}

const applicationColumns = `id, subscriber_id, profile, status, applicant, created_by, created_at, expires_at, confirmed_at,
	proof_method, proof, token_hash, token_expires_at, token_used_at, certificate_serial, purged_at`

func scanApplication(row scanner, extra ...any) (*store.Application, error) {
	var (
		a                                          store.Application
		status                                     string
		created, expires                           int64
		confirmed, tokenExpires, tokenUsed, purged sql.NullInt64
	)
	dest := []any{&a.ID, &a.SubscriberID, &a.Profile, &status, &a.Applicant, &a.CreatedBy, &created, &expires, &confirmed,
		&a.ProofMethod, &a.Proof, &a.TokenHash, &tokenExpires, &tokenUsed, &a.CertificateSerial, &purged}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	a.Status = store.ApplicationStatus(status)
	a.CreatedAt, a.ExpiresAt = fromMicros(created), fromMicros(expires)
	a.ConfirmedAt, a.TokenExpiresAt, a.TokenUsedAt, a.PurgedAt = fromNullMicros(confirmed), fromNullMicros(tokenExpires), fromNullMicros(tokenUsed), fromNullMicros(purged)
	return &a, nil
}

func applicationArgs(a *store.Application) []any {
	var token any
	if len(a.TokenHash) > 0 {
		token = a.TokenHash
	}
	return []any{a.SubscriberID, a.Profile, string(a.Status), a.Applicant, a.CreatedBy, micros(a.CreatedAt), micros(a.ExpiresAt),
		nullMicros(a.ConfirmedAt), a.ProofMethod, a.Proof, token, nullMicros(a.TokenExpiresAt), nullMicros(a.TokenUsedAt),
		a.CertificateSerial, nullMicros(a.PurgedAt)}
}

func checkApplication(a *store.Application) error {
	switch {
	case a == nil || a.ID == "" || a.SubscriberID == "":
		return errors.New("application: ID and SubscriberID are required")
	case a.CreatedAt.IsZero() || a.ExpiresAt.IsZero():
		return fmt.Errorf("application %s: CreatedAt and ExpiresAt are required", a.ID)
	}
	switch a.Status {
	case store.ApplicationPending, store.ApplicationConfirmed, store.ApplicationEnrolled, store.ApplicationExpired, store.ApplicationCancelled:
		return nil
	}
	return fmt.Errorf("application %s: status %q is not a status", a.ID, a.Status)
}

// InsertApplication stores a new application.
func (s *Store) InsertApplication(ctx context.Context, a *store.Application, ev audit.Event) error {
	if err := errors.Join(checkApplication(a), checkEvent(ev)); err != nil {
		return fmt.Errorf("%s: %w", s.d.Name, err)
	}
	return s.w.do(ctx, func(t *wtx) error {
		_, err := t.exec(`INSERT INTO applications (`+applicationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			append([]any{a.ID}, applicationArgs(a)...)...)
		if err != nil {
			if t.s.d.IsDuplicate(err) {
				return fmt.Errorf("%s: application %s: %w", t.s.d.Name, a.ID, store.ErrDuplicate)
			}
			return fmt.Errorf("%s: insert application %s: %w", t.s.d.Name, a.ID, err)
		}
		return t.appendAudit(ev)
	})
}

func (s *Store) application(ctx context.Context, where string, arg any) (*store.Application, error) {
	a, err := scanApplication(s.read.QueryRowContext(ctx, s.q(`SELECT `+applicationColumns+` FROM applications WHERE `+where), arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s: application: %w", s.d.Name, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: read application: %w", s.d.Name, err)
	}
	return a, nil
}

// Application returns an application by ID.
func (s *Store) Application(ctx context.Context, id string) (*store.Application, error) {
	return s.application(ctx, "id = ?", id)
}

// ApplicationByToken finds an application by its enrollment token hash.
func (s *Store) ApplicationByToken(ctx context.Context, tokenHash []byte) (*store.Application, error) {
	if len(tokenHash) == 0 {
		return nil, fmt.Errorf("%s: application: %w", s.d.Name, store.ErrNotFound)
	}
	return s.application(ctx, "token_hash = ?", tokenHash)
}

// UpdateApplication applies change inside a write transaction.
func (s *Store) UpdateApplication(ctx context.Context, id string, change func(*store.Application) (audit.Event, error)) (*store.Application, error) {
	var out *store.Application
	err := s.w.do(ctx, func(t *wtx) error {
		a, err := scanApplication(t.queryRow(`SELECT `+applicationColumns+` FROM applications WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: application %s: %w", t.s.d.Name, id, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("%s: read application %s: %w", t.s.d.Name, id, err)
		}
		ev, err := change(a)
		if err != nil {
			return err
		}
		if err := errors.Join(checkApplication(a), checkEvent(ev)); err != nil {
			return fmt.Errorf("%s: %w", t.s.d.Name, err)
		}
		if a.ID != id {
			return fmt.Errorf("%s: application %s: the change altered the ID", t.s.d.Name, id)
		}
		_, err = t.exec(`UPDATE applications SET subscriber_id = ?, profile = ?, status = ?, applicant = ?, created_by = ?, created_at = ?, expires_at = ?,
			confirmed_at = ?, proof_method = ?, proof = ?, token_hash = ?, token_expires_at = ?, token_used_at = ?, certificate_serial = ?, purged_at = ?
			WHERE id = ?`, append(applicationArgs(a), id)...)
		if err != nil {
			if t.s.d.IsDuplicate(err) {
				return fmt.Errorf("%s: application %s: token: %w", t.s.d.Name, id, store.ErrDuplicate)
			}
			return fmt.Errorf("%s: update application %s: %w", t.s.d.Name, id, err)
		}
		out = a
		return t.appendAudit(ev)
	})
	return out, err
}

// ListApplications returns one page of applications, newest first.
func (s *Store) ListApplications(ctx context.Context, f store.ApplicationFilter) ([]*store.Application, int, error) {
	var (
		where []string
		args  []any
	)
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
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
		return nil, 0, fmt.Errorf("%s: list applications: page %d is out of range", s.d.Name, f.Page)
	}
	rows, err := s.read.QueryContext(ctx, s.q(`SELECT `+applicationColumns+` FROM applications`+cond+` ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`),
		append(args, size, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: list applications: %w", s.d.Name, err)
	}
	var out []*store.Application
	for rows.Next() {
		a, err := scanApplication(rows)
		if err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("%s: list applications: %w", s.d.Name, err)
		}
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("%s: list applications: %w", s.d.Name, err)
	}
	var total int
	if err := s.read.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM applications`+cond), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("%s: count applications: %w", s.d.Name, err)
	}
	return out, total, nil
}

// DueApplications lists applications in the statuses that expire before t.
func (s *Store) DueApplications(ctx context.Context, statuses []store.ApplicationStatus, t time.Time, limit int) ([]*store.Application, error) {
	if len(statuses) == 0 {
		return nil, nil
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(statuses)), ", ")
	args := make([]any, 0, len(statuses)+2)
	for _, st := range statuses {
		args = append(args, string(st))
	}
	rows, err := s.read.QueryContext(ctx, s.q(`SELECT `+applicationColumns+` FROM applications WHERE status IN (`+marks+`) AND expires_at < ? ORDER BY expires_at LIMIT ?`),
		append(args, micros(t), limit)...)
	if err != nil {
		return nil, fmt.Errorf("%s: due applications: %w", s.d.Name, err)
	}
	defer rows.Close()
	var out []*store.Application
	for rows.Next() {
		a, err := scanApplication(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: due applications: %w", s.d.Name, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

const webhookColumns = `id, url, events, created_at, cursor, attempts, next_attempt_at, last_error, lease_until`

func scanWebhook(row scanner) (*store.Webhook, error) {
	var (
		w                      store.Webhook
		events                 string
		created, next, leaseTo int64
	)
	if err := row.Scan(&w.ID, &w.URL, &events, &created, &w.Cursor, &w.Attempts, &next, &w.LastError, &leaseTo); err != nil {
		return nil, err
	}
	w.Events = strings.Fields(events)
	w.CreatedAt, w.NextAttemptAt, w.LeaseUntil = fromMicros(created), fromMicros(next), fromMicros(leaseTo)
	return &w, nil
}

// InsertWebhook registers an endpoint; it starts after the newest entry.
func (s *Store) InsertWebhook(ctx context.Context, w *store.Webhook, ev audit.Event) error {
	if w == nil || w.ID == "" || w.URL == "" || len(w.Events) == 0 {
		return fmt.Errorf("%s: webhook: ID, URL and events are required", s.d.Name)
	}
	if err := checkEvent(ev); err != nil {
		return fmt.Errorf("%s: webhook: %w", s.d.Name, err)
	}
	return s.w.do(ctx, func(t *wtx) error {
		// The endpoint hears of everything after its own registration.
		w.Cursor = t.head.Seq + 1
		if _, err := t.exec(`INSERT INTO webhooks (id, url, events, created_at, cursor) VALUES (?, ?, ?, ?, ?)`,
			w.ID, w.URL, strings.Join(w.Events, " "), micros(w.CreatedAt), w.Cursor); err != nil {
			if t.s.d.IsDuplicate(err) {
				return fmt.Errorf("%s: webhook %s: %w", t.s.d.Name, w.ID, store.ErrDuplicate)
			}
			return fmt.Errorf("%s: insert webhook: %w", t.s.d.Name, err)
		}
		return t.appendAudit(ev)
	})
}

// Webhooks lists the endpoints, oldest first.
func (s *Store) Webhooks(ctx context.Context) ([]*store.Webhook, error) {
	rows, err := s.read.QueryContext(ctx, s.q(`SELECT `+webhookColumns+` FROM webhooks ORDER BY created_at, id`))
	if err != nil {
		return nil, fmt.Errorf("%s: list webhooks: %w", s.d.Name, err)
	}
	defer rows.Close()
	var out []*store.Webhook
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: list webhooks: %w", s.d.Name, err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// DeleteWebhook removes an endpoint.
func (s *Store) DeleteWebhook(ctx context.Context, id string, ev audit.Event) error {
	if err := checkEvent(ev); err != nil {
		return fmt.Errorf("%s: webhook: %w", s.d.Name, err)
	}
	return s.w.do(ctx, func(t *wtx) error {
		res, err := t.exec(`DELETE FROM webhooks WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("%s: delete webhook %s: %w", t.s.d.Name, id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%s: webhook %s: %w", t.s.d.Name, id, store.ErrNotFound)
		}
		return t.appendAudit(ev)
	})
}

// LeaseWebhook takes a due endpoint for delivery. It runs outside the
// group-commit writer: a lease is not audited and must not queue behind
// issuance.
func (s *Store) LeaseWebhook(ctx context.Context, id string, now, until time.Time) (*store.Webhook, bool, error) {
	res, err := s.write.ExecContext(ctx, s.q(`UPDATE webhooks SET lease_until = ? WHERE id = ? AND lease_until <= ? AND next_attempt_at <= ?`),
		micros(until), id, micros(now), micros(now))
	if err != nil {
		return nil, false, fmt.Errorf("%s: lease webhook %s: %w", s.d.Name, id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, false, nil
	}
	w, err := scanWebhook(s.write.QueryRowContext(ctx, s.q(`SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`), id))
	if err != nil {
		return nil, false, fmt.Errorf("%s: read webhook %s: %w", s.d.Name, id, err)
	}
	return w, true, nil
}

// RecordDelivery saves delivery state and releases the lease.
func (s *Store) RecordDelivery(ctx context.Context, w *store.Webhook) error {
	_, err := s.write.ExecContext(ctx, s.q(`UPDATE webhooks SET cursor = ?, attempts = ?, next_attempt_at = ?, last_error = ?, lease_until = 0 WHERE id = ?`),
		w.Cursor, w.Attempts, micros(w.NextAttemptAt), w.LastError, w.ID)
	if err != nil {
		return fmt.Errorf("%s: record delivery of webhook %s: %w", s.d.Name, w.ID, err)
	}
	return nil
}

// AuditAfter returns up to limit entries after seq.
func (s *Store) AuditAfter(ctx context.Context, seq int64, limit int) ([]audit.Entry, error) {
	chunk, err := s.auditChunk(ctx, seq)
	if err != nil || len(chunk) <= limit {
		return chunk, err
	}
	return chunk[:limit], nil
}

// ExpiringCertificates lists valid, unannounced certificates expiring before t.
func (s *Store) ExpiringCertificates(ctx context.Context, t time.Time, limit int) ([]*store.Certificate, error) {
	rows, err := s.read.QueryContext(ctx,
		s.q(`SELECT `+certColumns+` FROM certificates WHERE status = 'valid' AND not_after < ? AND expiry_announced_at IS NULL ORDER BY not_after LIMIT ?`),
		micros(t), limit)
	if err != nil {
		return nil, fmt.Errorf("%s: expiring certificates: %w", s.d.Name, err)
	}
	defer rows.Close()
	var out []*store.Certificate
	for rows.Next() {
		c, err := scanCertificate(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: expiring certificates: %w", s.d.Name, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// MarkExpiring records the expiry announcement of a certificate, once.
func (s *Store) MarkExpiring(ctx context.Context, serial string, ev audit.Event) (bool, error) {
	if err := checkEvent(ev); err != nil {
		return false, fmt.Errorf("%s: mark expiring: %w", s.d.Name, err)
	}
	var changed bool
	err := s.w.do(ctx, func(t *wtx) error {
		res, err := t.exec(`UPDATE certificates SET expiry_announced_at = ? WHERE serial = ? AND expiry_announced_at IS NULL`,
			micros(audit.Normalize(ev).Time), normalizeSerial(serial))
		if err != nil {
			return fmt.Errorf("%s: mark %s expiring: %w", t.s.d.Name, serial, err)
		}
		n, _ := res.RowsAffected()
		if changed = n == 1; !changed {
			return nil
		}
		return t.appendAudit(ev)
	})
	return changed, err
}

// InsertReceipt stores a sealed receipt.
func (s *Store) InsertReceipt(ctx context.Context, r *store.Receipt, ev audit.Event) error {
	if r == nil || r.Number == "" || len(r.XML) == 0 || r.DocumentSHA256 == "" {
		return fmt.Errorf("%s: receipt: number, document digest and XML are required", s.d.Name)
	}
	if err := checkEvent(ev); err != nil {
		return fmt.Errorf("%s: receipt: %w", s.d.Name, err)
	}
	return s.w.do(ctx, func(t *wtx) error {
		if _, err := t.exec(`INSERT INTO receipts (number, created_at, document_sha256, indication, created_by, xml) VALUES (?, ?, ?, ?, ?, ?)`,
			r.Number, micros(r.CreatedAt), r.DocumentSHA256, r.Indication, r.CreatedBy, r.XML); err != nil {
			if t.s.d.IsDuplicate(err) {
				return fmt.Errorf("%s: receipt %s: %w", t.s.d.Name, r.Number, store.ErrDuplicate)
			}
			return fmt.Errorf("%s: insert receipt: %w", t.s.d.Name, err)
		}
		return t.appendAudit(ev)
	})
}

// Receipt returns a stored receipt.
func (s *Store) Receipt(ctx context.Context, number string) (*store.Receipt, error) {
	var (
		r       store.Receipt
		created int64
	)
	err := s.read.QueryRowContext(ctx, s.q(`SELECT number, created_at, document_sha256, indication, created_by, xml FROM receipts WHERE number = ?`), number).
		Scan(&r.Number, &created, &r.DocumentSHA256, &r.Indication, &r.CreatedBy, &r.XML)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s: receipt %s: %w", s.d.Name, number, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: read receipt %s: %w", s.d.Name, number, err)
	}
	r.CreatedAt = fromMicros(created)
	return &r, nil
}
