package ra

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"esig/ca/audit"
	"esig/ca/store"
)

// WebhookEvents are the audit kinds a portal can subscribe to.
var WebhookEvents = []string{
	KindApplicationConfirmed, KindApplicationExpired, KindApplicationEnrolled,
	audit.KindCertificateIssued, audit.KindCertificateRevoked, audit.KindCertificateHold, KindCertificateExpiring,
	KindSubscriberDeactivated,
}

// Headers of a delivery. The signature is HMAC-SHA256 over
// "<timestamp>.<body>" with the endpoint's secret, so a receiver can check
// origin and freshness; the event ID (the audit sequence number) lets it
// drop a repeat.
const (
	HeaderSignature = "Esig-Signature" // t=<unix seconds>,v1=<hex hmac>
	HeaderEventID   = "Esig-Event-Id"
)

// Event is the JSON body of one delivery.
type Event struct {
	ID     int64           `json:"id"`
	Type   string          `json:"type"`
	Time   time.Time       `json:"time"`
	Object string          `json:"object"`
	Data   json.RawMessage `json:"data"`
}

// WebhookSecret is an endpoint's signing secret. It is derived from the RA
// secret and the endpoint ID, so it is never stored.
func (r *RA) WebhookSecret(id string) string { return hex.EncodeToString(r.mac("webhook", id)) }

func signature(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return m.Sum(nil)
}

// Sign computes the signature header value for a body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(signature(secret, ts, body))
}

// CheckSignature verifies a signature header against a body, accepting
// timestamps within tolerance of now (for receivers and tests).
func CheckSignature(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts, v1 string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			v1 = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || v1 == "" {
		return errors.New("malformed signature header")
	}
	if t := time.Unix(sec, 0); now.Sub(t) > tolerance || t.Sub(now) > tolerance {
		return errors.New("signature timestamp outside the tolerance")
	}
	got, err := hex.DecodeString(v1)
	if err != nil || !hmac.Equal(got, signature(secret, ts, body)) {
		return errors.New("signature does not match")
	}
	return nil
}

// NewWebhook registers a portal endpoint for some event kinds and returns
// it with its secret (shown once; derivable again by the operator).
func (r *RA) NewWebhook(ctx context.Context, rawURL string, events []string, actor string) (*store.Webhook, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, "", fmt.Errorf("url: %q is not an http(s) URL", rawURL)
	}
	if len(events) == 0 {
		events = WebhookEvents
	}
	for _, e := range events {
		if !slices.Contains(WebhookEvents, e) {
			return nil, "", fmt.Errorf("events: unknown event %q (known: %s)", e, strings.Join(WebhookEvents, ", "))
		}
	}
	w := &store.Webhook{ID: randomID("wh-", 8), URL: u.String(), Events: events, CreatedAt: r.cfg.Now().UTC()}
	details, _ := json.Marshal(map[string]any{"url": w.URL, "events": events})
	if err := r.cfg.Store.InsertWebhook(ctx, w, audit.Event{Time: w.CreatedAt, Kind: KindWebhookCreated, Actor: actor, Object: w.ID, Details: details}); err != nil {
		return nil, "", err
	}
	return w, r.WebhookSecret(w.ID), nil
}

// Dispatcher delivers audit events to webhook endpoints, in order, at least
// once. The audit log is the outbox: an event exists for delivery exactly
// when the change it records was committed, and an endpoint's cursor moves
// only after the receiver answered 2xx. A receiver that is down is retried
// with exponential backoff, and nothing after the failing event is sent
// before it, so ordering holds.
type Dispatcher struct {
	RA      *RA
	Client  *http.Client
	Lease   time.Duration // how long one replica holds an endpoint
	MaxWait time.Duration // the longest backoff
	Log     *slog.Logger
}

// NewDispatcher returns a dispatcher with sane defaults.
func NewDispatcher(r *RA) *Dispatcher {
	return &Dispatcher{
		RA: r, Client: &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		Lease: time.Minute, MaxWait: time.Hour, Log: r.cfg.Log,
	}
}

// backoff is the wait after the n-th failed attempt: 1s, 2s, 4s ... capped.
func (d *Dispatcher) backoff(n int) time.Duration {
	if n > 30 {
		return d.MaxWait
	}
	return min(time.Second<<(n-1), d.MaxWait)
}

// Tick delivers what is due on every endpoint once.
func (d *Dispatcher) Tick(ctx context.Context) error {
	hooks, err := d.RA.cfg.Store.Webhooks(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, h := range hooks {
		if err := d.deliverDue(ctx, h.ID); err != nil {
			errs = append(errs, fmt.Errorf("webhook %s: %w", h.ID, err))
		}
	}
	return errors.Join(errs...)
}

func (d *Dispatcher) deliverDue(ctx context.Context, id string) error {
	st := d.RA.cfg.Store
	now := d.RA.cfg.Now()
	w, ok, err := st.LeaseWebhook(ctx, id, now, now.Add(d.Lease))
	if err != nil || !ok {
		return err
	}
	defer func() {
		if err := st.RecordDelivery(context.WithoutCancel(ctx), w); err != nil {
			d.Log.Error("ra: saving webhook delivery state failed", "webhook", w.ID, "err", err)
		}
	}()
	for ctx.Err() == nil && d.RA.cfg.Now().Before(now.Add(d.Lease/2)) {
		entries, err := st.AuditAfter(ctx, w.Cursor, 100)
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			return nil
		}
		for _, e := range entries {
			if slices.Contains(w.Events, e.Kind) {
				if err := d.post(ctx, w, e); err != nil {
					w.Attempts++
					w.LastError = err.Error()
					w.NextAttemptAt = d.RA.cfg.Now().Add(d.backoff(w.Attempts))
					d.Log.Warn("ra: webhook delivery failed; will retry", "webhook", w.ID, "event", e.Seq, "attempt", w.Attempts, "next", w.NextAttemptAt, "err", err)
					return nil
				}
			}
			w.Cursor, w.Attempts, w.LastError = e.Seq, 0, ""
		}
	}
	return nil
}

func (d *Dispatcher) post(ctx context.Context, w *store.Webhook, e audit.Entry) error {
	body, err := json.Marshal(Event{ID: e.Seq, Type: e.Kind, Time: e.Time, Object: e.Object, Data: e.Details})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "esig-webhooks/1")
	req.Header.Set(HeaderEventID, strconv.FormatInt(e.Seq, 10))
	req.Header.Set(HeaderSignature, Sign(d.RA.WebhookSecret(w.ID), d.RA.cfg.Now(), body))
	resp, err := d.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return nil
}

// Run ticks every interval until ctx ends.
func (d *Dispatcher) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := d.Tick(ctx); err != nil && ctx.Err() == nil {
			d.Log.Error("ra: webhook dispatch failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// DeleteWebhook removes an endpoint.
func (r *RA) DeleteWebhook(ctx context.Context, id, actor string) error {
	return r.cfg.Store.DeleteWebhook(ctx, id, audit.Event{Time: r.cfg.Now(), Kind: KindWebhookDeleted, Actor: actor, Object: id})
}
