package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"esig/ca/audit"
	"esig/ca/store"
)

func testInsertAndGet(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	c := newCert("00c0ffee", 0)
	c.SubscriberID = "sub-42"
	c.Shard = 3
	c.DER = []byte{0x30, 0x82, 0x00, 0x00, 0xff, 0x00} // binary, with NUL bytes
	ev := event(audit.KindCertificateIssued, c.Serial, 7)
	if err := s.InsertCertificate(ctx, c, ev); err != nil {
		t.Fatalf("InsertCertificate: %v", err)
	}
	for _, serial := range []string{"00c0ffee", "00C0FFEE"} {
		got, err := s.Certificate(ctx, serial)
		if err != nil {
			t.Fatalf("Certificate(%s): %v", serial, err)
		}
		sameCert(t, got, c)
		if !got.RevokedAt.IsZero() || got.Reason != 0 {
			t.Errorf("new certificate: RevokedAt %v, Reason %d; want zero", got.RevokedAt, got.Reason)
		}
	}
	entries := wantChainLen(t, s, 1)
	want := audit.Next(nil, ev)
	if got := entries[0]; got.Seq != 1 || got.Kind != ev.Kind || got.Actor != ev.Actor || got.Object != c.Serial ||
		string(got.Details) != string(ev.Details) || !got.Time.Equal(want.Time) || got.Hash != want.Hash {
		t.Errorf("audit entry = %+v, want %+v", got, want)
	}
	if _, err := s.Certificate(ctx, "0badc0de"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Certificate(unknown): error %v, want ErrNotFound", err)
	}
}

func testInsertInvalid(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		modify func(*store.Certificate) *store.Certificate
	}{
		{"nil", func(*store.Certificate) *store.Certificate { return nil }},
		{"empty serial", func(c *store.Certificate) *store.Certificate { c.Serial = ""; return c }},
		{"upper-case serial", func(c *store.Certificate) *store.Certificate { c.Serial = "0A"; return c }},
		{"non-hex serial", func(c *store.Certificate) *store.Certificate { c.Serial = "0x0a"; return c }},
		{"empty DER", func(c *store.Certificate) *store.Certificate { c.DER = nil; return c }},
		{"negative shard", func(c *store.Certificate) *store.Certificate { c.Shard = -1; return c }},
		{"zero NotBefore", func(c *store.Certificate) *store.Certificate { c.NotBefore = time.Time{}; return c }},
		{"zero NotAfter", func(c *store.Certificate) *store.Certificate { c.NotAfter = time.Time{}; return c }},
		{"zero IssuedAt", func(c *store.Certificate) *store.Certificate { c.IssuedAt = time.Time{}; return c }},
		{"revoked", func(c *store.Certificate) *store.Certificate {
			c.Status = store.StatusRevoked
			c.RevokedAt = base
			return c
		}},
		{"unknown status", func(c *store.Certificate) *store.Certificate { c.Status = "expired"; return c }},
		{"RevokedAt on valid", func(c *store.Certificate) *store.Certificate { c.RevokedAt = base; return c }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.modify(newCert("0a", 0))
			err := s.InsertCertificate(ctx, c, event(audit.KindCertificateIssued, "0a", 0))
			if err == nil || errors.Is(err, store.ErrDuplicate) {
				t.Fatalf("InsertCertificate: error %v, want a validation error", err)
			}
		})
	}
	if _, err := s.Certificate(ctx, "0a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after invalid inserts: Certificate(0a) error %v, want ErrNotFound", err)
	}
	bad := []audit.Event{
		{Kind: ""},
		{Kind: audit.KindCertificateIssued, Details: []byte(`{"unterminated":`)},
	}
	for _, ev := range bad {
		if err := s.InsertCertificate(ctx, newCert("0b", 0), ev); err == nil {
			t.Errorf("InsertCertificate with event %+v succeeded, want an error", ev)
		}
	}
	if _, err := s.Certificate(ctx, "0b"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after invalid events: Certificate(0b) error %v, want ErrNotFound", err)
	}
	wantChainLen(t, s, 0)
}

