package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"esig/internal/keys"
	"esig/internal/softhsmtest"
	"esig/internal/testpki"
)

// runESig runs the esig binary with stdout and stderr apart.
func runESig(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(esigBin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

type cliPKI struct {
	*testpki.PKI
	leaf *testpki.Cert
	crls []string
	doc  string
}

func newCLIPKI(t *testing.T) *cliPKI {
	p := testpki.New(t)
	c := &cliPKI{PKI: p, leaf: p.Leaf(t, testpki.LeafOptions{Name: "Jan Kowalski"})}
	c.crls = p.WriteCRLs(t, time.Now())
	c.doc = filepath.Join(t.TempDir(), "wniosek.txt")
	os.WriteFile(c.doc, []byte("Wniosek do ZUS\n"), 0o644)
	return c
}

func (c *cliPKI) verifyArgs(extra ...string) []string {
	args := []string{"verify", "--trust", c.TrustFile(), "--offline", "--format", "json"}
	for _, l := range c.crls {
		args = append(args, "--crl", l)
	}
	return append(args, extra...)
}

// TestCLISignVerify signs with esig sign cades at each level and checks
// esig verify's verdicts, JSON contract and exit codes.
func TestCLISignVerify(t *testing.T) {
	c := newCLIPKI(t)
	dir := t.TempDir()
	cases := []struct {
		name     string
		signArgs []string
		detached bool
	}{
		{"B attached", nil, false},
		{"B detached", []string{"--detached"}, true},
		{"T", []string{"--level", "T", "--tsa", c.TSAURL()}, false},
		{"LT", []string{"--level", "LT", "--tsa", c.TSAURL()}, false},
		{"LTA detached", []string{"--level", "LTA", "--tsa", c.TSAURL(), "--detached"}, true},
		{"PSS SHA-512", []string{"--pss", "--hash", "sha512"}, false},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, "sig"+string(rune('a'+i))+".p7m")
			args := append([]string{"sign", "cades", "--key", c.leaf.KeyPath, "--cert", c.leaf.CertPath, "--chain", c.ChainFile()}, tc.signArgs...)
			if _, stderr, code := runESig(t, append(args, c.doc, "-o", out)...); code != 0 {
				t.Fatalf("sign: exit %d: %s", code, stderr)
			}
			vargs := c.verifyArgs()
			if tc.detached {
				vargs = append(vargs, "--detached-content", c.doc)
			}
			stdout, stderr, code := runESig(t, append(vargs, out)...)
			if code != 0 {
				t.Fatalf("verify: exit %d\n%s\n%s", code, stdout, stderr)
			}
			checkContract(t, stdout)
		})
	}
}

// checkContract checks the field names DESIGN fixes for the JSON report.
func checkContract(t *testing.T, js string) {
	t.Helper()
	var r map[string]any
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, js)
	}
	if r["indication"] != "TOTAL-PASSED" {
		t.Errorf("indication %v", r["indication"])
	}
	sigs, _ := r["signatures"].([]any)
	if len(sigs) != 1 {
		t.Fatalf("signatures: %v", r["signatures"])
	}
	s := sigs[0].(map[string]any)
	for _, k := range []string{"id", "format", "indication", "subIndication", "signingTime", "bestSignatureTime", "signer",
		"qualification", "trustedProfile", "signedObjects", "timestamps", "errors", "warnings"} {
		if _, ok := s[k]; !ok {
			t.Errorf("signature lacks %q", k)
		}
	}
	signer, _ := s["signer"].(map[string]any)
	for _, k := range []string{"subject", "serialNumber", "issuer", "certificateSha256"} {
		if _, ok := signer[k]; !ok {
			t.Errorf("signer lacks %q", k)
		}
	}
	objs, _ := s["signedObjects"].([]any)
	if len(objs) == 0 {
		t.Fatal("no signedObjects")
	}
	for _, k := range []string{"reference", "uri", "digestAlgorithm"} {
		if _, ok := objs[0].(map[string]any)[k]; !ok {
			t.Errorf("signedObject lacks %q", k)
		}
	}
	if _, err := time.Parse(time.RFC3339, s["bestSignatureTime"].(string)); err != nil {
		t.Errorf("bestSignatureTime: %v", err)
	}
}

