package xmldsig

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"esig/internal/xmldsig/c14n"
)

// baseSignature is an enveloping signature over Object "obj" whose first
// Reference tests edit.
func baseSignature(t *testing.T, digest crypto.Hash) string {
	t.Helper()
	k := newTestKey(t, "ec256")
	obj := etree.NewElement("Dane")
	obj.CreateAttr("xmlns", "urn:esig:test")
	obj.SetText("treść")
	d, err := SignEnveloping(SignOptions{Signer: k.signer, Certificates: []*x509.Certificate{k.cert}, Hash: digest}, "obj", "", "", obj)
	if err != nil {
		t.Fatal(err)
	}
	return string(mustSerialize(t, d))
}

func TestReferenceOutcomes(t *testing.T) {
	base := baseSignature(t, 0)
	transform := `<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:Transform>`
	if !strings.Contains(base, transform) {
		t.Fatalf("unexpected serialization:\n%s", base)
	}
	tests := []struct {
		name string
		edit func(string) string
		// sigErr: the signature structure itself is refused with this
		// target; otherwise ref is the expected status of reference 1.
		sigErr      error
		ref         Status
		errIs       []error
		errContains string
	}{
		{name: "unchanged", edit: func(s string) string { return s }, ref: Valid},
		{name: "XSLT transform refused as unsupported",
			edit: func(s string) string {
				return strings.Replace(s, transform, `<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"></ds:Transform>`, 1)
			},
			ref: Invalid, errIs: []error{ErrFormat, ErrUnsupported}, errContains: "REC-xslt"},
		{name: "other XPath expression refused as unsupported",
			edit: func(s string) string {
				return strings.Replace(s, transform, `<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>ancestor-or-self::Dane</ds:XPath></ds:Transform>`, 1)
			},
			ref: Invalid, errIs: []error{ErrFormat, ErrUnsupported}, errContains: "not(ancestor-or-self"},
		{name: "unsupported Filter 2.0 expression",
			edit: func(s string) string {
				return strings.Replace(s, transform, `<ds:Transform Algorithm="http://www.w3.org/2002/06/xmldsig-filter2"><f:XPath xmlns:f="http://www.w3.org/2002/06/xmldsig-filter2" Filter="intersect">count(//*)</f:XPath></ds:Transform>`, 1)
			},
			ref: Invalid, errIs: []error{ErrFormat, ErrUnsupported}, errContains: "XPath filter"},
		{name: "bad Filter operation",
			edit: func(s string) string {
				return strings.Replace(s, transform, `<ds:Transform Algorithm="http://www.w3.org/2002/06/xmldsig-filter2"><f:XPath xmlns:f="http://www.w3.org/2002/06/xmldsig-filter2" Filter="xor">/</f:XPath></ds:Transform>`, 1)
			},
			ref: Invalid, errIs: []error{ErrFormat}, errContains: "@Filter"},
		{name: "unknown digest algorithm",
			edit: func(s string) string { return strings.Replace(s, DigestSHA256, "http://example.invalid/md5", 1) },
			ref:  Invalid, errIs: []error{ErrFormat, ErrUnsupported}, errContains: "digest algorithm"},
		{name: "missing same-document target",
			edit: func(s string) string { return strings.Replace(s, `URI="#obj"`, `URI="#nothing"`, 1) },
			ref:  NotFound, errIs: []error{ErrSignedDataNotFound}, errContains: "nothing"},
		{name: "unsupported XPointer",
			edit: func(s string) string { return strings.Replace(s, `URI="#obj"`, `URI="#xpointer(//Dane)"`, 1) },
			ref:  Invalid, errIs: []error{ErrUnsupported}, errContains: "XPointer"},
		{name: "xpointer id form keeps the digest",
			edit: func(s string) string { return strings.Replace(s, `URI="#obj"`, `URI="#xpointer(id('obj'))"`, 1) },
			ref:  Valid},
		{name: "bare #",
			edit: func(s string) string { return strings.Replace(s, `URI="#obj"`, `URI="#"`, 1) },
			ref:  Invalid, errIs: []error{ErrFormat}, errContains: "names no element"},
		{name: "no URI attribute",
			edit: func(s string) string { return strings.Replace(s, ` URI="#obj"`, ``, 1) },
			ref:  NotFound, errIs: []error{ErrSignedDataNotFound}},
		{name: "detached URI never fetched",
			edit: func(s string) string { return strings.Replace(s, `URI="#obj"`, `URI="http://127.0.0.1:1/secret"`, 1) },
			ref:  NotFound, errIs: []error{ErrSignedDataNotFound}, errContains: "http://127.0.0.1:1/secret"},
		{name: "file URI never read",
			edit: func(s string) string {
				return strings.Replace(s, `URI="#obj"`, `URI="file:///nonexistent/secret.txt"`, 1)
			},
			ref: NotFound, errIs: []error{ErrSignedDataNotFound}},
		{name: "DigestValue not base64",
			edit: func(s string) string { return strings.Replace(s, `<ds:DigestValue>`, `<ds:DigestValue>!!`, 1) },
			ref:  Invalid, errIs: []error{ErrFormat}, errContains: "DigestValue"},
		{name: "unsupported SignedInfo canonicalization",
			edit: func(s string) string {
				return strings.Replace(s, `<ds:CanonicalizationMethod Algorithm="`+c14n.ExcC14N, `<ds:CanonicalizationMethod Algorithm="`+TransformBase64, 1)
			},
			sigErr: ErrUnsupported},
		{name: "unknown signature method",
			edit: func(s string) string {
				return strings.Replace(s, ECDSASHA256, "http://www.w3.org/2000/09/xmldsig#dsa-sha1", 1)
			},
			sigErr: ErrUnsupported},
		{name: "element out of order in SignedInfo",
			edit: func(s string) string {
				return strings.Replace(s, `</ds:SignedInfo>`, `<ds:Object></ds:Object></ds:SignedInfo>`, 1)
			},
			sigErr: ErrFormat},
		{name: "text in element-only content",
			edit: func(s string) string {
				return strings.Replace(s, `<ds:SignedInfo>`, `<ds:SignedInfo>sneaky`, 1)
			},
			sigErr: ErrFormat},
		{name: "too many transforms",
			edit: func(s string) string {
				return strings.Replace(s, transform, strings.Repeat(transform, DefaultMaxTransforms+1), 1)
			},
			ref: Invalid, errIs: []error{ErrFormat}, errContains: "MaxTransforms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.edit(base)
			if in == base && tc.name != "unchanged" {
				t.Fatal("edit did not apply")
			}
			_, sigs := verifyAll(t, []byte(in), VerifyOptions{})
			s := sigs[0]
			if tc.sigErr != nil {
				if !errors.Is(s.Err, tc.sigErr) || !errors.Is(s.VerifyValue(nil), tc.sigErr) {
					t.Fatalf("signature error %v, want %v", s.Err, tc.sigErr)
				}
				return
			}
			if s.Err != nil {
				t.Fatalf("signature error %v", s.Err)
			}
			r := s.References[0]
			if r.Status() != tc.ref {
				t.Fatalf("status %s (%v), want %s", r.Status(), r.Err, tc.ref)
			}
			for _, target := range tc.errIs {
				if !errors.Is(r.Err, target) {
					t.Errorf("error %v is not %v", r.Err, target)
				}
			}
			if tc.errContains != "" && (r.Err == nil || !strings.Contains(r.Err.Error(), tc.errContains)) {
				t.Errorf("error %v does not mention %q", r.Err, tc.errContains)
			}
		})
	}
}

