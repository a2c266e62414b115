package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"esig/ca/audit"
	"esig/ca/store"
	"esig/ca/store/sqlstore"
)

// GroupCommitter is a store built on the shared SQL core, whose writer
// counters show how requests were batched.
type GroupCommitter interface {
	store.Store
	WriterStats() sqlstore.WriterStats
}

// RunGroupCommit checks that write requests queued while the writer is held
// up share one transaction, and that a failing request in such a batch fails
// alone. hold blocks the store's writer (by holding the database's write
// lock, say) and returns the function that lets it go.
func RunGroupCommit(t *testing.T, s GroupCommitter, hold func(t *testing.T) (release func())) {
	const (
		queued = 49 // requests that pile up behind the held writer
		dups   = 9  // of them, inserts of serials stored beforehand
	)
	ctx := context.Background()
	for i := range dups {
		mustInsert(t, s, newCert(fmt.Sprintf("e%02x", i), i))
	}
	before := s.WriterStats()

	release := hold(t)
	released := false
	defer func() {
		if !released {
			release()
		}
	}()
	var wg sync.WaitGroup
	errs := make([]error, queued+1)
	insert := func(i int, serial string) {
		wg.Go(func() {
			errs[i] = s.InsertCertificate(ctx, newCert(serial, i), event(audit.KindCertificateIssued, serial, i))
		})
	}
	// The first request is taken alone and stalls the writer...
	insert(0, "f00")
	waitFor(t, "the writer to take the first request", func() bool { return s.WriterStats().Running == 1 })
	// ...while the others queue up behind it.
	for i := 1; i <= queued; i++ {
		serial := fmt.Sprintf("f%02x", i)
		if i <= dups {
			serial = fmt.Sprintf("e%02x", i-1)
		}
		insert(i, serial)
	}
	waitFor(t, fmt.Sprintf("%d queued requests", queued), func() bool { return s.WriterStats().Queued == queued })
	release()
	released = true
	wg.Wait()

	for i, err := range errs {
		switch {
		case i >= 1 && i <= dups:
			if !errors.Is(err, store.ErrDuplicate) {
				t.Errorf("request %d (a stored serial): error %v, want ErrDuplicate", i, err)
			}
		case err != nil:
			t.Errorf("request %d: %v", i, err)
		}
	}
	after := s.WriterStats()
	if got := after.Batches - before.Batches; got != 2 {
		t.Errorf("%d batches for %d requests, want 2 (one stalled, one with everything queued behind it)", got, queued+1)
	}
	if got := after.Requests - before.Requests; got != queued+1 {
		t.Errorf("writer answered %d requests, want %d", got, queued+1)
	}
	if got := after.Retries - before.Retries; got != 1 {
		t.Errorf("%d batches retried with savepoints, want 1 (the one with the duplicates)", got)
	}
	// The serials stored beforehand, then one entry per new serial.
	wantChainLen(t, s, dups+(queued+1-dups))
}

// waitFor polls cond until it holds, failing the test after ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
