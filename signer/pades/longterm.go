package pades

import (
	"context"
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"esig/internal/cms"
	"esig/signer"
	"esig/verifier/revocation"
)

// addDSS appends an update with the Document Security Store (ETSI EN 319
// 142-1, 5.4.2): every certificate of the signer's and the time-stamp
// authorities' chains, and revocation data for each that needs it, as
// streams in the DSS's Certs, CRLs and OCSPs arrays, and a VRI entry for
// the signature naming what validates it (keyed by VRIKey over the
// Contents string of reserved bytes). That makes the signature B-LT.
func addDSS(ctx context.Context, pdf, sigCMS []byte, reserved int, o Options) ([]byte, error) {
	certs := append([]*x509.Certificate{o.Certificate}, o.Chain...)
	sd, err := cms.ParseContentInfo(sigCMS)
	if err != nil {
		return nil, fmt.Errorf("pades: re-reading the signature: %w", err)
	}
	for _, a := range sd.SignerInfos[0].UnsignedAttrs.All(cms.OIDAttrSignatureTimestamp) {
		for _, v := range a.Values {
			if tok, err := cms.ParseToken(v.Raw); err == nil {
				certs = append(certs, tok.SignedData.X509Certificates()...)
			}
		}
	}
	v, err := signer.CollectValidation(ctx, certs, o.Validation)
	if err != nil {
		return nil, fmt.Errorf("pades: %w", err)
	}
	pool, crls, ocsps := v.Certificates, v.CRLs, v.OCSPs
	// OCSP responses name their responder, whose certificate may not be in
	// the chain yet: carry it too so the response can be checked offline.
	for _, o := range ocsps {
		for _, c := range ocspCertificates(o) {
			pool = signer.AppendCertificate(pool, c)
		}
	}

	inc, err := readIncrement(pdf)
	if err != nil {
		return nil, err
	}
	root, rootNr, err := inc.root()
	if err != nil {
		return nil, err
	}
	streams := func(items [][]byte) (types.Array, error) {
		var a types.Array
		for _, b := range items {
			s, err := inc.ctx.NewStreamDictForBuf(b)
			if err != nil {
				return nil, err
			}
			if err := s.Encode(); err != nil {
				return nil, err
			}
			a = append(a, inc.add(*s))
		}
		return a, nil
	}
	var certDER [][]byte
	for _, c := range pool {
		certDER = append(certDER, c.Raw)
	}
	certArr, err := streams(certDER)
	if err != nil {
		return nil, err
	}
	crlArr, err := streams(crls)
	if err != nil {
		return nil, err
	}
	ocspArr, err := streams(ocsps)
	if err != nil {
		return nil, err
	}
	dss, err := inc.dictIn(root, rootNr, "DSS")
	if err != nil {
		return nil, err
	}
	dssNr := rootNr
	if r, ok := root["DSS"].(types.IndirectRef); ok {
		dssNr = r.ObjectNumber.Value()
	}
	vri := types.Dict{"Type": types.Name("VRI")}
	for key, arr := range map[string]types.Array{"Certs": certArr, "CRLs": crlArr, "OCSPs": ocspArr} {
		if len(arr) == 0 {
			continue
		}
		for _, r := range arr {
			if err := inc.appendTo(dss, dssNr, key, r); err != nil {
				return nil, err
			}
		}
		vri[strings.TrimSuffix(key, "s")] = arr
	}
	vris, err := inc.dictIn(dss, dssNr, "VRI")
	if err != nil {
		return nil, err
	}
	vris[VRIKey(sigCMS, reserved)] = inc.add(vri)
	out, _, err := inc.write()
	return out, err
}

// VRIKey is the key of a signature's VRI dictionary (ETSI EN 319 142-1,
// 5.4.2.2): the upper-case hexadecimal SHA-1 of the signature, the value of
// its Contents string. reserved is the length of that string, whose unused
// tail is zeros; 0 means the CMS fills it exactly.
func VRIKey(sigCMS []byte, reserved int) string {
	b := sigCMS
	if reserved > len(b) {
		b = append(append([]byte(nil), b...), make([]byte, reserved-len(b))...)
	}
	sum := sha1.Sum(b)
	return strings.ToUpper(fmt.Sprintf("%x", sum[:]))
}

// AddDocumentTimestamp appends an update with a document time stamp
// (ETSI EN 319 142-1, 5.4.3): a signature field whose value is a
// DocTimeStamp dictionary with SubFilter ETSI.RFC3161 and, in Contents, an
// RFC 3161 token over the ByteRange (SHA-256 when h is 0). Over a DSS it
// makes the signatures before it B-LTA; over a B-LTA document it renews
// the archive time stamp before the last one's TSA certificate expires.
func AddDocumentTimestamp(ctx context.Context, pdf []byte, h crypto.Hash, tsa Timestamper) ([]byte, error) {
	if h == 0 {
		h = crypto.SHA256
	}
	reserve := 12288
	for attempt := 0; ; attempt++ {
		inc, err := readIncrement(pdf)
		if err != nil {
			return nil, err
		}
		dts := types.Dict{
			"Type":      types.Name("DocTimeStamp"),
			"Filter":    types.Name("Adobe.PPKLite"),
			"SubFilter": types.Name("ETSI.RFC3161"),
			"ByteRange": types.Array{types.Integer(0), types.Integer(0), types.Integer(0), types.Integer(0)},
			"Contents":  types.HexLiteral(zeros(2 * reserve)),
		}
		if err := addSignatureField(inc, dts, "", nil, nil); err != nil {
			return nil, err
		}
		out, ph, err := inc.write()
		if err != nil {
			return nil, err
		}
		err = seal(out, ph, func(signed [][]byte) ([]byte, error) {
			d := h.New()
			for _, b := range signed {
				d.Write(b)
			}
			tok, err := tsa.Timestamp(ctx, d.Sum(nil), h)
			if err != nil {
				return nil, fmt.Errorf("pades: document time stamp: %w", err)
			}
			return tok, nil
		})
		if re, ok := err.(*reserveError); ok && attempt == 0 {
			reserve = re.need + 2048
			continue
		}
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}

// ocspCertificates returns the certificates an OCSP response carries (its
// responder's, for a delegated responder).
func ocspCertificates(der []byte) []*x509.Certificate {
	r, err := revocation.ParseOCSPResponse(der)
	if err != nil {
		return nil
	}
	return r.Certificates
}
