package xpath

import (
	"errors"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"esig/internal/xmldsig/safexml"
)

const doc = `<r xmlns="urn:d" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">` +
	`<a Id="x"><b k="v">t1</b><!--c--><b>t2</b></a>` +
	`<ds:Signature><ds:SignedInfo><here xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:d="urn:d"/></ds:SignedInfo></ds:Signature>` +
	`<ds:Signature/></r>`

func setup(t *testing.T) (Context, *etree.Document) {
	t.Helper()
	d, err := safexml.Parse([]byte(doc), safexml.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := safexml.IndexIDs(&d.Element)
	if err != nil {
		t.Fatal(err)
	}
	here := d.FindElement("//here")
	return Context{Document: &d.Element, Here: here, ID: ids.Lookup}, d
}

func describe(ts []etree.Token) string {
	var parts []string
	for _, t := range ts {
		switch n := t.(type) {
		case *etree.Element:
			if n.Tag == "" {
				parts = append(parts, "/")
			} else {
				parts = append(parts, n.FullTag())
			}
		case *etree.CharData:
			parts = append(parts, "text:"+n.Data)
		case *etree.Comment:
			parts = append(parts, "comment")
		}
	}
	return strings.Join(parts, ",")
}

func TestEval(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"/", "/"},
		{"id('x')", "a"},
		{`id("x")/node()`, "b,comment,b"},
		{"id('x')/d:b", "b,b"},
		{"id('x')/b", ""}, // unprefixed names are in no namespace (XPath 1.0)
		{"id('x')/d:b[2]/text()", "text:t2"},
		{"id('x')/d:b[@k]", "b"},
		{"id('x')/d:b[@k='w']", ""},
		{"id('x')/*[last()]", "b"},
		{"//ds:Signature", "ds:Signature,ds:Signature"},
		{"/descendant::*[name()='ds:Signature']", "ds:Signature,ds:Signature"},
		{"/descendant::*[local-name()='Signature'][namespace-uri()='http://www.w3.org/2000/09/xmldsig#']", "ds:Signature,ds:Signature"},
		{"here()/ancestor::ds:Signature[1]", "ds:Signature"},
		{"here()/ancestor-or-self::*[1]", "here"},
		{"here()/../..", "ds:Signature"},
		{"id('x') | //ds:Signature", "a,ds:Signature,ds:Signature"},
		{"id('nope')", ""},
		{"d:r/d:a", "a"},
		{"/d:r/ds:*", "ds:Signature,ds:Signature"},
	}
	ctx, _ := setup(t)
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			e, err := Parse(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.Eval(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if d := describe(got); d != tc.want {
				t.Errorf("got %q, want %q", d, tc.want)
			}
		})
	}
}

func TestUnsupported(t *testing.T) {
	for _, expr := range []string{
		"count(//a) > 1",
		"//a[position() > 1]",
		"//@Id",
		"following-sibling::a",
		"//a[contains(., 'x')]",
		"document('http://example.invalid/')",
		"'unterminated",
		"//a[",
		"",
	} {
		t.Run(expr, func(t *testing.T) {
			_, err := Parse(expr)
			var ue *UnsupportedError
			if !errors.As(err, &ue) {
				t.Fatalf("Parse(%q) = %v, want *UnsupportedError", expr, err)
			}
		})
	}
	ctx, _ := setup(t)
	e, err := Parse("//undeclared:x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Eval(ctx); err == nil {
		t.Fatal("undeclared prefix accepted at evaluation")
	}
}

func TestParseExclusion(t *testing.T) {
	_, d := setup(t)
	here := d.FindElement("//here")
	tests := []struct {
		expr string
		ok   bool
	}{
		{"not(ancestor-or-self::ds:Signature)", true},
		{"  not( ancestor-or-self :: ds:Signature )\n", true},
		{"not(ancestor-or-self::d:Signature)", true},
		{"not(ancestor-or-self::zz:Signature)", false}, // undeclared prefix
		{"ancestor-or-self::ds:Signature", false},
		{"not(ancestor::ds:Signature)", false},
		{"count(ancestor-or-self::ds:Signature | here()/ancestor::ds:Signature[1]) > count(ancestor-or-self::ds:Signature)", false},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			x, err := ParseExclusion(tc.expr, here)
			if (err == nil) != tc.ok {
				t.Fatalf("ParseExclusion = %+v, %v; want ok=%v", x, err, tc.ok)
			}
			if tc.ok && x.Local != "Signature" {
				t.Fatalf("parsed %+v", x)
			}
		})
	}
	x, _ := ParseExclusion("not(ancestor-or-self::ds:Signature)", here)
	sigs := d.FindElements("//ds:Signature")
	if !x.Excludes(sigs[0]) || x.Excludes(d.Root()) {
		t.Fatal("Excludes does not match by namespace and name")
	}
}
