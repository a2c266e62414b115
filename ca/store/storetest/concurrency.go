package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"esig/ca/audit"
	"esig/ca/store"
)

// attempt is one concurrent InsertCertificate call and its outcome.
type attempt struct {
	n      int
	serial string
	err    error
}

// testConcurrentInserts runs 200 inserts from 32 goroutines: 160 of fresh
// serials (must succeed), 20 of serials stored beforehand (must fail with
// ErrDuplicate) and 10 pairs racing for the same fresh serial (exactly one
// of each pair wins). Afterwards the chain must verify and hold exactly one
// entry per successful write, written by the winner.
func testConcurrentInserts(t *testing.T, open Opener) {
	const (
		workers  = 32
		fresh    = 160
		existing = 20
		pairs    = 10
	)
	s := open(t)
	ctx := context.Background()
	for i := range existing {
		mustInsert(t, s, newCert(fmt.Sprintf("e%03x", i), i))
	}

	var attempts []*attempt
	for i := range fresh {
		attempts = append(attempts, &attempt{serial: fmt.Sprintf("f%03x", i)})
	}
	for i := range existing {
		attempts = append(attempts, &attempt{serial: fmt.Sprintf("e%03x", i)})
	}
	for i := range pairs {
		serial := fmt.Sprintf("d%03x", i)
		attempts = append(attempts, &attempt{serial: serial}, &attempt{serial: serial})
	}
	for i, a := range attempts {
		a.n = i
	}

	work := make(chan *attempt)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for a := range work {
				c := newCert(a.serial, a.n)
				c.DER = fmt.Appendf(nil, "attempt %d", a.n)
				a.err = s.InsertCertificate(ctx, c, event(audit.KindCertificateIssued, a.serial, a.n))
			}
		})
	}
	// Interleave the kinds of attempt so duplicates land inside batches of
	// successful ones.
	for i := range attempts {
		work <- attempts[(i*7)%len(attempts)]
	}
	close(work)
	wg.Wait()

	winners := map[string]int{} // serial -> attempt number that stored it
	for _, a := range attempts {
		switch {
		case a.err == nil:
			if prev, ok := winners[a.serial]; ok {
				t.Errorf("serial %s stored twice, by attempts %d and %d", a.serial, prev, a.n)
			}
			winners[a.serial] = a.n
		case !errors.Is(a.err, store.ErrDuplicate):
			t.Errorf("attempt %d (%s): %v", a.n, a.serial, a.err)
		case a.serial[0] == 'f':
			t.Errorf("attempt %d: fresh serial %s failed: %v", a.n, a.serial, a.err)
		}
	}
	for i := range fresh {
		if _, ok := winners[fmt.Sprintf("f%03x", i)]; !ok {
			t.Errorf("fresh serial f%03x not stored", i)
		}
	}
	for i := range existing {
		if n, ok := winners[fmt.Sprintf("e%03x", i)]; ok {
			t.Errorf("attempt %d overwrote existing serial e%03x", n, i)
		}
	}
	for i := range pairs {
		if _, ok := winners[fmt.Sprintf("d%03x", i)]; !ok {
			t.Errorf("neither of the racing attempts for d%03x was stored", i)
		}
	}
	if len(winners) != fresh+pairs {
		t.Fatalf("%d attempts succeeded, want %d", len(winners), fresh+pairs)
	}

	// Each stored certificate is the winner's, and the chain has exactly
	// one entry per successful insert, recording that winner.
	for serial, n := range winners {
		c, err := s.Certificate(ctx, serial)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("attempt %d", n); string(c.DER) != want {
			t.Errorf("certificate %s holds %q, want %q", serial, c.DER, want)
		}
	}
	entries := wantChainLen(t, s, existing+fresh+pairs)
	audited := map[string]int{}
	for _, e := range entries[existing:] {
		var d struct{ N int }
		if err := json.Unmarshal(e.Details, &d); err != nil {
			t.Fatalf("entry %d details %s: %v", e.Seq, e.Details, err)
		}
		if _, dup := audited[e.Object]; dup {
			t.Errorf("serial %s audited twice", e.Object)
		}
		audited[e.Object] = d.N
	}
	for serial, n := range winners {
		if got, ok := audited[serial]; !ok || got != n {
			t.Errorf("serial %s: audit records attempt %d (present %v), want %d", serial, got, ok, n)
		}
	}
}
