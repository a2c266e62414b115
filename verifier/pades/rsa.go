package pades

import (
	"crypto"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/asn1"
	"math/big"

	"esig/internal/cms"
)

// verifySignerInfo checks a SignerInfo's signature value like
// cms.SignerInfo.VerifySignature, and also accepts an RSASSA-PKCS1-v1_5
// signature whose DigestInfo leaves out the NULL parameters of the digest
// algorithm. RFC 8017 (Appendix B.1, note on the SHA-2 family) says
// verifiers must accept both forms; crypto/rsa accepts only the one with
// NULL. The trusted-profile seal of the Polish gov.pl signing service
// produces the other form (seen in its PAdES seals of 2021, 2022 and 2024:
// the recovered DigestInfo is 30 2f 30 0b 06 09 ... 04 20 ..., no 05 00), so
// without this every genuine trusted-profile PDF would fail as
// SIG_CRYPTO_FAILURE. The second bool reports that the second form was
// needed.
//
// The same acceptance belongs in internal/cms (XAdES seals from the same
// service would need it too); it is here while that package is another
// team's.
func verifySignerInfo(si *cms.SignerInfo, pub crypto.PublicKey, digest []byte) (cms.SignatureAlgorithm, bool, error) {
	alg, err := si.VerifySignature(pub, digest)
	if err == nil {
		return alg, false, nil
	}
	k, ok := pub.(*rsa.PublicKey)
	if !ok || alg.Key != cms.KeyRSA || alg.PSS != nil || si.SignedAttrs == nil || !alg.Hash.Available() {
		return alg, false, err
	}
	for _, msg := range [][]byte{si.SignedAttrsSigned, si.SignedAttrsDER} {
		if msg == nil {
			continue
		}
		h := alg.Hash.New()
		h.Write(msg)
		if pkcs1v15WithoutNull(k, alg.Hash, h.Sum(nil), si.Signature) {
			return alg, true, nil
		}
	}
	return alg, false, err
}

// pkcs1v15WithoutNull verifies an RSASSA-PKCS1-v1_5 signature (RFC 8017,
// 8.2.2) whose DigestInfo AlgorithmIdentifier has no parameters. Only the
// public operation runs, on public data.
func pkcs1v15WithoutNull(k *rsa.PublicKey, h crypto.Hash, digest, sig []byte) bool {
	oid := cms.OIDForHash(h)
	if oid == nil || len(digest) != h.Size() || k.N == nil || k.E < 3 {
		return false
	}
	size := (k.N.BitLen() + 7) / 8
	if len(sig) != size {
		return false
	}
	s := new(big.Int).SetBytes(sig)
	if s.Cmp(k.N) >= 0 {
		return false
	}
	em := new(big.Int).Exp(s, big.NewInt(int64(k.E)), k.N).FillBytes(make([]byte, size))
	o, _ := asn1.Marshal(oid)
	t := cms.Sequence(cms.Sequence(o), cms.Encode(cms.ClassUniversal, cms.TagOctetString, false, digest))
	if size < len(t)+11 {
		return false
	}
	want := make([]byte, size)
	want[1] = 1
	for i := 2; i < size-len(t)-1; i++ {
		want[i] = 0xff
	}
	copy(want[size-len(t):], t)
	return subtle.ConstantTimeCompare(em, want) == 1
}