// TestCLIVerifyExitCodes checks 0, 1, 2 and 64.
func TestCLIVerifyExitCodes(t *testing.T) {
	c := newCLIPKI(t)
	dir := t.TempDir()
	sig := filepath.Join(dir, "sig.p7m")
	if _, stderr, code := runESig(t, "sign", "cades", "--key", c.leaf.KeyPath, "--cert", c.leaf.CertPath, "--chain", c.ChainFile(), c.doc, "-o", sig); code != 0 {
		t.Fatalf("sign: %s", stderr)
	}
	b, _ := os.ReadFile(sig)
	tampered := filepath.Join(dir, "tampered.p7m")
	i := bytes.Index(b, []byte("Wniosek"))
	b[i] ^= 1
	os.WriteFile(tampered, b, 0o644)
	garbage := filepath.Join(dir, "garbage.p7m")
	os.WriteFile(garbage, []byte{0x30, 0x82, 0xff}, 0o644)
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"passed", c.verifyArgs(sig), 0},
		{"passed text", append(c.verifyArgs("--format", "text"), sig), 0},
		{"tampered", c.verifyArgs(tampered), 1},
		{"garbage", c.verifyArgs(garbage), 1},
		{"one passed one failed", c.verifyArgs(sig, tampered), 1},
		{"no trust anchor", []string{"verify", "--offline", sig}, 2},
		{"unreadable file", c.verifyArgs(filepath.Join(dir, "missing.p7m")), 64},
		{"unreadable trust file", []string{"verify", "--trust", filepath.Join(dir, "none.pem"), sig}, 64},
		{"bad flag", []string{"verify", "--no-such-flag", sig}, 64},
		{"no file", []string{"verify"}, 64},
		{"bad --at", []string{"verify", "--at", "yesterday", sig}, 64},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runESig(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.code, stdout, stderr)
			}
		})
	}
}

// TestCLITimestamp gets a time stamp with esig timestamp, has openssl ts
// -verify judge it, and verifies it with esig timestamp --verify.
func TestCLITimestamp(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	c := newCLIPKI(t)
	tsr := filepath.Join(t.TempDir(), "doc.tsr")
	if _, stderr, code := runESig(t, "timestamp", "--tsa", c.TSAURL(), c.doc, "-o", tsr); code != 0 {
		t.Fatalf("timestamp: %s", stderr)
	}
	out, err := exec.Command("openssl", "ts", "-verify", "-in", tsr, "-data", c.doc, "-CAfile", c.TrustFile(), "-untrusted", c.CA.CertPath).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("Verification: OK")) {
		t.Fatalf("openssl ts -verify: %v\n%s", err, out)
	}
	args := []string{"timestamp", "--verify", tsr, "--trust", c.TrustFile(), "--offline"}
	for _, l := range c.crls {
		args = append(args, "--crl", l)
	}
	if stdout, stderr, code := runESig(t, append(args, c.doc)...); code != 0 {
		t.Fatalf("timestamp --verify: exit %d\n%s\n%s", code, stdout, stderr)
	}
	other := filepath.Join(t.TempDir(), "other.txt")
	os.WriteFile(other, []byte("not the document"), 0o644)
	if stdout, _, code := runESig(t, append(args, other)...); code != 1 {
		t.Fatalf("timestamp --verify of other data: exit %d, want 1\n%s", code, stdout)
	}
}

