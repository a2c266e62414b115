package revocation

import (
	"context"
	"crypto/x509"
	"sync"
	"testing"
	"time"

	"esig/internal/testpki"
)

// TestCRLCacheShared gives several checkers, as a batch's engines, one
// cache: each CRL is parsed once, and every checker still judges with it
// and keeps its own origin for it.
func TestCRLCacheShared(t *testing.T) {
	p := testpki.New(t)
	good := p.Leaf(t, testpki.LeafOptions{Name: "good"})
	revoked := p.Leaf(t, testpki.LeafOptions{Name: "revoked"})
	p.Revoke(revoked, time.Now().Add(-time.Hour), 1)
	crl := p.CRL(t, p.CA, time.Now())
	cache := NewCRLCache()

	cases := []struct {
		name   string
		cert   *x509.Certificate
		origin Origin
		want   Status
	}{
		{"good from a file", good.Cert, File, Good},
		{"revoked from a file", revoked.Cert, File, Revoked},
		{"good, embedded", good.Cert, Embedded, Good},
		{"revoked, embedded", revoked.Cert, Embedded, Revoked},
	}
	var wg sync.WaitGroup
	for _, tc := range cases {
		wg.Go(func() {
			c := NewChecker(nil, nil)
			c.UseCRLCache(cache)
			if err := c.AddCRL(crl, tc.origin); err != nil {
				t.Errorf("%s: %v", tc.name, err)
				return
			}
			ev := c.Check(context.Background(), tc.cert, p.CA.Cert, nil)
			if len(ev) != 1 || ev[0].Status != tc.want || ev[0].Origin != tc.origin {
				t.Errorf("%s: evidence %+v, want %s from %s", tc.name, ev, tc.want, tc.origin)
			}
		})
	}
	wg.Wait()
	if n := cache.Len(); n != 1 {
		t.Errorf("the cache holds %d CRLs, want 1", n)
	}

	// A CRL that does not parse is an error for every checker.
	bad := append([]byte(nil), crl[:len(crl)/2]...)
	for i := range 2 {
		c := NewChecker(nil, nil)
		c.UseCRLCache(cache)
		if err := c.AddCRL(bad, File); err == nil {
			t.Errorf("checker %d accepted a truncated CRL", i)
		}
	}

	// A CRL parsed up front serves checkers as if added as DER.
	parsed, err := ParseCRL(crl)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []Origin{File, Embedded} {
		c := NewChecker(nil, nil)
		c.AddParsedCRL(parsed, o)
		c.AddParsedCRL(parsed, o)
		if err := c.AddCRL(crl, Online); err != nil {
			t.Fatal(err)
		}
		if ev := c.Check(context.Background(), revoked.Cert, p.CA.Cert, nil); len(ev) != 1 || ev[0].Status != Revoked || ev[0].Origin != o {
			t.Errorf("parsed CRL added as %s: evidence %+v, want one revoked from %s", o, ev, o)
		}
	}
	if _, err := ParseCRL(bad); err == nil {
		t.Error("ParseCRL accepted a truncated CRL")
	}

	// Without a cache, the checker parses on its own.
	c := NewChecker(nil, nil)
	if err := c.AddCRL(crl, File); err != nil {
		t.Fatal(err)
	}
	if ev := c.Check(context.Background(), revoked.Cert, p.CA.Cert, nil); len(ev) != 1 || ev[0].Status != Revoked || ev[0].Reason != 1 {
		t.Errorf("without a cache: %+v", ev)
	}
}
