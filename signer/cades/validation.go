package cades

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"

	"golang.org/x/crypto/ocsp"

	"esig/verifier/revocation"
)

// TimestamperFunc adapts a function to Timestamper.
type TimestamperFunc func(ctx context.Context, digest []byte, h crypto.Hash) ([]byte, error)

// Timestamp implements Timestamper.
func (f TimestamperFunc) Timestamp(ctx context.Context, digest []byte, h crypto.Hash) ([]byte, error) {
	return f(ctx, digest, h)
}

// OnlineValidation gathers revocation data for B-LT from the URLs in the
// certificates: an OCSP response when the certificate names a responder
// (smaller and more precise), else its CRLs. What it gathers is parsed, so
// that a signature never embeds garbage a verifier would have to reject.
type OnlineValidation struct {
	Fetcher revocation.Fetcher
}

// Revocation implements ValidationData.
func (v OnlineValidation) Revocation(ctx context.Context, cert, issuer *x509.Certificate) (crls, ocsps [][]byte, err error) {
	var errs []error
	for _, url := range cert.OCSPServer {
		req, err := ocsp.CreateRequest(cert, issuer, nil)
		if err != nil {
			return nil, nil, err
		}
		der, err := v.Fetcher.FetchOCSP(ctx, url, req)
		if err == nil {
			_, err = revocation.ParseOCSPResponse(der)
		}
		if err == nil {
			return nil, [][]byte{der}, nil
		}
		errs = append(errs, fmt.Errorf("OCSP %s: %w", url, err))
	}
	for _, url := range cert.CRLDistributionPoints {
		der, err := v.Fetcher.FetchCRL(ctx, url)
		if err == nil {
			_, err = x509.ParseRevocationList(der)
		}
		if err == nil {
			crls = append(crls, der)
			continue
		}
		errs = append(errs, fmt.Errorf("CRL %s: %w", url, err))
	}
	if len(crls) > 0 {
		return crls, nil, nil
	}
	if len(errs) == 0 {
		return nil, nil, errors.New("the certificate names no OCSP responder and no CRL distribution point")
	}
	return nil, nil, errors.Join(errs...)
}