func testInsertDuplicate(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	first := newCert("01", 0)
	mustInsert(t, s, first)
	second := newCert("01", 5)
	second.DER = []byte("a different certificate")
	err := s.InsertCertificate(ctx, second, event(audit.KindCertificateIssued, "01", 1))
	wantErr(t, "second InsertCertificate(01)", err, store.ErrDuplicate)

	got, err := s.Certificate(ctx, "01")
	if err != nil {
		t.Fatal(err)
	}
	sameCert(t, got, first)
	wantChainLen(t, s, 1)

	// The store must still accept writes after a failed one.
	mustInsert(t, s, newCert("02", 1))
	wantChainLen(t, s, 2)
}

func testCanceledContext(t *testing.T, open Opener) {
	s := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.InsertCertificate(ctx, newCert("01", 0), event(audit.KindCertificateIssued, "01", 0))
	wantErr(t, "InsertCertificate with a canceled context", err, context.Canceled)
	if _, err := s.Certificate(context.Background(), "01"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Certificate(01) error %v, want ErrNotFound", err)
	}
	wantChainLen(t, s, 0)
}

// step is one call in a revocation scenario and what it must return.
type step struct {
	release     bool // ReleaseHold instead of Revoke
	reason      int
	wantChanged bool
	wantErr     error
	wantStatus  store.Status
	wantReason  int
}

func testRevokeTransitions(t *testing.T, open Opener) {
	const (
		keyCompromise = 1
		superseded    = 4
	)
	revoked := store.StatusRevoked
	tests := []struct {
		name  string
		steps []step
	}{
		{"revoke is idempotent", []step{
			{reason: keyCompromise, wantChanged: true, wantStatus: revoked, wantReason: keyCompromise},
			{reason: keyCompromise, wantStatus: revoked, wantReason: keyCompromise},
			{reason: superseded, wantStatus: revoked, wantReason: keyCompromise},
			{reason: store.ReasonCertificateHold, wantStatus: revoked, wantReason: keyCompromise},
		}},
		{"hold then release", []step{
			{reason: store.ReasonCertificateHold, wantChanged: true, wantStatus: store.StatusOnHold, wantReason: store.ReasonCertificateHold},
			{reason: store.ReasonCertificateHold, wantStatus: store.StatusOnHold, wantReason: store.ReasonCertificateHold},
			{release: true, wantChanged: true, wantStatus: store.StatusValid},
			{release: true, wantStatus: store.StatusValid},
			{reason: store.ReasonCertificateHold, wantChanged: true, wantStatus: store.StatusOnHold, wantReason: store.ReasonCertificateHold},
		}},
		{"hold then revoke for good", []step{
			{reason: store.ReasonCertificateHold, wantChanged: true, wantStatus: store.StatusOnHold, wantReason: store.ReasonCertificateHold},
			{reason: keyCompromise, wantChanged: true, wantStatus: revoked, wantReason: keyCompromise},
			{release: true, wantErr: store.ErrConflict, wantStatus: revoked, wantReason: keyCompromise},
		}},
		{"release of a valid certificate", []step{
			{release: true, wantStatus: store.StatusValid},
		}},
		{"unspecified reason", []step{
			{reason: store.ReasonUnspecified, wantChanged: true, wantStatus: revoked, wantReason: store.ReasonUnspecified},
			{release: true, wantErr: store.ErrConflict, wantStatus: revoked},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			ctx := context.Background()
			c := newCert("7e57", 0)
			mustInsert(t, s, c)
			audited := 1
			var kinds []string
			for i, st := range tc.steps {
				at := base.Add(time.Duration(i+1) * time.Hour)
				var (
					got     *store.Certificate
					changed bool
					err     error
					ev      audit.Event
				)
				if st.release {
					ev = event(audit.KindCertificateRelease, c.Serial, i)
					got, changed, err = s.ReleaseHold(ctx, c.Serial, ev)
				} else {
					ev = event(audit.KindCertificateRevoked, c.Serial, i)
					got, changed, err = s.Revoke(ctx, c.Serial, st.reason, at, ev)
				}
				if st.wantErr != nil {
					wantErr(t, fmt.Sprintf("step %d", i), err, st.wantErr)
				} else {
					if err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					if changed != st.wantChanged {
						t.Fatalf("step %d: changed = %v, want %v", i, changed, st.wantChanged)
					}
					if got.Status != st.wantStatus || got.Reason != st.wantReason {
						t.Fatalf("step %d returned status %s reason %d, want %s reason %d", i, got.Status, got.Reason, st.wantStatus, st.wantReason)
					}
				}
				if changed {
					audited++
					kinds = append(kinds, ev.Kind)
					if st.wantStatus == store.StatusValid {
						if !got.RevokedAt.IsZero() {
							t.Errorf("step %d: released certificate keeps RevokedAt %v", i, got.RevokedAt)
						}
					} else if !got.RevokedAt.Equal(at) {
						t.Errorf("step %d: RevokedAt %v, want %v", i, got.RevokedAt, at)
					}
				}
				stored, err := s.Certificate(ctx, c.Serial)
				if err != nil {
					t.Fatal(err)
				}
				if stored.Status != st.wantStatus || stored.Reason != st.wantReason {
					t.Fatalf("after step %d: stored status %s reason %d, want %s reason %d", i, stored.Status, stored.Reason, st.wantStatus, st.wantReason)
				}
				if got != nil && !stored.RevokedAt.Equal(got.RevokedAt) {
					t.Fatalf("after step %d: stored RevokedAt %v, returned %v", i, stored.RevokedAt, got.RevokedAt)
				}
				entries := wantChainLen(t, s, audited)
				var gotKinds []string
				for _, e := range entries[1:] {
					gotKinds = append(gotKinds, e.Kind)
				}
				if !slices.Equal(gotKinds, kinds) {
					t.Fatalf("after step %d: audited kinds %v, want %v", i, gotKinds, kinds)
				}
			}
		})
	}
}

