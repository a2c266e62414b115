package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"esig/internal/testpki"
	cadessign "esig/signer/cades"
	xadessign "esig/signer/xades"
)

// batchPKI is a test PKI with the leaves a batch is signed with.
type batchPKI struct {
	*testpki.PKI
	rsa, ec, revoked *testpki.Cert
	chain            []*x509.Certificate
}

func newBatchPKI(t *testing.T) *batchPKI {
	p := testpki.New(t)
	b := &batchPKI{PKI: p, rsa: p.Leaf(t, testpki.LeafOptions{Name: "Jan Kowalski"}),
		ec:      p.Leaf(t, testpki.LeafOptions{Name: "Anna Nowak", Key: testpki.ECDSAP256}),
		revoked: p.Leaf(t, testpki.LeafOptions{Name: "Odwołany Certyfikat"}),
		chain:   []*x509.Certificate{p.CA.Cert, p.Root.Cert}}
	p.Revoke(b.revoked, time.Now().Add(-time.Hour), 1)
	return b
}

// signFile writes a CAdES (attached) or XAdES (enveloped) B-B signature of
// a small document to path.
func (b *batchPKI) signFile(t *testing.T, path string, xml bool, leaf *testpki.Cert) {
	t.Helper()
	var out []byte
	if xml {
		doc := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><Deklaracja xmlns="urn:esig:test"><Numer>%s</Numer></Deklaracja>`, filepath.Base(path))
		var err error
		if out, err = xadessign.Sign(context.Background(), []byte(doc), xadessign.Options{Signer: leaf.Key, Certificate: leaf.Cert, Chain: b.chain}); err != nil {
			t.Fatal(err)
		}
	} else {
		var buf bytes.Buffer
		if err := cadessign.Sign(context.Background(), strings.NewReader("Wniosek "+filepath.Base(path)), &buf,
			cadessign.Options{Signer: leaf.Key, Certificate: leaf.Cert, Chain: b.chain}); err != nil {
			t.Fatal(err)
		}
		out = buf.Bytes()
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// batchDir writes 48 good signatures (24 CAdES by an RSA key, 24 XAdES by
// an ECDSA key) in dir, and in dir/sub one tampered CAdES and one XAdES by
// a revoked certificate, plus a hidden file that is not a signature.
func (b *batchPKI) batchDir(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "archiwum")
	for i := range 24 {
		b.signFile(t, filepath.Join(dir, fmt.Sprintf("wniosek-%02d.p7m", i)), false, b.rsa)
		b.signFile(t, filepath.Join(dir, fmt.Sprintf("deklaracja-%02d.xml", i)), true, b.ec)
	}
	sub := filepath.Join(dir, "sub")
	tampered := filepath.Join(sub, "zmieniony.p7m")
	b.signFile(t, tampered, false, b.rsa)
	data, _ := os.ReadFile(tampered)
	i := bytes.Index(data, []byte("Wniosek"))
	data[i] ^= 1
	os.WriteFile(tampered, data, 0o644)
	b.signFile(t, filepath.Join(sub, "odwolany.xml"), true, b.revoked)
	os.WriteFile(filepath.Join(dir, ".DS_Store"), []byte("not a signature"), 0o644)
	return dir
}

func (b *batchPKI) args(t *testing.T, extra ...string) []string {
	args := []string{"verify", "--trust", b.TrustFile(), "--offline"}
	for _, c := range b.WriteCRLs(t, time.Now()) {
		args = append(args, "--crl", c)
	}
	return append(args, extra...)
}

// jsonLines parses JSON lines output into the files and indications.
func jsonLines(t *testing.T, out string) (files []string, inds map[string]string) {
	t.Helper()
	inds = map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r struct {
			File       string
			Indication string
			Signatures []struct{ Format string }
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("not a JSON line: %v\n%s", err, sc.Text())
		}
		files = append(files, r.File)
		inds[r.File] = r.Indication
	}
	return files, inds
}

// summaryRow finds a row of the summary table and returns its counts.
func summaryRow(t *testing.T, out, name string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 5 && f[0] == name {
			return strings.Join(f[1:], " ")
		}
	}
	t.Fatalf("no summary row %q in:\n%s", name, out)
	return ""
}

// TestVerifyBatch verifies a directory of 50 signatures on two workers and
// checks the JSON lines, the summary, the exit status and the report
// directory; then the ways a batch is named and the exit codes.
func TestVerifyBatch(t *testing.T) {
	b := newBatchPKI(t)
	dir := b.batchDir(t)
	reports := filepath.Join(t.TempDir(), "raport")
	stdout, stderr, code := runESig(t, b.args(t, "--format", "json", "--jobs", "2", "--recursive", "--report-dir", reports, dir)...)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (a TOTAL-FAILED among them)\n%s", code, stderr)
	}
	files, inds := jsonLines(t, stdout)
	if len(files) != 50 {
		t.Fatalf("%d JSON lines, want 50", len(files))
	}
	if !slices.IsSorted(files) {
		t.Errorf("reports not in the order of the files: %q", files)
	}
	if inds[filepath.Join(dir, "sub", "zmieniony.p7m")] != "TOTAL-FAILED" || inds[filepath.Join(dir, "wniosek-00.p7m")] != "TOTAL-PASSED" {
		t.Errorf("indications %v", inds)
	}
	for row, want := range map[string]string{"CAdES-BASELINE-B": "24 1 0 25", "XAdES-BASELINE-B": "24 1 0 25", "files": "48 2 0 50"} {
		if got := summaryRow(t, stderr, row); got != want {
			t.Errorf("summary %s: %s, want %s", row, got, want)
		}
	}
	if !strings.Contains(stderr, "50 files verified in") || !strings.Contains(stderr, "files/s with 2 workers") {
		t.Errorf("no throughput line:\n%s", stderr)
	}
	if strings.Contains(stderr, "verifying") {
		t.Error("a progress bar was drawn on a pipe")
	}

	entries, err := os.ReadDir(reports)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 50*3+1 {
		t.Errorf("%d files in the report directory, want 151", len(entries))
	}
	index, _ := os.ReadFile(filepath.Join(reports, "index.html"))
	for _, want := range []string{`href="zmieniony.p7m.html"`, `href="deklaracja-07.xml.xml"`, `href="wniosek-23.p7m.json"`, "TOTAL-FAILED"} {
		if !bytes.Contains(index, []byte(want)) {
			t.Errorf("index.html lacks %s", want)
		}
	}
	var one struct{ File, Indication string }
	js, _ := os.ReadFile(filepath.Join(reports, "odwolany.xml.json"))
	if err := json.Unmarshal(js, &one); err != nil || one.Indication != "TOTAL-FAILED" || !strings.HasSuffix(one.File, "odwolany.xml") {
		t.Errorf("odwolany.xml.json: %v %+v", err, one)
	}
	if etsi, _ := os.ReadFile(filepath.Join(reports, "wniosek-00.p7m.xml")); !bytes.Contains(etsi, []byte("ValidationReport")) {
		t.Error("wniosek-00.p7m.xml is not an ETSI report")
	}

	empty := t.TempDir()
	cases := []struct {
		name string
		args []string
		code int
		want string // in stdout
	}{
		{"top level only without --recursive", b.args(t, "--format", "json", dir), 0, ""},
		{"two files are a batch", b.args(t, "--format", "json", filepath.Join(dir, "wniosek-01.p7m"), filepath.Join(dir, "deklaracja-01.xml")), 0, "\n{"},
		{"indeterminate without revocation data", []string{"verify", "--trust", b.TrustFile(), "--offline", "--format", "json", dir}, 2, "TRY_LATER"},
		{"text reports end with the summary", b.args(t, "--format", "text", "--jobs", "1", dir), 0, "\nfiles                     48       0              0     48\n"},
		{"an empty directory", b.args(t, empty), 64, ""},
		{"a missing file in a batch", b.args(t, dir, filepath.Join(dir, "brak.p7m")), 64, ""},
		{"negative jobs", b.args(t, "--jobs", "-1", dir), 64, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runESig(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", code, tc.code, stderr)
			}
			if !strings.Contains(stdout, tc.want) {
				t.Errorf("stdout lacks %q:\n%s", tc.want, stdout)
			}
			if tc.name == "top level only without --recursive" {
				if files, _ := jsonLines(t, stdout); len(files) != 48 {
					t.Errorf("%d reports, want 48", len(files))
				}
			}
		})
	}
}

// TestVerifyBatchProgressBar runs a batch with stderr on a terminal (a
// pseudo-terminal made by script(1)) and expects the progress bar there.
func TestVerifyBatchProgressBar(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script(1) not installed: no pseudo-terminal to draw on")
	}
	b := newBatchPKI(t)
	dir := b.batchDir(t)
	var quoted []string
	for _, a := range append([]string{esigBin}, b.args(t, "--format", "json", "--recursive", dir)...) {
		quoted = append(quoted, "'"+a+"'")
	}
	// stdout goes to a file: only stderr is the terminal.
	jsonOut := filepath.Join(t.TempDir(), "out.jsonl")
	out, _ := exec.Command("script", "-q", "-e", "-c", strings.Join(quoted, " ")+" > "+jsonOut, os.DevNull).CombinedOutput()
	for _, want := range []string{"verifying", "100%", "50/50", "files/s", "files  "} {
		if !strings.Contains(string(out), want) {
			t.Errorf("terminal output lacks %q:\n%q", want, out)
		}
	}
	js, _ := os.ReadFile(jsonOut)
	if files, _ := jsonLines(t, string(js)); len(files) != 50 {
		t.Errorf("%d JSON lines with a terminal on stderr, want 50", len(files))
	}
}
