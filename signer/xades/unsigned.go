package xades

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/beevik/etree"

	"esig/internal/cms"
	"esig/internal/xmldsig"
	"esig/internal/xmldsig/c14n"
	"esig/internal/xmldsig/xmlns"
	"esig/signer"
	vxades "esig/verifier/xades"
)

// upgrader adds unsigned properties to a serialized B-B signature. Each
// step parses the current document afresh with the verifier's parser,
// computes what to time-stamp with the verifier's functions, adds the
// property and serializes again, so every imprint is computed over exactly
// the bytes a verifier will read.
type upgrader struct {
	opts     *Options
	detached xmldsig.DetachedContent
	data     []byte
}

// open parses the current document and processes its signature.
func (u *upgrader) open() (*xmldsig.Document, *xmldsig.Signature, error) {
	doc, err := xmldsig.Parse(u.data, xmldsig.Limits{})
	if err != nil {
		return nil, nil, fmt.Errorf("xades: re-reading the signature: %w", err)
	}
	sigs, err := doc.Verify(xmldsig.VerifyOptions{Detached: u.detached})
	if err != nil {
		return nil, nil, err
	}
	for _, s := range sigs {
		if s.ID == u.opts.ID {
			if err := s.Problem(); err != nil {
				return nil, nil, fmt.Errorf("xades: re-reading the signature: %w", err)
			}
			return doc, s, nil
		}
	}
	return nil, nil, errors.New("xades: the new signature is not in the document")
}

// unsignedSignatureProperties returns (creating it and UnsignedProperties
// if needed) the UnsignedSignatureProperties of the signature.
func unsignedSignatureProperties(s *xmldsig.Signature) (*etree.Element, error) {
	for _, o := range s.Objects {
		for _, qp := range o.ChildElements() {
			if !xmlns.Is(qp, vxades.Namespace132, "QualifyingProperties") {
				continue
			}
			up := childNS(qp, vxades.Namespace132, "UnsignedProperties")
			if up == nil {
				up = qp.CreateElement("xades:UnsignedProperties")
			}
			usp := childNS(up, vxades.Namespace132, "UnsignedSignatureProperties")
			if usp == nil {
				usp = up.CreateElement("xades:UnsignedSignatureProperties")
			}
			return usp, nil
		}
	}
	return nil, errors.New("xades: the signature has no QualifyingProperties")
}

func childNS(e *etree.Element, ns, local string) *etree.Element {
	for _, c := range e.ChildElements() {
		if xmlns.Is(c, ns, local) {
			return c
		}
	}
	return nil
}

// commit serializes the modified document as the new current one.
func (u *upgrader) commit(doc *xmldsig.Document) error {
	out, err := xmldsig.Serialize(doc.Tree())
	if err != nil {
		return err
	}
	u.data = out
	return nil
}

// timestamp obtains a token over data and writes the XAdESTimeStampType
// content (explicit canonicalization, then the token) into el.
func (u *upgrader) timestamp(ctx context.Context, el *etree.Element, data []byte) error {
	h := u.opts.Hash.New()
	h.Write(data)
	tok, err := u.opts.Timestamper.Timestamp(ctx, h.Sum(nil), u.opts.Hash)
	if err != nil {
		return err
	}
	el.CreateElement("ds:CanonicalizationMethod").CreateAttr("Algorithm", c14n.ExcC14N)
	et := el.CreateElement("xades:EncapsulatedTimeStamp")
	et.SetText(wrap76(base64.StdEncoding.EncodeToString(tok)))
	return nil
}

