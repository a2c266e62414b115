package xmldsig

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"esig/internal/xmldsig/c14n"
)

// signedOrder returns a document <Zamowienie> whose <Dane Id="dane"> is
// signed by a detached same-document signature placed after it.
func signedOrder(t *testing.T) []byte {
	t.Helper()
	k := newTestKey(t, "ec256")
	d, err := Parse([]byte(`<Zamowienie xmlns="urn:esig:test:zam"><Dane Id="dane"><Kwota>100</Kwota></Dane></Zamowienie>`), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	tree := d.Tree()
	b, err := NewBuilder(SignOptions{Signer: k.signer, Certificates: []*x509.Certificate{k.cert}, ID: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.AddReference(ReferenceSpec{URI: "#dane", Transforms: []TransformSpec{{Algorithm: c14n.ExcC14N}}}); err != nil {
		t.Fatal(err)
	}
	tree.Root().AddChild(b.Element())
	if _, err := b.Sign(tree); err != nil {
		t.Fatal(err)
	}
	return mustSerialize(t, tree)
}

// mutate parses data, applies f to the tree and serializes it again.
func mutate(t *testing.T, data []byte, f func(root *etree.Element)) []byte {
	t.Helper()
	d, err := Parse(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	f(d.Root())
	return mustSerialize(t, d.Tree())
}

func child(e *etree.Element, local string) *etree.Element {
	for _, c := range e.ChildElements() {
		if c.Tag == local {
			return c
		}
	}
	return nil
}

func fakeDane(id string) *etree.Element {
	f := etree.NewElement("Dane")
	if id != "" {
		f.CreateAttr("Id", id)
	}
	f.CreateElement("Kwota").SetText("999999")
	return f
}

// signedText returns the text of every text node a reference's content
// covers, for checking that a fake never appears in it.
func signedText(c *Content) string {
	if c == nil {
		return ""
	}
	return string(c.Octets)
}

func TestWrappingAttacks(t *testing.T) {
	orig := signedOrder(t)
	k := newTestKey(t, "ec256")

	tests := []struct {
		name   string
		mutate func(root *etree.Element)
		// wantParseErr: the document must be refused outright.
		wantParseErr bool
		// check inspects the first signature when the document parses.
		check func(t *testing.T, s *Signature)
	}{
		{
			name: "signed element moved into an Object, unsigned fake in its place",
			mutate: func(root *etree.Element) {
				real := child(root, "Dane")
				sig := child(root, "Signature")
				root.RemoveChild(real)
				real.CreateAttr("xmlns", "urn:esig:test:zam")
				obj := sig.CreateElement("ds:Object")
				obj.AddChild(real)
				root.InsertChildAt(0, fakeDane(""))
			},
			check: func(t *testing.T, s *Signature) {
				r := s.References[0]
				if r.Status() != Valid {
					t.Fatalf("moved but intact signed element: %s %v", r.Status(), r.Err)
				}
				el := r.Content.Element()
				if el == nil || el.Parent().Tag != "Object" {
					t.Fatalf("content is not the moved signed element")
				}
				if strings.Contains(signedText(r.Content), "999999") {
					t.Fatal("the fake is reported as signed")
				}
				if !strings.Contains(signedText(r.Content), "100") {
					t.Fatal("the signed amount is not in the content")
				}
			},
		},
		{
			name: "fake with the same Id before the signed element",
			mutate: func(root *etree.Element) {
				root.InsertChildAt(0, fakeDane("dane"))
			},
			wantParseErr: true,
		},
		{
			name: "fake with the same value in ID",
			mutate: func(root *etree.Element) {
				f := fakeDane("")
				f.CreateAttr("ID", "dane")
				root.InsertChildAt(0, f)
			},
			wantParseErr: true,
		},
		{
			name: "fake with the same value in xml:id",
			mutate: func(root *etree.Element) {
				f := fakeDane("")
				f.CreateAttr("xml:id", "dane")
				root.AddChild(f)
			},
			wantParseErr: true,
		},
		{
			name: "two lowercase ids make the referenced value ambiguous",
			mutate: func(root *etree.Element) {
				real := child(root, "Dane")
				real.RemoveAttr("Id")
				real.CreateAttr("id", "dane")
				f := fakeDane("")
				f.CreateAttr("id", "dane")
				root.InsertChildAt(0, f)
			},
			check: func(t *testing.T, s *Signature) {
				r := s.References[0]
				if r.Status() != Invalid || !errors.Is(r.Err, ErrFormat) {
					t.Fatalf("ambiguous reference: %s %v, want a format failure", r.Status(), r.Err)
				}
				if r.Content != nil {
					t.Fatal("content reported for an ambiguous reference")
				}
			},
		},
		{
			name: "signed content changed in place",
			mutate: func(root *etree.Element) {
				child(child(root, "Dane"), "Kwota").SetText("999999")
			},
			check: func(t *testing.T, s *Signature) {
				if r := s.References[0]; r.Status() != DigestMismatch || !errors.Is(r.Err, ErrHash) {
					t.Fatalf("%s %v, want digest mismatch", r.Status(), r.Err)
				}
			},
		},
		{
			name: "unsigned fake Object and Manifest added to the signature",
			mutate: func(root *etree.Element) {
				sig := child(root, "Signature")
				obj := sig.CreateElement("ds:Object")
				obj.AddChild(fakeDane("fake-obj"))
				m := obj.CreateElement("ds:Manifest")
				m.CreateAttr("Id", "fake-manifest")
				ref := m.CreateElement("ds:Reference")
				ref.CreateAttr("URI", "#fake-obj")
				ref.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", DigestSHA256)
				ref.CreateElement("ds:DigestValue").SetText("AAAA")
			},
			check: func(t *testing.T, s *Signature) {
				if len(s.References) != 1 || s.References[0].Status() != Valid {
					t.Fatalf("references changed: %d", len(s.References))
				}
				r := s.References[0]
				if len(r.Manifest) != 0 {
					t.Fatal("an unsigned Manifest is reported")
				}
				if strings.Contains(signedText(r.Content), "999999") {
					t.Fatal("the fake Object is reported as signed")
				}
				if len(s.Objects) != 1 {
					t.Fatalf("%d objects", len(s.Objects))
				}
			},
		},
		{
			name: "second, forged Signature over a fake element",
			mutate: func(root *etree.Element) {
				f := fakeDane("fake")
				root.InsertChildAt(0, f)
				// A copy of the genuine signature pointing at the fake.
				sig := child(root, "Signature").Copy()
				sig.RemoveAttr("Id")
				sig.SelectElement("ds:SignedInfo").SelectElement("ds:Reference").CreateAttr("URI", "#fake")
				root.AddChild(sig)
			},
			check: func(t *testing.T, s *Signature) {
				if err := s.Problem(); err != nil {
					t.Fatalf("genuine signature: %v", err)
				}
				if strings.Contains(signedText(s.References[0].Content), "999999") {
					t.Fatal("the genuine signature reports the fake")
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := mutate(t, orig, tc.mutate)
			doc, err := Parse(data, Limits{})
			if tc.wantParseErr {
				if err == nil || !errors.Is(err, ErrFormat) {
					t.Fatalf("Parse = %v, want a format failure", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			sigs, err := doc.Verify(VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, sigs[0])
			for i, s := range sigs {
				// Whatever verifies must verify over genuine content only;
				// a forged signature must fail somewhere.
				if s.Problem() == nil && s.VerifyValue(k.cert.PublicKey) == nil {
					for _, r := range s.References {
						if strings.Contains(signedText(r.Content), "999999") {
							t.Errorf("signature %d verifies over the fake", i)
						}
					}
				}
			}
			if len(sigs) == 2 && sigs[1].Problem() == nil && sigs[1].VerifyValue(k.cert.PublicKey) == nil {
				t.Error("the forged second signature verifies")
			}
		})
	}
}

// TestEnvelopedSignatureCoverage checks that content added inside the
// ds:Signature of an enveloped signature is never reported as signed, and
// that content added outside it breaks the digest.
func TestEnvelopedSignatureCoverage(t *testing.T) {
	k := newTestKey(t, "rsa2048")
	d := parseSample(t)
	if _, err := SignEnveloped(d, SignOptions{Signer: k.signer}, ""); err != nil {
		t.Fatal(err)
	}
	out := mustSerialize(t, d)

	inside := mutate(t, out, func(root *etree.Element) {
		child(root, "Signature").CreateElement("ds:Object").AddChild(fakeDane("inside"))
	})
	doc, sigs := verifyAll(t, inside, VerifyOptions{})
	r := sigs[0].References[0]
	if r.Status() != Valid {
		t.Fatalf("%s %v", r.Status(), r.Err)
	}
	var fake *etree.Element
	for _, e := range doc.Root().FindElements("//Dane") {
		fake = e
	}
	if fake == nil || r.Content.Contains(fake) || strings.Contains(string(r.Content.Octets), "999999") {
		t.Fatal("content inside the Signature is reported as signed")
	}
	if !r.Content.Contains(doc.Root()) {
		t.Fatal("the document element is not reported as signed")
	}

	outside := mutate(t, out, func(root *etree.Element) { root.AddChild(fakeDane("outside")) })
	_, sigs = verifyAll(t, outside, VerifyOptions{})
	if st := sigs[0].References[0].Status(); st != DigestMismatch {
		t.Fatalf("content added outside the signature: %s", st)
	}
}
