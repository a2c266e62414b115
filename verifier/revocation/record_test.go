package revocation

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// countingServer serves fixed bodies over HTTP and counts the requests per
// path; /missing answers 404.
func countingServer(t *testing.T) (*httptest.Server, map[string]*atomic.Int64) {
	t.Helper()
	counts := map[string]*atomic.Int64{"/a.crl": {}, "/b.crl": {}, "/ocsp": {}, "/missing": {}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := counts[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		c.Add(1)
		switch r.URL.Path {
		case "/missing":
			http.NotFound(w, r)
		case "/ocsp":
			req, _ := io.ReadAll(r.Body)
			w.Write(append([]byte("ocsp for "), req...))
		default:
			w.Write([]byte("crl at " + r.URL.Path))
		}
	}))
	t.Cleanup(srv.Close)
	return srv, counts
}

// TestSharedFetchesOnce checks that concurrent callers share one download
// per CRL URL and per OCSP URL and request, failures included.
func TestSharedFetchesOnce(t *testing.T) {
	srv, counts := countingServer(t)
	s := NewShared(NewHTTPFetcher())
	ctx := context.Background()
	calls := []struct {
		kind, path string
		request    string
		wantBody   string
		wantErr    bool
	}{
		{"crl", "/a.crl", "", "crl at /a.crl", false},
		{"crl", "/b.crl", "", "crl at /b.crl", false},
		{"ocsp", "/ocsp", "req-1", "ocsp for req-1", false},
		{"ocsp", "/ocsp", "req-2", "ocsp for req-2", false},
		{"crl", "/missing", "", "", true},
	}
	var wg sync.WaitGroup
	for range 8 {
		for _, c := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var b []byte
				var err error
				if c.kind == "crl" {
					b, err = s.FetchCRL(ctx, srv.URL+c.path)
				} else {
					b, err = s.FetchOCSP(ctx, srv.URL+c.path, []byte(c.request))
				}
				if (err != nil) != c.wantErr || string(b) != c.wantBody {
					t.Errorf("%s %s: %q, %v; want %q (error: %v)", c.kind, c.path, b, err, c.wantBody, c.wantErr)
				}
			}()
		}
	}
	wg.Wait()
	want := map[string]int64{"/a.crl": 1, "/b.crl": 1, "/ocsp": 2, "/missing": 1}
	for path, n := range want {
		if got := counts[path].Load(); got != n {
			t.Errorf("%s requested %d times, want %d", path, got, n)
		}
	}
}

// TestRecorderKeepsWhatWasFetched checks that a Recorder keeps each
// distinct successful answer once, with its kind and URL, and nothing for
// failures.
func TestRecorderKeepsWhatWasFetched(t *testing.T) {
	srv, _ := countingServer(t)
	r := NewRecorder(NewShared(NewHTTPFetcher()))
	ctx := context.Background()
	steps := []struct {
		name    string
		fetch   func() error
		wantLen int
	}{
		{"a CRL", func() error { _, err := r.FetchCRL(ctx, srv.URL+"/a.crl"); return err }, 1},
		{"the same CRL again", func() error { _, err := r.FetchCRL(ctx, srv.URL+"/a.crl"); return err }, 1},
		{"an OCSP response", func() error { _, err := r.FetchOCSP(ctx, srv.URL+"/ocsp", []byte("q")); return err }, 2},
		{"a failed fetch", func() error {
			if _, err := r.FetchCRL(ctx, srv.URL+"/missing"); err == nil {
				t.Error("a 404 was not an error")
			}
			return nil
		}, 2},
	}
	for _, st := range steps {
		if err := st.fetch(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := len(r.Fetched()); got != st.wantLen {
			t.Fatalf("after %s: %d records, want %d", st.name, got, st.wantLen)
		}
	}
	got := r.Fetched()
	if got[0].Kind != "CRL" || got[0].URL != srv.URL+"/a.crl" || !bytes.Equal(got[0].Data, []byte("crl at /a.crl")) {
		t.Errorf("first record %+v", got[0])
	}
	if got[1].Kind != "OCSP" || got[1].URL != srv.URL+"/ocsp" || !bytes.Equal(got[1].Data, []byte("ocsp for q")) {
		t.Errorf("second record %+v", got[1])
	}
}
