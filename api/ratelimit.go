package api

import (
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// rateLimiter holds a token bucket per API key. Limits are per replica:
// with n replicas behind a balancer a key gets at most n times the rate,
// which bounds abuse without a shared counter on every request.
type rateLimiter struct {
	limit rate.Limit
	burst int
	mu    sync.Mutex
	keys  map[string]*keyBucket
}

type keyBucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// newRateLimiter returns nil (no limit) when perSecond is zero.
func newRateLimiter(perSecond float64, burst int) *rateLimiter {
	if perSecond <= 0 {
		return nil
	}
	if burst < 1 {
		burst = int(math.Ceil(perSecond))
	}
	return &rateLimiter{limit: rate.Limit(perSecond), burst: burst, keys: map[string]*keyBucket{}}
}

// allow takes a token for key, or says how long until one is free.
func (l *rateLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	b, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= 100_000 {
			l.sweep(now)
		}
		b = &keyBucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.keys[key] = b
	}
	b.seen = now
	l.mu.Unlock()
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep forgets buckets unused for a minute (they are full again anyway).
func (l *rateLimiter) sweep(now time.Time) {
	for k, b := range l.keys {
		if now.Sub(b.seen) > time.Minute {
			delete(l.keys, k)
		}
	}
}

// retryAfter renders a wait as whole seconds, at least one.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(int(math.Max(1, math.Ceil(d.Seconds()))))
}
