package c14n

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/beevik/etree"

	"esig/internal/xmldsig/safexml"
)

func parse(t testing.TB, s string) *etree.Document {
	t.Helper()
	d, err := safexml.Parse([]byte(s), safexml.Limits{})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return d
}

func canonString(t testing.TB, top *etree.Element, set NodeSet, m Method) string {
	t.Helper()
	var b bytes.Buffer
	if err := Canonicalize(&b, top, set, m); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestWholeDocumentAgainstXmllint compares whole-document canonical forms
// (with comments) with libxml2's, the implementation xmlsec1 uses.
func TestWholeDocumentAgainstXmllint(t *testing.T) {
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Skip("xmllint not installed; skipping the libxml2 comparison")
	}
	files, _ := filepath.Glob("testdata/*.xml")
	if len(files) == 0 {
		t.Fatal("no test documents")
	}
	kinds := []struct {
		flag string
		m    Method
	}{
		{"--c14n", Method{Kind: Inclusive10, Comments: true}},
		{"--c14n11", Method{Kind: Inclusive11, Comments: true}},
		{"--exc-c14n", Method{Kind: Exclusive, Comments: true}},
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc := parse(t, string(data))
		for _, k := range kinds {
			want, err := exec.Command("xmllint", k.flag, f).Output()
			if err != nil {
				t.Fatalf("xmllint %s %s: %v", k.flag, f, err)
			}
			got := canonString(t, &doc.Element, nil, k.m)
			if got != string(want) {
				t.Errorf("%s %s:\n got %q\nwant %q", filepath.Base(f), k.flag, got, want)
			}
		}
	}
}

// elementSet is the element subtree of root minus the subtree of skip, the
// shape of an enveloped-signature node-set.
type elementSet struct{ skip *etree.Element }

func (s elementSet) Contains(t etree.Token) bool {
	for e := t.Parent(); e != nil; e = e.Parent() {
		if e == s.skip {
			return false
		}
	}
	if e, ok := t.(*etree.Element); ok && e == s.skip {
		return false
	}
	return true
}

// onlySet contains exactly the listed elements (and their text children),
// a shape XPath Filter 2.0 can produce, with omitted ancestors.
type onlySet map[*etree.Element]bool

func (s onlySet) Contains(t etree.Token) bool {
	if e, ok := t.(*etree.Element); ok {
		return s[e]
	}
	return s[t.Parent()]
}

func TestSubsets(t *testing.T) {
	const doc = `<r xmlns="urn:d" xmlns:a="urn:a" xmlns:u="urn:unused" xml:lang="pl" xml:space="preserve" xml:base="http://h/x/">` +
		`<a:e xml:base="y/" a:k="v"><f xmlns=""><g/></f><a:h>t<!--c--></a:h></a:e><sig><x/></sig></r>`
	d := parse(t, doc)
	root := d.Root()
	e := root.FindElement("./a:e")
	h := e.FindElement("./a:h")
	f := e.FindElement("./f")
	g := f.FindElement("./g")
	sig := root.FindElement("./sig")

	tests := []struct {
		name string
		top  *etree.Element
		set  NodeSet
		m    Method
		want string
	}{
		{"inclusive subtree inherits namespaces and xml attributes", e, nil, Method{Kind: Inclusive10},
			`<a:e xmlns="urn:d" xmlns:a="urn:a" xmlns:u="urn:unused" xml:base="y/" xml:lang="pl" xml:space="preserve" a:k="v"><f xmlns=""><g></g></f><a:h>t</a:h></a:e>`},
		{"c14n 1.1 joins xml:base and inherits only lang and space", e, nil, Method{Kind: Inclusive11},
			`<a:e xmlns="urn:d" xmlns:a="urn:a" xmlns:u="urn:unused" xml:base="http://h/x/y/" xml:lang="pl" xml:space="preserve" a:k="v"><f xmlns=""><g></g></f><a:h>t</a:h></a:e>`},
		{"exclusive renders only visibly utilized namespaces", e, nil, Method{Kind: Exclusive},
			`<a:e xmlns:a="urn:a" xml:base="y/" a:k="v"><f><g></g></f><a:h>t</a:h></a:e>`},
		{"exclusive with comments", h, nil, Method{Kind: Exclusive, Comments: true},
			`<a:h xmlns:a="urn:a">t<!--c--></a:h>`},
		{"exclusive PrefixList renders listed prefixes inclusively", e, nil, Method{Kind: Exclusive, InclusivePrefixes: []string{"u", "#default", "absent"}},
			`<a:e xmlns="urn:d" xmlns:a="urn:a" xmlns:u="urn:unused" xml:base="y/" a:k="v"><f xmlns=""><g></g></f><a:h>t</a:h></a:e>`},
		{"enveloped shape", root, elementSet{sig}, Method{Kind: Inclusive10},
			`<r xmlns="urn:d" xmlns:a="urn:a" xmlns:u="urn:unused" xml:base="http://h/x/" xml:lang="pl" xml:space="preserve"><a:e xml:base="y/" a:k="v"><f xmlns=""><g></g></f><a:h>t</a:h></a:e></r>`},
		{"orphan elements render their own scope (inclusive)", root, onlySet{h: true, g: true}, Method{Kind: Inclusive10},
			`<g xmlns:a="urn:a" xmlns:u="urn:unused" xml:base="y/" xml:lang="pl" xml:space="preserve"></g>` +
				`<a:h xmlns="urn:d" xmlns:a="urn:a" xmlns:u="urn:unused" xml:base="y/" xml:lang="pl" xml:space="preserve">t</a:h>`},
		{"orphan elements render their own scope (exclusive)", root, onlySet{h: true, g: true}, Method{Kind: Exclusive},
			`<g></g><a:h xmlns:a="urn:a">t</a:h>`},
		{"default namespace undeclared under an output ancestor", root, onlySet{root: true, g: true}, Method{Kind: Exclusive},
			`<r xmlns="urn:d" xml:base="http://h/x/" xml:lang="pl" xml:space="preserve"><g xmlns=""></g></r>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := canonString(t, tc.top, tc.set, tc.m); got != tc.want {
				t.Errorf("\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestMethodURIRoundTrip(t *testing.T) {
	for _, u := range []string{C14N10, C14N10WithComments, C14N11, C14N11WithComments, ExcC14N, ExcC14NWithComment} {
		m, ok := ParseMethod(u)
		if !ok || m.URI() != u {
			t.Errorf("ParseMethod(%q) = %+v, %v; URI() = %q", u, m, ok, m.URI())
		}
	}
	if _, ok := ParseMethod("http://www.w3.org/2000/09/xmldsig#base64"); ok {
		t.Error("base64 accepted as a canonicalization method")
	}
}
