package revocation

import (
	"context"
	"crypto/sha256"
	"sync"
)

// Shared is a Fetcher that downloads each CRL (by URL) and each OCSP
// response (by URL and request) once and hands the same answer, failure
// included, to every later caller. A batch run gives each file its own
// engine, so that verdicts cannot depend on which files happened to be
// verified before; Shared keeps that from costing one download per file.
// It is safe for concurrent use.
type Shared struct {
	next Fetcher

	mu   sync.Mutex
	done map[string]*sharedFetch
}

type sharedFetch struct {
	once sync.Once
	data []byte
	err  error
}

// NewShared returns a Shared fetching through next.
func NewShared(next Fetcher) *Shared {
	return &Shared{next: next, done: map[string]*sharedFetch{}}
}

func (s *Shared) entry(key string) *sharedFetch {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.done[key]
	if e == nil {
		e = &sharedFetch{}
		s.done[key] = e
	}
	return e
}

// FetchCRL implements Fetcher.
func (s *Shared) FetchCRL(ctx context.Context, url string) ([]byte, error) {
	e := s.entry("crl " + url)
	e.once.Do(func() { e.data, e.err = s.next.FetchCRL(ctx, url) })
	return e.data, e.err
}

// FetchOCSP implements Fetcher.
func (s *Shared) FetchOCSP(ctx context.Context, url string, request []byte) ([]byte, error) {
	sum := sha256.Sum256(request)
	e := s.entry("ocsp " + url + " " + string(sum[:]))
	e.once.Do(func() { e.data, e.err = s.next.FetchOCSP(ctx, url, request) })
	return e.data, e.err
}

// Fetched is one piece of revocation data a Fetcher returned.
type Fetched struct {
	// Kind is "CRL" or "OCSP", as in Evidence.
	Kind string
	// URL is where it came from.
	URL string
	// Data is the DER CRL or OCSPResponse as received.
	Data []byte
}

// Recorder is a Fetcher that keeps what its Fetcher returned, so that a
// verification's online revocation data can be kept beside its report and
// the same verdict reproduced offline later. Failed fetches are not kept:
// there is nothing to replay. It is safe for concurrent use.
type Recorder struct {
	next Fetcher

	mu   sync.Mutex
	got  []Fetched
	seen map[[32]byte]bool
}

// NewRecorder returns a Recorder fetching through next.
func NewRecorder(next Fetcher) *Recorder {
	return &Recorder{next: next, seen: map[[32]byte]bool{}}
}

// FetchCRL implements Fetcher.
func (r *Recorder) FetchCRL(ctx context.Context, url string) ([]byte, error) {
	b, err := r.next.FetchCRL(ctx, url)
	if err == nil {
		r.keep("CRL", url, b)
	}
	return b, err
}

// FetchOCSP implements Fetcher.
func (r *Recorder) FetchOCSP(ctx context.Context, url string, request []byte) ([]byte, error) {
	b, err := r.next.FetchOCSP(ctx, url, request)
	if err == nil {
		r.keep("OCSP", url, b)
	}
	return b, err
}

func (r *Recorder) keep(kind, url string, b []byte) {
	k := sha256.Sum256(append([]byte(kind+" "), b...))
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[k] {
		return
	}
	r.seen[k] = true
	r.got = append(r.got, Fetched{Kind: kind, URL: url, Data: append([]byte(nil), b...)})
}

// Fetched returns what was fetched, in the order it arrived, each distinct
// piece of data once.
func (r *Recorder) Fetched() []Fetched {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Fetched(nil), r.got...)
}
