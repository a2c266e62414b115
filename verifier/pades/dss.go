package pades

import (
	"crypto/x509"
	"fmt"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"esig/internal/cms"
	"esig/verifier/revocation"
)

// maxDSSItems bounds the streams read from a DSS.
const maxDSSItems = 10000

// validationData is what a Document Security Store holds (ETSI EN 319
// 142-1, 5.4.2): certificates, CRLs and OCSP responses, for every
// signature of the document, and per signature in VRI dictionaries keyed
// by the SHA-1 of the signature value.
type validationData struct {
	certs    []*x509.Certificate
	crls     [][]byte
	ocsps    [][]byte
	warnings []string
	// revocation is true when the DSS holds any CRL or OCSP response.
	revocation bool
}

// readDSS collects the DSS of a revision. Everything in it is offered to
// the engine as untrusted material: certificates only help build paths to
// the configured anchors, revocation data is checked like any other.
func readDSS(ctx *model.Context) *validationData {
	v := &validationData{}
	root, err := ctx.Catalog()
	if err != nil || root == nil {
		return v
	}
	w := &walker{ctx: ctx, visited: map[int]bool{}}
	dss, _ := w.dict(root["DSS"])
	if dss == nil {
		return v
	}
	seen := map[int]bool{}
	count := 0
	streams := func(o types.Object, each func([]byte)) {
		arr, _ := w.array(o)
		for _, item := range arr {
			ref, ok := item.(types.IndirectRef)
			if !ok || seen[ref.ObjectNumber.Value()] || count >= maxDSSItems {
				continue
			}
			seen[ref.ObjectNumber.Value()] = true
			count++
			b, err := streamContent(ctx, ref)
			if err != nil {
				v.warnings = append(v.warnings, fmt.Sprintf("DSS stream %d cannot be read: %v", ref.ObjectNumber.Value(), err))
				continue
			}
			each(b)
		}
	}
	addCert := func(b []byte) {
		c, err := x509.ParseCertificate(b)
		if err != nil {
			v.warnings = append(v.warnings, fmt.Sprintf("a certificate in the DSS cannot be parsed: %v", err))
			return
		}
		v.certs = append(v.certs, c)
	}
	addCRL := func(b []byte) { v.crls = append(v.crls, b); v.revocation = true }
	addOCSP := func(b []byte) { v.ocsps = append(v.ocsps, b); v.revocation = true }
	streams(dss["Certs"], addCert)
	streams(dss["CRLs"], addCRL)
	streams(dss["OCSPs"], addOCSP)
	vris, _ := w.dict(dss["VRI"])
	for _, o := range vris {
		entry, _ := w.dict(o)
		streams(entry["Cert"], addCert)
		streams(entry["CRL"], addCRL)
		streams(entry["OCSP"], addOCSP)
	}
	return v
}

// streamContent returns the decoded content of a stream object.
func streamContent(ctx *model.Context, ref types.IndirectRef) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("pdfcpu: %v", r)
		}
	}()
	sd, _, err := ctx.DereferenceStreamDict(ref)
	if err != nil {
		return nil, err
	}
	if sd == nil {
		return nil, fmt.Errorf("object %d is not a stream", ref.ObjectNumber.Value())
	}
	if sd.Content == nil {
		if err := sd.Decode(); err != nil {
			return nil, err
		}
	}
	return sd.Content, nil
}

// archivalRevocation reads Adobe's adbe-revocationInfoArchival signed
// attribute (1.2.840.113583.1.1.8), where Acrobat puts the CRLs and OCSP
// responses it had when signing: RevocationInfoArchival ::= SEQUENCE {
// crl [0] EXPLICIT SEQUENCE OF CRLs, ocsp [1] EXPLICIT SEQUENCE OF
// OCSPResponse, otherRevInfo [2] ... }, each part optional.
func archivalRevocation(si *cms.SignerInfo) (crls, ocsps [][]byte) {
	for _, a := range si.SignedAttrs.All(oidAdbeRevocationArchival) {
		for _, v := range a.Values {
			parts, err := v.Children()
			if err != nil {
				continue
			}
			for _, p := range parts {
				inner, err := p.Children()
				if err != nil || len(inner) != 1 {
					continue
				}
				items, err := inner[0].Children()
				if err != nil {
					continue
				}
				for _, it := range items {
					der, err := it.ToDER()
					if err != nil {
						continue
					}
					switch {
					case p.Is(cms.ClassContext, 0):
						crls = append(crls, der)
					case p.Is(cms.ClassContext, 1):
						ocsps = append(ocsps, der)
					}
				}
			}
		}
	}
	return crls, ocsps
}

// wrapOCSP accepts an OCSPResponse or a bare BasicOCSPResponse (some
// signers store the latter) and returns an OCSPResponse.
func wrapOCSP(der []byte) []byte {
	if _, err := revocation.ParseOCSPResponse(der); err == nil {
		return der
	}
	return revocation.WrapBasic(der)
}
