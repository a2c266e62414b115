package cms

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"

	// Register the hash functions signatures may name.
	_ "crypto/sha1"
	_ "crypto/sha256"
	_ "crypto/sha3"
	_ "crypto/sha512"
)

// AlgorithmIdentifier is an X.509 AlgorithmIdentifier with its encoding kept.
type AlgorithmIdentifier struct {
	Algorithm asn1.ObjectIdentifier
	// Parameters is the encoding of the parameters, nil when absent.
	Parameters []byte
	// Raw is the encoding of the whole AlgorithmIdentifier.
	Raw []byte
}

// ParseAlgorithmIdentifier reads an AlgorithmIdentifier element.
func ParseAlgorithmIdentifier(e Element) (AlgorithmIdentifier, error) {
	if !e.IsUniversal(TagSequence) {
		return AlgorithmIdentifier{}, fmt.Errorf("cms: AlgorithmIdentifier is %s, want SEQUENCE", e)
	}
	kids, err := e.Children()
	if err != nil {
		return AlgorithmIdentifier{}, fmt.Errorf("cms: AlgorithmIdentifier: %w", err)
	}
	if len(kids) < 1 || len(kids) > 2 {
		return AlgorithmIdentifier{}, fmt.Errorf("cms: AlgorithmIdentifier has %d fields", len(kids))
	}
	oid, err := ParseOID(kids[0])
	if err != nil {
		return AlgorithmIdentifier{}, fmt.Errorf("cms: AlgorithmIdentifier.algorithm: %w", err)
	}
	a := AlgorithmIdentifier{Algorithm: oid, Raw: e.Raw}
	if len(kids) == 2 {
		a.Parameters = kids[1].Raw
	}
	return a, nil
}

// NewAlgorithmIdentifier encodes an AlgorithmIdentifier. Digest algorithms
// get no parameters (RFC 5754 says absent is preferred).
func NewAlgorithmIdentifier(oid asn1.ObjectIdentifier, params []byte) AlgorithmIdentifier {
	o, _ := asn1.Marshal(oid)
	raw := Sequence(o, params)
	return AlgorithmIdentifier{Algorithm: oid, Parameters: params, Raw: raw}
}

var (
	oidMD5      = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}
	oidSHA1     = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA224   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	oidSHA256   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidSHA3_256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 8}
	oidSHA3_384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 9}
	oidSHA3_512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 10}

	oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidMD5WithRSA    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 4}
	oidSHA1WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
	oidRSAPSS        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidSHA256WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidSHA224WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 14}
	oidMGF1          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}

	oidECPublicKey     = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidECDSAWithSHA1   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}
	oidECDSAWithSHA224 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 1}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidEd25519         = asn1.ObjectIdentifier{1, 3, 101, 112}
)

var hashOIDs = []struct {
	oid asn1.ObjectIdentifier
	h   crypto.Hash
}{
	{oidSHA256, crypto.SHA256}, {oidSHA384, crypto.SHA384}, {oidSHA512, crypto.SHA512},
	{oidSHA1, crypto.SHA1}, {oidSHA224, crypto.SHA224}, {oidMD5, crypto.MD5},
	{oidSHA3_256, crypto.SHA3_256}, {oidSHA3_384, crypto.SHA3_384}, {oidSHA3_512, crypto.SHA3_512},
}

// HashForOID maps a digest algorithm OID to its hash, 0 when unknown.
func HashForOID(oid asn1.ObjectIdentifier) crypto.Hash {
	for _, e := range hashOIDs {
		if e.oid.Equal(oid) {
			return e.h
		}
	}
	return 0
}

// OIDForHash maps a hash to its digest algorithm OID, nil when unknown.
func OIDForHash(h crypto.Hash) asn1.ObjectIdentifier {
	for _, e := range hashOIDs {
		if e.h == h {
			return e.oid
		}
	}
	return nil
}

// DigestAlgorithm returns the AlgorithmIdentifier of a hash, with absent
// parameters as RFC 5754 prefers.
func DigestAlgorithm(h crypto.Hash) (AlgorithmIdentifier, error) {
	oid := OIDForHash(h)
	if oid == nil {
		return AlgorithmIdentifier{}, fmt.Errorf("cms: no OID for hash %v", h)
	}
	return NewAlgorithmIdentifier(oid, nil), nil
}

// HashName is the name of a hash in reports ("SHA-256").
func HashName(h crypto.Hash) string {
	if h == 0 {
		return "unknown"
	}
	return h.String()
}

// KeyType is the public-key family of a signature algorithm.
type KeyType string

