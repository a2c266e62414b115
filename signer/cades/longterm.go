package cades

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"fmt"

	"esig/internal/cms"
	"esig/signer"
)

// addValidationData makes a B-LT signature: every certificate of the
// signer's and the TSA's chains in SignedData.certificates, and revocation
// data for each certificate that needs it in SignedData.crls, OCSP
// responses as id-ri-ocsp-response (EN 319 122-2, 6.3 level LT; RFC 5940).
func (s *signature) addValidationData(ctx context.Context) error {
	certs := append([]*x509.Certificate{s.opts.Certificate}, s.opts.Chain...)
	for _, a := range s.signerInfo.unsigned {
		if tok, err := tokenOf(a); err == nil {
			certs = append(certs, tok.SignedData.X509Certificates()...)
		}
	}
	v, err := signer.CollectValidation(ctx, certs, s.opts.Validation)
	if err != nil {
		return fmt.Errorf("cades: %w", err)
	}
	for _, c := range v.Certificates {
		if !hasRaw(s.certs, c.Raw) {
			s.certs = append(s.certs, c.Raw)
		}
	}
	for _, l := range v.CRLs {
		if !hasRaw(s.crls, l) {
			s.crls = append(s.crls, l)
		}
	}
	oid, _ := asn1.Marshal(cms.OIDRevocationInfoOCSP)
	for _, o := range v.OCSPs {
		// other [1] IMPLICIT OtherRevocationInfoFormat (RFC 5652, 10.2.1).
		choice := cms.Encode(cms.ClassContext, 1, true, append(append([]byte{}, oid...), o...))
		if !hasRaw(s.crls, choice) {
			s.crls = append(s.crls, choice)
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

func hasRaw(list [][]byte, b []byte) bool {
	for _, x := range list {
		if bytes.Equal(x, b) {
			return true
		}
	}
	return false
}
