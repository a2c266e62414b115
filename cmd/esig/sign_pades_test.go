package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"esig/verifier/pades/padestest"
)

// TestCLISignPAdES signs a PDF with esig sign pades at each level and
// checks esig verify's verdict, the format it names and its exit codes,
// for the signed file and for one with a signed byte changed.
func TestCLISignPAdES(t *testing.T) {
	c := newCLIPKI(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "umowa.pdf")
	doc := padestest.Document(t, padestest.Spec{Pages: []string{"Umowa najmu", "Podpisy"}, Field: "Anna"})
	if err := os.WriteFile(in, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		name   string
		args   []string
		format string
	}{
		{"B visible", []string{"--visible", "--page", "2", "--rect", "300,60,560,140", "--reason", "Akceptuję", "--location", "Kraków"}, "PAdES-BASELINE-B"},
		{"T", []string{"--level", "T", "--tsa", c.TSAURL()}, "PAdES-BASELINE-T"},
		{"LT", []string{"--level", "LT", "--tsa", c.TSAURL()}, "PAdES-BASELINE-LT"},
		{"LTA", []string{"--level", "LTA", "--tsa", c.TSAURL(), "--field", "Podpis najemcy"}, "PAdES-BASELINE-LTA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, "signed"+string(rune('a'+i))+".pdf")
			args := append([]string{"sign", "pades", "--key", c.leaf.KeyPath, "--cert", c.leaf.CertPath, "--chain", c.ChainFile()}, tc.args...)
			if _, stderr, code := runESig(t, append(args, in, "-o", out)...); code != 0 {
				t.Fatalf("sign: exit %d: %s", code, stderr)
			}
			signed, err := os.ReadFile(out)
			if err != nil || !strings.HasPrefix(string(signed), string(doc)) {
				t.Fatalf("the output is not an incremental update of the input (%v)", err)
			}
			stdout, stderr, code := runESig(t, append(c.verifyArgs(), out)...)
			if code != 0 {
				t.Fatalf("verify: exit %d\n%s\n%s", code, stdout, stderr)
			}
			checkContract(t, stdout)
			var r struct {
				Signatures []struct{ Format string } `json:"signatures"`
			}
			if err := json.Unmarshal([]byte(stdout), &r); err != nil || r.Signatures[0].Format != tc.format {
				t.Fatalf("format %+v, want %s (%v)", r.Signatures, tc.format, err)
			}
			if _, err := exec.LookPath("pdfsig"); err == nil {
				got, _ := exec.Command("pdfsig", "-nocert", out).CombinedOutput()
				if !strings.Contains(string(got), "Signature is Valid.") {
					t.Errorf("pdfsig:\n%s", got)
				}
			}
			tampered := filepath.Join(dir, "tampered"+string(rune('a'+i))+".pdf")
			// The first /Fields is in the original revision, which every
			// level's signature covers.
			b := append([]byte(nil), signed...)
			b[strings.Index(string(signed), "/Fields")] ^= 1
			os.WriteFile(tampered, b, 0o644)
			if stdout, _, code := runESig(t, append(c.verifyArgs(), tampered)...); code != 1 || !strings.Contains(stdout, "TOTAL-FAILED") {
				t.Fatalf("tampered: exit %d\n%s", code, stdout)
			}
		})
	}
}

// TestCLISignPAdESUsage: mistakes in the call are usage errors (exit 64).
func TestCLISignPAdESUsage(t *testing.T) {
	c := newCLIPKI(t)
	dir := t.TempDir()
	pdf := filepath.Join(dir, "in.pdf")
	os.WriteFile(pdf, padestest.Document(t, padestest.Spec{}), 0o644)
	base := []string{"sign", "pades", "--key", c.leaf.KeyPath, "--cert", c.leaf.CertPath}
	out := filepath.Join(dir, "out.pdf")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no key", []string{"sign", "pades", "--cert", c.leaf.CertPath, pdf, "-o", out}, "--key"},
		{"T without a TSA", append(append([]string(nil), base...), "--level", "T", pdf, "-o", out), "needs --tsa"},
		{"unknown level", append(append([]string(nil), base...), "--level", "X", pdf, "-o", out), "level"},
		{"bad rectangle", append(append([]string(nil), base...), "--rect", "1,2,3", pdf, "-o", out), "--rect"},
		{"not a PDF", append(append([]string(nil), base...), c.doc, "-o", out), "not a PDF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runESig(t, tc.args...)
			if code != 64 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want 64 and %q", code, stderr, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Fatal("an output file was written")
			}
		})
	}
}
