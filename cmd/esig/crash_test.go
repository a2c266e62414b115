package main

import (
	"crypto/x509"
	"fmt"
	"math/big"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"esig/ca/store/postgres/pgtest"
)

// TestCrashDuringIssuance kills esig serve with SIGKILL while many clients
// issue (and revoke some of what they got), restarts it on the same data,
// and checks that nothing acknowledged was lost: every certificate answered
// with 201 is stored as it was sent, every revocation answered with 200 is
// in force, no serial repeats, the CRLs and OCSP answers agree with the
// store, and the audit chain verifies.
func TestCrashDuringIssuance(t *testing.T) {
	for _, engine := range []struct {
		name     string
		postgres bool
	}{{"sqlite", false}, {"postgres", true}} {
		t.Run(engine.name, func(t *testing.T) {
			env := []string{"ESIG_HTTP_RATE_LIMIT=0"}
			if engine.postgres {
				env = append(env, "ESIG_DATABASE="+pgtest.Database(t))
			}
			data := filepath.Join(t.TempDir(), "data")
			crashAndCheck(t, data, env)
		})
	}
}

// ackLog is what the clients were told before the crash.
type ackLog struct {
	mu      sync.Mutex
	issued  map[string]string // serial -> certificate PEM, answered 201
	order   []string          // serials in the order they were acknowledged
	revoked map[string]bool   // serials whose revocation was answered 200
}

func crashAndCheck(t *testing.T, data string, env []string) {
	const (
		workers = 16
		// killAfter is how many acknowledged certificates the crash waits
		// for; the clients keep issuing meanwhile, so it lands mid-flight.
		killAfter = 300
		// Every revokeEvery-th certificate a client gets, it revokes.
		revokeEvery = 5
	)
	p := launch(t, "before the crash", data, env...)
	token := adminToken(t, data)
	issuer := readCert(t, filepath.Join(data, "ca", "issuing.pem"))
	c := newAPIClient(p.url, token, workers)

	acks := &ackLog{issued: map[string]string{}, revoked: map[string]bool{}}
	var (
		killed atomic.Bool
		count  atomic.Int64
		wg     sync.WaitGroup
		errsMu sync.Mutex
		errs   []error
	)
	fail := func(err error) {
		// Errors after the kill are the crash itself; before it, a bug.
		if !killed.Load() {
			errsMu.Lock()
			errs = append(errs, err)
			errsMu.Unlock()
		}
	}
	for w := range workers {
		wg.Go(func() {
			for n := 1; ; n++ {
				req, err := newIssueRequest()
				if err != nil {
					fail(err)
					return
				}
				got, err := c.issue(req)
				if err != nil {
					fail(fmt.Errorf("client %d: %w", w, err))
					return
				}
				acks.mu.Lock()
				if _, dup := acks.issued[got.Serial]; dup {
					acks.mu.Unlock()
					fail(fmt.Errorf("client %d: serial %s acknowledged twice", w, got.Serial))
					return
				}
				acks.issued[got.Serial] = got.Certificate
				acks.order = append(acks.order, got.Serial)
				acks.mu.Unlock()
				count.Add(1)
				if n%revokeEvery == 0 {
					if err := c.revoke(got.Serial); err != nil {
						fail(fmt.Errorf("client %d: %w", w, err))
						return
					}
					acks.mu.Lock()
					acks.revoked[got.Serial] = true
					acks.mu.Unlock()
				}
			}
		})
	}
	deadline := time.Now().Add(2 * time.Minute)
	for count.Load() < killAfter {
		errsMu.Lock()
		early := len(errs)
		errsMu.Unlock()
		if early > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	killed.Store(true)
	p.kill(t)
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	if count.Load() < killAfter {
		t.Fatalf("only %d certificates acknowledged before the deadline", count.Load())
	}
	t.Logf("killed after %d certificates and %d revocations were acknowledged", len(acks.issued), len(acks.revoked))

	q := launch(t, "after the restart", data, env...)
	c = newAPIClient(q.url, token, workers)

	// Every acknowledged certificate is stored, byte for byte; every
	// acknowledged revocation holds.
	for _, serial := range acks.order {
		got, err := c.certificate(serial)
		if err != nil {
			t.Errorf("acknowledged certificate lost: %v", err)
			continue
		}
		if strings.TrimSpace(got.Certificate) != strings.TrimSpace(acks.issued[serial]) {
			t.Errorf("certificate %s: stored DER differs from the one acknowledged", serial)
		}
		if acks.revoked[serial] && got.Status != "revoked" {
			t.Errorf("certificate %s: revocation acknowledged, stored status %q", serial, got.Status)
		}
	}

	// No serial repeats in the store.
	all, err := c.listAll("")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, s := range serials(all) {
		if seen[s] {
			t.Errorf("serial %s stored twice", s)
		}
		seen[s] = true
	}
	t.Logf("%d certificates stored (%d acknowledged)", len(all), len(acks.issued))

	// The CRLs list exactly what the store holds as revoked. Revocations
	// committed just before the kill may have had no new CRL yet, and the
	// killed process may have held the leases of their shards: the restarted
	// server catches up once those leases run out (crl.DefaultLeaseTTL), so
	// the CRLs are given a minute to converge.
	revokedItems, err := c.listAll("revoked")
	if err != nil {
		t.Fatal(err)
	}
	wantCRL := serials(revokedItems)
	var onCRLs []string
	for start, first := time.Now(), true; ; first = false {
		if onCRLs, err = c.crlSerials(crlShards, issuer); err != nil {
			t.Fatal(err)
		}
		if slices.Equal(onCRLs, wantCRL) {
			if !first {
				t.Logf("CRLs caught up with revocations the crash left unpublished after %v", time.Since(start).Round(time.Second))
			}
			break
		}
		if time.Since(start) > time.Minute {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !slices.Equal(onCRLs, wantCRL) {
		t.Errorf("CRLs list %d serials, the store %d revoked:\n CRLs %v\nstore %v", len(onCRLs), len(wantCRL), onCRLs, wantCRL)
	}

	// OCSP answers agree with the store for every stored certificate,
	// acknowledged or not.
	for _, it := range all {
		n, ok := new(big.Int).SetString(it.Serial, 16)
		if !ok {
			t.Fatalf("listed serial %q is not hex", it.Serial)
		}
		st, err := c.ocspStatus(&x509.Certificate{SerialNumber: n}, issuer)
		if err != nil {
			t.Errorf("OCSP for %s: %v", it.Serial, err)
			continue
		}
		want := ocsp.Good
		if it.Status == "revoked" || it.Status == "on-hold" {
			want = ocsp.Revoked
		}
		if st != want {
			t.Errorf("OCSP for %s answers %d, the store says %s", it.Serial, st, it.Status)
		}
	}

	q.terminate(t)
	out, status := esig(t, env, "audit", "verify", "--data", data)
	if status != 0 || !strings.Contains(out, "audit chain holds") {
		t.Fatalf("esig audit verify after the crash: exit %d: %s", status, out)
	}
	t.Logf("esig audit verify: %s", strings.TrimSpace(out))
}
