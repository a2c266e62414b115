package api_test

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"esig/api/apitest"
	"esig/api/auth"
	"esig/internal/config"
)

func TestRateLimitPerKey(t *testing.T) {
	env := apitest.Start(t, apitest.Options{Configure: func(c *config.Config) { c.HTTP.RateLimit, c.HTTP.RateBurst = 1, 2 }})
	other, _, err := auth.Create(t.Context(), env.App.Store, "other", []string{auth.ScopeRead}, "test")
	if err != nil {
		t.Fatal(err)
	}
	var codes []int
	for i := 0; i < 3; i++ {
		resp, _ := env.Do(t, "GET", "/v1/certificates", env.AdminToken, nil)
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == 429 && resp.Header.Get("Retry-After") != "1" {
			t.Errorf("Retry-After %q, want 1", resp.Header.Get("Retry-After"))
		}
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 {
		t.Fatalf("status codes %v, want 200 200 429 (burst 2)", codes)
	}
	if resp, _ := env.Do(t, "GET", "/v1/certificates", other, nil); resp.StatusCode != 200 {
		t.Fatalf("another key was limited too: %d", resp.StatusCode)
	}
	if resp, _ := env.Do(t, "GET", "/healthz", "", nil); resp.StatusCode != 200 {
		t.Fatalf("public routes are not limited per key: %d", resp.StatusCode)
	}
}

// TestSlowClientIsCutOff: a client that never finishes its headers is
// disconnected after the read-header timeout instead of holding a
// connection forever.
func TestSlowClientIsCutOff(t *testing.T) {
	env := apitest.Start(t, apitest.Options{Configure: func(c *config.Config) { c.HTTP.ReadHeaderTimeout = 300 * time.Millisecond }})
	conn, err := net.Dial("tcp", strings.TrimPrefix(env.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: esig\r\nX-Slow: ")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = io.ReadAll(bufio.NewReader(conn))
	if elapsed := time.Since(start); err != nil || elapsed > 3*time.Second {
		t.Fatalf("the server kept a slow client for %v (err %v)", elapsed, err)
	}
}