func testRevokeInvalid(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	mustInsert(t, s, newCert("01", 0))
	ev := event(audit.KindCertificateRevoked, "01", 0)
	tests := []struct {
		name    string
		call    func() error
		wantErr error // nil: any error that is not a sentinel
	}{
		{"unknown serial", func() error { _, _, err := s.Revoke(ctx, "02", 1, base, ev); return err }, store.ErrNotFound},
		{"release of unknown serial", func() error { _, _, err := s.ReleaseHold(ctx, "02", ev); return err }, store.ErrNotFound},
		{"unused reason 7", func() error { _, _, err := s.Revoke(ctx, "01", 7, base, ev); return err }, nil},
		{"removeFromCRL", func() error { _, _, err := s.Revoke(ctx, "01", store.ReasonRemoveFromCRL, base, ev); return err }, nil},
		{"negative reason", func() error { _, _, err := s.Revoke(ctx, "01", -1, base, ev); return err }, nil},
		{"reason above 10", func() error { _, _, err := s.Revoke(ctx, "01", 11, base, ev); return err }, nil},
		{"zero time", func() error { _, _, err := s.Revoke(ctx, "01", 1, time.Time{}, ev); return err }, nil},
		{"empty event kind", func() error { _, _, err := s.Revoke(ctx, "01", 1, base, audit.Event{}); return err }, nil},
		{"release with empty event kind", func() error { _, _, err := s.ReleaseHold(ctx, "01", audit.Event{}); return err }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			switch {
			case tc.wantErr != nil:
				wantErr(t, tc.name, err, tc.wantErr)
			case err == nil:
				t.Fatal("succeeded, want an error")
			case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrDuplicate):
				t.Fatalf("error %v, want a validation error", err)
			}
		})
	}
	got, err := s.Certificate(ctx, "01")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.StatusValid {
		t.Errorf("after rejected revocations: status %s, want valid", got.Status)
	}
	wantChainLen(t, s, 1)
}

