// Package tsa is the RFC 3161 time-stamp authority of the CA: it answers
// TimeStampReq messages with TimeStampResp messages whose tokens are signed
// by a TSA certificate carrying the critical id-kp-timeStamping extended key
// usage (RFC 3161, 2.3), bound in the token by ESS signing-certificate-v2
// (RFC 5816).
//
// Messages are built with github.com/digitorus/timestamp (pinned in
// go.mod), which writes what openssl ts -verify and our verifier accept.
// This package adds what a public TSA needs around it: request validation
// with the right PKIFailureInfo (RFC 3161, 2.4.2), an algorithm policy
// (no SHA-1 imprints for new time stamps, ETSI TS 119 312), an injected
// clock, and an HTTP handler with content types and a body limit
// (RFC 3161, 3.4).
package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/digitorus/timestamp"
)

// MaxRequestSize bounds a TimeStampReq: an imprint, a nonce, a policy and
// perhaps extensions fit in well under a kilobyte.
const MaxRequestSize = 16 << 10

// Content types of RFC 3161, 3.4.
const (
	ContentTypeQuery = "application/timestamp-query"
	ContentTypeReply = "application/timestamp-reply"
)

// Accuracy is the accuracy the TSA claims for genTime (RFC 3161, 2.4.2).
const Accuracy = time.Second

var oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}

// TSA is a time-stamp authority. It is safe for concurrent use.
type TSA struct {
	signer crypto.Signer
	cert   *x509.Certificate
	chain  []*x509.Certificate
	policy asn1.ObjectIdentifier
	clock  func() time.Time
}

// New returns a TSA that signs with signer as cert, includes chain (the
// CA certificates above cert) in tokens when the requester asks for
// certificates, stamps under policy and reads the time from clock (nil:
// time.Now). It refuses a certificate that does not fit RFC 3161, 2.3, or
// whose key is not the signer's.
func New(signer crypto.Signer, cert *x509.Certificate, chain []*x509.Certificate, policy asn1.ObjectIdentifier, clock func() time.Time) (*TSA, error) {
	if signer == nil || cert == nil {
		return nil, errors.New("tsa: signer and certificate are required")
	}
	if len(policy) == 0 {
		return nil, errors.New("tsa: a policy OID is required (RFC 3161, 2.4.2)")
	}
	if len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping || len(cert.UnknownExtKeyUsage) > 0 {
		return nil, errors.New("tsa: certificate's extended key usage must be exactly id-kp-timeStamping (RFC 3161, 2.3)")
	}
	critical := false
	for _, e := range cert.Extensions {
		if e.Id.Equal(oidExtKeyUsage) {
			critical = e.Critical
		}
	}
	if !critical {
		return nil, errors.New("tsa: certificate's extended key usage must be critical (RFC 3161, 2.3)")
	}
	pub, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil || !bytes.Equal(pub, cert.RawSubjectPublicKeyInfo) {
		return nil, errors.New("tsa: signer's key does not match the certificate")
	}
	if clock == nil {
		clock = time.Now
	}
	return &TSA{signer: signer, cert: cert, chain: chain, policy: policy, clock: clock}, nil
}

// acceptedHashes are the imprint algorithms accepted for new time stamps.
var acceptedHashes = map[crypto.Hash]bool{crypto.SHA256: true, crypto.SHA384: true, crypto.SHA512: true}

// Respond answers a DER TimeStampReq with a DER TimeStampResp. A request
// the TSA will not honour gets a rejection response, not an error; the
// error is for internal failures (the signer failing), after which no
// response should be sent.
func (t *TSA) Respond(request []byte) ([]byte, error) {
	req, err := timestamp.ParseRequest(request)
	if err != nil {
		// Unknown hash OIDs surface here too.
		return reject(timestamp.BadDataFormat)
	}
	if !acceptedHashes[req.HashAlgorithm] {
		return reject(timestamp.BadAlgorithm)
	}
	if len(req.HashedMessage) != req.HashAlgorithm.Size() {
		return reject(timestamp.BadDataFormat)
	}
	if len(req.TSAPolicyOID) > 0 && !req.TSAPolicyOID.Equal(t.policy) {
		return reject(timestamp.UnacceptedPolicy)
	}
	if len(req.Extensions) > 0 {
		return reject(timestamp.UnacceptedExtension)
	}
	ts := &timestamp.Timestamp{
		HashAlgorithm:     req.HashAlgorithm,
		HashedMessage:     req.HashedMessage,
		Time:              t.clock().UTC().Truncate(time.Second),
		Accuracy:          Accuracy,
		Policy:            t.policy,
		Nonce:             req.Nonce,
		AddTSACertificate: req.Certificates,
	}
	if req.Certificates {
		ts.Certificates = t.chain
	}
	resp, err := ts.CreateResponseWithOpts(t.cert, t.signer, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("tsa: signing the token: %w", err)
	}
	return resp, nil
}

func reject(fi timestamp.FailureInfo) ([]byte, error) {
	return timestamp.CreateErrorResponse(timestamp.Rejection, fi)
}

// ServeHTTP serves POST /tsa (RFC 3161, 3.4): a TimeStampReq body of type
// application/timestamp-query in, a TimeStampResp of type
// application/timestamp-reply out.
func (t *TSA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "time-stamp requests are POSTed", http.StatusMethodNotAllowed)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != ContentTypeQuery {
		http.Error(w, "Content-Type must be "+ContentTypeQuery, http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestSize+1))
	if err != nil {
		http.Error(w, "reading the request failed", http.StatusBadRequest)
		return
	}
	if len(body) > MaxRequestSize {
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return
	}
	resp, err := t.Respond(body)
	if err != nil {
		resp, _ = reject(timestamp.SystemFailure)
	}
	w.Header().Set("Content-Type", ContentTypeReply)
	w.Write(resp)
}

// Timestamp stamps a digest directly, for documents the server itself
// produces (sealed receipts): the same token a request over HTTP would
// get, with the TSA's chain, without the round trip. It implements the
// signers' Timestamper interface.
func (t *TSA) Timestamp(_ context.Context, digest []byte, h crypto.Hash) ([]byte, error) {
	if !acceptedHashes[h] || len(digest) != h.Size() {
		return nil, fmt.Errorf("tsa: a %d-byte digest with %v cannot be stamped", len(digest), h)
	}
	ts := &timestamp.Timestamp{
		HashAlgorithm: h, HashedMessage: digest, Time: t.clock().UTC().Truncate(time.Second),
		Accuracy: Accuracy, Policy: t.policy, AddTSACertificate: true, Certificates: t.chain,
	}
	resp, err := ts.CreateResponseWithOpts(t.cert, t.signer, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("tsa: signing the token: %w", err)
	}
	parsed, err := timestamp.ParseResponse(resp)
	if err != nil {
		return nil, fmt.Errorf("tsa: reading back the token: %w", err)
	}
	return parsed.RawToken, nil
}
