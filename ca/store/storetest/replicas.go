package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"esig/ca/audit"
	"esig/ca/store"
)

// PairOpener returns two stores over one and the same database, as two
// replicas (processes) would open it, and arranges their cleanup.
type PairOpener func(t *testing.T) (a, b store.Store)

// RunReplicas checks what must hold when several stores share one database:
// one audit chain, no lost or doubled writes, CRL numbers that still only
// grow, and one holder at a time for a CRL shard's lease.
func RunReplicas(t *testing.T, open PairOpener) {
	t.Run("OneChain", func(t *testing.T) { testReplicasOneChain(t, open) })
	t.Run("CRLRace", func(t *testing.T) { testReplicasCRLRace(t, open) })
	t.Run("LeaseRace", func(t *testing.T) { testReplicasLeaseRace(t, open) })
}

func testReplicasOneChain(t *testing.T, open PairOpener) {
	const perReplica = 100
	a, b := open(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 4*perReplica)
	for r, s := range []store.Store{a, b} {
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < perReplica; i += 8 {
					serial := fmt.Sprintf("%x%03x", r+1, i)
					c := newCert(serial, i)
					if err := s.InsertCertificate(ctx, c, event(audit.KindCertificateIssued, serial, i)); err != nil {
						errs <- fmt.Errorf("replica %d: insert %s: %w", r, serial, err)
						continue
					}
					// Both replicas race for the same revocation.
					other := fmt.Sprintf("%x%03x", 2-r, i)
					if _, _, err := s.Revoke(ctx, other, 1, base, event(audit.KindCertificateRevoked, other, i)); err != nil && !errors.Is(err, store.ErrNotFound) {
						errs <- fmt.Errorf("replica %d: revoke %s: %w", r, other, err)
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	// Revoke whatever the race left valid, from either side.
	for r, s := range []store.Store{a, b} {
		for i := range perReplica {
			serial := fmt.Sprintf("%x%03x", 2-r, i)
			if _, _, err := s.Revoke(ctx, serial, 1, base, event(audit.KindCertificateRevoked, serial, i)); err != nil {
				t.Fatalf("replica %d: revoke %s: %v", r, serial, err)
			}
		}
	}
	// Each replica sees the same chain: one entry per certificate issued
	// and one per certificate revoked, never two revocations of one serial.
	for r, s := range []store.Store{a, b} {
		entries := wantChainLen(t, s, 4*perReplica)
		revoked := map[string]int{}
		for _, e := range entries {
			if e.Kind == audit.KindCertificateRevoked {
				revoked[e.Object]++
			}
		}
		for serial, n := range revoked {
			if n != 1 {
				t.Errorf("replica %d: %s revoked %d times in the chain", r, serial, n)
			}
		}
		if len(revoked) != 2*perReplica {
			t.Errorf("replica %d: %d serials revoked in the chain, want %d", r, len(revoked), 2*perReplica)
		}
		_, total, err := s.ListCertificates(ctx, store.ListFilter{Status: store.StatusRevoked})
		if err != nil || total != 2*perReplica {
			t.Errorf("replica %d: %d revoked certificates listed (%v), want %d", r, total, err, 2*perReplica)
		}
	}
}

func testReplicasCRLRace(t *testing.T, open PairOpener) {
	a, b := open(t)
	ctx := context.Background()
	for n := int64(1); n <= 20; n++ {
		var (
			wg   sync.WaitGroup
			errA error
			errB error
		)
		wg.Go(func() { errA = a.SaveCRL(ctx, newCRL(0, n), event(audit.KindCRLPublished, "0", int(n))) })
		wg.Go(func() { errB = b.SaveCRL(ctx, newCRL(0, n), event(audit.KindCRLPublished, "0", int(n))) })
		wg.Wait()
		okA, okB := errA == nil, errB == nil
		if okA == okB {
			t.Fatalf("CRL %d saved by both replicas racing: errors %v and %v, want exactly one ErrConflict", n, errA, errB)
		}
		if loser := errors.Join(errA, errB); !errors.Is(loser, store.ErrConflict) {
			t.Fatalf("CRL %d: losing replica got %v, want ErrConflict", n, loser)
		}
	}
	for r, s := range []store.Store{a, b} {
		got, err := s.LatestCRL(ctx, 0)
		if err != nil || got.Number != 20 {
			t.Fatalf("replica %d: LatestCRL = %+v, %v; want number 20", r, got, err)
		}
	}
	wantChainLen(t, a, 20)
}
