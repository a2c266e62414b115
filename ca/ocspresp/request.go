package ocspresp

import (
	"crypto"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
)

// The request structures of RFC 6960, section 4.1.1. golang.org/x/crypto/ocsp
// parses requests too, but drops their extensions, and a nonce must be
// echoed (RFC 6960 4.4.1, RFC 8954).
type certID struct {
	HashAlgorithm  pkix.AlgorithmIdentifier
	IssuerNameHash []byte
	IssuerKeyHash  []byte
	SerialNumber   *big.Int
}

type singleRequest struct {
	Cert       certID
	Extensions []pkix.Extension `asn1:"explicit,tag:0,optional"`
}

type tbsRequest struct {
	Version       int           `asn1:"explicit,tag:0,default:0,optional"`
	RequestorName asn1.RawValue `asn1:"explicit,tag:1,optional"`
	RequestList   []singleRequest
	Extensions    []pkix.Extension `asn1:"explicit,tag:2,optional"`
}

type ocspRequest struct {
	TBS       tbsRequest
	Signature asn1.RawValue `asn1:"explicit,tag:0,optional"`
}

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

// parseRequest reads a DER OCSPRequest asking about exactly one certificate.
func parseRequest(der []byte) (*request, error) {
	var req ocspRequest
	rest, err := asn1.Unmarshal(der, &req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: trailing data", errMalformed)
	}
	if len(req.TBS.RequestList) != 1 {
		return nil, fmt.Errorf("%w: asks about %d certificates; one per request is supported", errMalformed, len(req.TBS.RequestList))
	}
	id := req.TBS.RequestList[0].Cert
	r := &request{issuerNameHash: id.IssuerNameHash, issuerKeyHash: id.IssuerKeyHash, serial: id.SerialNumber}
	switch alg := id.HashAlgorithm.Algorithm; {
	case alg.Equal(oidSHA1):
		r.hash = crypto.SHA1
	case alg.Equal(oidSHA256):
		r.hash = crypto.SHA256
	case alg.Equal(oidSHA384):
		r.hash = crypto.SHA384
	case alg.Equal(oidSHA512):
		r.hash = crypto.SHA512
	default:
		return nil, fmt.Errorf("%w: unsupported CertID hash algorithm %v", errMalformed, alg)
	}
	if r.serial == nil || r.serial.Sign() <= 0 {
		return nil, fmt.Errorf("%w: serial number is not positive", errMalformed)
	}
	for _, ext := range req.TBS.Extensions {
		if ext.Id.Equal(oidNonce) {
			if len(ext.Value) == 0 || len(ext.Value) > maxNonce {
				return nil, fmt.Errorf("%w: nonce of %d bytes", errMalformed, len(ext.Value))
			}
			e := pkix.Extension{Id: oidNonce, Value: ext.Value}
			r.nonce = &e
		}
	}
	return r, nil
}
