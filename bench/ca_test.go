package bench

import (
	"bytes"
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
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"esig/api/apitest"
	"esig/app"
	"esig/internal/config"
)

// engines are the store variants every CA benchmark runs on; postgres is
// skipped when ESIG_TEST_POSTGRES_DSN is unset.
// The benchmarks drive the server with one API key, far above the default
// per-key rate limit, so they lift it.
var engines = []struct {
	name string
	opts apitest.Options
}{
	{"sqlite", apitest.Options{Configure: noRateLimit}},
	{"postgres", apitest.Options{Postgres: true, Configure: noRateLimit}},
}

func noRateLimit(c *config.Config) { c.HTTP.RateLimit = 0 }

func client(conns int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
}

// latencies collects request durations from many goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

func (l *latencies) report(b *testing.B, elapsed time.Duration) {
	sort.Slice(l.d, func(i, j int) bool { return l.d[i] < l.d[j] })
	if len(l.d) == 0 {
		return
	}
	q := func(p float64) float64 { return float64(l.d[int(p*float64(len(l.d)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(l.d))/elapsed.Seconds(), "req/s")
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkIssuanceHTTP issues person-signing certificates over HTTP from
// 32 concurrent clients, with an ECDSA P-256 issuing key in a file. Target
// on a 2-core machine: above 1,500 req/s with p99 under 50 ms.
func BenchmarkIssuanceHTTP(b *testing.B) {
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			env := apitest.Start(b, e.opts)
			bodies := make([][]byte, 64)
			for i := range bodies {
				key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
				der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}, key)
				bodies[i], _ = json.Marshal(map[string]any{
					"csr": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), "profile": "person-signing",
					"subject": map[string]string{"givenName": "Jan", "surname": "Kowalski", "pesel": "44051401359"},
				})
			}
			c := client(32)
			var next atomic.Int64
			load(b, 32, func() error {
				body := bodies[next.Add(1)%int64(len(bodies))]
				req, _ := http.NewRequest("POST", env.URL+"/v1/certificates", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+env.AdminToken)
				req.Header.Set("Content-Type", "application/json")
				return expect(c.Do(req))(http.StatusCreated)
			})
		})
	}
}

// BenchmarkOCSP asks about a set of issued certificates over HTTP POST from
// 64 concurrent clients. Target: above 15,000 answers/s.
func BenchmarkOCSP(b *testing.B) {
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			env := apitest.Start(b, e.opts)
			cert := env.App.TSACert
			req, err := ocsp.CreateRequest(cert, env.App.Hierarchy.Issuing, nil)
			if err != nil {
				b.Fatal(err)
			}
			c := client(64)
			load(b, 64, func() error {
				return expect(c.Post(env.URL+"/ocsp", "application/ocsp-request", bytes.NewReader(req)))(http.StatusOK)
			})
		})
	}
}

// load makes b.N requests from `workers` goroutines, fails the benchmark
// if any request failed, and reports throughput and latency quantiles.
func load(b *testing.B, workers int, do func() error) {
	var lat latencies
	var failures atomic.Int64
	var firstErr atomic.Value
	b.ResetTimer()
	start := time.Now()
	parallel(b, workers, func() {
		t0 := time.Now()
		if err := do(); err != nil {
			failures.Add(1)
			firstErr.CompareAndSwap(nil, err)
			return
		}
		lat.add(time.Since(t0))
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if f := failures.Load(); f > 0 {
		b.Fatalf("%d of %d requests failed, the first: %v", f, b.N, firstErr.Load())
	}
	lat.report(b, elapsed)
}

// expect drains a response and checks its status.
func expect(resp *http.Response, err error) func(status int) error {
	return func(status int) error {
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != status {
			return fmt.Errorf("status %d, want %d", resp.StatusCode, status)
		}
		return nil
	}
}

// parallel runs b.N calls of fn from exactly `workers` goroutines.
func parallel(b *testing.B, workers int, fn func()) {
	var wg sync.WaitGroup
	var left atomic.Int64
	left.Store(int64(b.N))
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				fn()
			}
		}()
	}
	wg.Wait()
}

// TestMain collects garbage as esig serve does (app.TuneGC), so the
// in-process server is measured as it runs.
func TestMain(m *testing.M) {
	app.TuneGC()
	os.Exit(m.Run())
}
