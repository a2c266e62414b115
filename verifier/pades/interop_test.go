package pades

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	signer "esig/signer/pades"
	"esig/verifier/pades/padestest"
	"esig/verifier/report"
)

// nssDB is an NSS database for poppler's pdfsig: the PKI's root trusted
// for signatures, and the leaf's key under the nickname "esig" for
// signing. pdfsig (poppler-utils) and the NSS tools (libnss3-tools) are
// Debian packages; the test skips where they are missing. qpdf (Debian
// qpdf), where present, checks the structure of what esig writes.
func nssDB(t *testing.T, e *env) string {
	t.Helper()
	for _, tool := range []string{"pdfsig", "certutil", "pk12util", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (apt-get install poppler-utils libnss3-tools openssl)", tool)
		}
	}
	dir := t.TempDir()
	db := "sql:" + dir
	p12 := filepath.Join(dir, "leaf.p12")
	run(t, "openssl", "pkcs12", "-export", "-inkey", e.leaf.KeyPath, "-in", e.leaf.CertPath, "-certfile", e.pki.ChainFile(),
		"-name", "esig", "-passout", "pass:esig", "-out", p12)
	run(t, "certutil", "-N", "-d", db, "--empty-password")
	run(t, "pk12util", "-i", p12, "-d", db, "-W", "esig")
	run(t, "certutil", "-A", "-d", db, "-n", "root", "-t", "CT,C,C", "-i", e.pki.Root.CertPath)
	return db
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// pdfsigVerify runs pdfsig on a document and returns its report per
// signature (pdfsig exits non-zero when a signature is not valid).
func pdfsigVerify(t *testing.T, db string, pdf []byte) []string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(f, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command("pdfsig", "-nssdir", db, "-no-ocsp", f).CombinedOutput()
	parts := strings.Split(string(out), "Signature #")
	if len(parts) < 2 {
		t.Fatalf("pdfsig found no signature:\n%s", out)
	}
	return parts[1:]
}

// pdfsigSign signs a document with pdfsig as the leaf (adbe.pkcs7.detached:
// poppler 22.12 cannot make ETSI.CAdES.detached with -add-signature).
func pdfsigSign(t *testing.T, db string, pdf []byte) []byte {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf")
	if err := os.WriteFile(in, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "pdfsig", "-nssdir", db, "-add-signature", "-nick", "esig", "-reason", "Akceptuję", in, out)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPdfsigAcceptsEsig: poppler's pdfsig, with NSS and no code of ours,
// finds esig's signatures valid and their certificates trusted at every
// level, visible and invisible, and rejects them once a signed byte
// changes.
func TestPdfsigAcceptsEsig(t *testing.T) {
	e := newEnv(t)
	db := nssDB(t, e)
	doc := padestest.Document(t, padestest.Spec{Pages: []string{"Umowa", "Podpisy"}, Field: "Anna"})
	streams := padestest.Document(t, padestest.Spec{Pages: []string{"Umowa"}, Field: "Anna", XRefStream: true})
	for _, tc := range []struct {
		name string
		o    signer.Options
		doc  []byte
	}{
		{"B invisible", signer.Options{}, nil},
		{"LTA over cross-reference streams", signer.Options{Level: signer.LevelLTA}, streams},
		{"B visible", signer.Options{Appearance: &signer.Appearance{Page: 2, Rect: [4]float64{300, 60, 560, 140}}, Reason: "Zgoda", Location: "Łódź"}, nil},
		{"T", signer.Options{Level: signer.LevelT}, nil},
		{"LT", signer.Options{Level: signer.LevelLT}, nil},
		{"LTA", signer.Options{Level: signer.LevelLTA}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := doc
			if tc.doc != nil {
				in = tc.doc
			}
			signed := e.sign(t, in, tc.o)
			sigs := pdfsigVerify(t, db, signed)
			first := sigs[0]
			for _, want := range []string{"Signature Type: ETSI.CAdES.detached", "Signature Validation: Signature is Valid.", "Certificate Validation: Certificate is Trusted."} {
				if !strings.Contains(first, want) {
					t.Fatalf("pdfsig does not say %q:\n%s", want, first)
				}
			}
			if tc.o.Level < signer.LevelLT && !strings.Contains(first, "Total document signed") {
				t.Errorf("pdfsig says the signature does not cover the document:\n%s", first)
			}
			if _, err := exec.LookPath("qpdf"); err == nil {
				// qpdf reads every cross-reference section and object.
				f := filepath.Join(t.TempDir(), "signed.pdf")
				os.WriteFile(f, signed, 0o644)
				if out, err := exec.Command("qpdf", "--check", f).CombinedOutput(); err != nil {
					t.Errorf("qpdf --check: %v\n%s", err, out)
				}
			}
			tampered := flip(t, signed, "/Fields")
			if got := pdfsigVerify(t, db, tampered)[0]; strings.Contains(got, "Signature is Valid.") {
				t.Fatalf("pdfsig accepts the tampered document:\n%s", got)
			}
		})
	}
}

