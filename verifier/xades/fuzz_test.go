package xades

import (
	"bytes"
	"context"
	"testing"

	"esig/internal/xmldsig"
	"esig/internal/xmldsig/c14n"
	"esig/verifier"
)

// fuzzSeeds are small hostile and odd documents added to the signed seeds
// in testdata/fuzz.
var fuzzSeeds = []string{
	`<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>`,
	`<r><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="s"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#sp" Type="http://uri.etsi.org/01903#SignedProperties"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AA==</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>AA==</ds:SignatureValue><ds:Object><x:QualifyingProperties xmlns:x="http://uri.etsi.org/01903/v1.3.2#" Target="#s"><x:SignedProperties Id="sp"><x:SignedSignatureProperties><x:SigningTime>nie</x:SigningTime></x:SignedSignatureProperties></x:SignedProperties><x:UnsignedProperties><x:UnsignedSignatureProperties><x:CounterSignature><ds:Signature/></x:CounterSignature><x:ArchiveTimeStamp><x:EncapsulatedTimeStamp>AA==</x:EncapsulatedTimeStamp></x:ArchiveTimeStamp></x:UnsignedSignatureProperties></x:UnsignedProperties></x:QualifyingProperties></ds:Object></ds:Signature></r>`,
	`<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>`,
}

// FuzzVerify feeds arbitrary documents to the XAdES verifier entry point:
// it must never panic, and must give every signature it reports a verdict.
func FuzzVerify(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		eng, err := verifier.New(verifier.Config{})
		if err != nil {
			t.Fatal(err)
		}
		res := Verify(context.Background(), eng, data, Options{Detached: xmldsig.DetachedContent{"doc.bin": []byte("x")},
			Limits: xmldsig.Limits{MaxBytes: 1 << 20}})
		if len(res.Signatures) != len(res.Report.Signatures) {
			t.Fatalf("%d results for %d reports", len(res.Signatures), len(res.Report.Signatures))
		}
		for _, s := range res.Signatures {
			if s.Report == nil || s.Report.Indication == "" {
				t.Fatalf("a signature without a verdict")
			}
		}
	})
}

// FuzzTimestampInputs computes the canonicalized inputs of signature and
// archive time stamps, under every canonicalization method, over arbitrary
// documents: the time stamps' canonicalization input must never panic.
func FuzzTimestampInputs(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), uint8(0))
	}
	methods := []string{c14n.C14N10, c14n.C14N10WithComments, c14n.C14N11, c14n.C14N11WithComments, c14n.ExcC14N, c14n.ExcC14NWithComment}
	f.Fuzz(func(t *testing.T, data []byte, m uint8) {
		doc, err := xmldsig.Parse(data, xmldsig.Limits{MaxBytes: 1 << 20})
		if err != nil {
			return
		}
		sigs, err := doc.Verify(xmldsig.VerifyOptions{})
		if err != nil {
			return
		}
		alg := methods[int(m)%len(methods)]
		for _, s := range sigs {
			if s.Err != nil {
				continue
			}
			var b bytes.Buffer
			_ = signatureTimestampData(&b, s, alg, []string{"ds", "#default"})
			_, _ = ArchiveTimestampData(s, alg, nil)
			if qp, obj, err := findQualifyingProperties(s); err == nil && qp != nil {
				b.Reset()
				_ = archiveTimestampData(&b, s, obj, nil, nil, false, alg, nil)
			}
		}
	})
}

// FuzzParseDN reads arbitrary X509IssuerName strings: never a panic, and a
// name that parses compares without one.
func FuzzParseDN(f *testing.F) {
	for _, s := range []string{
		"CN=a-sign-Premium-Sig-02,OU=a-sign-Premium-Sig-02,O=A-Trust Ges. f. Sicherheitssysteme im elektr. Datenverkehr GmbH,C=AT",
		`CN=Jan\, Kowalski+SERIALNUMBER=PESEL-01234567890;O="Urząd, Miasta";2.5.4.97=#0c0a564154504c2d31323334`,
		"OID.1.2.840.113549.1.9.1=#160b73746840626f62732e6267, C = PL",
	} {
		f.Add(s)
	}
	issuer := []byte{0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, 0x50, 0x4c}
	f.Fuzz(func(t *testing.T, s string) {
		rdns, err := parseDN(s)
		if err != nil {
			return
		}
		_ = matchesDNString(rdns, issuer)
	})
}
