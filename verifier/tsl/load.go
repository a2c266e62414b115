package tsl

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrStale is wrapped by the error for a list past its NextUpdate when the
// policy fails closed (Loader.FailStale).
var ErrStale = errors.New("the trusted list is past its NextUpdate")

// ErrRollback is wrapped by the error for a refreshed list whose sequence
// number is lower than the cached one's: an old list replayed, which could
// bring back a service status since withdrawn.
var ErrRollback = errors.New("the refreshed trusted list is older than the cached one")

// Origin says where the bytes of a loaded list came from.
type Origin string

// Origins of a loaded list.
const (
	// FromFile: read from a local file named by the caller.
	FromFile Origin = "file"
	// FromNetwork: downloaded now (and, when it passed, cached).
	FromNetwork Origin = "network"
	// FromCache: the cached copy, used without asking the server because
	// it is younger than Loader.MaxAge or the loader is offline.
	FromCache Origin = "cache"
	// NotModified: the server answered a conditional request with 304.
	NotModified Origin = "not-modified"
	// FromCacheAfterFailedRefresh: the refresh failed or brought a list
	// that was refused, and the cached copy (which passed when it was
	// stored, and passes again now) is used instead.
	FromCacheAfterFailedRefresh Origin = "cache-after-failed-refresh"
)

// Loader loads trusted lists from files or URLs and keeps what it
// downloads in a cache directory, so that auditors can verify offline with
// the lists fetched earlier (esig tsl fetch, then esig verify --offline).
//
// A download replaces the cached copy only when it passes every check
// (parse, signature under the pinned certificates, sequence number not
// lower than the cached one). When a refresh fails or is refused, the
// cached copy is used if it still passes, and the refusal is reported in
// the list's warnings: a broken or replayed list on the server must not
// erase the last good one, nor be used in its place. The staleness policy
// then applies to whichever list is used.
type Loader struct {
	// CacheDir is the cache directory; "" disables caching.
	CacheDir string
	// Client performs downloads; nil means a client with a one-minute
	// timeout.
	Client *http.Client
	// MaxAge is how long a cached copy is used without asking the server.
	// Zero means always ask (with If-None-Match / If-Modified-Since, so an
	// unchanged list costs a 304).
	MaxAge time.Duration
	// Offline forbids the network: only files and the cache are read.
	Offline bool
	// FailStale refuses lists past their NextUpdate (fail closed) instead
	// of accepting them with a warning.
	FailStale bool
	// Now is the clock freshness is judged by; nil means time.Now. A past
	// time judges a list as of then (esig verify --at).
	Now func() time.Time
}

