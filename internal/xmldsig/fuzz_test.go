package xmldsig

import (
	"crypto"
	"testing"
)

// FuzzVerify feeds arbitrary bytes through the whole verification path:
// parse, find signatures, dereference and digest references, check the
// SignatureValue with a fixed key and walk the covered content. Nothing may
// panic, and every failure must be an *Error of a known Kind.
func FuzzVerify(f *testing.F) {
	f.Add([]byte(`<r/>`))
	f.Add([]byte(sampleDoc))
	pubs := []crypto.PublicKey{newTestKey(f, "ec256").cert.PublicKey, newTestKey(f, "rsa2048").cert.PublicKey}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(data, Limits{MaxBytes: 1 << 20, MaxNodes: 1 << 14})
		if err != nil {
			mustBeKnown(t, err)
			return
		}
		sigs, err := doc.Verify(VerifyOptions{Detached: DetachedContent{"doc.txt": []byte("x")}})
		if err != nil {
			mustBeKnown(t, err)
			return
		}
		for _, s := range sigs {
			for _, pub := range pubs {
				if err := s.VerifyValue(pub); err != nil {
					mustBeKnown(t, err)
				}
			}
			if err := s.Problem(); err != nil {
				mustBeKnown(t, err)
			}
			for _, r := range s.References {
				if r.Status() == Valid && r.Content == nil {
					t.Fatal("valid reference without content")
				}
				if r.Content != nil {
					r.Content.Element()
					r.Content.Contains(doc.Root())
				}
			}
		}
	})
}

func mustBeKnown(t *testing.T, err error) {
	t.Helper()
	e, ok := err.(*Error)
	if !ok || e.Kind < FormatFailure || e.Kind > SignedDataNotFound {
		t.Fatalf("error %T %v is not an *Error of a known Kind", err, err)
	}
}