// signatureTimestamp adds a SignatureTimeStamp over the canonicalized
// ds:SignatureValue (EN 319 132-1, 5.3): level B-T.
func (u *upgrader) signatureTimestamp(ctx context.Context) error {
	doc, s, err := u.open()
	if err != nil {
		return err
	}
	data, err := vxades.SignatureTimestampData(s, c14n.ExcC14N, nil)
	if err != nil {
		return err
	}
	usp, err := unsignedSignatureProperties(s)
	if err != nil {
		return err
	}
	ts := usp.CreateElement("xades:SignatureTimeStamp")
	ts.CreateAttr("Id", "ts-"+u.opts.ID)
	if err := u.timestamp(ctx, ts, data); err != nil {
		return fmt.Errorf("xades: signature time stamp: %w", err)
	}
	return u.commit(doc)
}

// validationData adds CertificateValues and RevocationValues (EN 319
// 132-1, 5.4.1 and 5.4.2) with every certificate of the signer's and the
// TSA's chains that KeyInfo lacks, and revocation data for each
// certificate that needs it: level B-LT.
func (u *upgrader) validationData(ctx context.Context) error {
	doc, s, err := u.open()
	if err != nil {
		return err
	}
	o := u.opts
	certs := append([]*x509.Certificate{o.Certificate}, o.Chain...)
	usp, err := unsignedSignatureProperties(s)
	if err != nil {
		return err
	}
	for _, et := range usp.FindElements(".//EncapsulatedTimeStamp") {
		der, err := base64.StdEncoding.DecodeString(stripSpace(et.Text()))
		if err != nil {
			return err
		}
		tok, err := cms.ParseToken(der)
		if err != nil {
			return fmt.Errorf("xades: re-reading a time stamp: %w", err)
		}
		certs = append(certs, tok.SignedData.X509Certificates()...)
	}
	v, err := signer.CollectValidation(ctx, certs, o.Validation)
	if err != nil {
		return fmt.Errorf("xades: %w", err)
	}
	pool, crls, ocsps := v.Certificates, v.CRLs, v.OCSPs
	cv := usp.CreateElement("xades:CertificateValues")
	for _, c := range pool {
		if inKeyInfo(s, c) {
			continue
		}
		cv.CreateElement("xades:EncapsulatedX509Certificate").SetText(wrap76(base64.StdEncoding.EncodeToString(c.Raw)))
	}
	rv := usp.CreateElement("xades:RevocationValues")
	if len(crls) > 0 {
		g := rv.CreateElement("xades:CRLValues")
		for _, l := range crls {
			g.CreateElement("xades:EncapsulatedCRLValue").SetText(wrap76(base64.StdEncoding.EncodeToString(l)))
		}
	}
	if len(ocsps) > 0 {
		g := rv.CreateElement("xades:OCSPValues")
		for _, r := range ocsps {
			g.CreateElement("xades:EncapsulatedOCSPValue").SetText(wrap76(base64.StdEncoding.EncodeToString(r)))
		}
	}
	return u.commit(doc)
}

// archiveTimestamp adds a xadesv141:ArchiveTimeStamp over the signature,
// its data and every unsigned property so far (EN 319 132-1, 5.5.2):
// level B-LTA.
func (u *upgrader) archiveTimestamp(ctx context.Context) error {
	doc, s, err := u.open()
	if err != nil {
		return err
	}
	data, err := vxades.ArchiveTimestampData(s, c14n.ExcC14N, nil)
	if err != nil {
		return err
	}
	usp, err := unsignedSignatureProperties(s)
	if err != nil {
		return err
	}
	ats := usp.CreateElement("xadesv141:ArchiveTimeStamp")
	ats.CreateAttr("xmlns:xadesv141", vxades.Namespace141)
	ats.CreateAttr("Id", "ats-"+u.opts.ID)
	if err := u.timestamp(ctx, ats, data); err != nil {
		return fmt.Errorf("xades: archive time stamp: %w", err)
	}
	return u.commit(doc)
}

func stripSpace(s string) string {
	return string(bytes.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, []byte(s)))
}

func inKeyInfo(s *xmldsig.Signature, c *x509.Certificate) bool {
	for _, k := range s.Certificates {
		if k.Equal(c) {
			return true
		}
	}
	return false
}
