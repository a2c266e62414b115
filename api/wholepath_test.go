package api_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/ocsp"

	"esig/api/apitest"
	"esig/internal/config"
	"esig/internal/keys"
	"esig/internal/testpki"
	cadessign "esig/signer/cades"
	xsign "esig/signer/xades"
	"esig/verifier"
	"esig/verifier/document"
	"esig/verifier/report"
	"esig/verifier/revocation"
	"esig/verifier/trust"
)

// sealer is a trusted-profile system for tests: a seal certificate with
// the ministry's subject (or another) under a test root the RA trusts.
type sealer struct {
	pki  *testpki.PKI
	cert *testpki.Cert
}

func newSealer(t *testing.T, pki *testpki.PKI, org, orgID string) *sealer {
	subject := &pkix.Name{Country: []string{"PL"}, Organization: []string{org}, CommonName: "Minister do spraw informatyzacji - pieczęć",
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 97}, Value: orgID}}}
	return &sealer{pki: pki, cert: pki.Leaf(t, testpki.LeafOptions{Subject: subject})}
}

// seal signs a document as the trusted-profile service does for a person.
func (s *sealer) seal(t *testing.T, doc []byte, given, surname, pesel string) []byte {
	t.Helper()
	payload := etree.NewDocument()
	if err := payload.ReadFromString(`<ppZP:PodpisZP xmlns:ppZP="http://crd.gov.pl/xml/schematy/ppzp/" xmlns:os="http://crd.gov.pl/xml/schematy/osoba/2009/03/06/"><ppZP:DaneZP><ppZP:DaneZPOsobyFizycznej><os:Imie>` + given + `</os:Imie><os:Nazwisko>` + surname + `</os:Nazwisko><os:PESEL>` + pesel + `</os:PESEL></ppZP:DaneZPOsobyFizycznej></ppZP:DaneZP></ppZP:PodpisZP>`); err != nil {
		t.Fatal(err)
	}
	out, err := xsign.Sign(context.Background(), doc, xsign.Options{
		Signer: s.cert.Key, Certificate: s.cert.Cert, Chain: []*x509.Certificate{s.pki.CA.Cert, s.pki.Root.Cert},
		SigningCertificateV1: true, ClaimedRoleElements: []*etree.Element{payload.Root()},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// startProofRA is an RA that trusts pki's root for trusted-profile seals.
func startProofRA(t *testing.T, pki *testpki.PKI) *raEnv {
	return startRA(t, apitest.Options{Configure: func(c *config.Config) { c.RA.Trust = []string{pki.Root.CertPath} }})
}

func TestProofByTrustedProfileRefusals(t *testing.T) {
	pki := testpki.New(t)
	ministry := newSealer(t, pki, "Ministerstwo Cyfryzacji", "VATPL-5252955037")
	impostor := newSealer(t, pki, "Fundacja Pieczątek", "VATPL-1234563218")
	untrustedPKI := testpki.New(t)
	untrusted := newSealer(t, untrustedPKI, "Ministerstwo Cyfryzacji", "VATPL-5252955037")
	e := startProofRA(t, pki)
	var a appView
	json.Unmarshal(e.call(t, "POST", "/v1/applications", e.portal, applicantJSON, 201), &a)
	doc := e.call(t, "GET", "/v1/applications/"+a.ID+"/document", e.portal, "", 200)

	tests := []struct {
		name   string
		signed []byte
		detail string
	}{
		{"PESEL differs", ministry.seal(t, doc, "Anna", "Nowak", "44051401359"), "PESEL differs"},
		{"surname differs", ministry.seal(t, doc, "Anna", "Kowalska", "02270803624"), "surname"},
		{"seal by another organization", impostor.seal(t, doc, "Anna", "Nowak", "02270803624"), "neither a trusted-profile signature"},
		{"seal under an untrusted root", untrusted.seal(t, doc, "Anna", "Nowak", "02270803624"), "NO_CERTIFICATE_CHAIN_FOUND"},
		{"another document", ministry.seal(t, bytes.Replace(doc, []byte(a.ID), []byte("app-0000"), 1), "Anna", "Nowak", "02270803624"), "is application"},
		{"not a signature", []byte("<x/>"), "exactly one signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := e.call(t, "POST", "/v1/applications/"+a.ID+"/proof", e.portal, string(tt.signed), 422)
			if !strings.Contains(string(out), tt.detail) {
				t.Fatalf("refusal does not say %q: %s", tt.detail, out)
			}
		})
	}
	var still appView
	json.Unmarshal(e.call(t, "GET", "/v1/applications/"+a.ID, e.portal, "", 200), &still)
	if still.Status != "pending" {
		t.Fatalf("refused proofs changed the application: %s", still.Status)
	}
}

// TestWholePath is issue #6's path over HTTP against a running esig: apply,
// prove identity with a trusted-profile seal, enroll in Chromium, sign with
// the new key and have esig verify it, deactivate by a signed request, and
// see the certificate revoked in OCSP and in its CRL shard.
func TestWholePath(t *testing.T) {
	needOpenSSL(t)
	pki := testpki.New(t)
	ministry := newSealer(t, pki, "Ministerstwo Cyfryzacji", "VATPL-5252955037")
	e := startProofRA(t, pki)

	// 1. The portal applies; the applicant seals the application document.
	var a appView
	json.Unmarshal(e.call(t, "POST", "/v1/applications", e.portal, applicantJSON, 201), &a)
	doc := e.call(t, "GET", "/v1/applications/"+a.ID+"/document", e.portal, "", 200)
	var proven appView
	json.Unmarshal(e.call(t, "POST", "/v1/applications/"+a.ID+"/proof", e.portal, string(ministry.seal(t, doc, "Anna", "Nowak", "02270803624")), 200), &proven)
	if proven.Status != "confirmed" || proven.Enrollment == nil {
		t.Fatalf("proof by trusted profile: %+v", proven)
	}

	// 2. Enrollment in the browser.
	browserCtx := startChromium(t)
	tab := newTab(t, browserCtx, filepath.Join(artifactDir(t), "whole-path"))
	tab.interceptAPI()
	tab.do(chromedp.Navigate(proven.Enrollment.URL))
	tab.release(tab.paused("GET"), "01-loading")
	tab.waitState("ready")
	const password = "hasło do pliku p12"
	tab.fill("ec-p256", password)
	tab.submit()
	tab.release(tab.paused("POST"), "02-submitting")
	tab.waitState("done")
	tab.shot("03-done")
	_, p12 := tab.download("download-p12", t.TempDir())
	tab.checkConsole()

	// 3. Sign a CAdES with the new key, as the citizen would.
	dir := t.TempDir()
	p12File := writeFile(t, dir, "anna.p12", string(p12))
	keyFile, certFile := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	run(t, "openssl", "pkcs12", "-in", p12File, "-passin", "pass:"+password, "-nocerts", "-nodes", "-out", keyFile)
	run(t, "openssl", "pkcs12", "-in", p12File, "-passin", "pass:"+password, "-clcerts", "-nokeys", "-out", certFile)
	key, err := keys.Open(keyFile, keys.Options{})
	if err != nil {
		t.Fatal(err)
	}
	certPEM, _ := os.ReadFile(certFile)
	cert := parsePEMCert(t, string(certPEM[bytes.Index(certPEM, []byte("-----BEGIN")):]))
	var sig bytes.Buffer
	if err := cadessign.Sign(context.Background(), bytes.NewReader([]byte("zgłoszenie celne nr 1")), &sig, cadessign.Options{
		Signer: key, Certificate: cert, Chain: []*x509.Certificate{e.App.Hierarchy.Issuing}}); err != nil {
		t.Fatal(err)
	}
	verdict := func() *report.Signature {
		anchors := trust.NewAnchors()
		anchors.Add(e.App.Hierarchy.Root)
		eng, err := verifier.New(verifier.Config{Anchors: anchors, Fetcher: revocation.NewHTTPFetcher()})
		if err != nil {
			t.Fatal(err)
		}
		res, err := document.Verify(context.Background(), eng, sig.Bytes(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.Report.Signatures[0]
	}
	if s := verdict(); s.Indication != report.TotalPassed || !strings.Contains(s.Signer.Subject, "PNOPL-02270803624") {
		t.Fatalf("esig verify of the citizen's signature: %s/%s %v %v", s.Indication, s.SubIndication, s.Errors, s.Warnings)
	}

	// 4. Deactivation on the subscriber's own sealed request.
	deact := e.call(t, "GET", "/v1/subscribers/"+a.SubscriberID+"/deactivation-document", e.portal, "", 200)
	out := e.call(t, "POST", "/v1/subscribers/"+a.SubscriberID+"/deactivation-request", e.portal, string(ministry.seal(t, deact, "Anna", "Nowak", "02270803624")), 200)
	if !strings.Contains(string(out), `"deactivatedAt"`) || !strings.Contains(string(out), "revoked") {
		t.Fatalf("deactivation: %s", out)
	}

	// 5. Revoked in OCSP and in the CRL shard.
	assertRevoked(t, e.Env, cert, ocsp.CessationOfOperation)
	if s := verdict(); s.Indication == report.TotalPassed {
		t.Fatal("the signature still verifies after the deactivation")
	}
}