// Key types.
const (
	KeyRSA     KeyType = "RSA"
	KeyECDSA   KeyType = "ECDSA"
	KeyEd25519 KeyType = "Ed25519"
)

// SignatureAlgorithm is a parsed signature algorithm: the key family, the
// hash the signature is computed with, and for RSA-PSS its parameters.
type SignatureAlgorithm struct {
	Key  KeyType
	Hash crypto.Hash // 0 for Ed25519 (pure)
	PSS  *rsa.PSSOptions
}

// String names the algorithm in reports, such as "RSA-PSS with SHA-256".
func (a SignatureAlgorithm) String() string {
	name := string(a.Key)
	if a.PSS != nil {
		name = "RSA-PSS"
	}
	if a.Hash != 0 {
		name += " with " + a.Hash.String()
	}
	return name
}

// ParseSignatureAlgorithm interprets a SignerInfo's signatureAlgorithm.
// CMS lets a signer name only the key type (rsaEncryption, id-ecPublicKey)
// and leave the hash to digestAlgorithm, so that hash is passed in.
func ParseSignatureAlgorithm(sig AlgorithmIdentifier, digest crypto.Hash) (SignatureAlgorithm, error) {
	o := sig.Algorithm
	switch {
	case o.Equal(oidRSAEncryption):
		return SignatureAlgorithm{Key: KeyRSA, Hash: digest}, nil
	case o.Equal(oidSHA1WithRSA):
		return SignatureAlgorithm{Key: KeyRSA, Hash: crypto.SHA1}, nil
	case o.Equal(oidMD5WithRSA):
		return SignatureAlgorithm{Key: KeyRSA, Hash: crypto.MD5}, nil
	case o.Equal(oidSHA224WithRSA):
		return SignatureAlgorithm{Key: KeyRSA, Hash: crypto.SHA224}, nil
	case o.Equal(oidSHA256WithRSA):
		return SignatureAlgorithm{Key: KeyRSA, Hash: crypto.SHA256}, nil
	case o.Equal(oidSHA384WithRSA):
		return SignatureAlgorithm{Key: KeyRSA, Hash: crypto.SHA384}, nil
	case o.Equal(oidSHA512WithRSA):
		return SignatureAlgorithm{Key: KeyRSA, Hash: crypto.SHA512}, nil
	case o.Equal(oidRSAPSS):
		h, opts, err := parsePSSParams(sig.Parameters)
		if err != nil {
			return SignatureAlgorithm{}, err
		}
		return SignatureAlgorithm{Key: KeyRSA, Hash: h, PSS: opts}, nil
	case o.Equal(oidECPublicKey):
		return SignatureAlgorithm{Key: KeyECDSA, Hash: digest}, nil
	case o.Equal(oidECDSAWithSHA1):
		return SignatureAlgorithm{Key: KeyECDSA, Hash: crypto.SHA1}, nil
	case o.Equal(oidECDSAWithSHA224):
		return SignatureAlgorithm{Key: KeyECDSA, Hash: crypto.SHA224}, nil
	case o.Equal(oidECDSAWithSHA256):
		return SignatureAlgorithm{Key: KeyECDSA, Hash: crypto.SHA256}, nil
	case o.Equal(oidECDSAWithSHA384):
		return SignatureAlgorithm{Key: KeyECDSA, Hash: crypto.SHA384}, nil
	case o.Equal(oidECDSAWithSHA512):
		return SignatureAlgorithm{Key: KeyECDSA, Hash: crypto.SHA512}, nil
	case o.Equal(oidEd25519):
		return SignatureAlgorithm{Key: KeyEd25519}, nil
	}
	return SignatureAlgorithm{}, fmt.Errorf("cms: unsupported signature algorithm %v", o)
}

// pssParams is RSASSA-PSS-params of RFC 4055.
type pssParams struct {
	Hash         asn1.RawValue `asn1:"optional,explicit,tag:0"`
	MGF          asn1.RawValue `asn1:"optional,explicit,tag:1"`
	SaltLength   int           `asn1:"optional,explicit,tag:2,default:20"`
	TrailerField int           `asn1:"optional,explicit,tag:3,default:1"`
}

type rawAlg struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

