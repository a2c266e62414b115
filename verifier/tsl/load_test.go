package tsl

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"esig/verifier/tsl/tsltest"
)

// listServer serves trusted lists from memory on 127.0.0.1, with ETags
// and conditional GET, and counts what it serves.
type listServer struct {
	*httptest.Server
	mu       sync.Mutex
	files    map[string][]byte
	status   int // non-zero: answer every request with it
	requests int
	bodies   int
}

func newListServer(t *testing.T) *listServer {
	s := &listServer{files: map[string][]byte{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *listServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if s.status != 0 {
		w.WriteHeader(s.status)
		return
	}
	b, ok := s.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	sum := sha256.Sum256(b)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.bodies++
	w.Header().Set("Content-Type", MimeTypeTSL)
	w.Write(b)
}

func (s *listServer) put(path string, b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[path] = b
}

func (s *listServer) counts() (requests, bodies int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests, s.bodies
}

func (s *listServer) fail(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
}

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// TestLoaderCache walks one list through the life of a cache: first
// download, cache hit, conditional refresh, a new list, then three refreshes
// that must not replace it (broken signature, rollback, server error), and
// offline use.
func TestLoaderCache(t *testing.T) {
	p := newPKI(t)
	srv := newListServer(t)
	url := srv.URL + "/zz.xml"
	pins := []*x509.Certificate{p.Operator.Cert}
	seq := func(n int64) []byte { return p.SignedList(t, tsltest.ListOptions{Sequence: n}) }
	dir := t.TempDir()
	ctx := context.Background()

	steps := []struct {
		name       string
		serve      []byte // nil: leave as is
		status     int
		maxAge     time.Duration
		offline    bool
		wantOrigin Origin
		wantSeq    int64
		wantWarn   string
		requests   int // requests the step makes
		bodies     int // list bodies the step downloads
	}{
		{name: "first load downloads", serve: seq(1), wantOrigin: FromNetwork, wantSeq: 1, requests: 1, bodies: 1},
		{name: "young cache is used without asking", maxAge: time.Hour, wantOrigin: FromCache, wantSeq: 1},
		{name: "conditional refresh of an unchanged list", wantOrigin: NotModified, wantSeq: 1, requests: 1},
		{name: "a new list replaces the cached one", serve: seq(2), wantOrigin: FromNetwork, wantSeq: 2, requests: 1, bodies: 1},
		{name: "a broken signature on refresh keeps the cached list", serve: replace(t, seq(3), "Test QTSP S.A.", "Evil QTSP S.A."),
			wantOrigin: FromCacheAfterFailedRefresh, wantSeq: 2, wantWarn: "digest", requests: 1, bodies: 1},
		{name: "an older list on refresh is a rollback", serve: seq(1), wantOrigin: FromCacheAfterFailedRefresh, wantSeq: 2,
			wantWarn: ErrRollback.Error(), requests: 1, bodies: 1},
		{name: "a server error keeps the cached list", status: http.StatusInternalServerError, wantOrigin: FromCacheAfterFailedRefresh,
			wantSeq: 2, wantWarn: "HTTP 500", requests: 1},
		{name: "offline reads the cache only", offline: true, wantOrigin: FromCache, wantSeq: 2},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.serve != nil {
				srv.put("/zz.xml", st.serve)
			}
			srv.fail(st.status)
			r0, b0 := srv.counts()
			l := &Loader{CacheDir: dir, MaxAge: st.maxAge, Offline: st.offline, Now: fixedClock(at)}
			tl, err := l.Load(ctx, url, pins)
			if err != nil {
				t.Fatal(err)
			}
			if tl.Origin != st.wantOrigin || tl.List.SequenceNumber != st.wantSeq {
				t.Errorf("origin %s seq %d, want %s seq %d", tl.Origin, tl.List.SequenceNumber, st.wantOrigin, st.wantSeq)
			}
			// Raw is the list that was accepted, not whatever was served last.
			if raw, err := Parse(tl.Raw); err != nil || raw.SequenceNumber != tl.List.SequenceNumber {
				t.Errorf("Raw does not hold the accepted list #%d: %v", tl.List.SequenceNumber, err)
			}
			warn := strings.Join(tl.Warnings, "\n")
			if st.wantWarn == "" && warn != "" || !strings.Contains(warn, st.wantWarn) {
				t.Errorf("warnings %q, want %q", warn, st.wantWarn)
			}
			if r1, b1 := srv.counts(); r1-r0 != st.requests || b1-b0 != st.bodies {
				t.Errorf("%d requests and %d bodies served, want %d and %d", r1-r0, b1-b0, st.requests, st.bodies)
			}
		})
	}
	t.Run("offline without a cached copy", func(t *testing.T) {
		l := &Loader{CacheDir: t.TempDir(), Offline: true, Now: fixedClock(at)}
		if _, err := l.Load(ctx, url, pins); err == nil || !strings.Contains(err.Error(), "offline") {
			t.Errorf("error %v, want one saying the loader is offline", err)
		}
	})
	t.Run("a broken list with nothing cached is an error", func(t *testing.T) {
		srv.fail(0)
		srv.put("/broken.xml", replace(t, seq(1), "Test QTSP S.A.", "Evil QTSP S.A."))
		l := &Loader{CacheDir: t.TempDir(), Now: fixedClock(at)}
		if _, err := l.Load(ctx, srv.URL+"/broken.xml", pins); err == nil {
			t.Error("a list with a broken signature was accepted")
		}
	})
}

