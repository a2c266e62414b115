package ra_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"esig/api/apitest"
	"esig/app"
	"esig/ca/audit"
	"esig/ca/store"
	"esig/ra"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func (c *clock) set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// newRA builds an RA over a real server's store and CA, with its own clock.
func newRA(t *testing.T) (*ra.RA, *apitest.Env, *clock) {
	env := apitest.Start(t, apitest.Options{})
	profiles, err := app.Profiles(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Now()}
	r, err := ra.New(ra.Config{
		Store: env.App.Store, Authority: env.App.Authority, Profiles: profiles, Secret: []byte(strings.Repeat("s", 32)),
		ApplicationTTL: 7 * 24 * time.Hour, TokenTTL: 72 * time.Hour, Now: c.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r, env, c
}

var anna = ra.Applicant{GivenName: "Anna", Surname: "Nowak", PESEL: "02270803624", Email: "anna@example.pl"}

func apply(t *testing.T, r *ra.RA) *store.Application {
	t.Helper()
	a, err := r.CreateApplication(context.Background(), ra.NewApplication{Profile: "person-signing", Applicant: anna, Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func csr(t *testing.T) []byte {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}, key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

// TestExpiryPurgesPersonalData: an application left unconfirmed past its
// time expires, and nothing personal stays in the store or the audit log.
func TestExpiryPurgesPersonalData(t *testing.T) {
	r, env, c := newRA(t)
	ctx := context.Background()
	pending := apply(t, r)
	confirmed := apply(t, r)
	if _, _, err := r.ConfirmInPerson(ctx, confirmed.ID, "identity-card", "ABA300000", "officer"); err != nil {
		t.Fatal(err)
	}
	if n, err := r.ExpireDue(ctx); err != nil || n != 0 {
		t.Fatalf("expired %d (%v) before their time", n, err)
	}
	c.add(7*24*time.Hour + time.Minute)
	// The pending one is past its 7 days, the confirmed one past its
	// link's 72 hours.
	if n, err := r.ExpireDue(ctx); err != nil || n != 2 {
		t.Fatalf("expired %d applications (%v), want 2", n, err)
	}
	for _, id := range []string{pending.ID, confirmed.ID} {
		got, _ := r.Application(ctx, id)
		if got.Status != store.ApplicationExpired || got.Applicant != nil || got.Proof != nil || got.TokenHash != nil || got.PurgedAt.IsZero() {
			t.Fatalf("expired application keeps data: %+v", got)
		}
	}
	err := env.App.Store.WalkAudit(ctx, func(e audit.Entry) error {
		if strings.Contains(string(e.Details), anna.PESEL) || strings.Contains(string(e.Details), anna.Surname) {
			return errors.New("audit entry " + e.Kind + " carries personal data: " + string(e.Details))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.ConfirmInPerson(ctx, pending.ID, "identity-card", "ABA300000", "officer"); !errors.Is(err, ra.ErrWrongState) {
		t.Fatalf("confirming an expired application: %v", err)
	}
}

// TestExpiredLinkIssuesNothing: a link past its time is refused and no
// certificate is issued.
func TestExpiredLinkIssuesNothing(t *testing.T) {
	r, env, c := newRA(t)
	ctx := context.Background()
	a := apply(t, r)
	_, token, err := r.ConfirmInPerson(ctx, a.ID, "passport", "EA1234567", "officer")
	if err != nil {
		t.Fatal(err)
	}
	_, before, _ := env.App.Store.ListCertificates(ctx, store.ListFilter{Page: 1, PageSize: 1})
	c.add(73 * time.Hour)
	if _, err := r.Enroll(ctx, token, csr(t)); !errors.Is(err, ra.ErrTokenInvalid) {
		t.Fatalf("enrolling with an expired link: %v", err)
	}
	if _, after, _ := env.App.Store.ListCertificates(ctx, store.ListFilter{Page: 1, PageSize: 1}); after != before {
		t.Fatalf("certificates %d -> %d after an expired link", before, after)
	}
	if n, err := r.ExpireDue(ctx); err != nil || n != 1 {
		t.Fatalf("the confirmed application past its link did not expire: %d %v", n, err)
	}
}

// TestWebhookReceiverDown: events produced while the portal's receiver is
// down are retried and delivered, in order, signed, once it is back.
func TestWebhookReceiverDown(t *testing.T) {
	r, _, c := newRA(t)
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // the receiver is down
	hook, secret, err := r.NewWebhook(ctx, "http://"+addr+"/esig-events", nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	a := apply(t, r)
	_, token, err := r.ConfirmInPerson(ctx, a.ID, "identity-card", "ABA300000", "officer")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Enroll(ctx, token, csr(t)); err != nil {
		t.Fatal(err)
	}
	d := ra.NewDispatcher(r)
	d.MaxWait = 20 * time.Millisecond
	for i := 0; i < 3; i++ {
		if err := d.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		c.add(time.Second) // past the backoff
	}
	hooks, _ := r.Store().Webhooks(ctx)
	if len(hooks) != 1 || hooks[0].Attempts < 2 || hooks[0].LastError == "" {
		t.Fatalf("failed deliveries were not recorded: %+v", hooks)
	}

	// The receiver comes back.
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("could not listen on %s again: %v", addr, err)
	}
	var mu sync.Mutex
	var got []ra.Event
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if err := ra.CheckSignature(secret, req.Header.Get(ra.HeaderSignature), body, time.Now(), time.Minute); err != nil {
			t.Errorf("delivery with a bad signature: %v", err)
			w.WriteHeader(400)
			return
		}
		var e ra.Event
		json.Unmarshal(body, &e)
		mu.Lock()
		got = append(got, e)
		mu.Unlock()
	})}
	go srv.Serve(ln)
	defer srv.Close()
	if err := d.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var kinds []string
	for i, e := range got {
		kinds = append(kinds, e.Type)
		if i > 0 && e.ID <= got[i-1].ID {
			t.Errorf("events out of order: %d after %d", e.ID, got[i-1].ID)
		}
	}
	want := []string{ra.KindApplicationConfirmed, audit.KindCertificateIssued, ra.KindApplicationEnrolled}
	if strings.Join(kinds, ",") != strings.Join(want, ",") {
		t.Fatalf("delivered %v, want %v", kinds, want)
	}
	hooks, _ = r.Store().Webhooks(ctx)
	if hooks[0].Attempts != 0 || hooks[0].ID != hook.ID {
		t.Errorf("delivery state after success: %+v", hooks[0])
	}
	// Nothing is delivered twice.
	if err := d.Tick(ctx); err != nil || len(got) != 3 {
		t.Fatalf("second tick: %v, %d deliveries", err, len(got))
	}
}

func TestWebhookInputs(t *testing.T) {
	r, _, _ := newRA(t)
	for _, tt := range []struct {
		url    string
		events []string
	}{{"ftp://x", nil}, {"not a url", nil}, {"http://127.0.0.1:1/x", []string{"certificate.deleted"}}} {
		if _, _, err := r.NewWebhook(context.Background(), tt.url, tt.events, "test"); err == nil {
			t.Errorf("NewWebhook(%q, %v) accepted", tt.url, tt.events)
		}
	}
	body := []byte(`{"id":1}`)
	sig := ra.Sign("k", time.Now(), body)
	for _, tt := range []struct {
		secret, header string
		body           []byte
		ok             bool
	}{{"k", sig, body, true}, {"other", sig, body, false}, {"k", sig, []byte(`{"id":2}`), false}, {"k", "t=1,v1=00", body, false}, {"k", "garbage", body, false}} {
		if err := ra.CheckSignature(tt.secret, tt.header, tt.body, time.Now(), time.Minute); (err == nil) != tt.ok {
			t.Errorf("CheckSignature(%q, %q) = %v", tt.secret, tt.header, err)
		}
	}
}

// TestExpiringCertificatesAnnouncedOnce: a certificate within 30 days of
// expiry gets one certificate.expiring event (webhooks deliver it).
func TestExpiringCertificatesAnnouncedOnce(t *testing.T) {
	r, env, c := newRA(t)
	ctx := context.Background()
	a := apply(t, r)
	_, token, err := r.ConfirmInPerson(ctx, a.ID, "identity-card", "ABA300000", "officer")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := r.Enroll(ctx, token, csr(t))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.AnnounceExpiring(ctx); err != nil || n != 0 {
		t.Fatalf("announced %d (%v) two years before expiry", n, err)
	}
	c.set(cert.NotAfter.Add(-29 * 24 * time.Hour))
	if n, err := r.AnnounceExpiring(ctx); err != nil || n < 1 {
		t.Fatalf("announced %d (%v) 29 days before expiry", n, err)
	}
	if n, err := r.AnnounceExpiring(ctx); err != nil || n != 0 {
		t.Fatalf("announced again: %d (%v)", n, err)
	}
	found := false
	env.App.Store.WalkAudit(ctx, func(e audit.Entry) error {
		found = found || (e.Kind == ra.KindCertificateExpiring && e.Object == cert.Serial)
		return nil
	})
	if !found {
		t.Fatal("no certificate.expiring entry for the certificate")
	}
}