func parsePSSParams(der []byte) (crypto.Hash, *rsa.PSSOptions, error) {
	p := pssParams{SaltLength: 20, TrailerField: 1}
	if len(der) > 0 {
		rest, err := asn1.Unmarshal(der, &p)
		if err != nil || len(rest) > 0 {
			return 0, nil, errors.New("cms: malformed RSASSA-PSS parameters")
		}
	}
	h := crypto.SHA1
	if len(p.Hash.FullBytes) > 0 {
		var a rawAlg
		if _, err := asn1.Unmarshal(p.Hash.Bytes, &a); err != nil {
			return 0, nil, errors.New("cms: malformed RSASSA-PSS hashAlgorithm")
		}
		if h = HashForOID(a.Algorithm); h == 0 {
			return 0, nil, fmt.Errorf("cms: RSASSA-PSS with unknown hash %v", a.Algorithm)
		}
	}
	mgfHash := crypto.SHA1
	if len(p.MGF.FullBytes) > 0 {
		var m rawAlg
		if _, err := asn1.Unmarshal(p.MGF.Bytes, &m); err != nil || !m.Algorithm.Equal(oidMGF1) {
			return 0, nil, errors.New("cms: RSASSA-PSS maskGenAlgorithm is not MGF1")
		}
		var mh rawAlg
		if _, err := asn1.Unmarshal(m.Parameters.FullBytes, &mh); err != nil {
			return 0, nil, errors.New("cms: malformed MGF1 hash")
		}
		mgfHash = HashForOID(mh.Algorithm)
	}
	if mgfHash != h {
		// crypto/rsa uses the signature hash for MGF1 as well.
		return 0, nil, errors.New("cms: RSASSA-PSS with an MGF1 hash other than the signature hash")
	}
	if p.TrailerField != 1 {
		return 0, nil, errors.New("cms: RSASSA-PSS trailerField is not 1")
	}
	if p.SaltLength < 0 || p.SaltLength > 1024 {
		return 0, nil, errors.New("cms: RSASSA-PSS saltLength out of range")
	}
	return h, &rsa.PSSOptions{SaltLength: p.SaltLength, Hash: h}, nil
}

// PSSParameters encodes RSASSA-PSS-params for a hash with MGF1 over the
// same hash and a salt as long as the digest, the choice RFC 4055 and
// ETSI TS 119 312 recommend.
func PSSParameters(h crypto.Hash) ([]byte, error) {
	oid := OIDForHash(h)
	if oid == nil {
		return nil, fmt.Errorf("cms: no OID for hash %v", h)
	}
	hashAlg := NewAlgorithmIdentifier(oid, nil).Raw
	mgfOID, _ := asn1.Marshal(oidMGF1)
	mgf := Sequence(mgfOID, hashAlg)
	salt, _ := asn1.Marshal(h.Size())
	return Sequence(Explicit(0, hashAlg), Explicit(1, mgf), Explicit(2, salt)), nil
}

// SignatureAlgorithmFor returns the SignerInfo signatureAlgorithm for a
// public key and hash: sha*WithRSAEncryption, RSASSA-PSS, ecdsa-with-SHA*
// or Ed25519.
func SignatureAlgorithmFor(pub crypto.PublicKey, h crypto.Hash, pss bool) (AlgorithmIdentifier, error) {
	switch pub.(type) {
	case *rsa.PublicKey:
		if pss {
			p, err := PSSParameters(h)
			if err != nil {
				return AlgorithmIdentifier{}, err
			}
			return NewAlgorithmIdentifier(oidRSAPSS, p), nil
		}
		null := []byte{5, 0}
		switch h {
		case crypto.SHA256:
			return NewAlgorithmIdentifier(oidSHA256WithRSA, null), nil
		case crypto.SHA384:
			return NewAlgorithmIdentifier(oidSHA384WithRSA, null), nil
		case crypto.SHA512:
			return NewAlgorithmIdentifier(oidSHA512WithRSA, null), nil
		}
	case *ecdsa.PublicKey:
		switch h {
		case crypto.SHA256:
			return NewAlgorithmIdentifier(oidECDSAWithSHA256, nil), nil
		case crypto.SHA384:
			return NewAlgorithmIdentifier(oidECDSAWithSHA384, nil), nil
		case crypto.SHA512:
			return NewAlgorithmIdentifier(oidECDSAWithSHA512, nil), nil
		}
	case ed25519.PublicKey:
		return NewAlgorithmIdentifier(oidEd25519, nil), nil
	default:
		return AlgorithmIdentifier{}, fmt.Errorf("cms: unsupported key type %T", pub)
	}
	return AlgorithmIdentifier{}, fmt.Errorf("cms: unsupported hash %v for key type %T", h, pub)
}

