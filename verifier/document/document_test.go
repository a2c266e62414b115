package document

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"esig/internal/testpki"
	csigner "esig/signer/cades"
	psigner "esig/signer/pades"
	xsign "esig/signer/xades"
	"esig/verifier"
	"esig/verifier/pades/padestest"
	"esig/verifier/policy"
	"esig/verifier/report"
	"esig/verifier/revocation"
	"esig/verifier/trust"
)

var oidOrgID = asn1.ObjectIdentifier{2, 5, 4, 97}

func sealSubject(org, orgID, cn string) *pkix.Name {
	return &pkix.Name{Country: []string{"PL"}, Organization: []string{org}, CommonName: cn,
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidOrgID, Value: orgID}}}
}

// payloads of both generations, naming Anna Maria Nowak, PESEL 02270803624.
const podpisZP = `<ppZP:PodpisZP xmlns:ppZP="http://crd.gov.pl/xml/schematy/ppzp/" xmlns:os="http://crd.gov.pl/xml/schematy/osoba/2009/03/06/"><ppZP:DaneZP><ppZP:DaneZPOsobyFizycznej><os:Imie>Anna Maria</os:Imie><os:Nazwisko>Nowak</os:Nazwisko><os:PESEL>02270803624</os:PESEL><ppZP:IdKontaUzytkownikaEpuap>anowak</ppZP:IdKontaUzytkownikaEpuap></ppZP:DaneZPOsobyFizycznej></ppZP:DaneZP></ppZP:PodpisZP>`
const epSignature = `<pz:EPSignature xmlns:pz="http://crd.gov.pl/xml/schematy/podpis_zaufany/"><pz:NaturalPerson><pz:CurrentFamilyName>Nowak</pz:CurrentFamilyName><pz:FirstName>Anna Maria</pz:FirstName><pz:DateOfBirth>2002-07-08</pz:DateOfBirth><pz:PersonalIdentifier>02270803624</pz:PersonalIdentifier></pz:NaturalPerson><pz:SignatureData><pz:IdentityIssuer>Krajowy Węzeł Identyfikacji Elektronicznej</pz:IdentityIssuer><pz:IdentityIssueTimestamp>2026-11-20T09:59:00Z</pz:IdentityIssueTimestamp></pz:SignatureData></pz:EPSignature>`

const document = `<?xml version="1.0" encoding="UTF-8"?><Wniosek xmlns="urn:example:wniosek"><Tresc>Proszę o wydanie zaświadczenia.</Tresc></Wniosek>`

func element(t *testing.T, s string) *etree.Element {
	d := etree.NewDocument()
	if err := d.ReadFromString(s); err != nil {
		t.Fatal(err)
	}
	return d.Root()
}

