package signer

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"fmt"

	"esig/internal/cms"
)

// RevocationSource supplies, for levels LT and LTA, the revocation data
// proving cert (issued by issuer) unrevoked now: DER CRLs and
// OCSPResponses (cades.OnlineValidation is one).
type RevocationSource interface {
	Revocation(ctx context.Context, cert, issuer *x509.Certificate) (crls, ocsps [][]byte, err error)
}

// Validation is what a B-LT signature carries so that it can be validated
// later without the network: certificates and revocation data, each once.
type Validation struct {
	Certificates []*x509.Certificate
	CRLs, OCSPs  [][]byte
}

var oidOCSPNoCheck = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}

// CollectValidation gathers the validation data of a signature whose
// certificates are certs: the signer's first, then its chain and the time
// stamping authorities' (duplicates are dropped, order kept). Every
// certificate but roots and OCSP responders marked id-pkix-ocsp-nocheck
// gets revocation data from src, asked with its issuer found among certs
// by name and signature (EN 319 122-2, 319 132-2 and 319 142-2, level LT).
func CollectValidation(ctx context.Context, certs []*x509.Certificate, src RevocationSource) (*Validation, error) {
	v := &Validation{}
	for _, c := range certs {
		v.Certificates = AppendCertificate(v.Certificates, c)
	}
	for _, c := range v.Certificates {
		if bytes.Equal(c.RawIssuer, c.RawSubject) || hasExtension(c, oidOCSPNoCheck) {
			continue
		}
		issuer := issuerOf(c, v.Certificates)
		if issuer == nil {
			return nil, fmt.Errorf("the issuer of %q is not among the certificates given (the chain)", c.Subject.String())
		}
		crls, ocsps, err := src.Revocation(ctx, c, issuer)
		if err != nil {
			return nil, fmt.Errorf("revocation data for %q: %w", c.Subject.String(), err)
		}
		v.CRLs = appendRaw(v.CRLs, crls...)
		v.OCSPs = appendRaw(v.OCSPs, ocsps...)
	}
	return v, nil
}

// AppendCertificate appends c to list unless list holds it already.
func AppendCertificate(list []*x509.Certificate, c *x509.Certificate) []*x509.Certificate {
	for _, x := range list {
		if x.Equal(c) {
			return list
		}
	}
	return append(list, c)
}

func appendRaw(list [][]byte, items ...[]byte) [][]byte {
next:
	for _, b := range items {
		for _, x := range list {
			if bytes.Equal(x, b) {
				continue next
			}
		}
		list = append(list, b)
	}
	return list
}

func issuerOf(c *x509.Certificate, pool []*x509.Certificate) *x509.Certificate {
	for _, p := range pool {
		if bytes.Equal(p.RawSubject, c.RawIssuer) && cms.CheckCertificateSignature(c, p) == nil {
			return p
		}
	}
	return nil
}

func hasExtension(c *x509.Certificate, oid asn1.ObjectIdentifier) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(oid) {
			return true
		}
	}
	return false
}
