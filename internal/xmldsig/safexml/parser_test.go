package safexml

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

func TestRefused(t *testing.T) {
	tests := []struct {
		name string
		in   string
		lim  Limits
		want error // errors.Is target, or nil for any *SyntaxError
		sub  string
	}{
		{"DOCTYPE", `<!DOCTYPE r><r/>`, Limits{}, ErrDOCTYPE, ""},
		{"billion laughs", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>`, Limits{}, ErrDOCTYPE, ""},
		{"external entity", `<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///nonexistent/secret.txt">]><r>&xxe;</r>`, Limits{}, ErrDOCTYPE, ""},
		{"parameter entity", `<!DOCTYPE r [<!ENTITY % p SYSTEM "http://example.invalid/x.dtd"> %p;]><r/>`, Limits{}, ErrDOCTYPE, ""},
		{"DOCTYPE after a comment", `<!-- x --><!DOCTYPE r><r/>`, Limits{}, ErrDOCTYPE, ""},
		{"undeclared entity without DTD", `<r>&xxe;</r>`, Limits{}, nil, "undefined entity"},
		{"undeclared entity in attribute", `<r a="&lol;"/>`, Limits{}, nil, "undefined entity"},
		{"markup declaration in content", `<r><!ENTITY x "y"></r>`, Limits{}, nil, "markup declaration"},
		{"duplicate attribute", `<r a="1" a="2"/>`, Limits{}, nil, "repeated"},
		{"duplicate expanded attribute", `<r xmlns:p="urn:x" xmlns:q="urn:x" p:a="1" q:a="2"/>`, Limits{}, nil, "repeated"},
		{"undeclared element prefix", `<p:r/>`, Limits{}, nil, "undeclared prefix"},
		{"undeclared attribute prefix", `<r p:a="1"/>`, Limits{}, nil, "undeclared prefix"},
		{"prefix undeclared", `<r xmlns:p=""/>`, Limits{}, nil, "undeclares"},
		{"xml prefix rebound", `<r xmlns:xml="urn:x"/>`, Limits{}, nil, "binds the prefix xml"},
		{"mismatched end tag", `<r><a></b></r>`, Limits{}, nil, "does not match"},
		{"unclosed", `<r><a>`, Limits{}, nil, "not closed"},
		{"two roots", `<r/><s/>`, Limits{}, nil, "second root"},
		{"text after root", `<r/>x`, Limits{}, nil, "outside the root"},
		{"control character", "<r>\x01</r>", Limits{}, nil, "control character"},
		{"invalid UTF-8", "<r>\xff</r>", Limits{}, nil, "UTF-8"},
		{"bad character reference", `<r>&#0;</r>`, Limits{}, nil, "not an XML character"},
		{"lt in attribute", `<r a="<"/>`, Limits{}, nil, "'<'"},
		{"double hyphen in comment", `<r><!-- a -- b --></r>`, Limits{}, nil, "'--'"},
		{"reserved PI target", `<r><?xml version="1.0"?></r>`, Limits{}, nil, "reserved"},
		{"UTF-16", "\xff\xfe<\x00r\x00/\x00>\x00", Limits{}, nil, "UTF-16"},
		{"unknown encoding", `<?xml version="1.0" encoding="x-no-such"?><r/>`, Limits{}, nil, "unsupported encoding"},
		{"MaxBytes", `<r>` + strings.Repeat("x", 100) + `</r>`, Limits{MaxBytes: 64}, &LimitError{}, "MaxBytes"},
		{"MaxDepth", strings.Repeat("<a>", 11) + strings.Repeat("</a>", 11), Limits{MaxDepth: 10}, &LimitError{}, "MaxDepth"},
		{"MaxNodes", `<r>` + strings.Repeat("<a/>", 20) + `</r>`, Limits{MaxNodes: 10}, &LimitError{}, "MaxNodes"},
		{"MaxAttributes", `<r a="1" b="2" c="3"/>`, Limits{MaxAttributes: 2}, &LimitError{}, "MaxAttributes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in), tc.lim)
			if err == nil {
				t.Fatal("accepted")
			}
			switch want := tc.want.(type) {
			case nil:
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("error %T %v, want *SyntaxError", err, err)
				}
			case *LimitError:
				var le *LimitError
				if !errors.As(err, &le) {
					t.Fatalf("error %T %v, want *LimitError", err, err)
				}
			default:
				if !errors.Is(err, want) {
					t.Fatalf("error %v, want %v", err, want)
				}
			}
			if !strings.Contains(err.Error(), tc.sub) {
				t.Fatalf("error %q does not mention %q", err, tc.sub)
			}
		})
	}
}

