package ocspresp

import (
	"crypto"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// The request structures are those of RFC 6960, section 4.1.1, read with
// cryptobyte rather than encoding/asn1: a responder parses one request per
// answer, and reflection-driven decoding cost a tenth of the responder's
// CPU. golang.org/x/crypto/ocsp parses requests too, but drops their
// extensions, and a nonce must be echoed (RFC 6960 4.4.1, RFC 8954).
//
//	OCSPRequest ::= SEQUENCE {
//	    tbsRequest              TBSRequest,
//	    optionalSignature   [0] EXPLICIT Signature OPTIONAL }
//	TBSRequest ::= SEQUENCE {
//	    version             [0] EXPLICIT Version DEFAULT v1,
//	    requestorName       [1] EXPLICIT GeneralName OPTIONAL,
//	    requestList             SEQUENCE OF Request,
//	    requestExtensions   [2] EXPLICIT Extensions OPTIONAL }
//	Request ::= SEQUENCE {
//	    reqCert                 CertID,
//	    singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL }
//	CertID ::= SEQUENCE {
//	    hashAlgorithm           AlgorithmIdentifier,
//	    issuerNameHash          OCTET STRING,
//	    issuerKeyHash           OCTET STRING,
//	    serialNumber            CertificateSerialNumber }

var (
	oidNonce  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}
	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

// maxNonce bounds an echoed nonce; RFC 8954 allows 1 to 32 octets, and we
// leave room for clients that wrap theirs in an extra OCTET STRING.
const maxNonce = 128

// request is what the responder needs from an OCSP request.
type request struct {
	hash           crypto.Hash
	issuerNameHash []byte
	issuerKeyHash  []byte
	serial         *big.Int
	nonce          *pkix.Extension
}

var errMalformed = errors.New("malformed OCSP request")

// malformed wraps errMalformed with what was wrong.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errMalformed}, args...)...)
}

var (
	tagVersion       = cbasn1.Tag(0).Constructed().ContextSpecific()
	tagRequestorName = cbasn1.Tag(1).Constructed().ContextSpecific()
	tagExtensions    = cbasn1.Tag(2).Constructed().ContextSpecific()
	tagSingleExts    = cbasn1.Tag(0).Constructed().ContextSpecific()
	tagSignature     = cbasn1.Tag(0).Constructed().ContextSpecific()
)

// parseRequest reads a DER OCSPRequest asking about exactly one certificate.
// The request's signature, if any, is not checked: the responder answers
// anyone (RFC 6960 4.1.2 leaves signed requests to local policy).
func parseRequest(der []byte) (*request, error) {
	input := cryptobyte.String(der)
	var outer, tbs cryptobyte.String
	if !input.ReadASN1(&outer, cbasn1.SEQUENCE) {
		return nil, malformed("not a DER SEQUENCE")
	}
	if !input.Empty() {
		return nil, malformed("trailing data")
	}
	if !outer.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, malformed("no tbsRequest")
	}
	if !outer.SkipOptionalASN1(tagSignature) || !outer.Empty() {
		return nil, malformed("unexpected data after tbsRequest")
	}

	var version cryptobyte.String
	var hasVersion bool
	if !tbs.ReadOptionalASN1(&version, &hasVersion, tagVersion) {
		return nil, malformed("bad version")
	}
	if hasVersion {
		var v int64
		if !version.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) || !version.Empty() || v != 0 {
			return nil, malformed("version must be v1")
		}
	}
	if !tbs.SkipOptionalASN1(tagRequestorName) {
		return nil, malformed("bad requestorName")
	}
	var list cryptobyte.String
	if !tbs.ReadASN1(&list, cbasn1.SEQUENCE) {
		return nil, malformed("no requestList")
	}
	var exts cryptobyte.String
	var hasExts bool
	if !tbs.ReadOptionalASN1(&exts, &hasExts, tagExtensions) || !tbs.Empty() {
		return nil, malformed("bad requestExtensions")
	}

	var single cryptobyte.String
	if !list.ReadASN1(&single, cbasn1.SEQUENCE) {
		return nil, malformed("asks about 0 certificates; one per request is supported")
	}
	if !list.Empty() {
		n := 1
		for ; !list.Empty(); n++ {
			if !list.SkipASN1(cbasn1.SEQUENCE) {
				return nil, malformed("bad requestList")
			}
		}
		return nil, malformed("asks about %d certificates; one per request is supported", n)
	}
	r, err := parseCertID(&single)
	if err != nil {
		return nil, err
	}
	if !single.SkipOptionalASN1(tagSingleExts) || !single.Empty() {
		return nil, malformed("bad singleRequestExtensions")
	}
	if hasExts {
		if r.nonce, err = findNonce(exts); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// parseCertID reads the CertID at the head of s.
func parseCertID(s *cryptobyte.String) (*request, error) {
	var id, alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&id, cbasn1.SEQUENCE) || !id.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return nil, malformed("bad CertID hashAlgorithm")
	}
	// The parameters are absent or NULL; anything else is not a digest
	// algorithm identifier we know.
	if !alg.Empty() && (!alg.SkipASN1(cbasn1.NULL) || !alg.Empty()) {
		return nil, malformed("CertID hashAlgorithm has parameters")
	}
	r := &request{serial: new(big.Int)}
	switch {
	case oid.Equal(oidSHA1):
		r.hash = crypto.SHA1
	case oid.Equal(oidSHA256):
		r.hash = crypto.SHA256
	case oid.Equal(oidSHA384):
		r.hash = crypto.SHA384
	case oid.Equal(oidSHA512):
		r.hash = crypto.SHA512
	default:
		return nil, malformed("unsupported CertID hash algorithm %v", oid)
	}
	var nameHash, keyHash cryptobyte.String
	if !id.ReadASN1(&nameHash, cbasn1.OCTET_STRING) || !id.ReadASN1(&keyHash, cbasn1.OCTET_STRING) {
		return nil, malformed("bad CertID hashes")
	}
	if !id.ReadASN1Integer(r.serial) || !id.Empty() {
		return nil, malformed("bad CertID serialNumber")
	}
	if r.serial.Sign() <= 0 {
		return nil, malformed("serial number is not positive")
	}
	r.issuerNameHash, r.issuerKeyHash = nameHash, keyHash
	return r, nil
}

// findNonce returns the nonce extension among exts (the contents of
// requestExtensions), or nil.
func findNonce(exts cryptobyte.String) (*pkix.Extension, error) {
	var list cryptobyte.String
	if !exts.ReadASN1(&list, cbasn1.SEQUENCE) || !exts.Empty() {
		return nil, malformed("bad requestExtensions")
	}
	var nonce *pkix.Extension
	for !list.Empty() {
		var ext, value cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !list.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&oid) ||
			!ext.SkipOptionalASN1(cbasn1.BOOLEAN) || !ext.ReadASN1(&value, cbasn1.OCTET_STRING) || !ext.Empty() {
			return nil, malformed("bad extension")
		}
		if !oid.Equal(oidNonce) {
			continue
		}
		if len(value) == 0 || len(value) > maxNonce {
			return nil, malformed("nonce of %d bytes", len(value))
		}
		nonce = &pkix.Extension{Id: oidNonce, Value: value}
	}
	return nonce, nil
}
