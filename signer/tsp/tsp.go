// Package tsp is an RFC 3161 time-stamp client: it sends a TimeStampReq
// over HTTP (RFC 3161, 3.4) and checks that the response answers it (the
// status, the imprint, the nonce). It does not judge the TSA's certificate:
// that is the verifier's work, done when the time stamp is relied upon.
package tsp

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"time"

	"github.com/digitorus/timestamp"

	"esig/internal/cms"
)

// MaxResponseSize bounds a TimeStampResp: a token with a chain of a few
// certificates is a few kilobytes.
const MaxResponseSize = 1 << 20

// Client requests time stamps from one TSA.
type Client struct {
	URL string
	// HTTP defaults to a client with a 30-second timeout.
	HTTP *http.Client
	// Policy, when set, is requested as reqPolicy.
	Policy asn1.ObjectIdentifier
}

// Response is a granted time stamp.
type Response struct {
	// Raw is the whole TimeStampResp (what openssl calls a .tsr).
	Raw []byte
	// Token is the TimeStampToken, the ContentInfo signatures embed.
	Token []byte
	Info  cms.TSTInfo
}

// Timestamp asks for a time stamp over a digest computed with h.
func (c *Client) Timestamp(ctx context.Context, digest []byte, h crypto.Hash) (*Response, error) {
	if len(digest) != h.Size() {
		return nil, fmt.Errorf("tsp: digest is %d bytes, %v needs %d", len(digest), h, h.Size())
	}
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, err
	}
	req := &timestamp.Request{HashAlgorithm: h, HashedMessage: digest, Certificates: true, Nonce: nonce, TSAPolicyOID: c.Policy}
	body, err := req.Marshal()
	if err != nil {
		return nil, fmt.Errorf("tsp: encoding the request: %w", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/timestamp-query")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("tsp: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("tsp: %s answered HTTP %s", c.URL, resp.Status)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseSize+1))
	if err != nil {
		return nil, fmt.Errorf("tsp: reading the response: %w", err)
	}
	if len(raw) > MaxResponseSize {
		return nil, errors.New("tsp: response too large")
	}
	return Check(raw, digest, h, nonce)
}

// Check parses a TimeStampResp and checks that it grants a token for the
// digest (and, when nonce is set, echoes it, RFC 3161 2.4.2).
func Check(raw, digest []byte, h crypto.Hash, nonce *big.Int) (*Response, error) {
	r, err := cms.ParseTimeStampResp(raw)
	if err != nil {
		return nil, fmt.Errorf("tsp: %w", err)
	}
	if r.Status != 0 && r.Status != 1 {
		return nil, fmt.Errorf("tsp: the TSA refused: status %d %q, failure info %s", r.Status, r.StatusString, failInfo(r.FailInfo))
	}
	if r.Token == nil {
		return nil, errors.New("tsp: granted response without a token")
	}
	tok, err := cms.ParseToken(r.Token)
	if err != nil {
		return nil, fmt.Errorf("tsp: token: %w", err)
	}
	if tok.Info.Hash != h || !bytes.Equal(tok.Info.HashedMessage, digest) {
		return nil, errors.New("tsp: the token's message imprint is not the one requested")
	}
	if nonce != nil && (tok.Info.Nonce == nil || tok.Info.Nonce.Cmp(nonce) != 0) {
		return nil, errors.New("tsp: the token does not echo the request's nonce")
	}
	return &Response{Raw: raw, Token: r.Token, Info: tok.Info}, nil
}

func failInfo(b asn1.BitString) string {
	names := []string{"badAlg", "", "badRequest", "", "", "badDataFormat", "", "", "", "", "", "", "", "", "timeNotAvailable",
		"unacceptedPolicy", "unacceptedExtension", "addInfoNotAvailable", "", "", "", "", "", "", "", "systemFailure"}
	for i, n := range names {
		if n != "" && b.At(i) == 1 {
			return n
		}
	}
	return "none"
}
