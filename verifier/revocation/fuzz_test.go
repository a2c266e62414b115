package revocation

import (
	"crypto/x509"
	"math/big"
	"testing"
)

// FuzzParseOCSPResponse runs the OCSP reader over hostile input.
func FuzzParseOCSPResponse(f *testing.F) {
	f.Add([]byte{0x30, 0x03, 0x0a, 0x01, 0x00})
	cert := &x509.Certificate{SerialNumber: big.NewInt(1), RawSubject: []byte{0x30, 0}, RawSubjectPublicKeyInfo: []byte{0x30, 0}}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseOCSPResponse(b)
		if err != nil {
			return
		}
		for _, s := range r.Responses {
			s.matches(cert, cert)
		}
	})
}
