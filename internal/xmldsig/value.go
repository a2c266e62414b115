package xmldsig

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"fmt"
	"math/big"
)

// VerifyValue checks SignatureValue over the canonical SignedInfo with pub
// (XMLDSig 1.1 section 3.2.2). The caller chooses pub: XAdES binds it to the
// SigningCertificate, a trusted list to its operator's certificate; nothing
// in KeyInfo is trusted here. It returns a SigCryptoFailure *Error when the
// value does not verify or the key does not fit the algorithm, and the
// structural error (Signature.Err) if there is one. Reference digests are
// not part of this check: see Problem.
func (s *Signature) VerifyValue(pub crypto.PublicKey) error {
	if s.Err != nil {
		return s.Err
	}
	w := Where(s.el) + "/ds:SignatureValue"
	alg := s.SignatureMethod
	if alg.Key == 0 || !alg.Hash.Available() {
		return unsupportedErr(w, "signature method %q is not supported", alg.URI)
	}
	h := alg.Hash.New()
	h.Write(s.SignedInfo)
	digest := h.Sum(nil)
	fail := func(format string, args ...any) error {
		return &Error{Kind: SigCryptoFailure, Where: w, Msg: fmt.Sprintf(format, args...)}
	}
	switch alg.Key {
	case KeyRSA, KeyRSAPSS:
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return fail("signature method %s needs an RSA key, got %T", alg.URI, pub)
		}
		var err error
		if alg.Key == KeyRSA {
			err = rsa.VerifyPKCS1v15(k, alg.Hash, digest, s.SignatureValue)
		} else {
			err = rsa.VerifyPSS(k, alg.Hash, digest, s.SignatureValue, &rsa.PSSOptions{SaltLength: alg.SaltLen, Hash: alg.Hash})
		}
		if err != nil {
			return fail("RSA signature does not verify")
		}
		return nil
	case KeyECDSA:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return fail("signature method %s needs an ECDSA key, got %T", alg.URI, pub)
		}
		n := (k.Curve.Params().BitSize + 7) / 8
		sv := s.SignatureValue
		if len(sv) != 2*n {
			// XMLDSig 1.1 section 6.4.3: the value is r||s, each exactly
			// as long as the curve order; DER (what goxmldsig writes) is
			// not allowed.
			if len(sv) > 6 && sv[0] == 0x30 {
				return fail("ECDSA SignatureValue is DER-encoded; XMLDSig requires r||s of %d bytes", 2*n)
			}
			return fail("ECDSA SignatureValue has %d bytes, want %d (r||s)", len(sv), 2*n)
		}
		r := new(big.Int).SetBytes(sv[:n])
		sVal := new(big.Int).SetBytes(sv[n:])
		if !ecdsa.Verify(k, digest, r, sVal) {
			return fail("ECDSA signature does not verify")
		}
		return nil
	}
	return unsupportedErr(w, "signature method %q is not supported", alg.URI)
}
