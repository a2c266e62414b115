package revocation

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingFetcher answers with the URL, counts calls per URL, fails the
// URLs in fail, and holds every call until release is closed (if set).
type countingFetcher struct {
	mu      sync.Mutex
	calls   map[string]int
	fail    map[string]bool
	release chan struct{}
}

func (f *countingFetcher) FetchCRL(_ context.Context, url string) ([]byte, error) {
	if f.release != nil {
		<-f.release
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[url]++
	if f.fail[url] {
		return nil, errors.New("unreachable")
	}
	return []byte(url), nil
}

func (f *countingFetcher) FetchOCSP(_ context.Context, url string, req []byte) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[url+string(req)]++
	return req, nil
}

func TestCached(t *testing.T) {
	ctx := context.Background()
	next := &countingFetcher{calls: map[string]int{}, fail: map[string]bool{"http://down/x.crl": true}}
	c := NewCached(next, time.Minute, 2)
	now := time.Unix(1_700_000_000, 0)
	c.now = func() time.Time { return now }

	for range 3 {
		if b, err := c.FetchCRL(ctx, "http://a/a.crl"); err != nil || string(b) != "http://a/a.crl" {
			t.Fatalf("FetchCRL = %q, %v", b, err)
		}
	}
	if n := next.calls["http://a/a.crl"]; n != 1 {
		t.Errorf("a CRL asked for three times within MaxAge was downloaded %d times, want 1", n)
	}
	now = now.Add(time.Minute)
	c.FetchCRL(ctx, "http://a/a.crl")
	if n := next.calls["http://a/a.crl"]; n != 2 {
		t.Errorf("after MaxAge: %d downloads, want 2", n)
	}
	for range 2 {
		if _, err := c.FetchCRL(ctx, "http://down/x.crl"); err == nil {
			t.Fatal("a failed download was answered without error")
		}
	}
	if n := next.calls["http://down/x.crl"]; n != 2 {
		t.Errorf("a failure was kept: %d downloads, want 2", n)
	}
	// OCSP answers are kept per request.
	c.FetchOCSP(ctx, "http://o", []byte("r1"))
	c.FetchOCSP(ctx, "http://o", []byte("r1"))
	c.FetchOCSP(ctx, "http://o", []byte("r2"))
	if next.calls["http://or1"] != 1 || next.calls["http://or2"] != 1 {
		t.Errorf("OCSP downloads %v, want one per request", next.calls)
	}
	// MaxEntries 2: the OCSP answers pushed the CRLs out.
	c.FetchCRL(ctx, "http://a/a.crl")
	if n := next.calls["http://a/a.crl"]; n != 3 {
		t.Errorf("an entry past MaxEntries was kept: %d downloads, want 3", n)
	}
	if len(c.entries) > 2 || len(c.order) > 2 {
		t.Errorf("%d entries, %d in order; want at most 2", len(c.entries), len(c.order))
	}
}

func TestCachedSharesOneDownload(t *testing.T) {
	next := &countingFetcher{calls: map[string]int{}, release: make(chan struct{})}
	c := NewCached(next, time.Minute, 0)
	var wg sync.WaitGroup
	var ok atomic.Int32
	for range 8 {
		wg.Go(func() {
			if b, err := c.FetchCRL(context.Background(), "http://a/a.crl"); err == nil && string(b) == "http://a/a.crl" {
				ok.Add(1)
			}
		})
	}
	time.Sleep(50 * time.Millisecond) // let them all ask
	close(next.release)
	wg.Wait()
	if ok.Load() != 8 || next.calls["http://a/a.crl"] != 1 {
		t.Fatalf("%d of 8 callers answered, %d downloads; want 8 and 1", ok.Load(), next.calls["http://a/a.crl"])
	}
	// A caller whose context ends stops waiting.
	slow := &countingFetcher{calls: map[string]int{}, release: make(chan struct{})}
	c = NewCached(slow, time.Minute, 0)
	go c.FetchCRL(context.Background(), "http://s/s.crl")
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.FetchCRL(ctx, "http://s/s.crl"); !errors.Is(err, context.Canceled) {
		t.Errorf("a canceled waiter got %v, want context.Canceled", err)
	}
	close(slow.release)
}
