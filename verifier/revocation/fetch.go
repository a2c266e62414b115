package revocation

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Size limits on fetched data: a CRL of a large CA runs to megabytes, an
// OCSP response to a few kilobytes.
const (
	MaxCRLSize  = 64 << 20
	MaxOCSPSize = 1 << 20
)

// HTTPFetcher fetches CRLs with GET and OCSP responses with POST
// (RFC 6960, A.1), over http only: CRLs and OCSP are signed and the URLs in
// certificates are plain HTTP by convention (RFC 5280, 4.2.1.13).
type HTTPFetcher struct {
	Client *http.Client
}

// NewHTTPFetcher returns a fetcher with a bounded timeout.
func NewHTTPFetcher() *HTTPFetcher {
	return &HTTPFetcher{Client: &http.Client{Timeout: 15 * time.Second}}
}

// FetchCRL implements Fetcher.
func (f *HTTPFetcher) FetchCRL(ctx context.Context, url string) ([]byte, error) {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return nil, fmt.Errorf("unsupported URL scheme in %q", url)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return f.do(req, MaxCRLSize)
}

// FetchOCSP implements Fetcher.
func (f *HTTPFetcher) FetchOCSP(ctx context.Context, url string, request []byte) ([]byte, error) {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return nil, fmt.Errorf("unsupported URL scheme in %q", url)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(request))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/ocsp-request")
	req.Header.Set("Accept", "application/ocsp-response")
	return f.do(req, MaxOCSPSize)
}

func (f *HTTPFetcher) do(req *http.Request, limit int64) ([]byte, error) {
	c := f.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP status %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("response larger than %d bytes", limit)
	}
	return b, nil
}

func pemOrDER(b []byte, typ string) []byte {
	if blk, _ := pem.Decode(b); blk != nil && blk.Type == typ {
		return blk.Bytes
	}
	return b
}

func sha1Sum(b []byte) []byte {
	s := sha1.Sum(b)
	return s[:]
}