func TestLoaderStalePolicy(t *testing.T) {
	p := newPKI(t)
	path := p.Write(t, "zz.xml", p.SignedList(t, tsltest.ListOptions{}))
	pins := []*x509.Certificate{p.Operator.Cert}
	late := tsltest.NextUpdate.Add(time.Hour)
	tests := []struct {
		name      string
		now       time.Time
		failStale bool
		wantErr   error
		wantStale bool
	}{
		{"fresh", at, false, nil, false},
		{"past NextUpdate is reported", late, false, nil, true},
		{"past NextUpdate fails closed", late, true, ErrStale, false},
		{"fresh passes the strict policy", at, true, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := &Loader{Now: fixedClock(tc.now), FailStale: tc.failStale}
			tl, err := l.Load(context.Background(), path, pins)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if tl.Origin != FromFile || tl.Stale != tc.wantStale {
				t.Errorf("origin %s stale %v", tl.Origin, tl.Stale)
			}
			if tc.wantStale && !strings.Contains(strings.Join(tl.Warnings, "\n"), "past its NextUpdate") {
				t.Errorf("stale list without a warning: %q", tl.Warnings)
			}
		})
	}
}

// TestLoadSetFollowsLOTL serves a LOTL that points at two national lists,
// one signed with the key its pointer names and one not, plus the PDF form
// of one of them.
func TestLoadSetFollowsLOTL(t *testing.T) {
	p := newPKI(t)
	srv := newListServer(t)
	operator := []*x509.Certificate{p.Operator.Cert}
	lotlOp := []*x509.Certificate{p.LOTLOperator.Cert}
	srv.put("/zz.xml", p.SignedList(t, tsltest.ListOptions{Territory: "ZZ"}))
	srv.put("/yy.xml", p.SignedList(t, tsltest.ListOptions{Territory: "YY"}))
	srv.put("/xx.xml", p.SignedList(t, tsltest.ListOptions{Territory: "ZZ"}))
	srv.put("/lotl.xml", p.SignedLOTL(t, tsltest.LOTLOptions{Location: srv.URL + "/lotl.xml", Pointers: []tsltest.Pointer{
		{Location: srv.URL + "/zz.xml", Territory: "ZZ", Type: tsltest.TSLTypeGeneric, Certs: operator, Operator: "Test Supervisory Body"},
		{Location: srv.URL + "/zz.pdf", Territory: "ZZ", Type: tsltest.TSLTypeGeneric, Certs: operator, Operator: "Test Supervisory Body", MimeType: "application/pdf"},
		{Location: srv.URL + "/yy.xml", Territory: "YY", Type: tsltest.TSLTypeGeneric, Certs: lotlOp, Operator: "Other Body"},
		{Location: srv.URL + "/xx.xml", Territory: "XX", Type: tsltest.TSLTypeGeneric, Certs: operator, Operator: "Third Body"},
	}}))
	lotlFile := p.Write(t, "lotl.xml", srv.files["/lotl.xml"])
	zzFile := p.Write(t, "zz.xml", srv.files["/zz.xml"])
	ctx := context.Background()
	l := &Loader{Now: fixedClock(at)}

	territories := func(s *Set) string {
		var out []string
		for _, t := range s.Lists() {
			out = append(out, t.List.Territory)
		}
		return strings.Join(out, ",")
	}
	rejected := func(s *Set) string {
		var out []string
		for _, r := range s.Rejected {
			out = append(out, r.Location[strings.LastIndex(r.Location, "/")+1:]+": "+r.Err.Error())
		}
		return strings.Join(out, "\n")
	}
	tests := []struct {
		name         string
		sources      []Source
		opts         LOTLOptions
		wantLists    string
		wantRejected []string // substrings, one per rejection, in order
		wantWarning  string   // in the LOTL's warnings
	}{
		{name: "follows every XML pointer", sources: []Source{{Location: srv.URL + "/lotl.xml"}}, opts: LOTLOptions{LOTLPinned: lotlOp},
			wantLists: "EU,ZZ", wantRejected: []string{"yy.xml: " + srv.URL + "/yy.xml: " + ErrNoPinnedKey.Error(), "announces territory XX"}},
		{name: "only the territories asked for", sources: []Source{{Location: srv.URL + "/lotl.xml", Pinned: operator}},
			opts: LOTLOptions{Territories: []string{"zz"}, LOTLPinned: lotlOp}, wantLists: "EU,ZZ"},
		{name: "LOTL checked against itself", sources: []Source{{Location: lotlFile}}, opts: LOTLOptions{Territories: []string{"ZZ"}},
			wantLists: "EU,ZZ", wantWarning: "names for itself"},
		{name: "national file pinned by a LOTL given after it", sources: []Source{{Location: zzFile}, {Location: lotlFile}},
			opts: LOTLOptions{NoFollow: true, LOTLPinned: lotlOp}, wantLists: "EU,ZZ"},
		{name: "national file with its own pin", sources: []Source{{Location: zzFile, Pinned: operator}}, wantLists: "ZZ"},
		{name: "national file without any pin", sources: []Source{{Location: zzFile}}, wantRejected: []string{ErrNoPins.Error()}},
		{name: "LOTL with the wrong pin", sources: []Source{{Location: lotlFile}}, opts: LOTLOptions{LOTLPinned: operator},
			wantRejected: []string{ErrNoPinnedKey.Error()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := l.LoadSet(ctx, tc.sources, tc.opts)
			if got := territories(s); got != tc.wantLists {
				t.Errorf("lists %q, want %q", got, tc.wantLists)
			}
			if len(s.Rejected) != len(tc.wantRejected) {
				t.Fatalf("rejected:\n%s\nwant %d", rejected(s), len(tc.wantRejected))
			}
			for i, want := range tc.wantRejected {
				if !strings.Contains(s.Rejected[i].Location+": "+s.Rejected[i].Err.Error(), want) {
					t.Errorf("rejection %d: %s: %v, want %q", i, s.Rejected[i].Location, s.Rejected[i].Err, want)
				}
			}
			if tc.wantWarning != "" && !strings.Contains(strings.Join(s.Lists()[0].Warnings, "\n"), tc.wantWarning) {
				t.Errorf("LOTL warnings %q, want %q", s.Lists()[0].Warnings, tc.wantWarning)
			}
		})
	}
	t.Run("LoadLOTL", func(t *testing.T) {
		s, err := l.LoadLOTL(ctx, srv.URL+"/lotl.xml", lotlOp, LOTLOptions{Territories: []string{"ZZ"}})
		if err != nil || territories(s) != "EU,ZZ" {
			t.Fatalf("%v, lists %q", err, territories(s))
		}
		if _, err := l.LoadLOTL(ctx, zzFile, operator, LOTLOptions{}); err == nil || !strings.Contains(err.Error(), "not a list of trusted lists") {
			t.Errorf("a national list taken for a LOTL: %v", err)
		}
	})
	// What the set yields for the engine: the CA/QC and QTST services'
	// certificates, with their status history.
	t.Run("anchors", func(t *testing.T) {
		s := l.LoadSet(ctx, []Source{{Location: zzFile, Pinned: operator}}, LOTLOptions{})
		ca, tsa := s.CAAnchors(), s.TimestampAnchors()
		if len(ca) != 1 || !ca[0].Certificate.Equal(p.CA.Cert) || len(tsa) != 1 || !tsa[0].Certificate.Equal(p.TSA.Cert) {
			t.Fatalf("CA anchors %d, TSA anchors %d", len(ca), len(tsa))
		}
		if !ca[0].GrantedAt(at) || ca[0].GrantedAt(time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Error("GrantedAt does not follow the service history")
		}
		ta := TrustAnchors(append(ca, tsa...))
		if ta.Len() != 2 || !ta.Contains(p.CA.Cert) || ta.Contains(p.Operator.Cert) {
			t.Errorf("trust anchors: %d", ta.Len())
		}
		if refs := s.ServicesFor(p.CA.Cert); len(refs) != 1 || refs[0].Provider.Name.String() != "Test QTSP S.A." {
			t.Errorf("ServicesFor the CA: %d", len(refs))
		}
	})
}
