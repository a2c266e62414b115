package cades

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"fmt"

	"esig/internal/cms"
)

var oidOCSPNoCheck = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}

// addValidationData makes a B-LT signature: every certificate of the
// signer's and the TSA's chains in SignedData.certificates, and revocation
// data for each certificate that needs it in SignedData.crls, OCSP
// responses as id-ri-ocsp-response (EN 319 122-2, 6.3 level LT; RFC 5940).
func (s *signature) addValidationData(ctx context.Context) error {
	pool := s.pool()
	for _, a := range s.signerInfo.unsigned {
		if tok, err := tokenOf(a); err == nil {
			for _, c := range tok.SignedData.X509Certificates() {
				pool = appendUnique(pool, c)
			}
		}
	}
	for _, c := range pool {
		if !hasRaw(s.certs, c.Raw) {
			s.certs = append(s.certs, c.Raw)
		}
	}
	for _, c := range pool {
		if bytes.Equal(c.RawIssuer, c.RawSubject) || hasNoCheck(c) {
			continue // roots and OCSP responders that need no check
		}
		issuer := issuerOf(c, pool)
		if issuer == nil {
			return fmt.Errorf("cades: the issuer of %q is not among the certificates given (--chain)", c.Subject.String())
		}
		crls, ocsps, err := s.opts.Validation.Revocation(ctx, c, issuer)
		if err != nil {
			return fmt.Errorf("cades: revocation data for %q: %w", c.Subject.String(), err)
		}
		for _, l := range crls {
			if !hasRaw(s.crls, l) {
				s.crls = append(s.crls, l)
			}
		}
		for _, o := range ocsps {
			oid, _ := asn1.Marshal(cms.OIDRevocationInfoOCSP)
			// other [1] IMPLICIT OtherRevocationInfoFormat (RFC 5652, 10.2.1).
			choice := cms.Encode(cms.ClassContext, 1, true, append(oid, o...))
			if !hasRaw(s.crls, choice) {
				s.crls = append(s.crls, choice)
			}
		}
	}
	return nil
}

// addArchiveTimestamp adds an archive-time-stamp-v3 with its
// ats-hash-index-v3 (EN 319 122-1, 5.5.2 and 5.5.3): level B-LTA.
func (s *signature) addArchiveTimestamp(ctx context.Context) error {
	sd, err := cms.ParseContentInfo(s.encode(nil))
	if err != nil {
		return fmt.Errorf("cades: re-reading the signature: %w", err)
	}
	si := &sd.SignerInfos[0]
	h := s.opts.Hash
	index, err := cms.BuildATSHashIndexV3(h, sd, si)
	if err != nil {
		return err
	}
	imprint := cms.ArchiveImprint(h, sd, si, s.digest, index)
	tok, err := s.opts.Timestamper.Timestamp(ctx, imprint, h)
	if err != nil {
		return fmt.Errorf("cades: archive time stamp: %w", err)
	}
	tok, err = cms.AddUnsignedAttribute(tok, 0, cms.EncodeAttribute(cms.OIDAttrATSHashIndexV3, index))
	if err != nil {
		return fmt.Errorf("cades: archive time stamp: %w", err)
	}
	s.signerInfo.unsigned = append(s.signerInfo.unsigned, cms.EncodeAttribute(cms.OIDAttrArchiveTimestampV3, tok))
	return nil
}

func (s *signature) pool() []*x509.Certificate {
	out := []*x509.Certificate{s.opts.Certificate}
	for _, c := range s.opts.Chain {
		out = appendUnique(out, c)
	}
	return out
}

func tokenOf(attr []byte) (*cms.Token, error) {
	e, err := cms.ParseOne(attr)
	if err != nil {
		return nil, err
	}
	f, err := e.Children()
	if err != nil || len(f) != 2 {
		return nil, fmt.Errorf("malformed attribute")
	}
	vals, err := f[1].Children()
	if err != nil || len(vals) != 1 {
		return nil, fmt.Errorf("not a single-valued attribute")
	}
	return cms.ParseToken(vals[0].Raw)
}

func issuerOf(c *x509.Certificate, pool []*x509.Certificate) *x509.Certificate {
	for _, p := range pool {
		if bytes.Equal(p.RawSubject, c.RawIssuer) && cms.CheckCertificateSignature(c, p) == nil {
			return p
		}
	}
	return nil
}

func appendUnique(list []*x509.Certificate, c *x509.Certificate) []*x509.Certificate {
	for _, x := range list {
		if x.Equal(c) {
			return list
		}
	}
	return append(list, c)
}

func hasRaw(list [][]byte, b []byte) bool {
	for _, x := range list {
		if bytes.Equal(x, b) {
			return true
		}
	}
	return false
}

func hasNoCheck(c *x509.Certificate) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(oidOCSPNoCheck) {
			return true
		}
	}
	return false
}
