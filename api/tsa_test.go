package api_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"esig/api/apitest"
)

// TestTimeStampAuthority asks the server's TSA with openssl ts and has
// openssl verify the token against the CA chain.
func TestTimeStampAuthority(t *testing.T) {
	needOpenSSL(t)
	env := apitest.Start(t, apitest.Options{})
	dir := t.TempDir()
	data := writeFile(t, dir, "doc.txt", "umowa kupna-sprzedaży\n")
	query := filepath.Join(dir, "q.tsq")
	run(t, "openssl", "ts", "-query", "-data", data, "-sha256", "-cert", "-out", query)
	q, _ := os.ReadFile(query)
	resp, err := http.Post(env.URL+"/tsa", "application/timestamp-query", bytes.NewReader(q))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/timestamp-reply" {
		t.Fatalf("TSA: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	reply := filepath.Join(dir, "r.tsr")
	os.WriteFile(reply, body, 0o600)
	text := run(t, "openssl", "ts", "-reply", "-in", reply, "-text")
	if !strings.Contains(text, "Status: Granted") || !strings.Contains(text, "Policy OID: 0.4.0.2023.1.1") {
		t.Fatalf("TSA reply:\n%s", text)
	}
	issuing, root := splitChain(t, dir, env.Server.ChainPEM())
	if out := run(t, "openssl", "ts", "-verify", "-data", data, "-in", reply, "-CAfile", root, "-untrusted", issuing); !strings.Contains(out, "Verification: OK") {
		t.Fatalf("openssl ts -verify: %s", out)
	}
}
