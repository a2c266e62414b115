package xpath

import "testing"

// FuzzXPath parses and evaluates arbitrary expressions against a fixed
// document: anything outside the subset must be an *UnsupportedError, and
// nothing may panic.
func FuzzXPath(f *testing.F) {
	for _, s := range []string{"/", "id('x')/node()", "//ds:Signature", "here()/ancestor::ds:Signature[1]", "/descendant::*[name()='ds:Signature']"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		ctx, _ := setup(t)
		e, err := Parse(expr)
		if err != nil {
			if _, ok := err.(*UnsupportedError); !ok {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		e.Eval(ctx)
	})
}
