package bench

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"esig/api/apitest"
	"esig/api/auth"
	"esig/ca/audit"
	"esig/ca/store"
)

// EnvLoad names the variable that turns the load test on: it issues ten
// thousand certificates per engine, which is more than `make test` should
// spend its time on. `make load` sets it.
const EnvLoad = "ESIG_LOAD"

// Load test shape: loadClients portals, each with its own API key, issue
// loadRequests certificates between them, all at once. Each key stays
// within the default per-key rate limit's burst, so the limit stays on and
// still nothing may fail.
const (
	loadRequests = 10_000
	loadClients  = 50
)

// TestLoad issues ten thousand certificates over HTTP from many concurrent
// clients, each with its own API key and the default rate limit in force,
// and requires zero errors and zero duplicate serials, every certificate
// stored once, and an audit chain that verifies with one entry per
// certificate.
func TestLoad(t *testing.T) {
	if os.Getenv(EnvLoad) == "" {
		t.Skipf("%s is not set; run `make load` for the %d-request load test", EnvLoad, loadRequests)
	}
	requests := loadRequests
	if v := os.Getenv(EnvLoad); v != "1" {
		n, err := strconv.Atoi(v)
		if err != nil || n < loadClients {
			t.Fatalf("%s=%q: want 1 (for %d requests) or a request count of at least %d", EnvLoad, v, loadRequests, loadClients)
		}
		requests = n
	}
	for _, e := range []struct {
		name string
		opts apitest.Options
	}{
		{"sqlite", apitest.Options{}},
		{"postgres", apitest.Options{Postgres: true}},
	} {
		t.Run(e.name, func(t *testing.T) { runLoad(t, apitest.Start(t, e.opts), requests) })
	}
}

func runLoad(t *testing.T, env *apitest.Env, requests int) {
	ctx := context.Background()
	if burst := env.App.Config.HTTP.RateBurst; requests/loadClients > burst {
		t.Fatalf("%d requests per client exceed the rate limit's burst of %d: the test would measure the limiter", requests/loadClients, burst)
	}
	_, before, err := env.App.Store.ListCertificates(ctx, store.ListFilter{Page: 1, PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	tokens := make([]string, loadClients)
	for i := range tokens {
		if tokens[i], _, err = auth.Create(ctx, env.App.Store, fmt.Sprintf("portal %d", i), []string{auth.ScopeIssue}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	bodies := csrBodies(t, 256)
	hc := client(loadClients)

	type result struct {
		serial string
		err    error
	}
	results := make(chan result, requests)
	var wg sync.WaitGroup
	start := time.Now()
	for cl := range loadClients {
		n := requests / loadClients
		if cl < requests%loadClients {
			n++
		}
		wg.Go(func() {
			for i := range n {
				serial, err := issueOnce(hc, env.URL, tokens[cl], bodies[(cl*7+i)%len(bodies)])
				results <- result{serial, err}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(results)

	serials := make(map[string]bool, requests)
	var failures, duplicates int
	for r := range results {
		switch {
		case r.err != nil:
			if failures < 5 {
				t.Errorf("request failed: %v", r.err)
			}
			failures++
		case serials[r.serial]:
			t.Errorf("serial %s issued twice", r.serial)
			duplicates++
		default:
			serials[r.serial] = true
		}
	}
	t.Logf("%d requests from %d clients in %v (%.0f/s): %d failed, %d duplicate serials",
		requests, loadClients, elapsed.Round(time.Millisecond), float64(requests)/elapsed.Seconds(), failures, duplicates)
	if failures > 0 || duplicates > 0 {
		t.Fatalf("%d failures and %d duplicates, want none", failures, duplicates)
	}

	// The store holds each of them once, and the audit chain records each.
	_, after, err := env.App.Store.ListCertificates(ctx, store.ListFilter{Page: 1, PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if after-before != requests {
		t.Errorf("the store gained %d certificates, want %d", after-before, requests)
	}
	var v audit.Verifier
	issued := 0
	err = env.App.Store.WalkAudit(ctx, func(e audit.Entry) error {
		if e.Kind == audit.KindCertificateIssued && serials[e.Object] {
			issued++
		}
		return v.Add(e)
	})
	if err != nil {
		t.Fatalf("audit chain: %v", err)
	}
	if issued != requests {
		t.Errorf("the audit chain records %d of the %d issuances", issued, requests)
	}
}

// csrBodies makes n issuance request bodies, each for its own P-256 key.
func csrBodies(t *testing.T, n int) [][]byte {
	t.Helper()
	bodies := make([][]byte, n)
	for i := range bodies {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}, key)
		if err != nil {
			t.Fatal(err)
		}
		bodies[i], _ = json.Marshal(map[string]any{
			"csr": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), "profile": "person-signing",
			"subject": map[string]string{"givenName": "Jan", "surname": "Kowalski", "pesel": "44051401359"},
		})
	}
	return bodies
}

// issueOnce posts one issuance request and returns the serial of a 201.
func issueOnce(hc *http.Client, base, token string, body []byte) (string, error) {
	req, err := http.NewRequest("POST", base+"/v1/certificates", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("status %d: %s", resp.StatusCode, raw)
	}
	var out struct {
		Serial string `json:"serial"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.Serial == "" {
		return "", fmt.Errorf("201 without a serial (%v): %s", err, raw)
	}
	return out.Serial, nil
}
