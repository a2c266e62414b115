package cades

import (
	"testing"

	"esig/internal/testpki"
	signer "esig/signer/cades"
	"esig/verifier/report"
)

func TestGoodSignature(t *testing.T) {
	e := newEnv(t)
	leaf := e.pki.Leaf(t, testpki.LeafOptions{})
	sig := e.sign(leaf, []byte("hello"), signer.Options{})
	rep := e.verify(sig, e.config(), nil)
	expect(t, rep, report.TotalPassed, "")
}
