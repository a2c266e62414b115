package pades_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"esig/internal/testpki"
	"esig/signer/cades"
	"esig/signer/pades"
	"esig/signer/tsp"
	"esig/verifier/pades/padestest"
)

func options(p *testpki.PKI, leaf *testpki.Cert) pades.Options {
	return pades.Options{Signer: leaf.Key, Certificate: leaf.Cert, Chain: []*x509.Certificate{p.CA.Cert, p.Root.Cert}}
}

// TestOptionErrors: every refusal names what is wrong, and nothing is
// signed.
func TestOptionErrors(t *testing.T) {
	p := testpki.New(t)
	leaf := p.Leaf(t, testpki.LeafOptions{})
	weak := p.Leaf(t, testpki.LeafOptions{Key: testpki.RSA1024})
	doc := padestest.Document(t, padestest.Spec{})
	ts := cades.TimestamperFunc(func(context.Context, []byte, crypto.Hash) ([]byte, error) { return nil, nil })
	for _, tc := range []struct {
		name string
		pdf  []byte
		edit func(*pades.Options)
		want string
	}{
		{"no signer", doc, func(o *pades.Options) { o.Signer = nil }, "signer and its certificate are required"},
		{"key of another certificate", doc, func(o *pades.Options) { o.Certificate = p.CA.Cert }, "does not match the certificate"},
		{"SHA-1", doc, func(o *pades.Options) { o.Hash = crypto.SHA1 }, "not acceptable"},
		{"RSA-1024", doc, func(o *pades.Options) { o.Signer, o.Certificate = weak.Key, weak.Cert }, "below 2048 bits"},
		{"T without a TSA", doc, func(o *pades.Options) { o.Level = pades.LevelT }, "needs a time-stamp authority"},
		{"LT without revocation data", doc, func(o *pades.Options) { o.Level, o.Timestamper = pades.LevelLT, ts }, "needs a source of revocation data"},
		{"page 0", doc, func(o *pades.Options) { o.Appearance = &pades.Appearance{Page: 0, Rect: [4]float64{0, 0, 10, 10}} }, "numbered from 1"},
		{"empty rectangle", doc, func(o *pades.Options) { o.Appearance = &pades.Appearance{Page: 1, Rect: [4]float64{50, 50, 40, 60}} }, "is empty"},
		{"page beyond the end", doc, func(o *pades.Options) { o.Appearance = &pades.Appearance{Page: 3, Rect: [4]float64{0, 0, 10, 10}} }, "page 3 does not exist"},
		{"field name taken", padestest.Document(t, padestest.Spec{Field: "x"}), func(o *pades.Options) { o.FieldName = "name" }, `already has a field named "name"`},
		{"too little room", doc, func(o *pades.Options) { o.Reserve = 100 }, "more than was reserved"},
		{"not a PDF", []byte("hello"), func(*pades.Options) {}, "not a PDF"},
		{"broken PDF", []byte("%PDF-1.7\nno objects"), func(*pades.Options) {}, "reading the PDF"},
		{"encrypted PDF", encrypted(t, doc), func(*pades.Options) {}, "encrypted PDFs are not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := options(p, leaf)
			tc.edit(&o)
			out, err := pades.Sign(context.Background(), tc.pdf, o)
			if err == nil || !strings.Contains(err.Error(), tc.want) || out != nil {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}

func encrypted(t *testing.T, pdf []byte) []byte {
	t.Helper()
	conf := model.NewAESConfiguration("", "owner", 256)
	var out bytes.Buffer
	if err := api.Encrypt(bytes.NewReader(pdf), &out, conf); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestIncremental: each signature appends an update and leaves the bytes
// before it, so a second signature keeps the first one's; the fields are
// named Signature1, Signature2 unless named.
func TestIncremental(t *testing.T) {
	p := testpki.New(t)
	leaf := p.Leaf(t, testpki.LeafOptions{})
	doc := padestest.Document(t, padestest.Spec{Pages: []string{"Jeden", "Dwa"}, XRefStream: true})
	one, err := pades.Sign(context.Background(), doc, options(p, leaf))
	if err != nil {
		t.Fatal(err)
	}
	o := options(p, leaf)
	o.Appearance = &pades.Appearance{Page: 2, Rect: [4]float64{300, 50, 550, 120}, Lines: []string{"Zatwierdził: Józef Łęcki"}}
	two, err := pades.Sign(context.Background(), one, o)
	if err != nil {
		t.Fatal(err)
	}
	o.FieldName, o.Appearance = "Kierownik", nil
	three, err := pades.Sign(context.Background(), two, o)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(one, doc) || !bytes.HasPrefix(two, one) || !bytes.HasPrefix(three, two) {
		t.Fatal("a signature rewrote earlier bytes")
	}
	ctx, err := padestest.Read(three)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := ctx.Catalog()
	form, _ := ctx.DereferenceDict(root["AcroForm"])
	fields, _ := ctx.DereferenceArray(form["Fields"])
	var names []string
	var appearance string
	for _, f := range fields {
		d, _ := ctx.DereferenceDict(f)
		name, _ := types.StringOrHexLiteral(d["T"])
		names = append(names, *name)
		if ap, _ := ctx.DereferenceDict(d["AP"]); ap != nil {
			sd, _, _ := ctx.DereferenceStreamDict(ap["N"])
			if err := sd.Decode(); err != nil {
				t.Fatal(err)
			}
			appearance = string(sd.Content)
		}
	}
	if strings.Join(names, ",") != "Signature1,Signature2,Kierownik" {
		t.Errorf("fields %v", names)
	}
	if !strings.Contains(appearance, "(Zatwierdzil: Jozef Lecki) Tj") {
		t.Errorf("appearance does not show the text: %q", appearance)
	}
	if flags := form.IntEntry("SigFlags"); flags == nil || *flags != 3 {
		t.Errorf("SigFlags %v, want 3", flags)
	}
}

// TestSignCMS: the CMS a PAdES signature embeds has no signing-time, and
// the digest must fit the hash.
func TestSignCMS(t *testing.T) {
	p := testpki.New(t)
	leaf := p.Leaf(t, testpki.LeafOptions{Key: testpki.ECDSAP256})
	d := crypto.SHA256.New()
	d.Write([]byte("bytes the ByteRange covers"))
	der, err := pades.SignCMS(context.Background(), d.Sum(nil), pades.CMSOptions{Signer: leaf.Key, Certificate: leaf.Cert})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(der, []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05}) {
		t.Error("the CMS carries a signing-time attribute")
	}
	if _, err := pades.SignCMS(context.Background(), []byte("short"), pades.CMSOptions{Signer: leaf.Key, Certificate: leaf.Cert}); err == nil {
		t.Error("a digest of the wrong size was signed")
	}
}

// TestVRIKey: the VRI key is the upper-case SHA-1 of the whole Contents
// string, padding included.
func TestVRIKey(t *testing.T) {
	for _, tc := range []struct {
		cms      []byte
		reserved int
		want     string
	}{
		{[]byte("abc"), 0, "A9993E364706816ABA3E25717850C26C9CD0D89D"},
		{[]byte("abc"), 3, "A9993E364706816ABA3E25717850C26C9CD0D89D"},
		{[]byte("ab"), 3, "97D6F5D51E5815CDF64CC9935B8D73C50BD906A2"}, // SHA-1 of "ab\x00"
	} {
		if got := pades.VRIKey(tc.cms, tc.reserved); got != tc.want {
			t.Errorf("%q/%d: %s, want %s", tc.cms, tc.reserved, got, tc.want)
		}
	}
}

// TestCertifiedNoChanges: a document certified with DocMDP P=1 is not
// signed again (the certification would break), but may still be time
// stamped; P=2 allows signing.
func TestCertifiedNoChanges(t *testing.T) {
	p := testpki.New(t)
	leaf := p.Leaf(t, testpki.LeafOptions{})
	doc := padestest.Document(t, padestest.Spec{})
	certify := func(level int) []byte {
		return padestest.HandSign(t, doc, padestest.Sig{Signer: leaf.Key, Certificate: leaf.Cert,
			Dict:    fmt.Sprintf("/Reference[<</Type/SigRef/TransformMethod/DocMDP/TransformParams<</P %d>>>>]", level),
			Catalog: func(n int) string { return fmt.Sprintf("/Perms<</DocMDP %d 0 R>>", n) }})
	}
	if _, err := pades.Sign(context.Background(), certify(1), options(p, leaf)); err == nil || !strings.Contains(err.Error(), "DocMDP P=1") {
		t.Fatalf("P=1: %v", err)
	}
	if _, err := pades.Sign(context.Background(), certify(2), options(p, leaf)); err != nil {
		t.Fatalf("P=2: %v", err)
	}
	ts := cades.TimestamperFunc(func(ctx context.Context, d []byte, h crypto.Hash) ([]byte, error) {
		r, err := (&tsp.Client{URL: p.TSAURL()}).Timestamp(ctx, d, h)
		if err != nil {
			return nil, err
		}
		return r.Token, nil
	})
	if _, err := pades.AddDocumentTimestamp(context.Background(), certify(1), 0, ts); err != nil {
		t.Fatalf("time stamp over P=1: %v", err)
	}
}
