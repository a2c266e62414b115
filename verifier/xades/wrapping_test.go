package xades_test

import (
	"bytes"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"esig/internal/xmldsig"
	"esig/internal/xmldsig/c14n"
	xsign "esig/signer/xades"
	"esig/verifier/report"
	"esig/verifier/xades"
)

// TestWrappingSignedProperties covers the XAdES-level wrapping classes: a
// fake SignedProperties put where a verifier or an application might take
// it for the signed one. Each edit leaves every Reference digest and the
// SignatureValue intact (xmlsec1 would say OK), so only the XAdES rules
// can catch it.
func TestWrappingSignedProperties(t *testing.T) {
	f := newFixture(t)
	signed := f.sign(t, nil, xmlDoc, xsign.Options{Packaging: xsign.Enveloping})
	fakeQP := func(d *etree.Document) *etree.Element {
		sig := find(t, d, "Signature")
		qp := find(t, d, "QualifyingProperties").Copy()
		sp := qp.FindElement("./SignedProperties")
		sp.CreateAttr("xmlns:xades", xades.Namespace132) // for when it is moved out
		sp.RemoveAttr("Id")
		sp.FindElement(".//SigningTime").SetText("2001-01-01T00:00:00Z")
		_ = sig
		return qp
	}
	cases := []struct {
		name     string
		edit     func(d *etree.Document)
		contains string
	}{
		{"second QualifyingProperties in a new Object", func(d *etree.Document) {
			find(t, d, "Signature").CreateElement("ds:Object").AddChild(fakeQP(d))
		}, "two QualifyingProperties"},
		{"second QualifyingProperties in the same Object", func(d *etree.Document) {
			find(t, d, "QualifyingProperties").Parent().AddChild(fakeQP(d))
		}, "two QualifyingProperties"},
		{"two SignedProperties, one referenced", func(d *etree.Document) {
			qp := find(t, d, "QualifyingProperties")
			sp := fakeQP(d).FindElement("./SignedProperties")
			qp.InsertChildAt(0, sp)
		}, "two SignedProperties"},
		{"fake SignedProperties nested in an Object", func(d *etree.Document) {
			o := find(t, d, "Signature").CreateElement("ds:Object").CreateElement("Opakowanie")
			o.AddChild(fakeQP(d).FindElement("./SignedProperties"))
		}, "SignedProperties outside the signature's QualifyingProperties"},
		{"signed SignedProperties moved out, fake in its place", func(d *etree.Document) {
			qp := find(t, d, "QualifyingProperties")
			real := qp.FindElement("./SignedProperties")
			real.CreateAttr("xmlns:xades", xades.Namespace132)
			fake := fakeQP(d).FindElement("./SignedProperties")
			qp.InsertChildAt(real.Index(), fake)
			find(t, d, "Signature").CreateElement("ds:Object").AddChild(real)
		}, "SignedProperties outside"},
		{"QualifyingProperties of another signature", func(d *etree.Document) {
			find(t, d, "QualifyingProperties").CreateAttr("Target", "#inny-podpis")
		}, "does not name this signature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := parse(t, signed)
			c.edit(d)
			out := serialize(t, d)
			// The XMLDSig layer alone finds nothing wrong.
			doc, err := xmldsig.Parse(out, xmldsig.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			sigs, _ := doc.Verify(xmldsig.VerifyOptions{})
			if err := sigs[0].Problem(); err != nil {
				t.Fatalf("the edit broke a reference: %v", err)
			}
			if err := sigs[0].VerifyValue(f.rsa.Cert.PublicKey); err != nil {
				t.Fatalf("the edit broke the signature value: %v", err)
			}
			s := only(t, f.verify(t, out, nil))
			expect(t, s.Report, report.TotalFailed, report.FormatFailure, c.contains)
			if s.Properties != nil {
				t.Errorf("properties exposed for a refused signature")
			}
		})
	}
}

// TestSignedPropertiesReference checks the Reference that must cover the
// SignedProperties (EN 319 132-1, 6.3): present, of the right Type, and
// covering this signature's SignedProperties.
func TestSignedPropertiesReference(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name     string
		spType   string
		edit     func(sig, qp *etree.Element)
		ind      report.Indication
		sub      report.SubIndication
		contains string
	}{
		{"right Type", xades.SignedPropertiesType, nil, report.TotalPassed, "", ""},
		{"no Reference to the SignedProperties", "-", nil, report.TotalFailed, report.FormatFailure, "not covered by any Reference"},
		{"Reference without Type", "", nil, report.TotalFailed, report.FormatFailure, "whose Type"},
		{"Reference of Type Object", xmldsig.TypeObject, nil, report.TotalFailed, report.FormatFailure, "whose Type"},
		{"Type SignedProperties on a Reference to other data", xades.SignedPropertiesType, func(sig, qp *etree.Element) {
			// The SignedProperties Reference names the data Object; the
			// real SignedProperties is left unsigned.
			qp.FindElement("./SignedProperties").CreateAttr("Id", "sp-unsigned")
			other := sig.CreateElement("ds:Object")
			other.CreateAttr("Id", "sp")
			other.CreateElement("Inne").SetText("inne dane")
		}, report.TotalFailed, report.FormatFailure, "does not cover the SignedProperties"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := f.handBuilt(t, c.spType, c.edit)
			s := only(t, f.verify(t, data, nil))
			expect(t, s.Report, c.ind, c.sub, c.contains)
		})
	}
}

