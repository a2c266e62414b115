package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"esig/internal/softhsmtest"
)

var esigBin string

// TestMain builds the esig binary once for the tests that run it.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "esig-bin-")
	if err != nil {
		panic(err)
	}
	esigBin = filepath.Join(dir, "esig")
	if out, err := exec.Command("go", "build", "-o", esigBin, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// esig runs the binary and returns its output and exit status.
func esig(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(esigBin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// server is a running esig serve process.
type server struct {
	cmd    *exec.Cmd
	url    string
	stdout *bytes.Buffer
}

var urlRE = regexp.MustCompile(`"url":"(http://[^"]+)"`)

func startServe(t *testing.T, data string, env ...string) *server {
	t.Helper()
	cmd := exec.Command(esigBin, "serve", "--data", data, "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), append(env, "ESIG_LOG_FORMAT=json")...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, stdout: &stdout}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := urlRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
			t.Log(sc.Text())
		}
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			t.Fatal("esig serve exited before serving")
		}
		s.url = u
	case <-time.After(60 * time.Second):
		t.Fatal("esig serve did not start within a minute")
	}
	return s
}

// stop sends SIGTERM and expects a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("esig serve after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("esig serve did not stop within 30s of SIGTERM")
	}
}

func TestServeFirstStartAndRestart(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	s := startServe(t, data)
	keyFile := filepath.Join(data, "admin.key")
	fi, err := os.Stat(keyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin.key: %v %v", fi, err)
	}
	key, _ := os.ReadFile(keyFile)
	token := strings.TrimSpace(string(key))
	for _, p := range []string{"keys/root.key", "keys/issuing.key", "ca.json", "root.pem", "issuing.pem", "ocsp.pem", "tsa.pem", "root.crl"} {
		if _, err := os.Stat(filepath.Join(data, "ca", p)); err != nil {
			t.Errorf("CA file %s: %v", p, err)
		}
	}
	req, _ := http.NewRequest("GET", s.url+"/v1/certificates", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the printed key does not work: %v %v", resp, err)
	}
	resp.Body.Close()
	s.stop(t)
	if !strings.Contains(s.stdout.String(), token) {
		t.Fatalf("the admin key was not printed on first start: %q", s.stdout.String())
	}

	// Second start: same CA, no new key printed.
	s2 := startServe(t, data)
	for _, path := range []string{"/readyz", "/crl/root.crl", "/crl/0.crl", "/ca/root.crt", "/ca/issuing.crt"} {
		resp, err = http.Get(s2.url + path)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", path, resp, err)
		}
		resp.Body.Close()
	}
	s2.stop(t)
	if strings.Contains(s2.stdout.String(), "esig_") {
		t.Errorf("a key was printed again on restart: %q", s2.stdout.String())
	}

	out, code := esig(t, nil, "audit", "verify", "--data", data)
	if code != 0 || !strings.Contains(out, "audit chain holds") {
		t.Fatalf("audit verify: %d %s", code, out)
	}
	db, err := sql.Open("sqlite", filepath.Join(data, "esig.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE audit_log SET details = '{\"tampered\":true}' WHERE seq = 3"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out, code = esig(t, nil, "audit", "verify", "--data", data)
	if code != 1 || !strings.Contains(out, "entry 3") {
		t.Fatalf("audit verify after tampering: %d %s", code, out)
	}
}

// TestCLIIssueRevokeOnHSM creates the CA on a SoftHSM2 token with the CLI,
// issues and revokes from the CLI, and lists.
func TestCLIIssueRevokeOnHSM(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	tok := softhsmtest.New(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	out, code := esig(t, nil, "ca", "init", "--data", data, "--hsm", tok.URI(""), "--key-type", "ecdsa-p384")
	if code != 0 {
		t.Fatalf("ca init: %d %s", code, out)
	}
	manifest, _ := os.ReadFile(filepath.Join(data, "ca", "ca.json"))
	if strings.Contains(string(manifest), tok.PIN) || !strings.Contains(string(manifest), "pkcs11:") {
		t.Fatalf("manifest must name token keys without their PIN: %s", manifest)
	}
	if _, err := os.Stat(filepath.Join(data, "ca", "keys")); err == nil {
		t.Error("keys directory written although the keys are on the token")
	}
	out, code = esig(t, nil, "ca", "init", "--data", data, "--hsm", tok.URI(""))
	if code == 0 || !strings.Contains(out, "refusing to overwrite") {
		t.Fatalf("second ca init: %d %s", code, out)
	}
	key, csr := filepath.Join(dir, "k.pem"), filepath.Join(dir, "c.pem")
	exec.Command("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key).Run()
	exec.Command("openssl", "req", "-new", "-key", key, "-subj", "/CN=x", "-out", csr).Run()
	subj := filepath.Join(dir, "s.json")
	os.WriteFile(subj, []byte(`{"organizationName":"Urząd Celny","nip":"5252955037"}`), 0o600)
	env := []string{"ESIG_PKCS11_PIN=" + tok.PIN}
	certFile := filepath.Join(dir, "cert.pem")
	out, code = esig(t, env, "ca", "issue", "--data", data, "--csr", csr, "--profile", "organization-seal", "--subject", subj, "--out", certFile)
	if code != 0 {
		t.Fatalf("ca issue: %d %s", code, out)
	}
	m := regexp.MustCompile(`serial ([0-9a-f]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no serial in %q", out)
	}
	chain := filepath.Join(dir, "chain.pem")
	root, _ := os.ReadFile(filepath.Join(data, "ca", "root.pem"))
	issuing, _ := os.ReadFile(filepath.Join(data, "ca", "issuing.pem"))
	os.WriteFile(chain, append(issuing, root...), 0o600)
	if v, err := exec.Command("openssl", "verify", "-CAfile", filepath.Join(data, "ca", "root.pem"), "-untrusted", filepath.Join(data, "ca", "issuing.pem"), certFile).CombinedOutput(); err != nil {
		t.Fatalf("openssl verify: %v %s", err, v)
	}
	out, code = esig(t, env, "ca", "revoke", m[1], "--reason", "cessationOfOperation", "--data", data)
	if code != 0 || !strings.Contains(out, "revoked (cessationOfOperation)") {
		t.Fatalf("ca revoke: %d %s", code, out)
	}
	out, code = esig(t, env, "ca", "list", "--status", "revoked", "--data", data)
	if code != 0 || !strings.Contains(out, m[1]) || !strings.Contains(out, "1 of 1") {
		t.Fatalf("ca list: %d %s", code, out)
	}
	out, code = esig(t, []string{"ESIG_PKCS11_PIN=wrong-pin"}, "ca", "list", "--data", data)
	if code == 0 || !strings.Contains(strings.ToLower(out), "pin") {
		t.Fatalf("a wrong PIN must be refused clearly: %d %s", code, out)
	}
}

func TestUsageErrorsAndHelp(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"serve", "--help"}, {"ca", "--help"}, {"ca", "init", "--help"}, {"ca", "issue", "--help"},
		{"ca", "revoke", "--help"}, {"ca", "list", "--help"}, {"ca", "crl", "--help"}, {"apikey", "create", "--help"}, {"audit", "verify", "--help"},
	} {
		out, code := esig(t, nil, args...)
		if code != 0 || !strings.Contains(out, "Usage:") {
			t.Errorf("esig %v: %d %s", args, code, out)
		}
	}
	for _, args := range [][]string{{"ca", "issue", "--bogus"}, {"ca", "revoke"}, {"ca", "issue"}, {"apikey", "create", "--name", "x"}, {"serve", "extra"}} {
		if out, code := esig(t, nil, args...); code != 64 {
			t.Errorf("esig %v: exit %d, want 64: %s", args, code, out)
		}
	}
	data := t.TempDir()
	if out, code := esig(t, nil, "ca", "revoke", "00", "--reason", "bored", "--data", data); code != 64 || !strings.Contains(out, "bored") {
		t.Errorf("unknown reason: %d %s", code, out)
	}
}
