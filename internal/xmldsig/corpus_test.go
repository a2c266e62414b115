package xmldsig

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/beevik/etree"
)

// corpusDir holds real-world signatures shared by the project's engineers;
// tests read them in place and skip when they are absent.
const corpusDir = "../../../shared/corpus"

func corpusFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, name))
	if err != nil {
		t.Skipf("corpus file %s not available (%v); skipping", name, err)
	}
	return b
}

// xmlsecVerified are the corpus files the corpus README marks as verified by
// xmlsec1: every same-document reference must be valid and the
// SignatureValue must verify under a KeyInfo certificate.
var xmlsecVerified = []string{
	"xades/Signature-X-AT-1.xml",
	"xades/Signature-X-BE_ECON-3.xml",
	"xades/Signature-X-FR_NOT-3.xml",
	"tsl/PL-TSL-seq110.xml",
}

func verifyAll(t testing.TB, data []byte, opts VerifyOptions) (*Document, []*Signature) {
	t.Helper()
	doc, err := Parse(data, Limits{})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	sigs, err := doc.Verify(opts)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return doc, sigs
}

// valueVerifiesWithKeyInfo reports whether some KeyInfo certificate's key
// verifies the SignatureValue.
func valueVerifiesWithKeyInfo(s *Signature) error {
	err := errors.New("no certificate in KeyInfo")
	for _, c := range s.Certificates {
		if err = s.VerifyValue(c.PublicKey); err == nil {
			return nil
		}
	}
	return err
}

func logSignature(t *testing.T, s *Signature) {
	t.Logf("signature Id=%q method=%s c14n=%s certs=%d err=%v", s.ID, s.SignatureMethod.URI, s.CanonicalizationMethod, len(s.Certificates), s.Err)
	for _, r := range s.References {
		t.Logf("  ref %d URI=%q Type=%q transforms=%d: %s %v", r.Index, r.URI, r.Type, len(r.Transforms), r.Status(), r.Err)
		for _, m := range r.Manifest {
			t.Logf("    manifest ref %d URI=%q: %s %v", m.Index, m.URI, m.Status(), m.Err)
		}
	}
}

func TestCorpusAllFilesProcess(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*", "*.xml"))
	if len(files) == 0 {
		t.Skipf("corpus not available at %s; skipping", corpusDir)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, sigs := verifyAll(t, data, VerifyOptions{})
			if len(sigs) == 0 {
				t.Fatal("no signature found")
			}
			for _, s := range sigs {
				logSignature(t, s)
				if s.Err == nil && len(s.References) == 0 {
					t.Error("signature without error has no reference results")
				}
			}
		})
	}
}

func TestCorpusXmlsecVerified(t *testing.T) {
	for _, name := range xmlsecVerified {
		t.Run(filepath.Base(name), func(t *testing.T) {
			_, sigs := verifyAll(t, corpusFile(t, name), VerifyOptions{})
			if len(sigs) != 1 {
				t.Fatalf("%d signatures, want 1", len(sigs))
			}
			s := sigs[0]
			logSignature(t, s)
			if err := s.Problem(); err != nil {
				t.Errorf("Problem: %v", err)
			}
			if err := valueVerifiesWithKeyInfo(s); err != nil {
				t.Errorf("SignatureValue: %v", err)
			}
		})
	}
}

// TestCorpusFlipSignedByte changes one character of a text node that only
// reference k covers, writes the document out and parses it again, and
// expects a digest mismatch on reference k alone.
func TestCorpusFlipSignedByte(t *testing.T) {
	for _, name := range xmlsecVerified {
		data := corpusFile(t, name)
		_, sigs := verifyAll(t, data, VerifyOptions{})
		for k, r := range sigs[0].References {
			t.Run(filepath.Base(name)+"/ref"+itoa(k+1), func(t *testing.T) {
				doc, sigs := verifyAll(t, data, VerifyOptions{})
				target := onlyCoveredText(sigs[0], k)
				if target == nil {
					t.Skipf("reference %d (%s) covers no text node of its own", k+1, r.URI)
				}
				target.Data = flipOne(target.Data)
				out, err := Serialize(doc.Tree())
				if err != nil {
					t.Fatal(err)
				}
				_, after := verifyAll(t, out, VerifyOptions{})
				for j, r2 := range after[0].References {
					want := Valid
					if j == k {
						want = DigestMismatch
					}
					if r2.Status() != want {
						t.Errorf("reference %d (%q): %s (%v), want %s", j+1, r2.URI, r2.Status(), r2.Err, want)
					}
				}
				if j := after[0].References[k]; !errors.Is(j.Err, ErrHash) {
					t.Errorf("mismatch error %v is not ErrHash", j.Err)
				}
			})
		}
	}
}

