// Package storetest is the conformance suite of the CA store: every engine
// runs Run against itself, so the engines cannot drift apart in behaviour.
// It also carries RunReplicas, for engines that several processes may share,
// and BenchmarkInsert.
//
// The suite needs the real database the engine talks to; nothing is mocked.
package storetest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"esig/ca/audit"
	"esig/ca/store"
)

// Opener returns a fresh, empty store for one test and arranges (with
// t.Cleanup) for it to be closed and its data removed. The suite may call
// Close itself; engines must tolerate a second Close.
type Opener func(t *testing.T) store.Store

// RawDB is what the tamper tests need from an engine: the database handle,
// to change an audit row behind the store's back.
type RawDB interface {
	DB() *sql.DB
}

// Run runs the whole conformance suite, each test against its own store.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"Ping", testPing},
		{"InsertAndGet", testInsertAndGet},
		{"InsertInvalid", testInsertInvalid},
		{"InsertDuplicate", testInsertDuplicate},
		{"CanceledContext", testCanceledContext},
		{"RevokeTransitions", testRevokeTransitions},
		{"RevokeInvalid", testRevokeInvalid},
		{"RevokedInShard", testRevokedInShard},
		{"StatusChangedSince", testStatusChangedSince},
		{"ListCertificates", testListCertificates},
		{"CRL", testCRL},
		{"CRLInvalid", testCRLInvalid},
		{"CRLLeases", testCRLLeases},
		{"CRLLeaseInvalid", testCRLLeaseInvalid},
		{"APIKeys", testAPIKeys},
		{"APIKeyInvalid", testAPIKeyInvalid},
		{"AppendAndWalkAudit", testAppendAndWalkAudit},
		{"AuditInvalid", testAuditInvalid},
		{"WalkAuditStops", testWalkAuditStops},
		{"ConcurrentInserts", testConcurrentInserts},
		{"TamperedAudit", testTamperedAudit},
		{"Close", testClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// base is the time every fixture is relative to. It has microseconds and a
// non-UTC zone, to show that times round-trip exactly whatever the zone.
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.FixedZone("CET", 3600))

// newCert returns a valid certificate fixture with this serial, issued
// minutesAfter base (so listings have a known order).
func newCert(serial string, minutesAfter int) *store.Certificate {
	issued := base.Add(time.Duration(minutesAfter) * time.Minute)
	return &store.Certificate{
		Serial:    serial,
		DER:       []byte("DER of " + serial),
		Profile:   "citizen",
		Subject:   "CN=Jan Kowalski " + serial + ",C=PL",
		Shard:     0,
		NotBefore: issued.Add(-time.Hour),
		NotAfter:  issued.Add(365 * 24 * time.Hour),
		IssuedAt:  issued,
		Status:    store.StatusValid,
	}
}

// event returns an audit event fixture whose details record n, so a test
// can tell which caller wrote an entry.
func event(kind, object string, n int) audit.Event {
	return audit.Event{
		Time:    base.Add(time.Duration(n) * time.Second),
		Kind:    kind,
		Actor:   "storetest",
		Object:  object,
		Details: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n)),
	}
}

// chain reads the whole audit chain, failing the test unless audit.Verifier
// accepts every entry.
func chain(t *testing.T, s store.Store) []audit.Entry {
	t.Helper()
	var (
		v       audit.Verifier
		entries []audit.Entry
	)
	err := s.WalkAudit(context.Background(), func(e audit.Entry) error {
		if err := v.Add(e); err != nil {
			return err
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		t.Fatalf("audit chain: %v", err)
	}
	if v.Count() != int64(len(entries)) {
		t.Fatalf("verifier counted %d entries, walk returned %d", v.Count(), len(entries))
	}
	return entries
}

// wantChainLen fails unless the chain verifies and has n entries.
func wantChainLen(t *testing.T, s store.Store, n int) []audit.Entry {
	t.Helper()
	entries := chain(t, s)
	if len(entries) != n {
		t.Fatalf("audit chain has %d entries, want %d", len(entries), n)
	}
	return entries
}

func mustInsert(t *testing.T, s store.Store, c *store.Certificate) {
	t.Helper()
	if err := s.InsertCertificate(context.Background(), c, event(audit.KindCertificateIssued, c.Serial, 0)); err != nil {
		t.Fatalf("InsertCertificate(%s): %v", c.Serial, err)
	}
}

func mustRevoke(t *testing.T, s store.Store, serial string, reason int, at time.Time) {
	t.Helper()
	kind := audit.KindCertificateRevoked
	if reason == store.ReasonCertificateHold {
		kind = audit.KindCertificateHold
	}
	if _, changed, err := s.Revoke(context.Background(), serial, reason, at, event(kind, serial, reason)); err != nil || !changed {
		t.Fatalf("Revoke(%s, %d) = changed %v, %v; want a change", serial, reason, changed, err)
	}
}

// sameCert compares two certificates field by field, times with Equal.
func sameCert(t *testing.T, got, want *store.Certificate) {
	t.Helper()
	if got == nil {
		t.Fatalf("certificate %s: got nil", want.Serial)
	}
	type flat struct {
		Serial, DER, Profile, Subject, SubscriberID string
		Shard, Reason                               int
		Status                                      store.Status
	}
	g := flat{got.Serial, string(got.DER), got.Profile, got.Subject, got.SubscriberID, got.Shard, got.Reason, got.Status}
	w := flat{want.Serial, string(want.DER), want.Profile, want.Subject, want.SubscriberID, want.Shard, want.Reason, want.Status}
	if w.Status == "" {
		w.Status = store.StatusValid
	}
	if g != w {
		t.Errorf("certificate %s:\n got %+v\nwant %+v", want.Serial, g, w)
	}
	for _, tm := range []struct {
		name      string
		got, want time.Time
	}{
		{"NotBefore", got.NotBefore, want.NotBefore},
		{"NotAfter", got.NotAfter, want.NotAfter},
		{"IssuedAt", got.IssuedAt, want.IssuedAt},
		{"RevokedAt", got.RevokedAt, want.RevokedAt},
	} {
		if !tm.got.Equal(tm.want) {
			t.Errorf("certificate %s: %s = %v, want %v", want.Serial, tm.name, tm.got, tm.want)
		}
	}
}

func hashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error %v, want %v", what, err, target)
	}
}

func testPing(t *testing.T, open Opener) {
	s := open(t)
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testClose(t *testing.T, open Opener) {
	s := open(t)
	mustInsert(t, s, newCert("01", 0))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.InsertCertificate(context.Background(), newCert("02", 1), event(audit.KindCertificateIssued, "02", 1)); err == nil {
		t.Fatal("InsertCertificate after Close succeeded")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
