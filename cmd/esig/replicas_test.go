package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"esig/ca/store/postgres/pgtest"
	"esig/internal/config"
)

// propagation is the ocsp.propagation the replicas run with: the bound on
// how long a status change made by one replica takes to show in the other's
// OCSP answers.
const propagation = 500 * time.Millisecond

// crlShards is the crl.shards the servers in these tests run with: the
// default.
var crlShards = config.Default().CRL.Shards

// TestReplicas runs two esig serve processes on one PostgreSQL database and
// one CA directory, as a scaled-out deployment behind a load balancer would:
// the second replica joins the first one's CA, serials never collide, a
// revocation made on either replica reaches the other's OCSP answers within
// the configured propagation bound, both serve the same CRLs, and a key made
// on one works on the other at once (no session state in a replica).
func TestReplicas(t *testing.T) {
	pgtest.Require(t)
	dsn := pgtest.Database(t)
	root := t.TempDir()
	shared := []string{
		"ESIG_DATABASE=" + dsn,
		"ESIG_CA_DIR=" + filepath.Join(root, "shared", "ca"),
		"ESIG_RA_SECRET_FILE=" + filepath.Join(root, "shared", "ra.secret"),
		"ESIG_OCSP_PROPAGATION=" + propagation.String(),
		"ESIG_HTTP_RATE_LIMIT=0",
	}
	if err := os.MkdirAll(filepath.Join(root, "shared"), 0o700); err != nil {
		t.Fatal(err)
	}
	dataA, dataB := filepath.Join(root, "a"), filepath.Join(root, "b")
	a := launch(t, "replica A", dataA, shared...)
	b := launch(t, "replica B", dataB, shared...)

	// B joined A's CA: no second CA, no second admin key.
	if strings.Contains(b.out.String(), "created a new CA") {
		t.Fatal("replica B created a CA of its own")
	}
	if _, err := os.Stat(filepath.Join(dataB, "admin.key")); err == nil {
		t.Fatal("replica B made a second admin key")
	}
	issuer := readCert(t, filepath.Join(root, "shared", "ca", "issuing.pem"))
	token := adminToken(t, dataA)
	ca, cb := newAPIClient(a.url, token, 16), newAPIClient(b.url, token, 16)
	for _, c := range []*apiClient{ca, cb} {
		code, body, err := c.do("GET", "/ca/issuing.crt", nil)
		if err != nil || code != http.StatusOK || !bytes.Equal(body, issuer.Raw) {
			t.Fatalf("%s/ca/issuing.crt: %d %v: not the shared issuing CA", c.base, code, err)
		}
	}

	// Both replicas issue at once: every serial is distinct and each
	// replica finds what the other issued.
	const workers, perWorker = 8, 25
	var (
		mu    sync.Mutex
		acked []string
		certs = map[string]*issued{}
		errs  []error
		wg    sync.WaitGroup
	)
	for _, c := range []*apiClient{ca, cb} {
		for range workers {
			reqs := make([]map[string]any, perWorker)
			for i := range reqs {
				reqs[i] = issueRequest(t)
			}
			wg.Go(func() {
				for _, req := range reqs {
					got, err := c.issue(req)
					mu.Lock()
					if err != nil {
						errs = append(errs, fmt.Errorf("%s: %w", c.base, err))
					} else {
						acked = append(acked, got.Serial)
						certs[got.Serial] = got
					}
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	if len(certs) != len(acked) || len(acked) != 2*workers*perWorker {
		t.Fatalf("%d certificates acknowledged with %d distinct serials, want %d distinct", len(acked), len(certs), 2*workers*perWorker)
	}
	for _, c := range []*apiClient{ca, cb} {
		listed, err := c.listAll("")
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, s := range serials(listed) {
			if seen[s] {
				t.Errorf("%s lists serial %s twice", c.base, s)
			}
			seen[s] = true
		}
		for s := range certs {
			if !seen[s] {
				t.Errorf("%s does not list %s", c.base, s)
			}
		}
	}

	// A revocation on one replica reaches the other's OCSP answers, in
	// both directions. The other replica answers "good" first, so the
	// answer sits in its cache and only its watch on the store can change it.
	var revoked []string
	for _, dir := range []struct {
		name           string
		revoker, other *apiClient
		serial         string
	}{
		{"A to B", ca, cb, acked[0]},
		{"B to A", cb, ca, acked[1]},
	} {
		cert, err := parseCert(certs[dir.serial].Certificate)
		if err != nil {
			t.Fatal(err)
		}
		if st, err := dir.other.ocspStatus(cert, issuer); err != nil || st != ocsp.Good {
			t.Fatalf("%s: OCSP before the revocation: %d %v, want good", dir.name, st, err)
		}
		if err := dir.revoker.revoke(dir.serial); err != nil {
			t.Fatalf("%s: %v", dir.name, err)
		}
		revokedAt := time.Now()
		if st, err := dir.revoker.ocspStatus(cert, issuer); err != nil || st != ocsp.Revoked {
			t.Fatalf("%s: the revoking replica answers %d %v, want revoked at once", dir.name, st, err)
		}
		// The bound is ocsp.propagation; allow far more before calling it
		// lost, so a busy machine does not fail the test, and log what it took.
		limit := 20 * propagation
		for {
			st, err := dir.other.ocspStatus(cert, issuer)
			if err != nil {
				t.Fatalf("%s: %v", dir.name, err)
			}
			if st == ocsp.Revoked {
				t.Logf("%s: revocation seen by the other replica after %v (ocsp.propagation %v)", dir.name, time.Since(revokedAt).Round(time.Millisecond), propagation)
				break
			}
			if time.Since(revokedAt) > limit {
				t.Fatalf("%s: the other replica still answers %d %v after the revocation", dir.name, st, limit)
			}
			time.Sleep(propagation / 10)
		}
		revoked = append(revoked, dir.serial)
	}

	// Both replicas serve the same CRL for every shard, and together the
	// CRLs list exactly the revoked certificates of the store.
	listed, err := cb.listAll("revoked")
	if err != nil {
		t.Fatal(err)
	}
	listedRevoked := serials(listed)
	slices.Sort(revoked)
	if !slices.Equal(listedRevoked, revoked) {
		t.Fatalf("store lists revoked %v, want %v", listedRevoked, revoked)
	}
	for shard := range crlShards {
		derA, _, err := ca.crl(shard, issuer)
		if err != nil {
			t.Fatal(err)
		}
		derB, _, err := cb.crl(shard, issuer)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(derA, derB) {
			t.Errorf("shard %d: the replicas serve different CRLs", shard)
		}
	}
	onCRLs, err := ca.crlSerials(crlShards, issuer)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(onCRLs, revoked) {
		t.Errorf("the CRLs list %v, the store revoked %v", onCRLs, revoked)
	}

	// No session state: a key made on A works on B at once.
	code, body, err := ca.do("POST", "/v1/apikeys", map[string]any{"name": "portal", "scopes": []string{"certificates:issue"}})
	if err != nil || code != http.StatusCreated {
		t.Fatalf("creating an API key on A: %d %v %s", code, err, body)
	}
	var key struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(body, &key); err != nil || key.Token == "" {
		t.Fatalf("API key answer without a token: %v %s", err, body)
	}
	if _, err := newAPIClient(b.url, key.Token, 1).issue(issueRequest(t)); err != nil {
		t.Fatalf("the key made on A, used on B: %v", err)
	}

	a.terminate(t)
	b.terminate(t)
	out, status := esig(t, []string{"ESIG_DATABASE=" + dsn}, "audit", "verify", "--data", dataA)
	if status != 0 || !strings.Contains(out, "audit chain holds") {
		t.Fatalf("esig audit verify: exit %d: %s", status, out)
	}
}