// TestEsigAcceptsPdfsig: documents signed by pdfsig (poppler's PDF writer,
// NSS's CMS) verify in esig, alone and together with esig's own signature
// in either order; each signer's update leaves the other's signature
// valid and unwarned.
func TestEsigAcceptsPdfsig(t *testing.T) {
	e := newEnv(t)
	db := nssDB(t, e)
	doc := padestest.Document(t, padestest.Spec{Pages: []string{"Protokół"}, Field: "Anna"})
	for _, tc := range []struct {
		name    string
		make    func(t *testing.T) []byte
		formats []string
	}{
		{"pdfsig alone", func(t *testing.T) []byte { return pdfsigSign(t, db, doc) }, []string{"PKCS7-B"}},
		{"esig, then pdfsig", func(t *testing.T) []byte { return pdfsigSign(t, db, e.sign(t, doc, signer.Options{})) },
			[]string{"PAdES-BASELINE-B", "PKCS7-B"}},
		{"pdfsig, then esig", func(t *testing.T) []byte {
			return e.sign(t, pdfsigSign(t, db, doc), signer.Options{Level: signer.LevelT})
		},
			[]string{"PKCS7-B", "PAdES-BASELINE-T"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			signed := tc.make(t)
			res := e.verify(t, signed, true)
			if len(res.Report.Signatures) != len(tc.formats) {
				t.Fatalf("%d signatures, want %d", len(res.Report.Signatures), len(tc.formats))
			}
			for i, s := range res.Report.Signatures {
				if s.Indication != report.TotalPassed || s.Format != tc.formats[i] || len(s.Warnings) > 0 {
					t.Errorf("%s: %s/%s %s, want TOTAL-PASSED %s; errors %v warnings %v", s.ID, s.Indication, s.SubIndication, s.Format, tc.formats[i], s.Errors, s.Warnings)
				}
				if s.Signer == nil || !strings.Contains(s.Signer.Subject, "Jan Kowalski") {
					t.Errorf("%s: signer %+v", s.ID, s.Signer)
				}
			}
			// pdfsig agrees on every signature.
			for i, got := range pdfsigVerify(t, db, signed) {
				if !strings.Contains(got, "Signature is Valid.") {
					t.Errorf("pdfsig on signature %d:\n%s", i+1, got)
				}
			}
			for _, s := range e.verify(t, flip(t, signed, "/Fields"), true).Report.Signatures {
				if s.Indication != report.TotalFailed || s.SubIndication != report.HashFailure {
					t.Errorf("tampered, %s: %s/%s", s.ID, s.Indication, s.SubIndication)
				}
			}
		})
	}
}

// TestOpenSSLVerifiesDocumentTimestamp: pdfsig 22.12 does not validate
// document time stamps ("Unimplemented Feature"), so the one esig adds at
// level LTA is checked by openssl ts against the bytes its ByteRange
// covers, with the PKI's root as the only trusted certificate.
func TestOpenSSLVerifiesDocumentTimestamp(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed")
	}
	e := newEnv(t)
	signed := e.sign(t, padestest.Document(t, padestest.Spec{}), signer.Options{Level: signer.LevelLTA})
	doc, err := Locate(signed)
	if err != nil {
		t.Fatal(err)
	}
	var dts *Signature
	for _, s := range doc.Signatures {
		if s.Kind == KindDocTimestamp {
			dts = s
		}
	}
	if dts == nil || dts.Err != nil {
		t.Fatalf("document time stamp %+v", dts)
	}
	dir := t.TempDir()
	tok, data := filepath.Join(dir, "dts.der"), filepath.Join(dir, "covered.bin")
	br := dts.ByteRange
	covered := append(append([]byte(nil), signed[br[0]:br[0]+br[1]]...), signed[br[2]:br[2]+br[3]]...)
	if err := os.WriteFile(tok, trimDER(dts.Contents), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(data, covered, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"ts", "-verify", "-token_in", "-in", tok, "-CAfile", e.pki.Root.CertPath, "-untrusted", e.pki.CA.CertPath}
	if out := run(t, "openssl", append(args, "-data", data)...); !strings.Contains(out, "Verification: OK") {
		t.Fatalf("openssl ts:\n%s", out)
	}
	covered[len(covered)/2] ^= 1
	os.WriteFile(data, covered, 0o644)
	if out, err := exec.Command("openssl", append(args, "-data", data)...).CombinedOutput(); err == nil {
		t.Fatalf("openssl ts accepts other bytes:\n%s", out)
	}
}