func TestTooManyReferencesAndSignatures(t *testing.T) {
	base := baseSignature(t, 0)
	start := strings.Index(base, "<ds:Reference ")
	end := strings.Index(base, "</ds:Reference>") + len("</ds:Reference>")
	ref := base[start:end]
	many := strings.Replace(base, ref, strings.Repeat(ref, 3), 1)
	doc, err := Parse([]byte(many), Limits{MaxReferences: 2})
	if err != nil {
		t.Fatal(err)
	}
	sigs, _ := doc.Verify(VerifyOptions{})
	if !errors.Is(sigs[0].Err, ErrFormat) || !strings.Contains(sigs[0].Err.Error(), "MaxReferences") {
		t.Fatalf("3 references with MaxReferences=2: %v", sigs[0].Err)
	}
	doc, err = Parse([]byte(`<r>`+strings.Repeat(`<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>`, 3)+`</r>`), Limits{MaxSignatures: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := doc.Verify(VerifyOptions{}); !errors.Is(err, ErrFormat) {
		t.Fatalf("3 signatures with MaxSignatures=2: %v", err)
	}
}

func TestSHA1RecognisedNotRefused(t *testing.T) {
	base := baseSignature(t, crypto.SHA1)
	_, sigs := verifyAll(t, []byte(base), VerifyOptions{})
	s := sigs[0]
	if s.SignatureMethod.Hash != crypto.SHA1 || s.SignatureMethod.URI != ECDSASHA1 {
		t.Fatalf("signature method %+v", s.SignatureMethod)
	}
	r := s.References[0]
	if r.Status() != Valid || r.Hash != crypto.SHA1 || r.DigestAlgorithm != DigestSHA1 {
		t.Fatalf("SHA-1 reference: %s %v %v", r.Status(), r.Hash, r.Err)
	}
	if err := s.VerifyValue(newTestKey(t, "ec256").cert.PublicKey); err != nil {
		t.Fatal(err)
	}
}

func TestSignatureValueFailures(t *testing.T) {
	base := baseSignature(t, 0)
	ec := newTestKey(t, "ec256")
	rsaKey := newTestKey(t, "rsa2048")
	other := newTestKey(t, "ec384")
	_, sigs := verifyAll(t, []byte(base), VerifyOptions{})
	s := sigs[0]
	if err := s.VerifyValue(ec.cert.PublicKey); err != nil {
		t.Fatalf("genuine key: %v", err)
	}
	for name, pub := range map[string]crypto.PublicKey{"RSA key for ECDSA": rsaKey.cert.PublicKey, "other curve": other.cert.PublicKey} {
		if err := s.VerifyValue(pub); !errors.Is(err, ErrSigCrypto) {
			t.Errorf("%s: %v, want SIG_CRYPTO_FAILURE", name, err)
		}
	}
	// The same value DER-encoded, as goxmldsig writes it, is refused with
	// a message saying so.
	n := len(s.SignatureValue) / 2
	der, _ := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(s.SignatureValue[:n]), new(big.Int).SetBytes(s.SignatureValue[n:])})
	old := base64.StdEncoding.EncodeToString(s.SignatureValue)
	_, sigs = verifyAll(t, []byte(strings.Replace(base, old, base64.StdEncoding.EncodeToString(der), 1)), VerifyOptions{})
	if err := sigs[0].VerifyValue(ec.cert.PublicKey); !errors.Is(err, ErrSigCrypto) || !strings.Contains(err.Error(), "DER") {
		t.Errorf("DER value: %v", err)
	}
	// A changed SignedInfo no longer verifies.
	_, sigs = verifyAll(t, []byte(strings.Replace(base, `Id="obj"`, `Id="obj" MimeType="x"`, 1)), VerifyOptions{})
	if err := sigs[0].VerifyValue(ec.cert.PublicKey); err != nil {
		t.Fatalf("Object attribute is not in SignedInfo, value must still verify: %v", err)
	}
	if sigs[0].References[0].Status() != DigestMismatch {
		t.Fatalf("Object changed: %s", sigs[0].References[0].Status())
	}
	_, sigs = verifyAll(t, []byte(strings.Replace(base, `URI="#obj"`, `URI="#obj" Id="changed"`, 1)), VerifyOptions{})
	if err := sigs[0].VerifyValue(ec.cert.PublicKey); !errors.Is(err, ErrSigCrypto) {
		t.Fatalf("SignedInfo changed: %v", err)
	}
}

