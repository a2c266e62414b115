package ocspresp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"
)

// The response structures of RFC 6960, section 4.2.1. esig encodes them
// itself because golang.org/x/crypto/ocsp can only place extensions in
// singleExtensions, while a nonce belongs in responseExtensions.

type responseASN1 struct {
	Status   asn1.Enumerated
	Response responseBytes `asn1:"explicit,tag:0,optional"`
}

type responseBytes struct {
	ResponseType asn1.ObjectIdentifier
	Response     []byte
}

type basicResponse struct {
	TBSResponseData    asn1.RawValue
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          asn1.BitString
	Certificates       []asn1.RawValue `asn1:"explicit,tag:0,optional"`
}

type responseData struct {
	Version          int       `asn1:"optional,default:0,explicit,tag:0"`
	ResponderKeyHash []byte    `asn1:"explicit,tag:2"` // ResponderID byKey
	ProducedAt       time.Time `asn1:"generalized"`
	Responses        []singleResponse
	Extensions       []pkix.Extension `asn1:"explicit,tag:1,optional"`
}

// certID is RFC 6960's CertID, as written into a response.
type certID struct {
	HashAlgorithm  pkix.AlgorithmIdentifier
	IssuerNameHash []byte
	IssuerKeyHash  []byte
	SerialNumber   *big.Int
}

type singleResponse struct {
	CertID     certID
	Good       asn1.Flag   `asn1:"tag:0,optional"`
	Revoked    revokedInfo `asn1:"tag:1,optional"`
	Unknown    asn1.Flag   `asn1:"tag:2,optional"`
	ThisUpdate time.Time   `asn1:"generalized"`
	NextUpdate time.Time   `asn1:"generalized,explicit,tag:0,optional"`
}

type revokedInfo struct {
	RevocationTime time.Time       `asn1:"generalized"`
	Reason         asn1.Enumerated `asn1:"explicit,tag:0,optional"`
}

var (
	oidOCSPBasic   = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	oidECDSASHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSASHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidRSASHA256   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	hashOIDs       = map[crypto.Hash]asn1.ObjectIdentifier{crypto.SHA1: oidSHA1, crypto.SHA256: oidSHA256, crypto.SHA384: oidSHA384, crypto.SHA512: oidSHA512}
)

// Status of a certificate in a response.
type certStatus int

const (
	statusGood certStatus = iota
	statusRevoked
	statusUnknown
)

// answer is what one response says.
type answer struct {
	hash       crypto.Hash
	nameHash   []byte
	keyHash    []byte
	serial     *big.Int
	status     certStatus
	revokedAt  time.Time
	reason     int
	thisUpdate time.Time
	nextUpdate time.Time
	nonce      *pkix.Extension
}

// signer signs responses with the delegated responder's key.
type responseSigner struct {
	key     crypto.Signer
	cert    *x509.Certificate
	keyHash []byte // SHA-1 of the responder's public key bits (ResponderID byKey)
	sigAlg  pkix.AlgorithmIdentifier
	sigHash crypto.Hash
}

func newResponseSigner(key crypto.Signer, cert *x509.Certificate) (*responseSigner, error) {
	var spki struct {
		Alg pkix.AlgorithmIdentifier
		Key asn1.BitString
	}
	if _, err := asn1.Unmarshal(cert.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil, fmt.Errorf("ocsp: responder key: %w", err)
	}
	kh := sha1.Sum(spki.Key.Bytes) // RFC 6960 fixes SHA-1 for the key hash
	s := &responseSigner{key: key, cert: cert, keyHash: kh[:]}
	switch k := key.Public().(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P384() {
			s.sigAlg, s.sigHash = pkix.AlgorithmIdentifier{Algorithm: oidECDSASHA384}, crypto.SHA384
		} else {
			s.sigAlg, s.sigHash = pkix.AlgorithmIdentifier{Algorithm: oidECDSASHA256}, crypto.SHA256
		}
	case *rsa.PublicKey:
		s.sigAlg, s.sigHash = pkix.AlgorithmIdentifier{Algorithm: oidRSASHA256, Parameters: asn1.NullRawValue}, crypto.SHA256
	default:
		return nil, fmt.Errorf("ocsp: unsupported responder key %T", key.Public())
	}
	return s, nil
}

// sign encodes and signs a successful response holding a.
func (s *responseSigner) sign(a *answer, producedAt time.Time) ([]byte, error) {
	sr := singleResponse{
		CertID: certID{
			HashAlgorithm:  pkix.AlgorithmIdentifier{Algorithm: hashOIDs[a.hash], Parameters: asn1.NullRawValue},
			IssuerNameHash: a.nameHash, IssuerKeyHash: a.keyHash, SerialNumber: a.serial,
		},
		ThisUpdate: a.thisUpdate.UTC(),
		NextUpdate: a.nextUpdate.UTC(),
	}
	switch a.status {
	case statusGood:
		sr.Good = true
	case statusRevoked:
		sr.Revoked = revokedInfo{RevocationTime: a.revokedAt.UTC(), Reason: asn1.Enumerated(a.reason)}
	default:
		sr.Unknown = true
	}
	rd := responseData{ResponderKeyHash: s.keyHash, ProducedAt: producedAt.UTC(), Responses: []singleResponse{sr}}
	if a.nonce != nil {
		rd.Extensions = []pkix.Extension{*a.nonce}
	}
	tbs, err := asn1.Marshal(rd)
	if err != nil {
		return nil, fmt.Errorf("ocsp: encoding response data: %w", err)
	}
	h := s.sigHash.New()
	h.Write(tbs)
	sig, err := s.key.Sign(rand.Reader, h.Sum(nil), s.sigHash)
	if err != nil {
		return nil, fmt.Errorf("ocsp: signing: %w", err)
	}
	basic, err := asn1.Marshal(basicResponse{
		TBSResponseData:    asn1.RawValue{FullBytes: tbs},
		SignatureAlgorithm: s.sigAlg,
		Signature:          asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)},
		Certificates:       []asn1.RawValue{{FullBytes: s.cert.Raw}},
	})
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(responseASN1{Status: 0, Response: responseBytes{ResponseType: oidOCSPBasic, Response: basic}})
}