func testRevokedInShard(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	cutoff := base.Add(30 * 24 * time.Hour)
	type fixture struct {
		serial   string
		shard    int
		notAfter time.Time
		reason   int // -1: stays valid
	}
	fixtures := []fixture{
		{"a1", 1, cutoff.Add(time.Hour), 1},         // revoked: listed
		{"a2", 1, cutoff.Add(time.Hour), -1},        // valid: not listed
		{"a3", 1, cutoff.Add(time.Hour), 6},         // on hold: listed
		{"a4", 1, cutoff.Add(-time.Microsecond), 4}, // expired before cutoff: skipped
		{"a5", 1, cutoff, 5},                        // expires exactly at cutoff: listed
		{"a0", 1, cutoff.Add(48 * time.Hour), 1},    // listed, sorts first
		{"b1", 2, cutoff.Add(time.Hour), 1},         // other shard
		{"a6", 1, cutoff.Add(time.Hour), 6},         // held, then released: not listed
		{"a7", 1, cutoff.Add(time.Hour), 6},         // held, then revoked for good: listed as revoked
	}
	revokedAt := map[string]time.Time{}
	for i, f := range fixtures {
		c := newCert(f.serial, i)
		c.Shard, c.NotAfter = f.shard, f.notAfter
		mustInsert(t, s, c)
		if f.reason >= 0 {
			at := base.Add(time.Duration(i) * time.Minute)
			mustRevoke(t, s, f.serial, f.reason, at)
			revokedAt[f.serial] = at
		}
	}
	if _, _, err := s.ReleaseHold(ctx, "a6", event(audit.KindCertificateRelease, "a6", 0)); err != nil {
		t.Fatal(err)
	}
	a7at := base.Add(99 * time.Minute)
	mustRevoke(t, s, "a7", 2, a7at)

	want := []store.RevokedEntry{
		{Serial: "a0", RevokedAt: revokedAt["a0"], Reason: 1},
		{Serial: "a1", RevokedAt: revokedAt["a1"], Reason: 1},
		{Serial: "a3", RevokedAt: revokedAt["a3"], Reason: 6},
		{Serial: "a5", RevokedAt: revokedAt["a5"], Reason: 5},
		{Serial: "a7", RevokedAt: a7at, Reason: 2},
	}
	got, err := s.RevokedInShard(ctx, 1, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if !sameEntries(got, want) {
		t.Errorf("RevokedInShard(1):\n got %v\nwant %v", got, want)
	}
	got, err = s.RevokedInShard(ctx, 2, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if !sameEntries(got, []store.RevokedEntry{{Serial: "b1", RevokedAt: revokedAt["b1"], Reason: 1}}) {
		t.Errorf("RevokedInShard(2) = %v, want only b1", got)
	}
	got, err = s.RevokedInShard(ctx, 9, cutoff)
	if err != nil || len(got) != 0 {
		t.Errorf("RevokedInShard(9) = %v, %v; want nothing", got, err)
	}
}

func sameEntries(got, want []store.RevokedEntry) bool {
	return slices.EqualFunc(got, want, func(a, b store.RevokedEntry) bool {
		return a.Serial == b.Serial && a.Reason == b.Reason && a.RevokedAt.Equal(b.RevokedAt)
	})
}

func testStatusChangedSince(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	at := func(sec int) audit.Event {
		return audit.Event{Time: base.Add(time.Duration(sec) * time.Second), Kind: audit.KindCertificateRevoked, Actor: "storetest"}
	}
	// Issued at 0, 1 and 2 seconds past base.
	for i, serial := range []string{"c1", "c2", "c3"} {
		if err := s.InsertCertificate(ctx, newCert(serial, i), at(i)); err != nil {
			t.Fatal(err)
		}
	}
	// A change is dated by its event, not by the revocation time it
	// records: c3's back-dated revocation still counts as a change at 10 s.
	steps := []struct {
		serial      string
		reason      int
		sec         int
		wantChanged bool
	}{
		{"c3", 1, 10, true},
		{"c1", store.ReasonCertificateHold, 11, true},
		{"c3", 1, 20, false}, // a repeat is no change
	}
	for _, st := range steps {
		_, changed, err := s.Revoke(ctx, st.serial, st.reason, base.Add(-24*time.Hour), at(st.sec))
		if err != nil || changed != st.wantChanged {
			t.Fatalf("Revoke(%s) at %d s = changed %v, %v; want changed %v", st.serial, st.sec, changed, err, st.wantChanged)
		}
	}

	tests := []struct {
		name  string
		since time.Time
		want  []string
	}{
		{"since the beginning: issuance counts, each serial once", time.Time{}, []string{"c2", "c3", "c1"}},
		{"since before the revocations", base.Add(3 * time.Second), []string{"c3", "c1"}},
		{"at the exact time of a change", base.Add(11 * time.Second), []string{"c1"}},
		{"a microsecond after it", base.Add(11*time.Second + time.Microsecond), nil},
		{"not moved by the unchanged repeat", base.Add(20 * time.Second), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.StatusChangedSince(ctx, tc.since)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("StatusChangedSince(%v) = %v, want %v", tc.since, got, tc.want)
			}
		})
	}
	// Releasing a hold is a change too.
	if _, changed, err := s.ReleaseHold(ctx, "c1", at(30)); err != nil || !changed {
		t.Fatalf("ReleaseHold(c1) = changed %v, %v", changed, err)
	}
	if got, err := s.StatusChangedSince(ctx, base.Add(30*time.Second)); err != nil || !slices.Equal(got, []string{"c1"}) {
		t.Errorf("after release: StatusChangedSince = %v, %v; want [c1]", got, err)
	}
}

