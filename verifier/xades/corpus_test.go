package xades

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"esig/internal/xmldsig"
	"esig/verifier"
	"esig/verifier/report"
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

// offlineEngine is an engine with no anchors and no network, as an auditor
// without trust settings would run it.
func offlineEngine(t testing.TB) *verifier.Engine {
	t.Helper()
	eng, err := verifier.New(verifier.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func verifyCorpus(t testing.TB, data []byte, detached xmldsig.Resolver) *Result {
	t.Helper()
	return Verify(context.Background(), offlineEngine(t), data, Options{Detached: detached})
}

// xmlsecVerified are the files the corpus README marks as verified by
// xmlsec1 (the crypto layer only).
var xmlsecVerified = []string{
	"xades/Signature-X-AT-1.xml",
	"xades/Signature-X-BE_ECON-3.xml",
	"xades/Signature-X-FR_NOT-3.xml",
	"tsl/PL-TSL-seq110.xml",
}

// expectedCorpus is what each file must come out as without trust
// anchors: the format detected and the verdict. Their certificates are
// old and not anchored, so a sound signature is INDETERMINATE.
var expectedCorpus = map[string]struct {
	format    string
	sub       report.SubIndication
	packaging string
}{
	"xades/Signature-X-AT-1.xml":      {"XAdES", report.NoCertificateChainFound, "enveloping"},
	"xades/Signature-X-BE_ECON-3.xml": {"XAdES-BASELINE-LT", report.NoCertificateChainFound, "enveloped"},
	"xades/Signature-X-FR_NOT-3.xml":  {"XAdES", report.NoCertificateChainFound, "mixed"},
	"xades/Signature-X-BG-1.xml":      {"XAdES-BASELINE-B", report.SignedDataNotFound, ""},
	"xades/Signature-X-CY-1.xml":      {"XAdES-BASELINE-B", report.NoCertificateChainFound, "enveloping"},
	"xades/Signature-X-CZ_ICZ-1.xml":  {"XAdES", report.NoCertificateChainFound, "mixed"},
	"xades/Signature-X-ES-100.xml":    {"XAdES-BASELINE-LT", report.NoCertificateChainFound, "mixed"},
	"xades/Signature-X-HR_FIN-1.xml":  {"XAdES-BASELINE-LTA", report.NoCertificateChainFound, "detached"},
	"xades/Signature-X-HU_MIC-1.xml":  {"XAdES-BASELINE-B", report.SignedDataNotFound, "detached"},
	"xades/OJ_C_2017_173_FULL.xml":    {"XAdES-BASELINE-LTA", report.NoCertificateChainFound, "enveloping"},
	"tsl/PL-TSL-seq110.xml":           {"XAdES-BASELINE-B", report.NoCertificateChainFound, "enveloped"},
	"tsl/EU-LOTL-seq248.xml":          {"XAdES-BASELINE-B", report.NoCertificateChainFound, "enveloped"},
}

// brokenContentTimestamps are files whose content time stamps do not match
// what they claim to cover, in every reading of TS 101 903 tried (the
// Include of Signature-X-CZ_ICZ-1 names the data object, not a Reference,
// and no canonical form of it matches the token's imprint). Such a token
// only proves nothing; it does not affect the verdict.
var brokenContentTimestamps = map[string]bool{"xades/Signature-X-CZ_ICZ-1.xml": true}

// TestCorpusVerdicts: every corpus file gives its verdict without a crash;
// none is TOTAL-FAILED (their crypto layers hold); every time stamp's
// message imprint matches our computation of its input (EN 319 132-1
// 5.3, 5.5.2 and the TS 101 903 1.3.2 archive form in HR_FIN-1).
func TestCorpusVerdicts(t *testing.T) {
	for name, want := range expectedCorpus {
		t.Run(name, func(t *testing.T) {
			res := verifyCorpus(t, corpusFile(t, name), nil)
			if len(res.Signatures) == 0 {
				t.Fatal("no signature")
			}
			for _, s := range res.Signatures {
				r := s.Report
				if s.Packaging != want.packaging {
					t.Errorf("%s: packaging %q, want %q", r.ID, s.Packaging, want.packaging)
				}
				if r.Format != want.format || r.Indication != report.Indeterminate || r.SubIndication != want.sub {
					t.Errorf("%s: %s %s/%s, want %s INDETERMINATE/%s; errors %q", r.ID, r.Format, r.Indication, r.SubIndication,
						want.format, want.sub, r.Errors)
				}
				for _, ts := range r.Timestamps {
					if ts.SubIndication == report.HashFailure || ts.SubIndication == report.FormatFailure {
						if ts.Type == report.ContentTimestamp && brokenContentTimestamps[name] {
							continue
						}
						t.Errorf("%s: %s %s/%s %q", r.ID, ts.Type, ts.Indication, ts.SubIndication, ts.Errors)
					}
				}
			}
		})
	}
}

// TestCorpusXmlsecVerified: the files xmlsec1 verifies show no
// HASH_FAILURE or SIG_CRYPTO_FAILURE, and their signer is identified.
func TestCorpusXmlsecVerified(t *testing.T) {
	for _, name := range xmlsecVerified {
		t.Run(name, func(t *testing.T) {
			res := verifyCorpus(t, corpusFile(t, name), nil)
			for _, s := range res.Signatures {
				r := s.Report
				if r.Indication == report.TotalFailed {
					t.Errorf("%s: %s/%s %q", r.ID, r.Indication, r.SubIndication, r.Errors)
				}
				if s.SigningCertificate == nil || r.Signer == nil {
					t.Errorf("%s: signer not identified: %q", r.ID, r.Errors)
				}
				if s.Properties == nil || s.Properties.Element == nil || len(s.SignedObjects) == 0 {
					t.Errorf("%s: signed properties or objects not exposed", r.ID)
				}
			}
		})
	}
}

// TestCorpusFlipSignedByte changes one character of signed content in each
// xmlsec1-verified file: TOTAL-FAILED/HASH_FAILURE.
func TestCorpusFlipSignedByte(t *testing.T) {
	for _, name := range xmlsecVerified {
		t.Run(name, func(t *testing.T) {
			data := corpusFile(t, name)
			doc, err := xmldsig.Parse(data, xmldsig.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			sigs, _ := doc.Verify(xmldsig.VerifyOptions{})
			target := signedText(sigs[0])
			if target == nil {
				t.Fatal("no signed text to change")
			}
			target.Data = flip(target.Data)
			out, err := xmldsig.Serialize(doc.Tree())
			if err != nil {
				t.Fatal(err)
			}
			res := verifyCorpus(t, out, nil)
			r := res.Signatures[0].Report
			if r.Indication != report.TotalFailed || r.SubIndication != report.HashFailure {
				t.Errorf("%s/%s, want TOTAL-FAILED/HASH_FAILURE; %q", r.Indication, r.SubIndication, r.Errors)
			}
		})
	}
}

// signedText finds a non-blank text node covered by a data Reference (not
// the SignedProperties one) and outside every signature.
func signedText(s *xmldsig.Signature) *etree.CharData {
	for _, r := range s.References {
		if r.Content == nil || r.Content.Top() == nil || strings.HasSuffix(r.Type, "SignedProperties") {
			continue
		}
		var found *etree.CharData
		var walk func(e *etree.Element)
		walk = func(e *etree.Element) {
			for _, c := range e.Child {
				if found != nil {
					return
				}
				switch n := c.(type) {
				case *etree.Element:
					if !isDSig(n, "Signature") {
						walk(n)
					}
				case *etree.CharData:
					if strings.TrimSpace(n.Data) != "" && r.Content.Contains(n) {
						found = n
					}
				}
			}
		}
		walk(r.Content.Top())
		if found != nil {
			return found
		}
	}
	return nil
}

func flip(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c > ' ' && c < 0x7f {
			if c == 'x' {
				b[i] = 'y'
			} else {
				b[i] = 'x'
			}
			return string(b)
		}
	}
	return s + "x"
}

// TestCorpusMissingContent: HU_MIC-1 signs a detached doc.txt that is not
// in the corpus, and BG-1 a Reference URI="#" that names nothing: both are
// SIGNED_DATA_NOT_FOUND naming the object, not failures; supplying other
// content for doc.txt makes HU_MIC-1 a HASH_FAILURE.
func TestCorpusMissingContent(t *testing.T) {
	cases := []struct {
		name     string
		detached xmldsig.Resolver
		ind      report.Indication
		sub      report.SubIndication
		contains string
	}{
		{"xades/Signature-X-HU_MIC-1.xml", nil, report.Indeterminate, report.SignedDataNotFound, `"doc.txt" was not supplied`},
		{"xades/Signature-X-HU_MIC-1.xml", xmldsig.DetachedContent{"doc.txt": []byte("not the signed text")}, report.TotalFailed, report.HashFailure, "doc.txt"},
		{"xades/Signature-X-BG-1.xml", nil, report.Indeterminate, report.SignedDataNotFound, `URI "#" names no element`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := verifyCorpus(t, corpusFile(t, c.name), c.detached).Signatures[0].Report
			if r.Indication != c.ind || r.SubIndication != c.sub || !strings.Contains(strings.Join(r.Errors, "\n"), c.contains) {
				t.Errorf("%s/%s %q, want %s/%s mentioning %q", r.Indication, r.SubIndication, r.Errors, c.ind, c.sub, c.contains)
			}
		})
	}
}

// TestCorpusTrustedList: the Polish trusted list verifies as an enveloped
// XAdES whose signature is intact, covering the whole list but the
// signature, by the operator's certificate.
func TestCorpusTrustedList(t *testing.T) {
	res := verifyCorpus(t, corpusFile(t, "tsl/PL-TSL-seq110.xml"), nil)
	if len(res.Signatures) != 1 {
		t.Fatalf("%d signatures", len(res.Signatures))
	}
	s := res.Signatures[0]
	r := s.Report
	if r.Indication != report.Indeterminate || r.SubIndication != report.NoCertificateChainFound {
		t.Errorf("%s/%s %q", r.Indication, r.SubIndication, r.Errors)
	}
	if s.SigningCertificate == nil || !strings.Contains(s.SigningCertificate.Subject.String(), "National Bank of Poland") {
		t.Errorf("signer %v", s.SigningCertificate)
	}
	if len(s.SignedObjects) != 1 || s.SignedObjects[0].URI != "" || s.SignedObjects[0].Content.Top() == nil ||
		s.SignedObjects[0].Content.Top().Parent() != nil {
		t.Errorf("the signed object is not the whole document: %+v", s.SignedObjects)
	}
}

// TestCorpusManifest: the OJ signature signs a Manifest of PDFs that are
// not here: the signature over SignedInfo and the Manifest holds, each
// missing PDF is named in a warning, the level is B-LTA.
func TestCorpusManifest(t *testing.T) {
	res := verifyCorpus(t, corpusFile(t, "xades/OJ_C_2017_173_FULL.xml"), nil)
	s := res.Signatures[0]
	if s.Level != LevelLTA || s.SigningCertificate == nil {
		t.Errorf("level %s, signer %v", s.Level, s.SigningCertificate)
	}
	if len(s.SignedObjects) != 1 || len(s.SignedObjects[0].Entries) != 23 {
		t.Fatalf("signed objects %+v", s.SignedObjects)
	}
	if !strings.Contains(strings.Join(s.Report.Warnings, "\n"), "c_17320170531pl.pdf") {
		t.Errorf("warnings do not name the missing Polish PDF: %q", s.Report.Warnings)
	}
}