// TestCLISignWithTokenKey signs with a key on a SoftHSM2 token named by a
// pkcs11: URI, and verifies the result.
func TestCLISignWithTokenKey(t *testing.T) {
	tok := softhsmtest.New(t)
	uri := tok.URI("cades-signer")
	key, err := keys.Generate(keys.ECDSAP256, uri, keys.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := newCLIPKI(t)
	leaf := c.Leaf(t, testpki.LeafOptions{Name: "Klucz na karcie", SignerKey: key})
	sig := filepath.Join(t.TempDir(), "hsm.p7m")
	if _, stderr, code := runESig(t, "sign", "cades", "--key", uri, "--cert", leaf.CertPath, "--chain", c.ChainFile(), c.doc, "-o", sig); code != 0 {
		t.Fatalf("sign with %s: exit %d: %s", uri, code, stderr)
	}
	if stdout, stderr, code := runESig(t, append(c.verifyArgs(), sig)...); code != 0 {
		t.Fatalf("verify: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// TestCLIXAdES signs with esig sign xades in every packaging and at each
// level, and checks esig verify's verdicts (XML detected, detached content
// given as NAME=FILE), the JSON contract and the exit codes; xmlsec1, where
// installed, must accept the B-level output too.
func TestCLIXAdES(t *testing.T) {
	c := newCLIPKI(t)
	ec := c.Leaf(t, testpki.LeafOptions{Name: "Anna Nowak", Key: testpki.ECDSAP256})
	dir := t.TempDir()
	xmlIn := filepath.Join(dir, "deklaracja.xml")
	os.WriteFile(xmlIn, []byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Deklaracja xmlns="urn:esig:test"><Kwota>100</Kwota></Deklaracja>`), 0o644)
	policy := filepath.Join(dir, "polityka.pdf")
	os.WriteFile(policy, []byte("polityka podpisu"), 0o644)
	cases := []struct {
		name     string
		leaf     *testpki.Cert
		in       string
		signArgs []string
		format   string
		detached bool
	}{
		{"enveloped default", c.leaf, xmlIn, nil, "XAdES-BASELINE-B", false},
		{"enveloping ECDSA", ec, xmlIn, []string{"--packaging", "enveloping"}, "XAdES-BASELINE-B", false},
		{"detached default for non-XML", c.leaf, c.doc, []string{"--claimed-role", "Pełnomocnik", "--policy", "1.2.3.4", "--policy-file", policy}, "XAdES-BASELINE-B", true},
		{"detached ECDSA V1", ec, c.doc, []string{"--packaging", "detached", "--signing-certificate-v1"}, "XAdES-BASELINE-B", true},
		{"T", c.leaf, xmlIn, []string{"--level", "T", "--tsa", c.TSAURL()}, "XAdES-BASELINE-T", false},
		{"LTA detached", c.leaf, c.doc, []string{"--level", "LTA", "--tsa", c.TSAURL()}, "XAdES-BASELINE-LTA", true},
	}
	acceptDetached := filepath.Join(dir, "detached-ok.yaml")
	if err := os.WriteFile(acceptDetached, []byte("xades:\n  packagings: [enveloped, enveloping, detached]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, "sig"+string(rune('a'+i))+".xml")
			args := append([]string{"sign", "xades", "--key", tc.leaf.KeyPath, "--cert", tc.leaf.CertPath, "--chain", c.ChainFile()}, tc.signArgs...)
			if _, stderr, code := runESig(t, append(args, tc.in, "-o", out)...); code != 0 {
				t.Fatalf("sign: exit %d: %s", code, stderr)
			}
			var extra []string
			if tc.detached {
				// The default policy (the Ministry of Finance profile)
				// refuses detached XAdES; this one accepts it.
				extra = []string{"--detached-content", filepath.Base(tc.in) + "=" + tc.in, "--policy", acceptDetached}
			}
			stdout, stderr, code := runESig(t, append(c.verifyArgs(extra...), out)...)
			if code != 0 {
				t.Fatalf("verify: exit %d\n%s\n%s", code, stdout, stderr)
			}
			checkContract(t, stdout)
			var r struct {
				Signatures []struct{ Format string }
			}
			json.Unmarshal([]byte(stdout), &r)
			if r.Signatures[0].Format != tc.format {
				t.Errorf("format %q, want %q", r.Signatures[0].Format, tc.format)
			}
			if tc.detached {
				// A bare FILE stands for its base name.
				if _, _, code := runESig(t, append(c.verifyArgs("--detached-content", tc.in, "--policy", acceptDetached), out)...); code != 0 {
					t.Errorf("verify with a bare FILE: exit %d", code)
				}
				stdout, _, code := runESig(t, append(c.verifyArgs(), out)...)
				if code != 2 || !bytes.Contains([]byte(stdout), []byte("SIGNED_DATA_NOT_FOUND")) {
					t.Errorf("without the content: exit %d, want 2 with SIGNED_DATA_NOT_FOUND\n%s", code, stdout)
				}
			}
			if _, err := exec.LookPath("xmlsec1"); err == nil && !tc.detached {
				msg, err := exec.Command("xmlsec1", "--verify", "--trusted-pem", c.TrustFile(), "--untrusted-pem", c.CA.CertPath,
					"--id-attr:Id", "http://uri.etsi.org/01903/v1.3.2#:SignedProperties", out).CombinedOutput()
				if err != nil {
					t.Errorf("xmlsec1 --verify: %v\n%s", err, msg)
				}
			}
		})
	}
	t.Run("exit codes", func(t *testing.T) {
		sig := filepath.Join(dir, "sig-exit.xml")
		if _, stderr, code := runESig(t, "sign", "xades", "--key", c.leaf.KeyPath, "--cert", c.leaf.CertPath, "--chain", c.ChainFile(), xmlIn, "-o", sig); code != 0 {
			t.Fatalf("sign: %s", stderr)
		}
		b, _ := os.ReadFile(sig)
		tampered := filepath.Join(dir, "tampered.xml")
		os.WriteFile(tampered, bytes.Replace(b, []byte("<Kwota>100<"), []byte("<Kwota>900<"), 1), 0o644)
		dtd := filepath.Join(dir, "dtd.xml")
		os.WriteFile(dtd, append([]byte("<!DOCTYPE Deklaracja [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"), bytes.SplitN(b, []byte("\n"), 2)[1]...), 0o644)
		for _, tc := range []struct {
			name string
			args []string
			code int
		}{
			{"passed", c.verifyArgs(sig), 0},
			{"tampered", c.verifyArgs(tampered), 1},
			{"DOCTYPE", c.verifyArgs(dtd), 1},
			{"no trust anchor", []string{"verify", "--offline", sig}, 2},
			{"missing detached file", c.verifyArgs("--detached-content", "a.pdf="+filepath.Join(dir, "none.pdf"), sig), 64},
			{"two contents for CMS", c.verifyArgs("--detached-content", c.doc, "--detached-content", xmlIn, c.doc), 64},
			{"policy without digest", []string{"sign", "xades", "--key", c.leaf.KeyPath, "--cert", c.leaf.CertPath, "--policy", "1.2.3", xmlIn, "-o", sig}, 64},
			{"bad packaging", []string{"sign", "xades", "--key", c.leaf.KeyPath, "--cert", c.leaf.CertPath, "--packaging", "inside", xmlIn, "-o", sig}, 64},
			{"T without TSA", []string{"sign", "xades", "--key", c.leaf.KeyPath, "--cert", c.leaf.CertPath, "--level", "T", xmlIn, "-o", sig}, 64},
		} {
			t.Run(tc.name, func(t *testing.T) {
				stdout, stderr, code := runESig(t, tc.args...)
				if code != tc.code {
					t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.code, stdout, stderr)
				}
			})
		}
	})
}

// TestCLISignXAdESWithTokenKey signs XAdES with an ECDSA key on a SoftHSM2
// token named by a pkcs11: URI, and verifies the result.
func TestCLISignXAdESWithTokenKey(t *testing.T) {
	tok := softhsmtest.New(t)
	uri := tok.URI("xades-signer")
	key, err := keys.Generate(keys.ECDSAP256, uri, keys.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := newCLIPKI(t)
	leaf := c.Leaf(t, testpki.LeafOptions{Name: "Klucz na karcie", SignerKey: key})
	sig := filepath.Join(t.TempDir(), "hsm.xml")
	if _, stderr, code := runESig(t, "sign", "xades", "--key", uri, "--cert", leaf.CertPath, "--chain", c.ChainFile(), "--packaging", "enveloping", c.doc, "-o", sig); code != 0 {
		t.Fatalf("sign with %s: exit %d: %s", uri, code, stderr)
	}
	if stdout, stderr, code := runESig(t, append(c.verifyArgs(), sig)...); code != 0 {
		t.Fatalf("verify: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// TestCLIVerifyStartsWithoutCollecting: package startheap initialises
// before the libraries whose initialisers allocate the most (its doc
// says why that matters), and a one-document esig verify then runs no
// garbage collection at all.
func TestCLIVerifyStartsWithoutCollecting(t *testing.T) {
	c := newCLIPKI(t)
	sig := filepath.Join(t.TempDir(), "wniosek.p7m")
	if _, stderr, code := runESig(t, "sign", "cades", "--key", c.leaf.KeyPath, "--cert", c.leaf.CertPath, "--chain", c.ChainFile(), c.doc, "-o", sig); code != 0 {
		t.Fatalf("sign: exit %d: %s", code, stderr)
	}
	cmd := exec.Command(esigBin, append(c.verifyArgs(), sig)...)
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1,gctrace=1")
	cmd.Env = slices.DeleteFunc(cmd.Env, func(kv string) bool { return strings.HasPrefix(kv, "GOGC=") })
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("verify: %v\n%s", err, stderr.String())
	}
	order := map[string]int{}
	for i, line := range strings.Split(stderr.String(), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "init" {
			order[f[1]] = i + 1
		}
		if strings.HasPrefix(line, "gc ") {
			t.Errorf("a one-document verify collected garbage: %s", line)
		}
	}
	first := order["esig/cmd/esig/internal/startheap"]
	if first == 0 {
		t.Fatalf("no init of startheap in the trace:\n%s", stderr.String())
	}
	for _, heavy := range []string{"github.com/weppos/publicsuffix-go/publicsuffix", "github.com/zmap/zlint/v3/lint", "github.com/prometheus/client_golang/prometheus", "esig/verifier/report"} {
		if at, ok := order[heavy]; ok && at < first {
			t.Errorf("%s initialises before startheap", heavy)
		}
	}
}