func (l *Loader) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// IsURL reports whether a location is fetched over HTTP(S) rather than
// read as a file.
func IsURL(location string) bool {
	s := strings.ToLower(location)
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// pins are the certificates a list is checked against, and where they
// came from.
type pins struct {
	certs []*x509.Certificate
	// by says who pinned them, for Trusted.PinnedBy.
	by string
	// warning, if set, qualifies the pinning (a LOTL pinned by itself).
	warning string
}

// pinSource chooses the certificates to check a parsed list against.
type pinSource func(*List) pins

func fixedPins(pinned []*x509.Certificate) pinSource {
	return func(*List) pins { return pins{certs: pinned, by: PinnedByCaller} }
}

// Values of Trusted.PinnedBy other than a LOTL's name.
const (
	PinnedByCaller = "the caller's pinned certificates"
	PinnedBySelf   = "the certificates the list names for itself"
)

// Load reads the list at location (a URL or a file), checks its signature
// against pinned and its freshness, and returns it when it passes.
func (l *Loader) Load(ctx context.Context, location string, pinned []*x509.Certificate) (*Trusted, error) {
	return l.load(ctx, location, fixedPins(pinned))
}

func (l *Loader) load(ctx context.Context, location string, pins pinSource) (*Trusted, error) {
	if !IsURL(location) {
		data, err := readFile(location)
		if err != nil {
			return nil, err
		}
		return l.accept(location, data, pins, FromFile)
	}
	return l.loadURL(ctx, location, pins)
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("trusted list: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxListSize+1))
	if err != nil {
		return nil, fmt.Errorf("trusted list %s: %w", path, err)
	}
	if len(data) > MaxListSize {
		return nil, fmt.Errorf("trusted list %s: larger than %d bytes", path, MaxListSize)
	}
	return data, nil
}

// accept parses data and applies every check; the result is usable.
func (l *Loader) accept(location string, data []byte, choose pinSource, origin Origin) (*Trusted, error) {
	list, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", location, err)
	}
	p := choose(list)
	now := l.now()
	res := list.CheckSignature(p.certs, now)
	if res.Err != nil {
		return nil, fmt.Errorf("%s: %w", location, res.Err)
	}
	t := &Trusted{List: list, Location: location, Signer: res.Signer, PinnedBy: p.by, Origin: origin, Raw: data}
	if p.warning != "" {
		t.Warnings = append(t.Warnings, p.warning)
	}
	t.Warnings = append(t.Warnings, res.Warnings...)
	if list.Stale(now) {
		if l.FailStale {
			return nil, fmt.Errorf("%s: %w", location, staleErr(list))
		}
		t.Stale = true
		t.Warnings = append(t.Warnings, staleErr(list).Error())
	}
	return t, nil
}

func staleErr(l *List) error {
	if l.NextUpdate.IsZero() {
		return fmt.Errorf("%w: the list is closed (no NextUpdate), its scheme has ended", ErrStale)
	}
	return fmt.Errorf("%w %s", ErrStale, day(l.NextUpdate))
}

// cacheMeta is stored next to each cached list.
type cacheMeta struct {
	URL          string    `json:"url"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"lastModified,omitempty"`
	Fetched      time.Time `json:"fetched"`
}

type cacheEntry struct {
	meta cacheMeta
	data []byte
}

func (l *Loader) cachePaths(url string) (data, meta string) {
	sum := sha256.Sum256([]byte(url))
	base := filepath.Join(l.CacheDir, hex.EncodeToString(sum[:16]))
	return base + ".xml", base + ".json"
}

// cached returns the cache entry for url, nil if there is none (or it is
// unreadable, which is the same for a cache).
func (l *Loader) cached(url string) *cacheEntry {
	if l.CacheDir == "" {
		return nil
	}
	dp, mp := l.cachePaths(url)
	mb, err := os.ReadFile(mp)
	if err != nil {
		return nil
	}
	var e cacheEntry
	if json.Unmarshal(mb, &e.meta) != nil || e.meta.URL != url {
		return nil
	}
	if e.data, err = readFile(dp); err != nil {
		return nil
	}
	return &e
}

// store writes a cache entry; the data goes first so that a crash never
// leaves metadata describing a list that is not there.
func (l *Loader) store(e *cacheEntry) error {
	if l.CacheDir == "" {
		return nil
	}
	if err := os.MkdirAll(l.CacheDir, 0o755); err != nil {
		return fmt.Errorf("trusted list cache: %w", err)
	}
	dp, mp := l.cachePaths(e.meta.URL)
	if e.data != nil {
		if err := writeAtomic(dp, e.data); err != nil {
			return err
		}
	}
	mb, err := json.MarshalIndent(e.meta, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(mp, mb)
}

func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tsl-*")
	if err != nil {
		return fmt.Errorf("trusted list cache: %w", err)
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(f.Name(), path)
	}
	if werr != nil {
		os.Remove(f.Name())
		return fmt.Errorf("trusted list cache: %w", werr)
	}
	return nil
}

func (l *Loader) client() *http.Client {
	if l.Client != nil {
		return l.Client
	}
	return &http.Client{Timeout: time.Minute}
}

func (l *Loader) loadURL(ctx context.Context, url string, pins pinSource) (*Trusted, error) {
	entry := l.cached(url)
	now := time.Now() // cache ages are wall-clock, whatever time lists are judged at
	var fromCache *Trusted
	var cacheErr error
	useCache := func(origin Origin) (*Trusted, error) {
		if fromCache == nil && cacheErr == nil {
			fromCache, cacheErr = l.accept(url, entry.data, pins, origin)
		}
		return fromCache, cacheErr
	}
	if entry != nil && (l.Offline || now.Sub(entry.meta.Fetched) < l.MaxAge) {
		t, err := useCache(FromCache)
		if err == nil || l.Offline {
			return t, err
		}
		// The cached copy no longer passes (new pins, a stricter policy):
		// ask the server for a list that does.
		fromCache, cacheErr = nil, nil
	}
	if l.Offline {
		return nil, fmt.Errorf("%s: offline, and not in the trusted list cache", url)
	}

	data, meta, status, err := l.download(ctx, url, entry)
	fallback := func(why error) (*Trusted, error) {
		if entry == nil {
			return nil, why
		}
		t, err := useCache(FromCacheAfterFailedRefresh)
		if err != nil {
			return nil, fmt.Errorf("%w; the cached copy does not pass either: %v", why, err)
		}
		t.Origin = FromCacheAfterFailedRefresh
		t.Warnings = append(t.Warnings, fmt.Sprintf("refresh refused (%v); using the cached list #%d fetched %s",
			why, t.List.SequenceNumber, day(entry.meta.Fetched)))
		return t, nil
	}
	switch {
	case err != nil:
		return fallback(err)
	case status == http.StatusNotModified && entry != nil:
		entry.meta.Fetched = now
		t, err := useCache(NotModified)
		if err != nil {
			return nil, err
		}
		if err := l.store(&cacheEntry{meta: entry.meta}); err != nil {
			t.Warnings = append(t.Warnings, err.Error())
		}
		return t, nil
	}
	t, err := l.accept(url, data, pins, FromNetwork)
	if err == nil && entry != nil {
		if old, perr := Parse(entry.data); perr == nil && old.SequenceNumber > t.List.SequenceNumber {
			err = fmt.Errorf("%s: %w (#%d, cached #%d)", url, ErrRollback, t.List.SequenceNumber, old.SequenceNumber)
		}
	}
	if err != nil {
		return fallback(err)
	}
	meta.Fetched = now
	if err := l.store(&cacheEntry{meta: meta, data: data}); err != nil {
		t.Warnings = append(t.Warnings, err.Error())
	}
	return t, nil
}

// Fetch returns the bytes at location without judging them: a file, the
// cached copy of a URL (offline, or younger than MaxAge), or a fresh
// download, which is not cached (only lists that pass are). It serves
// esig tsl show, which displays a list it could not verify, marked so.
func (l *Loader) Fetch(ctx context.Context, location string) ([]byte, error) {
	if !IsURL(location) {
		return readFile(location)
	}
	if e := l.cached(location); e != nil && (l.Offline || time.Since(e.meta.Fetched) < l.MaxAge) {
		return e.data, nil
	}
	if l.Offline {
		return nil, fmt.Errorf("%s: offline, and not in the trusted list cache", location)
	}
	data, _, _, err := l.download(ctx, location, nil)
	return data, err
}

// download performs a (conditional, when entry is set) GET.
func (l *Loader) download(ctx context.Context, url string, entry *cacheEntry) ([]byte, cacheMeta, int, error) {
	meta := cacheMeta{URL: url}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, meta, 0, fmt.Errorf("%s: %w", url, err)
	}
	req.Header.Set("Accept", MimeTypeTSL+", application/xml;q=0.9, text/xml;q=0.8")
	if entry != nil {
		if entry.meta.ETag != "" {
			req.Header.Set("If-None-Match", entry.meta.ETag)
		}
		if entry.meta.LastModified != "" {
			req.Header.Set("If-Modified-Since", entry.meta.LastModified)
		}
	}
	resp, err := l.client().Do(req)
	if err != nil {
		return nil, meta, 0, fmt.Errorf("%s: %w", url, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotModified:
		if entry != nil {
			return nil, meta, resp.StatusCode, nil
		}
		return nil, meta, 0, fmt.Errorf("%s: 304 Not Modified to an unconditional request", url)
	default:
		return nil, meta, 0, fmt.Errorf("%s: HTTP %s", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxListSize+1))
	if err != nil {
		return nil, meta, 0, fmt.Errorf("%s: %w", url, err)
	}
	if len(data) > MaxListSize {
		return nil, meta, 0, fmt.Errorf("%s: larger than %d bytes", url, MaxListSize)
	}
	meta.ETag = resp.Header.Get("ETag")
	meta.LastModified = resp.Header.Get("Last-Modified")
	return data, meta, resp.StatusCode, nil
}

// LOTLOptions tune LoadLOTL and LoadSet.
type LOTLOptions struct {
	// Territories limits the national lists loaded ("PL"); empty loads
	// every one the LOTL points at.
	Territories []string
	// NoFollow keeps LoadSet from following a LOTL's pointers: only the
	// lists named as sources are loaded (a LOTL then serves to pin them).
	NoFollow bool
	// LOTLPinned are the certificates a list of lists among LoadSet's
	// sources must be signed with (those the Official Journal publishes).
	// Empty: the ones the LOTL names for itself, with a warning that this
	// proves consistency, not trust.
	LOTLPinned []*x509.Certificate
}

// Source is one list to load into a Set.
type Source struct {
	// Location is a URL or a file.
	Location string
	// Pinned are the certificates the list must be signed with if it is a
	// national list; empty means the certificates a LOTL of the same Set
	// names for its territory. A list of lists is pinned by
	// LOTLOptions.LOTLPinned instead, so that one set of flags serves
	// whatever mix of lists a user names.
	Pinned []*x509.Certificate
}

const selfPinnedWarning = "the list of trusted lists was checked against the certificates it names for itself, not against an independent pin (give the certificates published in the Official Journal)"

// LoadSet loads the given lists into one Set, as esig verify --tsl does.
// A list of lists is recognised by its TSLType; the national lists it
// points at are then loaded too (see LOTLOptions), except for territories
// a source already provides. A national list without pinned certificates
// is pinned to what a LOTL among the sources names for it, whatever the
// order the sources come in. Lists that fail are recorded in Set.Rejected,
// never used.
func (l *Loader) LoadSet(ctx context.Context, sources []Source, opts LOTLOptions) *Set {
	set := &Set{}
	var lotls []*Trusted
	var deferred []Source
	load := func(src Source, allowDefer bool) {
		noPins := false
		t, err := l.load(ctx, src.Location, func(list *List) pins {
			switch {
			case list.IsLOTL() && len(opts.LOTLPinned) > 0:
				return pins{certs: opts.LOTLPinned, by: PinnedByCaller}
			case list.IsLOTL():
				self, _ := list.SelfPointer()
				return pins{certs: self.Certificates, by: PinnedBySelf, warning: selfPinnedWarning}
			case len(src.Pinned) > 0:
				return pins{certs: src.Pinned, by: PinnedByCaller}
			}
			for _, lt := range lotls {
				for _, p := range lt.List.PointersTo(list.Territory) {
					if p.Type == "" || p.Type == list.Type {
						return pins{certs: p.Certificates, by: "the " + lt.Name()}
					}
				}
			}
			noPins = true
			return pins{}
		})
		switch {
		case err == nil && t.List.IsLOTL():
			lotls = append(lotls, t)
			set.Add(t)
		case err == nil:
			set.Add(t)
		case noPins && allowDefer:
			deferred = append(deferred, src)
		default:
			set.Rejected = append(set.Rejected, Rejection{Location: src.Location, Err: err})
		}
	}
	for _, src := range sources {
		load(src, true)
	}
	for _, src := range deferred {
		load(src, false)
	}
	if opts.NoFollow {
		return set
	}
	have := map[string]bool{}
	for _, t := range set.Lists() {
		have[strings.ToUpper(t.List.Territory)] = true
	}
	for _, lt := range lotls {
		for _, p := range lt.List.Pointers {
			terr := strings.ToUpper(p.Territory)
			if !p.IsXML() || p.Type == lt.List.Type || have[terr] || !wanted(p.Territory, opts.Territories) {
				continue
			}
			t, err := l.FollowPointer(ctx, p)
			if err != nil {
				set.Rejected = append(set.Rejected, Rejection{Location: p.Location, Err: err})
				continue
			}
			have[terr] = true
			set.Add(t)
		}
	}
	return set
}

// LoadLOTL loads the EU list of trusted lists at location and follows its
// pointers (TS 119 612 clause 5.3.13) to the national lists, checking each
// against the certificates its pointer names. The LOTL itself is checked
// against pinned (the certificates the Official Journal publishes for it);
// when pinned is empty, against the certificates the LOTL names for itself,
// which proves only that it is consistent, and a warning says so.
//
// A national list that fails is recorded in Set.Rejected and left out, so
// that one broken list does not make every other country's services
// unusable. A LOTL that fails is an error.
func (l *Loader) LoadLOTL(ctx context.Context, location string, pinned []*x509.Certificate, opts LOTLOptions) (*Set, error) {
	lotl, err := l.load(ctx, location, func(list *List) pins {
		if len(pinned) > 0 {
			return pins{certs: pinned, by: PinnedByCaller}
		}
		self, _ := list.SelfPointer()
		return pins{certs: self.Certificates, by: PinnedBySelf, warning: selfPinnedWarning}
	})
	if err != nil {
		return nil, err
	}
	if !lotl.List.IsLOTL() {
		return nil, fmt.Errorf("%s: TSLType %s is not a list of trusted lists", location, lotl.List.Type)
	}
	set := &Set{}
	set.Add(lotl)
	for _, p := range lotl.List.Pointers {
		if !p.IsXML() || p.Type == lotl.List.Type || !wanted(p.Territory, opts.Territories) {
			continue
		}
		t, err := l.FollowPointer(ctx, p)
		if err != nil {
			set.Rejected = append(set.Rejected, Rejection{Location: p.Location, Err: err})
			continue
		}
		set.Add(t)
	}
	return set, nil
}

// FollowPointer loads the list a pointer names, pinned to the pointer's
// certificates, and checks that it is the list the pointer announces
// (territory and type).
func (l *Loader) FollowPointer(ctx context.Context, p Pointer) (*Trusted, error) {
	if len(p.Certificates) == 0 {
		return nil, fmt.Errorf("%s: the pointer for %s names no certificate to check the list against", p.Location, p.Territory)
	}
	t, err := l.Load(ctx, p.Location, p.Certificates)
	if err != nil {
		return nil, err
	}
	t.PinnedBy = "the pointer of the list of trusted lists"
	if p.Territory != "" && !strings.EqualFold(t.List.Territory, p.Territory) {
		return nil, fmt.Errorf("%s: the pointer announces territory %s, the list is for %s", p.Location, p.Territory, t.List.Territory)
	}
	if p.Type != "" && t.List.Type != p.Type {
		return nil, fmt.Errorf("%s: the pointer announces TSLType %s, the list has %s", p.Location, p.Type, t.List.Type)
	}
	return t, nil
}

func wanted(territory string, only []string) bool {
	if len(only) == 0 {
		return true
	}
	for _, o := range only {
		if strings.EqualFold(o, territory) {
			return true
		}
	}
	return false
}
