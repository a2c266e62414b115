package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseWrk(t *testing.T) {
	const ok = `Running 5s test @ http://127.0.0.1:1/ocsp
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.02ms    1.10ms  22.97ms   87.62%
    Req/Sec    16.20k     1.12k   18.02k    74.00%
  80613 requests in 5.00s, 69.04MB read
Requests/sec:  16114.43
Transfer/sec:     13.80MB
`
	r, err := parseWrk(ok)
	if err != nil || r.n != 80613 || r.elapsed != 5*time.Second {
		t.Fatalf("parseWrk = %+v, %v; want 80613 requests in 5s", r, err)
	}
	for name, tt := range map[string]struct{ out, want string }{
		"non-2xx":       {strings.Replace(ok, "Requests/sec", "  Non-2xx or 3xx responses: 12\nRequests/sec", 1), "Non-2xx"},
		"socket errors": {strings.Replace(ok, "Requests/sec", "  Socket errors: connect 0, read 3, write 0, timeout 0\nRequests/sec", 1), "Socket errors"},
		"no summary":    {"Running 5s test @ http://127.0.0.1:1/ocsp\n", "no request"},
		"no request":    {"  0 requests in 5.01s, 0.00B read\n", "no request"},
		"bad duration":  {"  10 requests in soon, 1MB read\n", "requests in soon"},
	} {
		if _, err := parseWrk(tt.out); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one saying %q", name, err, tt.want)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
