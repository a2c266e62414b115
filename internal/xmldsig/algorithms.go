package xmldsig

import (
	"crypto"
	_ "crypto/sha1" // SHA-1 is recognised so that policy can refuse it by name
	_ "crypto/sha256"
	_ "crypto/sha512"
)

// Namespaces (XMLDSig 1.1 section 1.3, XPath Filter 2.0 section 3, exc-c14n
// section 3, RFC 9231 section 2.3.10).
const (
	NamespaceDSig       = "http://www.w3.org/2000/09/xmldsig#"
	NamespaceFilter2    = "http://www.w3.org/2002/06/xmldsig-filter2"
	NamespaceExcC14N    = "http://www.w3.org/2001/10/xml-exc-c14n#"
	NamespaceDSigMore07 = "http://www.w3.org/2007/05/xmldsig-more#"
)

// Transform algorithms other than canonicalization (XMLDSig 1.1 section 6.6,
// XPath Filter 2.0).
const (
	TransformEnveloped = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
	TransformXPath     = "http://www.w3.org/TR/1999/REC-xpath-19991116"
	TransformFilter2   = "http://www.w3.org/2002/06/xmldsig-filter2"
	TransformBase64    = "http://www.w3.org/2000/09/xmldsig#base64"
)

// Reference types used by callers (XMLDSig 1.1 section 4.4.3.4, ETSI EN 319
// 132-1 section 6.3).
const (
	TypeObject           = "http://www.w3.org/2000/09/xmldsig#Object"
	TypeManifest         = "http://www.w3.org/2000/09/xmldsig#Manifest"
	SignedPropertiesType = "http://uri.etsi.org/01903#SignedProperties"
)

// Digest algorithm identifiers (XMLDSig 1.1 section 6.2, RFC 6931).
const (
	DigestSHA1   = "http://www.w3.org/2000/09/xmldsig#sha1"
	DigestSHA224 = "http://www.w3.org/2001/04/xmldsig-more#sha224"
	DigestSHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
	DigestSHA384 = "http://www.w3.org/2001/04/xmldsig-more#sha384"
	DigestSHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"
)

// Signature algorithm identifiers (XMLDSig 1.1 section 6.4, RFC 6931 section
// 2.3, RFC 9231 section 2.3.10).
const (
	RSASHA1       = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
	RSASHA224     = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha224"
	RSASHA256     = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	RSASHA384     = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
	RSASHA512     = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
	ECDSASHA1     = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1"
	ECDSASHA224   = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha224"
	ECDSASHA256   = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
	ECDSASHA384   = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
	ECDSASHA512   = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"
	RSAPSSSHA224  = "http://www.w3.org/2007/05/xmldsig-more#sha224-rsa-MGF1"
	RSAPSSSHA256  = "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1"
	RSAPSSSHA384  = "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1"
	RSAPSSSHA512  = "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1"
	RSAPSSParams  = "http://www.w3.org/2007/05/xmldsig-more#rsa-pss" // parameters in RSAPSSParams
	mgf1Algorithm = "http://www.w3.org/2007/05/xmldsig-more#MGF1"
)

var digestByURI = map[string]crypto.Hash{
	DigestSHA1:   crypto.SHA1,
	DigestSHA224: crypto.SHA224,
	DigestSHA256: crypto.SHA256,
	DigestSHA384: crypto.SHA384,
	DigestSHA512: crypto.SHA512,
}

// DigestHash returns the hash function of a DigestMethod algorithm URI, or 0
// if the URI is not one this package implements. SHA-1 is implemented so
// that a policy can refuse it as too weak rather than as unknown.
func DigestHash(uri string) crypto.Hash { return digestByURI[uri] }

// DigestURI returns the DigestMethod algorithm URI of h, or "" if none.
func DigestURI(h crypto.Hash) string {
	for u, x := range digestByURI {
		if x == h {
			return u
		}
	}
	return ""
}

// KeyType is the public-key family of a signature algorithm.
type KeyType int

// Key families of signature algorithms.
const (
	KeyRSA KeyType = iota + 1 // RSASSA-PKCS1-v1_5
	KeyRSAPSS
	KeyECDSA
)

// SignatureAlgorithm describes a SignatureMethod.
type SignatureAlgorithm struct {
	URI     string
	Key     KeyType
	Hash    crypto.Hash
	SaltLen int // RSA-PSS salt length in bytes
}

var signatureByURI = map[string]SignatureAlgorithm{
	RSASHA1:      {RSASHA1, KeyRSA, crypto.SHA1, 0},
	RSASHA224:    {RSASHA224, KeyRSA, crypto.SHA224, 0},
	RSASHA256:    {RSASHA256, KeyRSA, crypto.SHA256, 0},
	RSASHA384:    {RSASHA384, KeyRSA, crypto.SHA384, 0},
	RSASHA512:    {RSASHA512, KeyRSA, crypto.SHA512, 0},
	ECDSASHA1:    {ECDSASHA1, KeyECDSA, crypto.SHA1, 0},
	ECDSASHA224:  {ECDSASHA224, KeyECDSA, crypto.SHA224, 0},
	ECDSASHA256:  {ECDSASHA256, KeyECDSA, crypto.SHA256, 0},
	ECDSASHA384:  {ECDSASHA384, KeyECDSA, crypto.SHA384, 0},
	ECDSASHA512:  {ECDSASHA512, KeyECDSA, crypto.SHA512, 0},
	RSAPSSSHA224: {RSAPSSSHA224, KeyRSAPSS, crypto.SHA224, 28},
	RSAPSSSHA256: {RSAPSSSHA256, KeyRSAPSS, crypto.SHA256, 32},
	RSAPSSSHA384: {RSAPSSSHA384, KeyRSAPSS, crypto.SHA384, 48},
	RSAPSSSHA512: {RSAPSSSHA512, KeyRSAPSS, crypto.SHA512, 64},
}

// LookupSignatureAlgorithm returns the description of a SignatureMethod URI
// without parameters; ok is false for unknown URIs (and for rsa-pss, whose
// parameters live in the SignatureMethod element).
func LookupSignatureAlgorithm(uri string) (SignatureAlgorithm, bool) {
	a, ok := signatureByURI[uri]
	return a, ok
}

// signatureAlgorithmFor picks the SignatureMethod for a key family and hash.
func signatureAlgorithmFor(k KeyType, h crypto.Hash) (SignatureAlgorithm, bool) {
	for _, a := range signatureByURI {
		if a.Key == k && a.Hash == h {
			return a, true
		}
	}
	return SignatureAlgorithm{}, false
}