// seal signs the document as the trusted-profile system would: an XAdES
// seal carrying the person's identity in a signed ClaimedRole.
func seal(t *testing.T, sealer *testpki.Cert, chain *testpki.PKI, payload string, packaging xsign.Packaging) []byte {
	t.Helper()
	out, err := xsign.Sign(context.Background(), []byte(document), xsign.Options{
		Signer: sealer.Key, Certificate: sealer.Cert, Chain: []*x509.Certificate{chain.CA.Cert, chain.Root.Cert},
		Packaging: packaging, SigningCertificateV1: true, ClaimedRoleElements: []*etree.Element{element(t, payload)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func verify(t *testing.T, pki *testpki.PKI, data []byte) *report.Signature {
	t.Helper()
	anchors := trust.NewAnchors()
	anchors.Add(pki.Root.Cert)
	eng, err := verifier.New(verifier.Config{Anchors: anchors, Fetcher: revocation.NewHTTPFetcher()})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Verify(context.Background(), eng, data, nil, policy.DefaultValidation())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Report.Signatures) != 1 {
		t.Fatalf("%d signatures", len(res.Report.Signatures))
	}
	return res.Report.Signatures[0]
}

// TestTrustedProfileSeals is the trusted-profile Must-show of issue #5.
func TestTrustedProfileSeals(t *testing.T) {
	pki := testpki.New(t)
	ministry := pki.Leaf(t, testpki.LeafOptions{Subject: sealSubject("Ministerstwo Cyfryzacji", "VATPL-5252955037", "Minister do spraw informatyzacji - pieczęć")})
	other := pki.Leaf(t, testpki.LeafOptions{Subject: sealSubject("Urząd Podrabiania Pieczęci", "VATPL-1234563218", "Minister do spraw informatyzacji - pieczęć")})
	for _, gen := range []struct{ name, payload string }{{"PodpisZP", podpisZP}, {"EPSignature", epSignature}} {
		for _, pkg := range []struct {
			name string
			p    xsign.Packaging
		}{{"enveloped", xsign.Enveloped}, {"enveloping", xsign.Enveloping}} {
			t.Run(gen.name+"/"+pkg.name, func(t *testing.T) {
				s := verify(t, pki, seal(t, ministry, pki, gen.payload, pkg.p))
				if s.Indication != report.TotalPassed || s.TrustedProfile == nil {
					t.Fatalf("genuine seal: %s/%s, trustedProfile %+v, errors %v, warnings %v", s.Indication, s.SubIndication, s.TrustedProfile, s.Errors, s.Warnings)
				}
				tp := s.TrustedProfile
				if tp.PESEL != "02270803624" || tp.Surname != "Nowak" || strings.Join(tp.GivenNames, " ") != "Anna Maria" || tp.SigningTime == "" || !strings.Contains(tp.SealedBy, "Ministerstwo Cyfryzacji") {
					t.Fatalf("identity %+v", tp)
				}
			})
		}
		t.Run(gen.name+"/other sealer", func(t *testing.T) {
			s := verify(t, pki, seal(t, other, pki, gen.payload, xsign.Enveloped))
			if s.Indication != report.TotalPassed || s.TrustedProfile != nil || !hasWarning(s, "not sealed by the trusted-profile sealer") {
				t.Fatalf("a seal by someone else: %s, trustedProfile %+v, warnings %v", s.Indication, s.TrustedProfile, s.Warnings)
			}
		})
		t.Run(gen.name+"/PESEL changed after sealing", func(t *testing.T) {
			signed := seal(t, ministry, pki, gen.payload, xsign.Enveloped)
			tampered := bytes.Replace(signed, []byte("02270803624"), []byte("44051401359"), 1)
			if bytes.Equal(signed, tampered) {
				t.Fatal("the PESEL is not in the sealed file")
			}
			s := verify(t, pki, tampered)
			if s.Indication != report.TotalFailed || s.SubIndication != report.HashFailure || s.TrustedProfile != nil {
				t.Fatalf("tampered PESEL: %s/%s, trustedProfile %+v", s.Indication, s.SubIndication, s.TrustedProfile)
			}
		})
	}
	t.Run("payload moved into unsigned properties", func(t *testing.T) {
		plain, err := xsign.Sign(context.Background(), []byte(document), xsign.Options{
			Signer: ministry.Key, Certificate: ministry.Cert, Chain: []*x509.Certificate{pki.CA.Cert, pki.Root.Cert}, SigningCertificateV1: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(plain); err != nil {
			t.Fatal(err)
		}
		qp := doc.FindElement("//QualifyingProperties")
		up := qp.CreateElement("xades:UnsignedProperties").CreateElement("xades:UnsignedSignatureProperties")
		up.AddChild(element(t, podpisZP))
		moved, err := doc.WriteToBytes()
		if err != nil {
			t.Fatal(err)
		}
		s := verify(t, pki, moved)
		if s.TrustedProfile != nil || !hasWarning(s, "outside the signed properties") {
			t.Fatalf("payload in unsigned properties: %s/%s, trustedProfile %+v, warnings %v", s.Indication, s.SubIndication, s.TrustedProfile, s.Warnings)
		}
	})
}

// TestPolicyConstraints: detached XAdES is refused by the default
// (Ministry of Finance) policy, and a policy limited to XAdES refuses CAdES.
func TestPolicyConstraints(t *testing.T) {
	pki := testpki.New(t)
	leaf := pki.Leaf(t, testpki.LeafOptions{})
	detached, err := xsign.Sign(context.Background(), []byte("umowa"), xsign.Options{
		Signer: leaf.Key, Certificate: leaf.Cert, Chain: []*x509.Certificate{pki.CA.Cert, pki.Root.Cert}, Packaging: xsign.Detached, Name: "umowa.txt",
	})
	if err != nil {
		t.Fatal(err)
	}
	anchors := trust.NewAnchors()
	anchors.Add(pki.Root.Cert)
	eng, _ := verifier.New(verifier.Config{Anchors: anchors, Fetcher: revocation.NewHTTPFetcher()})
	res, err := Verify(context.Background(), eng, detached, []Part{Bytes("umowa.txt", []byte("umowa"))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Report.Signatures[0]
	if s.Indication != report.Indeterminate || s.SubIndication != report.SigConstraintsFailure || !strings.Contains(strings.Join(s.Errors, ";"), "detached") {
		t.Fatalf("detached XAdES under the default policy: %s/%s %v", s.Indication, s.SubIndication, s.Errors)
	}
	lenient := policy.DefaultValidation()
	lenient.XAdES.Packagings = append(lenient.XAdES.Packagings, "detached")
	res, _ = Verify(context.Background(), eng, detached, []Part{Bytes("umowa.txt", []byte("umowa"))}, lenient)
	if s := res.Report.Signatures[0]; s.Indication != report.TotalPassed {
		t.Fatalf("detached XAdES under a policy that accepts it: %s/%s %v", s.Indication, s.SubIndication, s.Errors)
	}
	if Detect([]byte("\xef\xbb\xbf  <x/>")) != KindXML || Detect([]byte{0x30, 0x82}) != KindCMS {
		t.Error("Detect")
	}
}

func hasWarning(s *report.Signature, part string) bool {
	for _, w := range s.Warnings {
		if strings.Contains(w, part) {
			return true
		}
	}
	return false
}

// TestVerifyReportIsVerifysReport: the report alone is the report Verify
// makes, for CMS (attached, whose content Verify reads again, and
// detached), XML and PDF, on engines set to the same time.
func TestVerifyReportIsVerifysReport(t *testing.T) {
	pki := testpki.New(t)
	leaf := pki.Leaf(t, testpki.LeafOptions{})
	cades := func(detached bool) []byte {
		var out bytes.Buffer
		err := csigner.Sign(context.Background(), bytes.NewReader([]byte("umowa")), &out, csigner.Options{
			Signer: leaf.Key, Certificate: leaf.Cert, Chain: []*x509.Certificate{pki.CA.Cert}, Detached: detached})
		if err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	xml, err := xsign.Sign(context.Background(), []byte(document), xsign.Options{
		Signer: leaf.Key, Certificate: leaf.Cert, Chain: []*x509.Certificate{pki.CA.Cert, pki.Root.Cert}})
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := psigner.Sign(context.Background(), padestest.Document(t, padestest.Spec{}), psigner.Options{
		Signer: leaf.Key, Certificate: leaf.Cert, Chain: []*x509.Certificate{pki.CA.Cert, pki.Root.Cert}})
	if err != nil {
		t.Fatal(err)
	}
	anchors := trust.NewAnchors()
	anchors.Add(pki.Root.Cert)
	// One time and one fetcher for both: the test PKI makes its CRLs and
	// OCSP answers when asked, and two fetches a second apart differ.
	at, fetcher := time.Now(), revocation.NewShared(revocation.NewHTTPFetcher())
	engine := func() *verifier.Engine {
		eng, err := verifier.New(verifier.Config{Anchors: anchors, Time: at, Fetcher: fetcher})
		if err != nil {
			t.Fatal(err)
		}
		return eng
	}
	for _, tc := range []struct {
		name     string
		data     []byte
		detached []Part
		want     report.Indication
	}{
		{"CAdES attached", cades(false), nil, report.TotalPassed},
		{"CAdES detached", cades(true), []Part{Bytes("umowa.txt", []byte("umowa"))}, report.TotalPassed},
		{"CAdES detached, wrong content", cades(true), []Part{Bytes("umowa.txt", []byte("umowa?"))}, report.TotalFailed},
		{"not a signature", []byte("umowa"), nil, report.TotalFailed},
		{"XAdES", xml, nil, report.TotalPassed},
		{"PAdES", pdf, nil, report.TotalPassed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			full, err := Verify(context.Background(), engine(), tc.data, tc.detached, nil)
			if err != nil {
				t.Fatal(err)
			}
			alone, err := VerifyReport(context.Background(), engine(), tc.data, tc.detached, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(full.Report, alone) {
				a, _ := json.MarshalIndent(full.Report, "", " ")
				b, _ := json.MarshalIndent(alone, "", " ")
				t.Fatalf("Verify's report\n%s\nVerifyReport's\n%s", a, b)
			}
			if alone.Indication != tc.want {
				t.Fatalf("%s, want %s: the case tests less than it says", alone.Indication, tc.want)
			}
		})
	}
	res, err := Verify(context.Background(), engine(), cades(false), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(res.CMSContent) != "umowa" || res.CMSSigner == nil || !res.CMSSigner.Equal(leaf.Cert) {
		t.Fatalf("Verify no longer reads the CMS content (%q) and signer (%v)", res.CMSContent, res.CMSSigner)
	}
	if _, err := VerifyReport(context.Background(), engine(), cades(true), []Part{Bytes("a", nil), Bytes("b", nil)}, nil); err == nil {
		t.Fatal("VerifyReport took two detached contents for a CMS signature")
	}
}
