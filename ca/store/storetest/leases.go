package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"esig/ca/store"
)

// leaseStep is one call in the lease scenario: take, renew or release the
// lease on shard for holder, at seconds after base, with the expected
// outcome.
type leaseStep struct {
	op       string // "take", "renew" or "release"
	shard    int
	holder   string
	at, till int // seconds after base: the caller's now and the lease's end
	wantHeld bool
	// wantHolder and wantTill describe the lease take reports (the
	// holder's, or the other holder's when it is refused).
	wantHolder string
	wantTill   int
	wantErr    error
}

func testCRLLeases(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	sec := func(n int) time.Time { return base.Add(time.Duration(n) * time.Second) }
	steps := []leaseStep{
		{op: "take", shard: 0, holder: "a", at: 0, till: 30, wantHeld: true, wantHolder: "a", wantTill: 30},
		{op: "take", shard: 0, holder: "b", at: 1, till: 31, wantHolder: "a", wantTill: 30},                     // a's lease runs
		{op: "take", shard: 0, holder: "a", at: 2, till: 40, wantHeld: true, wantHolder: "a", wantTill: 40},     // a takes again: extended
		{op: "take", shard: 1, holder: "b", at: 2, till: 32, wantHeld: true, wantHolder: "b", wantTill: 32},     // shards are independent
		{op: "take", shard: 0, holder: "b", at: 40, till: 70, wantHolder: "a", wantTill: 40},                    // ends at 40: not yet run out
		{op: "renew", shard: 0, holder: "a", till: 50},                                                          // a renews
		{op: "renew", shard: 0, holder: "b", till: 60, wantErr: store.ErrConflict},                              // b never held it
		{op: "take", shard: 0, holder: "b", at: 51, till: 80, wantHeld: true, wantHolder: "b", wantTill: 80},    // a died: its lease ran out
		{op: "renew", shard: 0, holder: "a", till: 90, wantErr: store.ErrConflict},                              // a lost it
		{op: "release", shard: 0, holder: "a"},                                                                  // not a's: nothing changes
		{op: "take", shard: 0, holder: "a", at: 52, till: 90, wantHolder: "b", wantTill: 80},                    // still b's
		{op: "release", shard: 0, holder: "b"},                                                                  // b is done
		{op: "take", shard: 0, holder: "a", at: 53, till: 90, wantHeld: true, wantHolder: "a", wantTill: 90},    // free again
		{op: "release", shard: 0, holder: "a"},                                                                  //
		{op: "renew", shard: 0, holder: "a", till: 95, wantErr: store.ErrConflict},                              // released: nothing to renew
		{op: "take", shard: 7, holder: "c", at: 100, till: 101, wantHeld: true, wantHolder: "c", wantTill: 101}, // first lease of a shard
	}
	for i, st := range steps {
		name := fmt.Sprintf("step %d: %s shard %d by %s", i, st.op, st.shard, st.holder)
		switch st.op {
		case "take":
			got, held, err := s.TakeCRLLease(ctx, st.shard, st.holder, sec(st.at), sec(st.till))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			want := store.Lease{Shard: st.shard, Holder: st.wantHolder, Until: sec(st.wantTill)}
			if held != st.wantHeld || got.Shard != want.Shard || got.Holder != want.Holder || !got.Until.Equal(want.Until) {
				t.Fatalf("%s: got %+v held %v, want %+v held %v", name, got, held, want, st.wantHeld)
			}
		case "renew":
			err := s.RenewCRLLease(ctx, st.shard, st.holder, sec(st.till))
			if st.wantErr != nil {
				wantErr(t, name, err, st.wantErr)
			} else if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		case "release":
			if err := s.ReleaseCRLLease(ctx, st.shard, st.holder); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		default:
			t.Fatalf("%s: unknown operation", name)
		}
	}
	// Leases are bookkeeping, not CA records: nothing was audited.
	wantChainLen(t, s, 0)
}

func testCRLLeaseInvalid(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
	}{
		{"take: negative shard", func() error {
			_, _, err := s.TakeCRLLease(ctx, -1, "a", base, base.Add(time.Minute))
			return err
		}},
		{"take: empty holder", func() error {
			_, _, err := s.TakeCRLLease(ctx, 0, "", base, base.Add(time.Minute))
			return err
		}},
		{"take: until not after now", func() error {
			_, _, err := s.TakeCRLLease(ctx, 0, "a", base, base)
			return err
		}},
		{"take: zero until", func() error {
			_, _, err := s.TakeCRLLease(ctx, 0, "a", time.Time{}.Add(-time.Hour), time.Time{})
			return err
		}},
		{"renew: negative shard", func() error { return s.RenewCRLLease(ctx, -1, "a", base) }},
		{"renew: empty holder", func() error { return s.RenewCRLLease(ctx, 0, "", base) }},
		{"renew: zero until", func() error { return s.RenewCRLLease(ctx, 0, "a", time.Time{}) }},
		{"release: negative shard", func() error { return s.ReleaseCRLLease(ctx, -1, "a") }},
		{"release: empty holder", func() error { return s.ReleaseCRLLease(ctx, 0, "") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if err == nil || errors.Is(err, store.ErrConflict) {
				t.Fatalf("error %v, want a validation error", err)
			}
		})
	}
	// Nothing was taken by the refused calls.
	got, held, err := s.TakeCRLLease(ctx, 0, "z", base, base.Add(time.Minute))
	if err != nil || !held || got.Holder != "z" {
		t.Fatalf("TakeCRLLease after refused calls = %+v, %v, %v; want held by z", got, held, err)
	}
}

// testReplicasLeaseRace has two replicas race for the same shard's lease,
// round after round, at the same instant: exactly one wins each round, and
// the loser is told who holds it.
func testReplicasLeaseRace(t *testing.T, open PairOpener) {
	a, b := open(t)
	ctx := context.Background()
	wins := map[string]int{}
	for round := range 40 {
		now := base.Add(time.Duration(round) * time.Minute)
		type outcome struct {
			lease store.Lease
			held  bool
			err   error
		}
		var (
			wg     sync.WaitGroup
			oa, ob outcome
		)
		wg.Go(func() {
			oa.lease, oa.held, oa.err = a.TakeCRLLease(ctx, 3, "replica-a", now, now.Add(30*time.Second))
		})
		wg.Go(func() {
			ob.lease, ob.held, ob.err = b.TakeCRLLease(ctx, 3, "replica-b", now, now.Add(30*time.Second))
		})
		wg.Wait()
		if oa.err != nil || ob.err != nil {
			t.Fatalf("round %d: errors %v and %v", round, oa.err, ob.err)
		}
		if oa.held == ob.held {
			t.Fatalf("round %d: held by a %v and by b %v, want exactly one", round, oa.held, ob.held)
		}
		winner, loser := oa, ob
		if ob.held {
			winner, loser = ob, oa
		}
		if loser.lease.Holder != winner.lease.Holder {
			t.Fatalf("round %d: the loser was told %q holds the lease, the winner is %q", round, loser.lease.Holder, winner.lease.Holder)
		}
		wins[winner.lease.Holder]++
		// Half the rounds end with a release, half by running out (the
		// next round starts a minute later).
		if round%2 == 0 {
			s := a
			if winner.lease.Holder == "replica-b" {
				s = b
			}
			if err := s.ReleaseCRLLease(ctx, 3, winner.lease.Holder); err != nil {
				t.Fatalf("round %d: release: %v", round, err)
			}
		}
	}
	t.Logf("lease wins: %v", wins)
}