// Verify checks a signature over message with the public key. It hashes
// the message itself; SHA-1 and MD5 are verified like any other hash so
// that the algorithm policy, not this function, decides whether they count.
func (a SignatureAlgorithm) Verify(pub crypto.PublicKey, message, sig []byte) error {
	if a.Key == KeyEd25519 {
		k, ok := pub.(ed25519.PublicKey)
		if !ok {
			return fmt.Errorf("cms: Ed25519 signature but the certificate holds a %T key", pub)
		}
		if !ed25519.Verify(k, message, sig) {
			return errors.New("cms: Ed25519 signature does not verify")
		}
		return nil
	}
	if a.Hash == 0 || !a.Hash.Available() {
		return fmt.Errorf("cms: hash %v unavailable", a.Hash)
	}
	h := a.Hash.New()
	h.Write(message)
	return a.VerifyDigest(pub, h.Sum(nil), sig)
}

// VerifyDigest checks a signature over a precomputed digest (RSA and ECDSA).
func (a SignatureAlgorithm) VerifyDigest(pub crypto.PublicKey, digest, sig []byte) error {
	switch a.Key {
	case KeyRSA:
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("cms: RSA signature but the certificate holds a %T key", pub)
		}
		if a.PSS != nil {
			if err := rsa.VerifyPSS(k, a.Hash, digest, sig, a.PSS); err != nil {
				return fmt.Errorf("cms: RSA-PSS signature does not verify: %w", err)
			}
			return nil
		}
		if err := rsa.VerifyPKCS1v15(k, a.Hash, digest, sig); err != nil {
			if k.E > 1<<31-1 && verifyPKCS1v15(k, a.Hash, digest, sig, true) {
				return nil
			}
			if verifyPKCS1v15(k, a.Hash, digest, sig, false) {
				return nil
			}
			return fmt.Errorf("cms: RSA signature does not verify: %w", err)
		}
		return nil
	case KeyECDSA:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return fmt.Errorf("cms: ECDSA signature but the certificate holds a %T key", pub)
		}
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return errors.New("cms: ECDSA signature does not verify")
		}
		return nil
	}
	return fmt.Errorf("cms: cannot verify a %s signature over a digest", a.Key)
}

// X509SignatureAlgorithm maps the algorithm crypto/x509 parsed from a
// certificate, CRL or OCSP response to ours. crypto/x509 itself refuses
// SHA-1 signatures; the verifier needs to check them and let the policy
// judge, so certificate signatures are verified through this package.
func X509SignatureAlgorithm(alg x509.SignatureAlgorithm) (SignatureAlgorithm, error) {
	pss := func(h crypto.Hash) SignatureAlgorithm {
		return SignatureAlgorithm{Key: KeyRSA, Hash: h, PSS: &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h}}
	}
	switch alg {
	case x509.MD5WithRSA:
		return SignatureAlgorithm{Key: KeyRSA, Hash: crypto.MD5}, nil
	case x509.SHA1WithRSA:
		return SignatureAlgorithm{Key: KeyRSA, Hash: crypto.SHA1}, nil
	case x509.SHA256WithRSA:
		return SignatureAlgorithm{Key: KeyRSA, Hash: crypto.SHA256}, nil
	case x509.SHA384WithRSA:
		return SignatureAlgorithm{Key: KeyRSA, Hash: crypto.SHA384}, nil
	case x509.SHA512WithRSA:
		return SignatureAlgorithm{Key: KeyRSA, Hash: crypto.SHA512}, nil
	case x509.SHA256WithRSAPSS:
		return pss(crypto.SHA256), nil
	case x509.SHA384WithRSAPSS:
		return pss(crypto.SHA384), nil
	case x509.SHA512WithRSAPSS:
		return pss(crypto.SHA512), nil
	case x509.ECDSAWithSHA1:
		return SignatureAlgorithm{Key: KeyECDSA, Hash: crypto.SHA1}, nil
	case x509.ECDSAWithSHA256:
		return SignatureAlgorithm{Key: KeyECDSA, Hash: crypto.SHA256}, nil
	case x509.ECDSAWithSHA384:
		return SignatureAlgorithm{Key: KeyECDSA, Hash: crypto.SHA384}, nil
	case x509.ECDSAWithSHA512:
		return SignatureAlgorithm{Key: KeyECDSA, Hash: crypto.SHA512}, nil
	case x509.PureEd25519:
		return SignatureAlgorithm{Key: KeyEd25519}, nil
	}
	return SignatureAlgorithm{}, fmt.Errorf("cms: unsupported X.509 signature algorithm %v", alg)
}