// TestSignedDataWrapping moves a signed element away and puts a fake one
// where it was: the signature still holds (the Reference follows the Id),
// and what the format layer exposes as signed is the moved original,
// never the fake an application would find by position.
func TestSignedDataWrapping(t *testing.T) {
	f := newFixture(t)
	doc := etree.NewDocument()
	if err := doc.ReadFromString(`<Przesylka><Dokument Id="dok">kwota 100 PLN</Dokument></Przesylka>`); err != nil {
		t.Fatal(err)
	}
	b, err := xmldsig.NewBuilder(xmldsig.SignOptions{Signer: f.rsa.Key, Certificates: []*x509.Certificate{f.rsa.Cert}, ID: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	// Exclusive canonicalization makes the element's digest independent of
	// where it sits, which is what lets it be moved.
	if _, err := b.AddReference(xmldsig.ReferenceSpec{URI: "#dok", Transforms: []xmldsig.TransformSpec{{Algorithm: c14n.ExcC14N}}}); err != nil {
		t.Fatal(err)
	}
	doc.Root().AddChild(b.Element())
	if _, err := b.Sign(doc); err != nil {
		t.Fatal(err)
	}
	signed := serialize(t, doc)

	t.Run("moved and replaced", func(t *testing.T) {
		d := parse(t, signed)
		real := d.FindElement("//Dokument")
		fake := etree.NewElement("Dokument")
		fake.SetText("kwota 1000000 PLN")
		d.Root().InsertChildAt(real.Index(), fake)
		find(t, d, "Signature").CreateElement("ds:Object").AddChild(real)
		s := only(t, f.verify(t, serialize(t, d), nil))
		if s.Report.Indication == report.TotalFailed {
			t.Fatalf("%s/%s %q", s.Report.Indication, s.Report.SubIndication, s.Report.Errors)
		}
		if len(s.SignedObjects) != 1 || s.SignedObjects[0].Content.Element() == nil {
			t.Fatalf("signed objects %+v", s.SignedObjects)
		}
		got := s.SignedObjects[0].Content.Element()
		if got.Text() != "kwota 100 PLN" || !bytes.Contains(s.SignedObjects[0].Content.Octets, []byte("100 PLN")) {
			t.Errorf("exposed as signed: %q", got.Text())
		}
		if got.Parent() == s.Element.Parent() {
			t.Errorf("the exposed element is the one in the fake's position")
		}
	})
	t.Run("fake with the same Id", func(t *testing.T) {
		d := parse(t, signed)
		real := d.FindElement("//Dokument")
		fake := real.Copy()
		fake.SetText("kwota 1000000 PLN")
		d.Root().InsertChildAt(0, fake)
		s := only(t, f.verify(t, serialize(t, d), nil))
		expect(t, s.Report, report.TotalFailed, report.FormatFailure, "dok")
	})
}

// TestFakeObjectAndManifest adds content to a signature that no Reference
// covers, and changes what a signed Manifest lists.
func TestFakeObjectAndManifest(t *testing.T) {
	f := newFixture(t)
	signed := f.sign(t, nil, xmlDoc, xsign.Options{Packaging: xsign.Enveloping})

	t.Run("fake Object", func(t *testing.T) {
		d := parse(t, signed)
		o := find(t, d, "Signature").CreateElement("ds:Object")
		o.CreateAttr("Id", "zalacznik")
		o.CreateElement("Wniosek").SetText("podrobiona treść")
		s := only(t, f.verify(t, serialize(t, d), nil))
		expect(t, s.Report, report.TotalPassed, "")
		for _, obj := range s.SignedObjects {
			if bytes.Contains(obj.Content.Octets, []byte("podrobiona")) {
				t.Errorf("the fake Object is exposed as signed")
			}
		}
		if len(s.SignedObjects) != 1 {
			t.Errorf("%d signed objects, want 1", len(s.SignedObjects))
		}
	})
	t.Run("fake Manifest", func(t *testing.T) {
		d := parse(t, signed)
		o := find(t, d, "Signature").CreateElement("ds:Object")
		m := o.CreateElement("ds:Manifest")
		r := m.CreateElement("ds:Reference")
		r.CreateAttr("URI", "podrobiony.pdf")
		r.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", xmldsig.DigestSHA256)
		r.CreateElement("ds:DigestValue").SetText("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
		s := only(t, f.verify(t, serialize(t, d), map[string][]byte{"podrobiony.pdf": []byte("x")}))
		expect(t, s.Report, report.TotalPassed, "")
		for _, obj := range s.SignedObjects {
			if obj.URI == "podrobiony.pdf" || len(obj.Entries) > 0 {
				t.Errorf("the unsigned Manifest is exposed as signed: %+v", obj)
			}
		}
	})
	t.Run("signed Manifest entry changed", func(t *testing.T) {
		b, err := xmldsig.NewBuilder(xmldsig.SignOptions{Signer: f.rsa.Key, Certificates: []*x509.Certificate{f.rsa.Cert}, ID: "sig"})
		if err != nil {
			t.Fatal(err)
		}
		m := b.AddObject("").CreateElement("ds:Manifest")
		m.CreateAttr("Id", "manifest")
		r := m.CreateElement("ds:Reference")
		r.CreateAttr("URI", "faktura.pdf")
		r.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", xmldsig.DigestSHA256)
		r.CreateElement("ds:DigestValue").SetText("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=") // SHA-256 of ""
		if _, err := b.AddReference(xmldsig.ReferenceSpec{URI: "#manifest", Type: xmldsig.TypeManifest}); err != nil {
			t.Fatal(err)
		}
		doc, err := b.Sign(nil)
		if err != nil {
			t.Fatal(err)
		}
		data := serialize(t, doc)
		s := only(t, f.verify(t, data, map[string][]byte{"faktura.pdf": nil}))
		if s.Report.Indication == report.TotalFailed || len(s.SignedObjects) != 1 || len(s.SignedObjects[0].Entries) != 1 ||
			s.SignedObjects[0].Entries[0].Status != xmldsig.Valid {
			t.Fatalf("intact manifest: %s %q %+v", s.Report.Indication, s.Report.Errors, s.SignedObjects)
		}
		s = only(t, f.verify(t, data, map[string][]byte{"faktura.pdf": []byte("inna faktura")}))
		expect(t, s.Report, report.TotalFailed, report.HashFailure, "faktura.pdf")
		d := parse(t, data)
		find(t, d, "Manifest").FindElement("./Reference").CreateAttr("URI", "inna.pdf")
		s = only(t, f.verify(t, serialize(t, d), map[string][]byte{"inna.pdf": nil}))
		expect(t, s.Report, report.TotalFailed, report.HashFailure, "manifest")
	})
}

// TestHostileDocuments feeds documents the safe parser must refuse before
// any signature processing: DTDs, entities and a nesting bomb.
func TestHostileDocuments(t *testing.T) {
	f := newFixture(t)
	signed := f.sign(t, nil, xmlDoc, xsign.Options{Packaging: xsign.Enveloped})
	body := bytes.TrimPrefix(signed, []byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"))
	bomb := strings.Repeat("<a>", 100000) + strings.Repeat("</a>", 100000)
	cases := []struct {
		name, doc, contains string
	}{
		{"internal DTD", `<!DOCTYPE Wniosek [<!ELEMENT Wniosek ANY>]>` + string(body), "DOCTYPE"},
		{"external entity", `<!DOCTYPE Wniosek [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` + strings.Replace(string(body), "Jan Kowalski", "&xxe;", 1), "DOCTYPE"},
		{"billion laughs", `<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><l>&c;</l>`, "DOCTYPE"},
		{"undeclared entity", strings.Replace(string(body), "Jan Kowalski", "&xxe;", 1), "xxe"},
		{"nesting bomb", bomb, "MaxDepth"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := f.verify(t, []byte(c.doc), nil)
			s := only(t, r)
			expect(t, s.Report, report.TotalFailed, report.FormatFailure, c.contains)
		})
	}
}

// TestDuplicateSignedPropertiesID puts a fake SignedProperties carrying
// the signed one's Id elsewhere in the document: which of the two a
// Reference names would be ambiguous, so the document is refused.
func TestDuplicateSignedPropertiesID(t *testing.T) {
	f := newFixture(t)
	signed := f.sign(t, nil, xmlDoc, xsign.Options{Packaging: xsign.Enveloped})
	d := parse(t, signed)
	fake := find(t, d, "SignedProperties").Copy()
	fake.CreateAttr("xmlns:xades", xades.Namespace132)
	fake.CreateAttr("xmlns:ds", xmldsig.NamespaceDSig)
	fake.FindElement(".//SigningTime").SetText("2001-01-01T00:00:00Z")
	d.Root().InsertChildAt(0, fake)
	s := only(t, f.verify(t, serialize(t, d), nil))
	expect(t, s.Report, report.TotalFailed, report.FormatFailure, "duplicate identifier")
}
