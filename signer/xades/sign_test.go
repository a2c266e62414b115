package xades_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"strings"
	"testing"

	"esig/internal/testpki"
	"esig/internal/xmldsig"
	xsign "esig/signer/xades"
	"esig/verifier/report"
	vxades "esig/verifier/xades"
)

func xmldsigContent(m map[string][]byte) xmldsig.DetachedContent { return xmldsig.DetachedContent(m) }

// TestSignVerify signs in every packaging, key type and level and requires
// our verifier to find the signature TOTAL-PASSED at the level made, with
// the signed content exactly what was given.
func TestSignVerify(t *testing.T) {
	p := testpki.New(t)
	rsaLeaf := p.Leaf(t, testpki.LeafOptions{Name: "Jan Kowalski RSA"})
	ecLeaf := p.Leaf(t, testpki.LeafOptions{Name: "Anna Nowak EC", Key: testpki.ECDSAP256})
	policyDigest := sha256.Sum256([]byte("polityka podpisu"))
	cases := []struct {
		name    string
		leaf    *testpki.Cert
		content []byte
		opts    xsign.Options
		level   vxades.Level
	}{
		{"enveloped RSA B", rsaLeaf, xmlDoc, xsign.Options{Packaging: xsign.Enveloped}, vxades.LevelB},
		{"enveloping XML RSA B", rsaLeaf, xmlDoc, xsign.Options{Packaging: xsign.Enveloping}, vxades.LevelB},
		{"enveloping binary ECDSA B", ecLeaf, binDoc, xsign.Options{Packaging: xsign.Enveloping}, vxades.LevelB},
		{"detached binary ECDSA B", ecLeaf, binDoc, xsign.Options{Packaging: xsign.Detached, Name: "wniosek.bin"}, vxades.LevelB},
		{"enveloped ECDSA SHA-384 B", ecLeaf, xmlDoc, xsign.Options{Packaging: xsign.Enveloped, Hash: crypto.SHA384}, vxades.LevelB},
		{"enveloped RSA-PSS B", rsaLeaf, xmlDoc, xsign.Options{Packaging: xsign.Enveloped, PSS: true}, vxades.LevelB},
		{"V1, policy and roles", rsaLeaf, xmlDoc, xsign.Options{Packaging: xsign.Enveloped, SigningCertificateV1: true,
			ClaimedRoles: []string{"Prezes Zarządu", "Pełnomocnik"},
			Policy:       &xsign.Policy{OID: "1.2.616.1.113527.2.4.1.1", Hash: crypto.SHA256, Digest: policyDigest[:], URI: "https://example.invalid/polityka.pdf"}},
			vxades.LevelB},
		{"enveloped T", rsaLeaf, xmlDoc, xsign.Options{Packaging: xsign.Enveloped, Level: xsign.LevelT}, vxades.LevelT},
		{"detached LT", rsaLeaf, binDoc, xsign.Options{Packaging: xsign.Detached, Level: xsign.LevelLT}, vxades.LevelLT},
		{"enveloping LTA ECDSA", ecLeaf, xmlDoc, xsign.Options{Packaging: xsign.Enveloping, Level: xsign.LevelLTA}, vxades.LevelLTA},
		{"detached LTA", rsaLeaf, binDoc, xsign.Options{Packaging: xsign.Detached, Level: xsign.LevelLTA, Name: "a b.bin"}, vxades.LevelLTA},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := options(p, c.leaf, c.opts)
			sig, err := xsign.Sign(context.Background(), c.content, o)
			if err != nil {
				t.Fatal(err)
			}
			var detached map[string][]byte
			if o.Packaging == xsign.Detached {
				name := o.Name
				if name == "" {
					name = "document"
				}
				detached = map[string][]byte{name: c.content}
			}
			res := verify(t, p, sig, detached)
			if len(res.Signatures) != 1 {
				t.Fatalf("%d signatures", len(res.Signatures))
			}
			s := res.Signatures[0]
			r := s.Report
			if r.Indication != report.TotalPassed || s.Level != c.level {
				t.Fatalf("%s/%s level %s, want TOTAL-PASSED at %s; errors %q warnings %q\n%s", r.Indication, r.SubIndication, s.Level, c.level, r.Errors, r.Warnings, sig)
			}
			if want := "XAdES-BASELINE-" + strings.TrimPrefix(c.level.String(), "B-"); r.Format != want {
				t.Errorf("format %q, want %q", r.Format, want)
			}
			if len(r.Warnings) > 0 {
				t.Errorf("warnings: %q", r.Warnings)
			}
			if s.Packaging != o.Packaging.String() || len(s.Transforms) == 0 {
				t.Errorf("packaging %q transforms %q, want %s", s.Packaging, s.Transforms, o.Packaging)
			}
			if (o.Level > xsign.LevelB) != (s.UnsignedProperties != nil) {
				t.Errorf("unsigned properties %v at level %s", s.UnsignedProperties != nil, o.Level)
			}
			if s.SigningCertificate == nil || !s.SigningCertificate.Equal(c.leaf.Cert) {
				t.Errorf("signing certificate not the leaf")
			}
			if len(s.SignedObjects) != 1 || s.SignedObjects[0].Status != xmldsig.Valid {
				t.Fatalf("signed objects: %+v", s.SignedObjects)
			}
			obj := s.SignedObjects[0]
			switch {
			case o.Packaging == xsign.Detached || bytes.Equal(c.content, binDoc):
				if !bytes.Equal(obj.Content.Octets, c.content) {
					t.Errorf("signed content %q, want %q", obj.Content.Octets, c.content)
				}
			default:
				if !bytes.Contains(obj.Content.Octets, []byte("1234.56")) {
					t.Errorf("signed content %q lacks the document", obj.Content.Octets)
				}
			}
			if obj.Format == nil || obj.Format.MimeType == "" {
				t.Errorf("no DataObjectFormat for the content")
			}
			props := s.Properties
			if props == nil || props.SigningTime == nil || props.Element == nil {
				t.Fatalf("properties not exposed: %+v", props)
			}
			if props.V1 != o.SigningCertificateV1 {
				t.Errorf("V1 = %v", props.V1)
			}
			if len(props.ClaimedRoles) != len(o.ClaimedRoles) {
				t.Errorf("%d claimed roles, want %d", len(props.ClaimedRoles), len(o.ClaimedRoles))
			}
			for i, cr := range props.ClaimedRoles {
				if cr.Text() != o.ClaimedRoles[i] {
					t.Errorf("claimed role %q, want %q", cr.Text(), o.ClaimedRoles[i])
				}
			}
			if o.Policy != nil && (props.Policy == nil || props.Policy.Identifier != "urn:oid:"+o.Policy.OID || props.Policy.URI != o.Policy.URI) {
				t.Errorf("policy %+v", props.Policy)
			}
			wantTS := map[vxades.Level]int{vxades.LevelB: 0, vxades.LevelT: 1, vxades.LevelLT: 1, vxades.LevelLTA: 2}[c.level]
			if len(r.Timestamps) != wantTS {
				t.Errorf("%d time stamps, want %d", len(r.Timestamps), wantTS)
			}
			for _, ts := range r.Timestamps {
				if ts.Indication != report.TotalPassed {
					t.Errorf("time stamp %s: %s/%s %q", ts.Type, ts.Indication, ts.SubIndication, ts.Errors)
				}
			}
		})
	}
}
