package tsl

import (
	"bytes"
	"crypto/x509"
	"testing"
	"time"

	"esig/verifier/tsl/tsltest"
)

func TestSyntheticListValidatesAgainstSchema(t *testing.T) {
	p := newPKI(t)
	lists := map[string][]byte{
		"national": p.SignedList(t, tsltest.ListOptions{Services: tsltest.DefaultServices(p, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)),
			Pointers: []tsltest.Pointer{{Location: "https://lotl.example.invalid/lotl.xml", Territory: "EU", Type: tsltest.TSLTypeLOTL, Certs: []*x509.Certificate{p.LOTLOperator.Cert}, Operator: "Test Commission"}}}),
		"lotl": p.SignedLOTL(t, tsltest.LOTLOptions{Pointers: []tsltest.Pointer{{Location: "https://tl.example.invalid/ZZ.xml", Territory: "ZZ", Type: tsltest.TSLTypeGeneric, Certs: []*x509.Certificate{p.Operator.Cert}, Operator: "Test Supervisory Body"}}}),
	}
	for name, data := range lists {
		t.Run(name, func(t *testing.T) {
			if err := validateSchema(t, data); err != nil {
				t.Fatal(err)
			}
		})
	}
	// The wrapper schema must reach into the extensions: a KeyUsageBit
	// name outside the enumeration of the Qualifications schema fails.
	t.Run("extension checked", func(t *testing.T) {
		bad := bytes.Replace(lists["national"], []byte(`name="nonRepudiation"`), []byte(`name="nonrepudiation"`), 1)
		if bytes.Equal(bad, lists["national"]) {
			t.Fatal("the synthetic list has no KeyUsageBit to alter")
		}
		if err := validateSchema(t, bad); err == nil {
			t.Fatal("xmllint accepted a KeyUsageBit name outside the schema's enumeration")
		}
	})
}