// onlyCoveredText finds a non-blank text node covered by reference k of s
// and by no other reference (nor by SignedInfo).
func onlyCoveredText(s *Signature, k int) *etree.CharData {
	c := s.References[k].Content
	if c == nil || !c.IsNodeSet() {
		return nil
	}
	var found *etree.CharData
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		for _, ch := range e.Child {
			if found != nil {
				return
			}
			switch n := ch.(type) {
			case *etree.Element:
				walk(n)
			case *etree.CharData:
				if len(n.Data) < 2 || !c.Contains(n) || isBlank(n.Data) {
					continue
				}
				other := false
				for j, r := range s.References {
					if j != k && r.Content != nil && r.Content.Contains(n) {
						other = true
					}
				}
				if !other && !sameTree(n.Parent(), s.el.ChildElements()[0]) {
					found = n
				}
			}
		}
	}
	walk(c.Top())
	return found
}

func isBlank(s string) bool {
	for _, c := range s {
		if c != ' ' && c != '\n' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

func flipOne(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] >= 'a' && b[i] <= 'y' || b[i] >= 'A' && b[i] <= 'Y' || b[i] >= '0' && b[i] <= '8' {
			b[i]++
			return string(b)
		}
	}
	b[0] = 'Z'
	return string(b)
}

func itoa(i int) string { return string(rune('0'+i/10%10)) + string(rune('0'+i%10)) }

func TestCorpusMissingDetached(t *testing.T) {
	t.Run("HU_MIC-1 doc.txt", func(t *testing.T) {
		_, sigs := verifyAll(t, corpusFile(t, "xades/Signature-X-HU_MIC-1.xml"), VerifyOptions{})
		var found bool
		for _, r := range sigs[0].References {
			if r.URI == "doc.txt" {
				found = true
				if r.Status() != NotFound || !errors.Is(r.Err, ErrSignedDataNotFound) {
					t.Errorf("doc.txt: %s %v, want not found", r.Status(), r.Err)
				}
				if r.Err != nil && !contains(r.Err.Error(), `"doc.txt"`) {
					t.Errorf("error %q does not name the URI", r.Err)
				}
			} else if r.Status() != Valid {
				t.Errorf("reference %q: %s %v", r.URI, r.Status(), r.Err)
			}
		}
		if !found {
			t.Fatal("no reference to doc.txt")
		}
		if err := valueVerifiesWithKeyInfo(sigs[0]); err != nil {
			t.Errorf("SignatureValue: %v", err)
		}
	})
	t.Run("HU_MIC-1 with supplied wrong content", func(t *testing.T) {
		_, sigs := verifyAll(t, corpusFile(t, "xades/Signature-X-HU_MIC-1.xml"),
			VerifyOptions{Detached: DetachedContent{"doc.txt": []byte("not the signed text")}})
		for _, r := range sigs[0].References {
			if r.URI == "doc.txt" && r.Status() != DigestMismatch {
				t.Errorf("doc.txt with wrong bytes: %s %v, want digest mismatch", r.Status(), r.Err)
			}
		}
	})
	t.Run("OJ Manifest of PDFs", func(t *testing.T) {
		_, sigs := verifyAll(t, corpusFile(t, "xades/OJ_C_2017_173_FULL.xml"), VerifyOptions{})
		s := sigs[0]
		if err := s.Problem(); err != nil {
			t.Errorf("SignedInfo references: %v", err)
		}
		if err := valueVerifiesWithKeyInfo(s); err != nil {
			t.Errorf("SignatureValue: %v", err)
		}
		var manifest []*Reference
		for _, r := range s.References {
			if r.Type == TypeManifest {
				manifest = r.Manifest
			}
		}
		if len(manifest) == 0 {
			t.Fatal("the signed Manifest's references were not reported")
		}
		for _, m := range manifest {
			if m.Status() != NotFound || !contains(m.Err.Error(), m.URI) {
				t.Errorf("manifest reference %q: %s %v, want not found naming the URI", m.URI, m.Status(), m.Err)
			}
		}
	})
}

func contains(s, sub string) bool { return len(sub) > 0 && len(s) >= len(sub) && indexOf(s, sub) >= 0 }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