// CheckCertificateSignature verifies that parent's key signed child,
// whatever the hash, leaving the acceptability of the algorithm to the
// caller's policy.
func CheckCertificateSignature(child, parent *x509.Certificate) error {
	alg, err := X509SignatureAlgorithm(child.SignatureAlgorithm)
	if err != nil {
		return err
	}
	return alg.Verify(parent.PublicKey, child.RawTBSCertificate, child.Signature)
}

// KeySize returns the size in bits of a public key (RSA modulus, EC field).
func KeySize(pub crypto.PublicKey) int {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return k.N.BitLen()
	case *ecdsa.PublicKey:
		return k.Curve.Params().BitSize
	case ed25519.PublicKey:
		return 256
	}
	return 0
}

// ParseOID reads an OBJECT IDENTIFIER element.
func ParseOID(e Element) (asn1.ObjectIdentifier, error) {
	if !e.IsUniversal(TagOID) || e.Constructed {
		return nil, fmt.Errorf("cms: %s is not an OBJECT IDENTIFIER", e)
	}
	var oid asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(Encode(ClassUniversal, TagOID, false, e.Body), &oid); err != nil {
		return nil, fmt.Errorf("cms: malformed OBJECT IDENTIFIER: %w", err)
	}
	return oid, nil
}

// ParseInteger reads an INTEGER element (implicitly tagged ones too).
func ParseInteger(e Element) (*big.Int, error) {
	if e.Constructed || len(e.Body) == 0 {
		return nil, fmt.Errorf("cms: %s is not an INTEGER", e)
	}
	if len(e.Body) > 256 {
		return nil, errors.New("cms: INTEGER longer than 256 bytes")
	}
	n := new(big.Int).SetBytes(e.Body)
	if e.Body[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(e.Body))))
	}
	return n, nil
}

// ParseSmallInt reads an INTEGER that must fit in an int (versions).
func ParseSmallInt(e Element) (int, error) {
	n, err := ParseInteger(e)
	if err != nil {
		return 0, err
	}
	if !n.IsInt64() || n.Int64() < -1<<31 || n.Int64() > 1<<31-1 {
		return 0, errors.New("cms: INTEGER out of range")
	}
	return int(n.Int64()), nil
}

// verifyPKCS1v15 verifies an RSASSA-PKCS1-v1_5 signature (RFC 8017, 8.2.2)
// itself, for two forms crypto/rsa refuses:
//
//   - keys whose public exponent is above 2^31-1 (withNull true): some
//     qualified German CAs issue such keys, and refusing them would fail
//     real signatures for a limitation of our library, not of theirs;
//   - a DigestInfo whose AlgorithmIdentifier leaves out the NULL parameters
//     (withNull false): RFC 8017 (Appendix B.1, note on the SHA-2 family)
//     says verifiers must accept both forms, and the trusted-profile seal of
//     the Polish gov.pl signing service writes this one (seen in its PAdES
//     seals of 2021, 2022 and 2024: 30 2f 30 0b 06 09 ... 04 20 ..., no
//     05 00).
//
// Only the public operation runs here, on public data.
func verifyPKCS1v15(k *rsa.PublicKey, h crypto.Hash, digest, sig []byte, withNull bool) bool {
	oid := OIDForHash(h)
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
	m := new(big.Int).Exp(s, big.NewInt(int64(k.E)), k.N)
	em := m.FillBytes(make([]byte, size))
	o, _ := asn1.Marshal(oid)
	algID := Sequence(o, []byte{5, 0})
	if !withNull {
		algID = Sequence(o)
	}
	t := Sequence(algID, Encode(ClassUniversal, TagOctetString, false, digest))
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

// Digests reads r once and returns its digest under each of hs (a CMS
// file's signers may use different digest algorithms over one content).
func Digests(r io.Reader, hs ...crypto.Hash) (map[crypto.Hash][]byte, error) {
	hashes := make(map[crypto.Hash]hash.Hash, len(hs))
	ws := make([]io.Writer, 0, len(hs))
	for _, h := range hs {
		if _, ok := hashes[h]; ok {
			continue
		}
		if !h.Available() {
			return nil, fmt.Errorf("cms: hash %v unavailable", h)
		}
		w := h.New()
		hashes[h] = w
		ws = append(ws, w)
	}
	if _, err := io.CopyBuffer(io.MultiWriter(ws...), r, make([]byte, 1<<20)); err != nil {
		return nil, err
	}
	out := make(map[crypto.Hash][]byte, len(hashes))
	for h, w := range hashes {
		out[h] = w.Sum(nil)
	}
	return out, nil
}