func testListCertificates(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	// Seven certificates, d1 issued first and d7 last.
	for i := 1; i <= 7; i++ {
		c := newCert(fmt.Sprintf("d%d", i), i)
		if i%2 == 0 {
			c.Profile = "business"
		}
		if i <= 3 {
			c.SubscriberID = "sub-1"
		}
		mustInsert(t, s, c)
	}
	mustRevoke(t, s, "d2", 1, base)
	mustRevoke(t, s, "d5", 1, base)
	mustRevoke(t, s, "d6", store.ReasonCertificateHold, base)

	tests := []struct {
		name      string
		filter    store.ListFilter
		want      []string
		wantTotal int
	}{
		{"all, default page", store.ListFilter{}, []string{"d7", "d6", "d5", "d4", "d3", "d2", "d1"}, 7},
		{"page 1 of 3", store.ListFilter{Page: 1, PageSize: 3}, []string{"d7", "d6", "d5"}, 7},
		{"page 0 means 1", store.ListFilter{Page: 0, PageSize: 3}, []string{"d7", "d6", "d5"}, 7},
		{"page 2 of 3", store.ListFilter{Page: 2, PageSize: 3}, []string{"d4", "d3", "d2"}, 7},
		{"page 3 of 3", store.ListFilter{Page: 3, PageSize: 3}, []string{"d1"}, 7},
		{"past the end", store.ListFilter{Page: 4, PageSize: 3}, nil, 7},
		{"revoked", store.ListFilter{Status: store.StatusRevoked}, []string{"d5", "d2"}, 2},
		{"on hold", store.ListFilter{Status: store.StatusOnHold}, []string{"d6"}, 1},
		{"valid", store.ListFilter{Status: store.StatusValid}, []string{"d7", "d4", "d3", "d1"}, 4},
		{"profile", store.ListFilter{Profile: "business"}, []string{"d6", "d4", "d2"}, 3},
		{"subscriber", store.ListFilter{SubscriberID: "sub-1"}, []string{"d3", "d2", "d1"}, 3},
		{"subscriber and status", store.ListFilter{SubscriberID: "sub-1", Status: store.StatusValid}, []string{"d3", "d1"}, 2},
		{"profile, status, paged", store.ListFilter{Profile: "business", Status: store.StatusRevoked, Page: 1, PageSize: 1}, []string{"d2"}, 1},
		{"subscriber, second page", store.ListFilter{SubscriberID: "sub-1", Page: 2, PageSize: 2}, []string{"d1"}, 3},
		{"no match", store.ListFilter{SubscriberID: "nobody"}, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, total, err := s.ListCertificates(ctx, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			var serials []string
			for _, c := range got {
				serials = append(serials, c.Serial)
			}
			if !slices.Equal(serials, tc.want) || total != tc.wantTotal {
				t.Errorf("ListCertificates(%+v) = %v total %d, want %v total %d", tc.filter, serials, total, tc.want, tc.wantTotal)
			}
		})
	}

	// Listed certificates carry every field, as Certificate returns them.
	got, _, err := s.ListCertificates(ctx, store.ListFilter{Status: store.StatusOnHold})
	if err != nil || len(got) != 1 {
		t.Fatalf("ListCertificates(on hold) = %v, %v", got, err)
	}
	one, err := s.Certificate(ctx, "d6")
	if err != nil {
		t.Fatal(err)
	}
	sameCert(t, got[0], one)

	if _, _, err := s.ListCertificates(ctx, store.ListFilter{Status: "expired"}); err == nil {
		t.Error("ListCertificates with an unknown status succeeded")
	}
}
