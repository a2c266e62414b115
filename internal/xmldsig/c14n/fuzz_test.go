package c14n

import (
	"bytes"
	"testing"

	"github.com/beevik/etree"

	"esig/internal/xmldsig/safexml"
)

// FuzzCanonicalize canonicalizes arbitrary parsed input, whole and per
// element subtree, with every method, and checks that canonical XML is a
// fixed point: parsing a document's canonical form and canonicalizing it
// again gives the same bytes (C14N 1.0 section 1.1: equivalent documents
// have one canonical form).
func FuzzCanonicalize(f *testing.F) {
	f.Add([]byte(`<a xmlns="urn:x" xmlns:p="urn:p"><p:b p:c="1" d="&#9;"/><!--c--></a>`))
	methods := []Method{
		{Kind: Inclusive10}, {Kind: Inclusive10, Comments: true},
		{Kind: Inclusive11}, {Kind: Inclusive11, Comments: true},
		{Kind: Exclusive}, {Kind: Exclusive, Comments: true, InclusivePrefixes: []string{"p", "#default"}},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := safexml.Parse(data, safexml.Limits{MaxBytes: 1 << 20, MaxNodes: 1 << 14})
		if err != nil {
			return
		}
		for _, m := range methods {
			var out bytes.Buffer
			if err := Canonicalize(&out, &doc.Element, nil, m); err != nil {
				t.Fatal(err)
			}
			again, err := safexml.Parse(out.Bytes(), safexml.Limits{})
			if err != nil {
				t.Fatalf("%s output does not parse: %v\n%q", m.URI(), err, out.Bytes())
			}
			var out2 bytes.Buffer
			if err := Canonicalize(&out2, &again.Element, nil, m); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), out2.Bytes()) {
				t.Fatalf("%s is not a fixed point:\n%q\n%q", m.URI(), out.Bytes(), out2.Bytes())
			}
		}
		for _, e := range doc.FindElements("//*") {
			for _, m := range methods {
				var out bytes.Buffer
				if err := Canonicalize(&out, e, everyOther{}, m); err != nil {
					t.Fatal(err)
				}
				out.Reset()
				if err := Canonicalize(&out, e, nil, m); err != nil {
					t.Fatal(err)
				}
				if _, err := safexml.Parse(out.Bytes(), safexml.Limits{}); err != nil {
					t.Fatalf("%s of a subtree does not parse: %v\n%q", m.URI(), err, out.Bytes())
				}
			}
		}
	})
}

// everyOther is an irregular node-set (every element whose name has an even
// length, with its text), exercising omitted ancestors.
type everyOther struct{}

func (everyOther) Contains(t etree.Token) bool {
	e, ok := t.(*etree.Element)
	if !ok {
		e = t.Parent()
	}
	return e != nil && len(e.Tag)%2 == 0
}
