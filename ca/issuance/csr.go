package issuance

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"sync"
)

// maxCSRSize bounds a CSR before any parsing: the largest sound request
// (RSA-4096 with a few attributes) is well under 8 KiB.
const maxCSRSize = 16 << 10

// ParseCSR reads a PKCS#10 request in PEM or DER, checks its self-signature
// (proof that the requester holds the private key) and the key policy, and
// returns the public key to certify. The request's subject and extensions
// are ignored: the registration side decides what the certificate says.
func ParseCSR(data []byte) (crypto.PublicKey, error) {
	if len(data) == 0 {
		return nil, fieldErr("csr", "is empty")
	}
	if len(data) > maxCSRSize {
		return nil, fieldErr("csr", "is larger than %d bytes", maxCSRSize)
	}
	der := data
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "CERTIFICATE REQUEST" && block.Type != "NEW CERTIFICATE REQUEST" {
			return nil, fieldErr("csr", "PEM block is %q, want CERTIFICATE REQUEST", block.Type)
		}
		der = block.Bytes
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fieldErr("csr", "is not a PKCS#10 request: %v", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fieldErr("csr", "self-signature does not verify (no proof of possession of the key): %v", err)
	}
	if err := CheckKey(csr.PublicKey); err != nil {
		return nil, &FieldError{Field: "csr", Reason: err.Error()}
	}
	return csr.PublicKey, nil
}

// CheckKey applies the key policy to a subject key: ECDSA on P-256 or P-384
// with a private scalar that is not trivially small, RSA of 2048 to 4096
// bits with a sound public exponent and no small factor.
func CheckKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384():
		default:
			return fmt.Errorf("weak or unsupported key: ECDSA curve %s (accepted: P-256, P-384)", k.Curve.Params().Name)
		}
		if d, negated, ok := smallECDSAKey(k); ok {
			which := ""
			if negated {
				which = "the negation of "
			}
			return fmt.Errorf("weak key: the ECDSA private key is %s%d, which anyone can compute from the public key", which, d)
		}
		return nil
	case *rsa.PublicKey:
		bits := k.N.BitLen()
		if bits < 2048 {
			return fmt.Errorf("weak key: RSA %d bits (at least 2048 required)", bits)
		}
		if bits > 4096 {
			return fmt.Errorf("unsupported key: RSA %d bits (at most 4096)", bits)
		}
		if bits%8 != 0 {
			return fmt.Errorf("weak key: RSA modulus of %d bits is not a whole number of bytes", bits)
		}
		if k.E < 65537 || k.E%2 == 0 {
			return fmt.Errorf("weak key: RSA public exponent %d (odd, at least 65537 required)", k.E)
		}
		if p := smallFactor(k.N); p != 0 {
			return fmt.Errorf("weak key: RSA modulus is divisible by %d", p)
		}
		return nil
	default:
		return fmt.Errorf("unsupported key type %T (accepted: ECDSA P-256/P-384, RSA 2048-4096)", pub)
	}
}

// smallPrimesProduct is the product of the primes below 752, so one GCD
// finds any small factor of a modulus (a broken key generator's mark).
var smallPrimesProduct = sync.OnceValue(func() *big.Int {
	p := big.NewInt(1)
	for n := int64(2); n < 752; n++ {
		if big.NewInt(n).ProbablyPrime(0) {
			p.Mul(p, big.NewInt(n))
		}
	}
	return p
})

func smallFactor(n *big.Int) int64 {
	g := new(big.Int).GCD(nil, nil, n, smallPrimesProduct())
	if g.Cmp(big.NewInt(1)) == 0 {
		return 0
	}
	for p := int64(2); p < 752; p++ {
		if new(big.Int).Mod(n, big.NewInt(p)).Sign() == 0 {
			return p
		}
	}
	return g.Int64()
}
