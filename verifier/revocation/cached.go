package revocation

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"
)

// Cached is a Fetcher for a long-running service: it keeps each CRL (by
// URL) and each OCSP response (by URL and request) it downloaded for MaxAge,
// so that documents signed under the same CA do not download the same CRL
// one after the other. Failures are not kept. The verdict does not depend
// on when data was fetched but on the data's own thisUpdate and nextUpdate,
// so the cost of keeping is that a revocation published within MaxAge may
// be seen MaxAge late. At most MaxEntries answers are held; when full, the
// oldest is dropped. It is safe for concurrent use, and concurrent callers
// asking for the same data wait for one download.
type Cached struct {
	next       Fetcher
	maxAge     time.Duration
	maxEntries int
	now        func() time.Time

	mu      sync.Mutex
	entries map[string]*cachedFetch
	order   []string // keys, oldest first
}

type cachedFetch struct {
	done    chan struct{}
	data    []byte
	err     error
	fetched time.Time
}

// NewCached returns a Cached fetching through next. maxAge and maxEntries
// at or below zero take 5 minutes and 1,024.
func NewCached(next Fetcher, maxAge time.Duration, maxEntries int) *Cached {
	if maxAge <= 0 {
		maxAge = 5 * time.Minute
	}
	if maxEntries <= 0 {
		maxEntries = 1024
	}
	return &Cached{next: next, maxAge: maxAge, maxEntries: maxEntries, now: time.Now, entries: map[string]*cachedFetch{}}
}

// FetchCRL implements Fetcher.
func (c *Cached) FetchCRL(ctx context.Context, url string) ([]byte, error) {
	return c.get(ctx, "crl "+url, func(ctx context.Context) ([]byte, error) { return c.next.FetchCRL(ctx, url) })
}

// FetchOCSP implements Fetcher.
func (c *Cached) FetchOCSP(ctx context.Context, url string, request []byte) ([]byte, error) {
	sum := sha256.Sum256(request)
	return c.get(ctx, "ocsp "+url+" "+string(sum[:]), func(ctx context.Context) ([]byte, error) { return c.next.FetchOCSP(ctx, url, request) })
}

func (c *Cached) get(ctx context.Context, key string, fetch func(context.Context) ([]byte, error)) ([]byte, error) {
	c.mu.Lock()
	e := c.entries[key]
	if e != nil {
		select {
		case <-e.done:
			if e.err != nil || c.now().Sub(e.fetched) >= c.maxAge {
				e = nil // failed or stale: fetch again below
			}
		default: // being fetched: wait for it
		}
	}
	if e == nil {
		e = &cachedFetch{done: make(chan struct{})}
		c.put(key, e)
		c.mu.Unlock()
		e.data, e.err = fetch(ctx)
		e.fetched = c.now()
		close(e.done)
		return e.data, e.err
	}
	c.mu.Unlock()
	select {
	case <-e.done:
		return e.data, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// put stores e under key, dropping the oldest entries beyond maxEntries.
// c.mu is held.
func (c *Cached) put(key string, e *cachedFetch) {
	if _, ok := c.entries[key]; ok {
		for i, k := range c.order {
			if k == key {
				c.order = append(c.order[:i], c.order[i+1:]...)
				break
			}
		}
	}
	c.order = append(c.order, key)
	c.entries[key] = e
	for len(c.order) > c.maxEntries {
		delete(c.entries, c.order[0])
		c.order = c.order[1:]
	}
}
