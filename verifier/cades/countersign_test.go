package cades

import (
	"testing"

	"esig/internal/testpki"
	signer "esig/signer/cades"
	"esig/verifier/report"
)

// TestCounterSignatures checks that countersignatures are found, judged
// on their own and reported under their signer.
func TestCounterSignatures(t *testing.T) {
	e := newEnv(t)
	author := e.pki.Leaf(t, testpki.LeafOptions{Name: "Autor"})
	notary := e.pki.Leaf(t, testpki.LeafOptions{Name: "Notariusz", Key: testpki.ECDSAP256})
	sig := e.sign(author, content, signer.Options{})
	counter, err := signer.CounterSign(sig, 0, signer.Options{Signer: notary.Key, Certificate: notary.Cert})
	if err != nil {
		t.Fatal(err)
	}
	rep := e.verify(counter, e.config(), nil)
	expect(t, rep, report.TotalPassed, "")
	cs := rep.Signatures[0].CounterSignatures
	if len(cs) != 1 || cs[0].Indication != report.TotalPassed || cs[0].Signer == nil || cs[0].ID != "S1-C1" {
		t.Fatalf("countersignatures: %+v", cs)
	}
	if cs[0].Signer.Subject != notary.Cert.Subject.String() {
		t.Errorf("countersigner %s", cs[0].Signer.Subject)
	}

	// Changing the countersigned signature value breaks both.
	rep = e.verify(flipSignatureByte(t, counter), e.config(), nil)
	expect(t, rep, report.TotalFailed, report.SigCryptoFailure)
	cs = rep.Signatures[0].CounterSignatures
	if len(cs) != 1 || cs[0].SubIndication != report.HashFailure {
		t.Fatalf("countersignature after tampering: %+v", cs)
	}
}
