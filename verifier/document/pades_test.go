package document

import (
	"bytes"
	"context"
	"crypto/x509"
	"strings"
	"testing"

	"esig/internal/testpki"
	csigner "esig/signer/cades"
	psigner "esig/signer/pades"
	"esig/verifier"
	"esig/verifier/pades/padestest"
	"esig/verifier/policy"
	"esig/verifier/report"
	"esig/verifier/revocation"
	"esig/verifier/trust"
)

// TestDetectPDF: a PDF is recognised by its header; a CMS signature that
// encapsulates a PDF (a .pdf.p7m) stays CMS.
func TestDetectPDF(t *testing.T) {
	pki := testpki.New(t)
	leaf := pki.Leaf(t, testpki.LeafOptions{})
	pdf := padestest.Document(t, padestest.Spec{})
	var p7m bytes.Buffer
	if err := csigner.Sign(context.Background(), bytes.NewReader(pdf), &p7m, csigner.Options{Signer: leaf.Key, Certificate: leaf.Cert}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(p7m.Bytes()[:200], []byte("%PDF-")) {
		t.Fatal("the .p7m does not hold the PDF header near its start; the case tests nothing")
	}
	for _, tc := range []struct {
		name string
		data []byte
		want Kind
	}{
		{"PDF", pdf, KindPDF},
		{"CAdES of a PDF", p7m.Bytes(), KindCMS},
		{"XML", []byte(document), KindXML},
	} {
		if got := Detect(tc.data); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func verifyPDF(t *testing.T, pki *testpki.PKI, data []byte, pol *policy.Validation, detached ...Part) (*Result, error) {
	t.Helper()
	anchors := trust.NewAnchors()
	anchors.Add(pki.Root.Cert)
	eng, err := verifier.New(verifier.Config{Anchors: anchors, Fetcher: revocation.NewHTTPFetcher()})
	if err != nil {
		t.Fatal(err)
	}
	return Verify(context.Background(), eng, data, detached, pol)
}

// TestPAdESThroughDocument: a PDF verifies through the one entry point,
// the trusted-profile seal's person comes out in the report, and the
// policy's format list applies to PAdES.
func TestPAdESThroughDocument(t *testing.T) {
	pki := testpki.New(t)
	ministry := pki.Leaf(t, testpki.LeafOptions{Subject: sealSubject("Ministerstwo Cyfryzacji", "VATPL-5252955037", "Minister do spraw informatyzacji - pieczęć podpisu zaufanego")})
	sealed, err := psigner.Sign(context.Background(), padestest.Document(t, padestest.Spec{}), psigner.Options{
		Signer: ministry.Key, Certificate: ministry.Cert, Chain: []*x509.Certificate{pki.CA.Cert, pki.Root.Cert},
		Name:   "ANNA MARIA NOWAK",
		Reason: "Opatrzono pieczęcią ministra właściwego do spraw informatyzacji w imieniu: ANNA MARIA NOWAK, PESEL: 02270803624, PZ ID: anowak",
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := verifyPDF(t, pki, sealed, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Report.Signatures[0]
	if s.Indication != report.TotalPassed || s.Format != "PAdES-BASELINE-B" || s.TrustedProfile == nil || len(res.PAdES) != 1 {
		t.Fatalf("%s %s, trusted profile %+v, errors %v warnings %v", s.Indication, s.Format, s.TrustedProfile, s.Errors, s.Warnings)
	}
	if tp := s.TrustedProfile; tp.PESEL != "02270803624" || tp.Surname != "NOWAK" || strings.Join(tp.GivenNames, " ") != "ANNA MARIA" || tp.AccountID != "anowak" {
		t.Fatalf("identity %+v", tp)
	}

	xadesOnly := policy.DefaultValidation()
	xadesOnly.Formats = []string{"XAdES"}
	res, err = verifyPDF(t, pki, sealed, xadesOnly)
	if err != nil {
		t.Fatal(err)
	}
	if s := res.Report.Signatures[0]; s.Indication != report.Indeterminate || s.SubIndication != report.SigConstraintsFailure || s.TrustedProfile != nil {
		t.Fatalf("a XAdES-only policy: %s/%s, trusted profile %+v", s.Indication, s.SubIndication, s.TrustedProfile)
	}

	if _, err := verifyPDF(t, pki, sealed, nil, Bytes("umowa.pdf", []byte("x"))); err == nil {
		t.Fatal("detached content for a PDF was accepted")
	}
}
