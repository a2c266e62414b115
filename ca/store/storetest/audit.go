package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"esig/ca/audit"
)

var errStop = errors.New("storetest: stop walking")

func testAppendAndWalkAudit(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	evs := []audit.Event{
		{Time: base, Kind: audit.KindCACreated, Actor: "cli", Object: "CN=esig Test CA", Details: json.RawMessage(`{"keyAlgorithm":"ECDSA-P384"}`)},
		{Time: base.Add(1), Kind: audit.KindKeyCreated, Actor: "cli", Object: "pkcs11:token=esig"}, // no details; time below a microsecond
		{Time: base.Add(2e9), Kind: "custom.kind", Actor: "system", Object: "", Details: json.RawMessage(`{"zażółć":"gęślą jaźń","n":[1,2.5,null]}`)},
	}
	var prev *audit.Entry
	var want []audit.Entry
	for _, ev := range evs {
		if err := s.AppendAudit(ctx, ev); err != nil {
			t.Fatalf("AppendAudit(%s): %v", ev.Kind, err)
		}
		e := audit.Next(prev, ev)
		want = append(want, e)
		prev = &e
	}
	got := wantChainLen(t, s, len(evs))
	for i := range got {
		g, w := got[i], want[i]
		if g.Seq != w.Seq || g.Kind != w.Kind || g.Actor != w.Actor || g.Object != w.Object ||
			string(g.Details) != string(w.Details) || !g.Time.Equal(w.Time) || g.PrevHash != w.PrevHash || g.Hash != w.Hash {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i+1, g, w)
		}
	}

	// Enough entries to cross any paging a store does inside WalkAudit,
	// appended concurrently so batches of many requests are exercised.
	const more = 1203
	var wg sync.WaitGroup
	errs := make(chan error, more)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < more; i += 8 {
				if err := s.AppendAudit(ctx, event("test.bulk", fmt.Sprint(i), i)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("AppendAudit: %v", err)
	}
	all := wantChainLen(t, s, len(evs)+more)
	seen := make(map[string]bool, more)
	for _, e := range all[len(evs):] {
		if e.Kind != "test.bulk" || seen[e.Object] {
			t.Fatalf("entry %d: kind %s object %s: unexpected or repeated", e.Seq, e.Kind, e.Object)
		}
		seen[e.Object] = true
	}
}

func testAuditInvalid(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	tests := []struct {
		name string
		ev   audit.Event
	}{
		{"empty kind", audit.Event{Actor: "cli"}},
		{"details not JSON", audit.Event{Kind: "x", Details: json.RawMessage(`not json`)}},
		{"details truncated", audit.Event{Kind: "x", Details: json.RawMessage(`{"a":`)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.AppendAudit(ctx, tc.ev); err == nil {
				t.Fatal("AppendAudit succeeded, want an error")
			}
		})
	}
	wantChainLen(t, s, 0)
}

func testWalkAuditStops(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	for i := range 5 {
		if err := s.AppendAudit(ctx, event("test.walk", fmt.Sprint(i), i)); err != nil {
			t.Fatal(err)
		}
	}
	var seen []int64
	err := s.WalkAudit(ctx, func(e audit.Entry) error {
		seen = append(seen, e.Seq)
		if e.Seq == 3 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("WalkAudit returned %v, want the callback's error", err)
	}
	if len(seen) != 3 || seen[0] != 1 || seen[2] != 3 {
		t.Fatalf("WalkAudit visited %v, want [1 2 3]", seen)
	}
}

// testTamperedAudit changes the audit table behind the store's back and
// checks that the Verifier names the entry where the chain breaks.
func testTamperedAudit(t *testing.T, open Opener) {
	tests := []struct {
		name    string
		sql     string
		wantSeq int64
	}{
		{"altered details", `UPDATE audit_log SET details = '{"n":999}' WHERE seq = 3`, 3},
		{"altered actor", `UPDATE audit_log SET actor = 'someone else' WHERE seq = 5`, 5},
		{"altered time", `UPDATE audit_log SET time_us = time_us + 1 WHERE seq = 2`, 2},
		{"deleted entry", `DELETE FROM audit_log WHERE seq = 4`, 5},
		{"renumbered entry", `UPDATE audit_log SET seq = 100 WHERE seq = 5`, 100},
		{"first entry altered", `UPDATE audit_log SET kind = 'forged' WHERE seq = 1`, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			raw, ok := s.(RawDB)
			if !ok {
				t.Fatalf("%T has no DB() *sql.DB method; the tamper test needs it", s)
			}
			for i := range 5 {
				mustInsert(t, s, newCert(fmt.Sprintf("%02x", i+1), i))
			}
			wantChainLen(t, s, 5)
			res, err := raw.DB().ExecContext(context.Background(), tc.sql)
			if err != nil {
				t.Fatalf("tamper: %v", err)
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				t.Fatalf("tamper changed %d rows (%v), want 1", n, err)
			}
			var v audit.Verifier
			err = s.WalkAudit(context.Background(), v.Add)
			var broken *audit.BrokenError
			if !errors.As(err, &broken) {
				t.Fatalf("WalkAudit with Verifier: error %v, want *audit.BrokenError", err)
			}
			if broken.Seq != tc.wantSeq {
				t.Fatalf("Verifier named entry %d (%v), want %d", broken.Seq, broken, tc.wantSeq)
			}
		})
	}
}