func TestMaxWork(t *testing.T) {
	base := baseSignature(t, 0)
	doc, err := Parse([]byte(base), Limits{MaxWork: 10})
	if err != nil {
		t.Fatal(err)
	}
	sigs, _ := doc.Verify(VerifyOptions{})
	r := sigs[0].References[0]
	if !errors.Is(r.Err, ErrFormat) || !strings.Contains(r.Err.Error(), "MaxWork") {
		t.Fatalf("reference over a 10-byte work budget: %v", r.Err)
	}
}

func TestCanonicalForm(t *testing.T) {
	_, sigs := verifyAll(t, []byte(baseSignature(t, 0)), VerifyOptions{})
	sv := sigs[0].SignatureValueElement()
	got, err := CanonicalForm(sv, c14n.ExcC14N, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(got), `<ds:SignatureValue xmlns:ds="http://www.w3.org/2000/09/xmldsig#">`) {
		t.Fatalf("canonical SignatureValue: %s", got)
	}
	if _, err := CanonicalForm(sv, TransformBase64, nil); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("non-canonicalization algorithm: %v", err)
	}
}

// TestContentRecanonicalize checks EndsInNodeSet and Canonicalize, which
// XAdES time stamps over references use: a Reference whose transforms end
// in a node-set is rendered again by another algorithm, one that ends in a
// canonicalization keeps its octets.
func TestContentRecanonicalize(t *testing.T) {
	doc := `<r xmlns:p="urn:p"><!-- c --><Dane Id="d" xmlns="urn:esig:test"><!-- k -->treść<p:x/></Dane></r>`
	cases := []struct {
		name       string
		transforms []TransformSpec
		nodeSet    bool
		alg        string
		want       string
	}{
		{"no transform", nil, true, c14n.ExcC14N,
			`<Dane xmlns="urn:esig:test" Id="d">treść<p:x xmlns:p="urn:p"></p:x></Dane>`},
		{"no transform, inclusive", nil, true, c14n.C14N10,
			`<Dane xmlns="urn:esig:test" xmlns:p="urn:p" Id="d">treść<p:x></p:x></Dane>`},
		{"ends in c14n", []TransformSpec{{Algorithm: c14n.ExcC14N}}, false, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tree := etree.NewDocument()
			if err := tree.ReadFromString(doc); err != nil {
				t.Fatal(err)
			}
			k := newTestKey(t, "ec256")
			b, err := NewBuilder(SignOptions{Signer: k.signer})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.AddReference(ReferenceSpec{URI: "#d", Transforms: c.transforms}); err != nil {
				t.Fatal(err)
			}
			tree.Root().AddChild(b.Element())
			if _, err := b.Sign(tree); err != nil {
				t.Fatal(err)
			}
			_, sigs := verifyAll(t, mustSerialize(t, tree), VerifyOptions{})
			content := sigs[0].References[0].Content
			if content.EndsInNodeSet() != c.nodeSet {
				t.Fatalf("EndsInNodeSet = %v", content.EndsInNodeSet())
			}
			if !c.nodeSet {
				return
			}
			got, err := content.Canonicalize(c.alg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
	if _, err := (&Content{Octets: []byte("x")}).Canonicalize(c14n.C14N10, nil); !errors.Is(err, ErrFormat) {
		t.Errorf("octet content canonicalized: %v", err)
	}
}
