package api_test

import (
	"bytes"
	"io"
	"net/http"

	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"golang.org/x/crypto/ocsp"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"

	"esig/api/apitest"
	"esig/ca/audit"
	"esig/ca/store"
)

// needOpenSSL skips without the openssl command (CI installs it).
func needOpenSSL(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("openssl is required in CI")
		}
		t.Skip("openssl not installed")
	}
}

// run runs a command and fails the test with its output if it fails.
func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// opensslCSR makes a key and a CSR with openssl (an independent producer)
// and returns the CSR PEM and the key file path.
func opensslCSR(t testing.TB, keyAlg ...string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	key, csr := filepath.Join(dir, "key.pem"), filepath.Join(dir, "csr.pem")
	args := append([]string{"genpkey", "-out", key}, keyAlg...)
	run(t, "openssl", args...)
	run(t, "openssl", "req", "-new", "-key", key, "-subj", "/CN=whatever the CSR says/O=ignored", "-out", csr)
	b, err := os.ReadFile(csr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), key
}

var ecKey = []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"}

func issueBody(csr, profile string, subject map[string]string) []byte {
	b, _ := json.Marshal(map[string]any{"csr": csr, "profile": profile, "subject": subject})
	return b
}

var person = map[string]string{"givenName": "Jan", "surname": "Kowalski", "pesel": "44051401359", "email": "jan@example.pl"}

type certResponse struct {
	Serial      string `json:"serial"`
	Status      string `json:"status"`
	Certificate string `json:"certificate"`
	Chain       string `json:"chain"`
	CRLShard    int    `json:"crlShard"`
	Reason      string `json:"revocationReason"`
}

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func parsePEMCert(t testing.TB, s string) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		t.Fatalf("no PEM certificate in %q", s)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// zlintFindings runs every zlint lint (the zlint command's default) and
// returns the warnings, errors and fatals.
func zlintFindings(t testing.TB, der []byte) []string {
	t.Helper()
	zc, err := zx509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for name, r := range zlint.LintCertificateEx(zc, lint.GlobalRegistry()).Results {
		if r.Status >= lint.Warn {
			out = append(out, name+": "+r.Details)
		}
	}
	return out
}

// counts returns how many certificates and audit entries the store holds,
// to show that refused requests stored nothing.
func counts(t testing.TB, env *apitest.Env) (certs int, entries int) {
	t.Helper()
	_, total, err := env.App.Store.ListCertificates(context.Background(), store.ListFilter{Page: 1, PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	err = env.App.Store.WalkAudit(context.Background(), func(audit.Entry) error { entries++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return total, entries
}

func splitChain(t testing.TB, dir, chain string) (issuing, root string) {
	t.Helper()
	rest := []byte(chain)
	var parts []string
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		parts = append(parts, string(pem.EncodeToMemory(b)))
	}
	if len(parts) != 2 {
		t.Fatalf("chain has %d certificates, want issuing CA then root", len(parts))
	}
	return writeFile(t, dir, "issuing.pem", parts[0]), writeFile(t, dir, "root.pem", parts[1])
}

// assertRevoked checks that the server reports cert revoked with reason in
// OCSP and lists it in the CRL shard its distribution point names.
func assertRevoked(t *testing.T, env *apitest.Env, cert *x509.Certificate, reason int) {
	t.Helper()
	req, _ := ocsp.CreateRequest(cert, env.App.Hierarchy.Issuing, nil)
	r, err := http.Post(env.URL+"/ocsp", "application/ocsp-request", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	der, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if o, err := ocsp.ParseResponseForCert(der, cert, env.App.Hierarchy.Issuing); err != nil || o.Status != ocsp.Revoked || o.RevocationReason != reason {
		t.Fatalf("OCSP: %+v %v, want revoked with reason %d", o, err, reason)
	}
	r, err = http.Get(cert.CRLDistributionPoints[0])
	if err != nil {
		t.Fatal(err)
	}
	der, _ = io.ReadAll(r.Body)
	r.Body.Close()
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range rl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(cert.SerialNumber) == 0 && e.ReasonCode == reason {
			return
		}
	}
	t.Fatalf("the CRL shard does not list %x with reason %d", cert.SerialNumber, reason)
}
