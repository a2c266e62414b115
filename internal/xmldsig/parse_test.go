package xmldsig

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"esig/internal/xmldsig/safexml"
)

// TestParseRefusals checks that every document-level defence surfaces as a
// FORMAT_FAILURE *Error with its cause kept for the report.
func TestParseRefusals(t *testing.T) {
	tests := []struct {
		name  string
		in    []byte
		lim   Limits
		cause error
		msg   string
	}{
		{"DOCTYPE", []byte(`<!DOCTYPE r><r/>`), Limits{}, safexml.ErrDOCTYPE, "DOCTYPE"},
		{"billion laughs", []byte(`<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><l>&c;</l>`), Limits{}, safexml.ErrDOCTYPE, "DOCTYPE"},
		{"external entity", []byte(`<!DOCTYPE r [<!ENTITY x SYSTEM "file:///nonexistent/secret.txt">]><r>&x;</r>`), Limits{}, safexml.ErrDOCTYPE, "DOCTYPE"},
		{"entity without DTD", []byte(`<r>&x;</r>`), Limits{}, nil, "undefined entity"},
		{"nesting bomb", bytes.Repeat([]byte("<a>"), 1<<20), Limits{}, nil, "MaxDepth"},
		{"size", []byte(`<r>` + strings.Repeat("x", 2000) + `</r>`), Limits{MaxBytes: 1000}, nil, "MaxBytes"},
		{"duplicate Id", []byte(`<r><a Id="x"/><b Id="x"/></r>`), Limits{}, nil, `identifier "x" defined twice`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.in, tc.lim)
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("Parse = %v, want a format failure", err)
			}
			if tc.cause != nil && !errors.Is(err, tc.cause) {
				t.Errorf("cause of %v is not %v", err, tc.cause)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not mention %q", err, tc.msg)
			}
		})
	}
}

func TestCorpusTSLEnveloped(t *testing.T) {
	doc, sigs := verifyAll(t, corpusFile(t, "tsl/PL-TSL-seq110.xml"), VerifyOptions{})
	s := sigs[0]
	if s.Element().Parent() != doc.Root() {
		t.Fatal("the trusted list signature is not a child of the root")
	}
	r := s.References[0]
	if r.URI != "" || len(r.Transforms) == 0 || r.Transforms[0].Algorithm != TransformEnveloped {
		t.Fatalf("first reference is not enveloped: URI=%q transforms=%v", r.URI, r.Transforms)
	}
	if r.Status() != Valid || !r.Content.Contains(doc.Root()) || r.Content.Contains(s.Element()) {
		t.Fatalf("enveloped content: %s %v", r.Status(), r.Err)
	}
	if err := valueVerifiesWithKeyInfo(s); err != nil {
		t.Fatal(err)
	}
}
