package main

// Helpers for the tests that run esig serve as real processes, several at
// once (replicas) or killed and restarted (crash safety): start on a port
// the test knows, wait until ready, kill, and talk to the API.

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// publicURL is the base URL every replica in these tests writes into
// certificates and CRLs: one CA behind one name, whichever process answers.
const publicURL = "http://ca.esig.test"

// syncBuffer is a bytes.Buffer safe for a process's output and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is an esig serve process started by a test.
type proc struct {
	name string
	cmd  *exec.Cmd
	url  string        // http://127.0.0.1:port, where it listens
	done chan struct{} // closed once the process has exited
	err  error         // its exit status, valid once done is closed
	out  *syncBuffer   // stdout and stderr
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// launch starts esig serve on data with env added to the environment, on a
// free loopback port, and waits until /readyz answers 200. The process is
// killed when the test ends; its output is logged if the test failed.
func launch(t *testing.T, name, data string, env ...string) *proc {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(esigBin, "serve", "--data", data, "--listen", addr)
	cmd.Env = append(os.Environ(), append([]string{"ESIG_LOG_FORMAT=json", "ESIG_BASE_URL=" + publicURL}, env...)...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: starting esig serve: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, url: "http://" + addr, done: make(chan struct{}), out: out}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s output:\n%s", name, tail(out.String(), 4000))
		}
	})
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case <-p.done:
			t.Fatalf("%s: esig serve exited before it was ready (%v):\n%s", name, p.err, tail(out.String(), 4000))
		default:
		}
		resp, err := http.Get(p.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not ready within a minute (last: %v)", name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill ends the process with SIGKILL, as a crash would, and waits for it.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("%s: SIGKILL: %v", p.name, err)
	}
	<-p.done
}

// terminate stops the process with SIGTERM and expects a clean exit.
func (p *proc) terminate(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			t.Errorf("%s: esig serve after SIGTERM: %v", p.name, p.err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("%s: esig serve did not stop within 30s of SIGTERM", p.name)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// apiClient calls one esig server with one API key.
type apiClient struct {
	base  string
	token string
	hc    *http.Client
}

func newAPIClient(base, token string, conns int) *apiClient {
	return &apiClient{base: base, token: token, hc: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns},
	}}
}

// do sends a request with a JSON body (nil: none) and returns the status
// and body.
func (c *apiClient) do(method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// issued is what POST /v1/certificates answers with.
type issued struct {
	Serial           string `json:"serial"`
	Status           string `json:"status"`
	Certificate      string `json:"certificate"`
	CRLShard         int    `json:"crlShard"`
	RevocationReason string `json:"revocationReason"`
}

// issueRequest is a person-signing request for a fresh P-256 key.
func issueRequest(t testing.TB) map[string]any {
	t.Helper()
	req, err := newIssueRequest()
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// newIssueRequest is issueRequest for goroutines other than the test's.
func newIssueRequest() (map[string]any, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "ignored"}}, key)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"csr":     string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})),
		"profile": "person-signing",
		"subject": map[string]string{"givenName": "Jan", "surname": "Kowalski", "pesel": "44051401359"},
	}, nil
}

// issue asks for a certificate and returns it when the answer is 201.
func (c *apiClient) issue(req map[string]any) (*issued, error) {
	status, body, err := c.do("POST", "/v1/certificates", req)
	if err != nil {
		return nil, err
	}
	if status != http.StatusCreated {
		return nil, fmt.Errorf("issue: status %d: %s", status, body)
	}
	var out issued
	if err := json.Unmarshal(body, &out); err != nil || out.Serial == "" || out.Certificate == "" {
		return nil, fmt.Errorf("issue: 201 without a serial and certificate (%v): %s", err, body)
	}
	return &out, nil
}

// revoke revokes serial for keyCompromise.
func (c *apiClient) revoke(serial string) error {
	status, body, err := c.do("POST", "/v1/certificates/"+serial+"/revoke", map[string]string{"reason": "keyCompromise"})
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("revoke %s: status %d: %s", serial, status, body)
	}
	return nil
}

// certificate reads the stored record of serial.
func (c *apiClient) certificate(serial string) (*issued, error) {
	status, body, err := c.do("GET", "/v1/certificates/"+serial, nil)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("certificate %s: status %d: %s", serial, status, body)
	}
	var out issued
	return &out, json.Unmarshal(body, &out)
}

// listAll pages through GET /v1/certificates (status "" for all) and
// returns every item (serial and status) in listing order, duplicates kept.
func (c *apiClient) listAll(status string) ([]issued, error) {
	var items []issued
	for page := 1; ; page++ {
		code, body, err := c.do("GET", fmt.Sprintf("/v1/certificates?status=%s&page=%d&pageSize=500", status, page), nil)
		if err != nil {
			return nil, err
		}
		if code != http.StatusOK {
			return nil, fmt.Errorf("list page %d: status %d: %s", page, code, body)
		}
		var out struct {
			Items []issued `json:"items"`
			Total int      `json:"total"`
		}
		if err := json.Unmarshal(body, &out); err != nil {
			return nil, err
		}
		items = append(items, out.Items...)
		if len(out.Items) == 0 || len(items) >= out.Total {
			return items, nil
		}
	}
}

// ocspStatus asks the server's responder about cert and returns
// ocsp.Good, ocsp.Revoked or ocsp.Unknown, having checked the signature.
func (c *apiClient) ocspStatus(cert, issuer *x509.Certificate) (int, error) {
	req, err := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{Hash: crypto.SHA256})
	if err != nil {
		return 0, err
	}
	resp, err := c.hc.Post(c.base+"/ocsp", "application/ocsp-request", bytes.NewReader(req))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("ocsp: status %d: %s", resp.StatusCode, body)
	}
	r, err := ocsp.ParseResponseForCert(body, cert, issuer)
	if err != nil {
		return 0, fmt.Errorf("ocsp response: %w", err)
	}
	return r.Status, nil
}

// crl fetches shard's CRL and checks it is signed by issuer.
func (c *apiClient) crl(shard int, issuer *x509.Certificate) ([]byte, *x509.RevocationList, error) {
	resp, err := c.hc.Get(fmt.Sprintf("%s/crl/%d.crl", c.base, shard))
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	der, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("crl %d: status %d: %s", shard, resp.StatusCode, der)
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, nil, fmt.Errorf("crl %d: %w", shard, err)
	}
	if err := rl.CheckSignatureFrom(issuer); err != nil {
		return nil, nil, fmt.Errorf("crl %d: signature: %w", shard, err)
	}
	return der, rl, nil
}

// parseCert decodes the PEM certificate of an API answer.
func parseCert(s string) (*x509.Certificate, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(b.Bytes)
}

// readCert reads a PEM certificate file of the CA directory.
func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseCert(string(raw))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// adminToken reads the admin key esig serve wrote on first start.
func adminToken(t *testing.T, data string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(data, "admin.key"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(raw))
}

// serials returns the serials of items, sorted.
func serials(items []issued) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Serial
	}
	slices.Sort(out)
	return out
}

// crlSerials fetches every shard's CRL from c and returns the serials they
// list, sorted.
func (c *apiClient) crlSerials(shards int, issuer *x509.Certificate) ([]string, error) {
	var out []string
	for shard := range shards {
		_, rl, err := c.crl(shard, issuer)
		if err != nil {
			return nil, err
		}
		for _, e := range rl.RevokedCertificateEntries {
			out = append(out, fmt.Sprintf("%x", e.SerialNumber.Bytes()))
		}
	}
	slices.Sort(out)
	return out, nil
}
