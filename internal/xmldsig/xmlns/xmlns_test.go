package xmlns

import (
	"testing"

	"github.com/beevik/etree"
)

func TestLookup(t *testing.T) {
	d := etree.NewDocument()
	if err := d.ReadFromString(`<r xmlns="urn:d" xmlns:a="urn:a"><a:e a:k="1" k="2"><f xmlns="" xmlns:a="urn:a2"/></a:e></r>`); err != nil {
		t.Fatal(err)
	}
	r := d.Root()
	e := r.ChildElements()[0]
	f := e.ChildElements()[0]
	tests := []struct {
		name     string
		el       *etree.Element
		prefix   string
		want     string
		declared bool
	}{
		{"default at root", r, "", "urn:d", true},
		{"prefix at root", r, "a", "urn:a", true},
		{"inherited prefix", e, "a", "urn:a", true},
		{"redeclared prefix", f, "a", "urn:a2", true},
		{"undeclared default", f, "", "", true},
		{"xml is fixed", f, "xml", XML, true},
		{"unknown prefix", f, "zz", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Lookup(tc.el, tc.prefix)
			if got != tc.want || ok != tc.declared {
				t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tc.prefix, got, ok, tc.want, tc.declared)
			}
		})
	}
	if !Is(e, "urn:a", "e") || Is(e, "urn:d", "e") {
		t.Error("Is compares namespace names")
	}
	if AttrURI(e, &e.Attr[0]) != "urn:a" || AttrURI(e, &e.Attr[1]) != "" {
		t.Error("unprefixed attributes must be in no namespace")
	}
	if v, ok := Attr(e, "k"); !ok || v != "2" {
		t.Errorf("Attr(k) = %q, %v; the prefixed a:k must not match", v, ok)
	}
	scope := InScope(f)
	if scope[""] != "" || scope["a"] != "urn:a2" || len(scope) != 2 {
		t.Errorf("InScope = %v", scope)
	}
}