// TestNestingBombBoundedMemory parses a 16 MiB nesting bomb and checks it
// is refused at MaxDepth with allocations that do not grow with its size.
func TestNestingBombBoundedMemory(t *testing.T) {
	bomb := bytes.Repeat([]byte("<a>"), 16<<20/3)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Parse(bomb, Limits{})
	runtime.ReadMemStats(&after)
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != "MaxDepth" {
		t.Fatalf("error %v, want MaxDepth", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Fatalf("refusing the bomb allocated %d bytes", alloc)
	}
}

func TestParsedValues(t *testing.T) {
	tests := []struct {
		name, in string
		check    func(t *testing.T, d *etree.Document)
	}{
		{"attribute value normalization (XML 1.0 section 3.3.3)", "<r a=\"x\ty\r\nz\n&#9;&#10;&#13;\"/>", func(t *testing.T, d *etree.Document) {
			if got := d.Root().SelectAttrValue("a", ""); got != "x y z \t\n\r" {
				t.Errorf("a = %q", got)
			}
		}},
		{"line ends in text", "<r>a\r\nb\rc&#13;</r>", func(t *testing.T, d *etree.Document) {
			if got := d.Root().Text(); got != "a\nb\nc\r" {
				t.Errorf("text = %q", got)
			}
		}},
		{"CDATA merged with text", "<r>a<![CDATA[<b>&]]>c</r>", func(t *testing.T, d *etree.Document) {
			if n := len(d.Root().Child); n != 1 {
				t.Errorf("%d children", n)
			}
			if got := d.Root().Text(); got != "a<b>&c" {
				t.Errorf("text = %q", got)
			}
		}},
		{"predefined entities and character references", `<r>&lt;&gt;&amp;&apos;&quot;&#x17C;&#380;</r>`, func(t *testing.T, d *etree.Document) {
			if got := d.Root().Text(); got != `<>&'"żż` {
				t.Errorf("text = %q", got)
			}
		}},
		{"ISO-8859-2 converted", "<?xml version=\"1.0\" encoding=\"ISO-8859-2\"?><r>\xbf\xf3\xb3w</r>", func(t *testing.T, d *etree.Document) {
			if got := d.Root().Text(); got != "żółw" {
				t.Errorf("text = %q", got)
			}
		}},
		{"windows-1250 converted", "<?xml version='1.0' encoding='windows-1250'?><r>\x9cl\xb9ski</r>", func(t *testing.T, d *etree.Document) {
			if got := d.Root().Text(); got != "śląski" {
				t.Errorf("text = %q", got)
			}
		}},
		{"leading xml-stylesheet PI is not a declaration", `<?xml-stylesheet href="a.xsl"?><r/>`, func(t *testing.T, d *etree.Document) {
			if pi, ok := d.Child[0].(*etree.ProcInst); !ok || pi.Target != "xml-stylesheet" {
				t.Errorf("first child %#v", d.Child[0])
			}
		}},
		{"prolog comments and PIs kept, declaration dropped", "\xef\xbb\xbf<?xml version=\"1.0\"?>\n<!--c-->\n<?p d?>\n<r/>\n<!--e-->", func(t *testing.T, d *etree.Document) {
			if n := len(d.Child); n != 4 {
				t.Errorf("%d document children, want comment, PI, root, comment", n)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse([]byte(tc.in), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, d)
		})
	}
}

func TestIndexIDs(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		dupErr    bool
		ambiguous string
	}{
		{"unique", `<r Id="a"><x ID="b"/><y id="c"/><z xml:id="d"/></r>`, false, ""},
		{"same value twice on one element", `<r Id="a" id="a"/>`, false, ""},
		{"Id duplicated", `<r><x Id="a"/><y Id="a"/></r>`, true, ""},
		{"Id and ID", `<r><x Id="a"/><y ID="a"/></r>`, true, ""},
		{"lowercase id then Id", `<r><x id="a"/><y Id="a"/></r>`, true, ""},
		{"Id then lowercase id", `<r><x Id="a"/><y id="a"/></r>`, true, ""},
		{"xml:id and id", `<r><x xml:id="a"/><y id="a"/></r>`, true, ""},
		{"lowercase ids only: ambiguous", `<r><x id="a"/><y id="a"/><z Id="b"/></r>`, false, "a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse([]byte(tc.in), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			x, err := IndexIDs(&d.Element)
			var de *DuplicateIDError
			if tc.dupErr {
				if !errors.As(err, &de) {
					t.Fatalf("IndexIDs = %v, want *DuplicateIDError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.ambiguous != "" {
				if _, err := x.Lookup(tc.ambiguous); !errors.As(err, &de) {
					t.Fatalf("Lookup(%q) = %v, want ambiguity", tc.ambiguous, err)
				}
			}
			if e, err := x.Lookup("no-such"); e != nil || err != nil {
				t.Fatalf("Lookup of an unknown id = %v, %v", e, err)
			}
		})
	}
}
