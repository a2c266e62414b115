package xades

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"io"

	"github.com/beevik/etree"

	"esig/internal/xmldsig"
	"esig/internal/xmldsig/xmlns"
	"esig/verifier"
	"esig/verifier/report"
	"esig/verifier/revocation"
)

// unsigned reads the unsigned signature properties: time stamps with their
// message imprints, validation data and counter-signatures. It returns the
// baseline level the signature reaches. An unsigned property that cannot
// be read is ignored with a warning: nobody signed it, so it can only fail
// to prove something, never make the signature bad.
func (b *sigBuilder) unsigned() Level {
	level := LevelB
	if b.usp == nil {
		return level
	}
	var sigTS, values, archive bool
	s, qpObj, usp := b.s, b.qpObj, b.usp
	nCounter := 0
	for _, p := range usp.ChildElements() {
		ns := xmlns.ElementURI(p)
		switch {
		case isXAdES(p, "SignatureTimeStamp"):
			t, err := readTimestampProperty(p)
			if err != nil {
				b.warn("signature time stamp ignored: %v", err)
				continue
			}
			b.xmlTimestamps(t)
			for _, tok := range t.tokens {
				sigTS = true
				b.in.Timestamps = append(b.in.Timestamps, verifier.TimestampInput{Type: report.SignatureTimestamp, Token: tok,
					Imprint: imprint(func(w io.Writer) error { return signatureTimestampData(w, s, t.c14n, t.prefixes) })})
			}
		case isXAdES(p, "ArchiveTimeStamp"):
			t, err := readTimestampProperty(p)
			if err != nil {
				b.warn("archive time stamp ignored: %v", err)
				continue
			}
			if len(t.includes) > 0 {
				b.warn("%s: an archive time stamp of the distributed case (Include) is not evaluated", xmldsig.Where(p))
				continue
			}
			b.xmlTimestamps(t)
			v141, before := ns == Namespace141, p
			if !v141 {
				b.warn("%s: archive time stamp of the superseded TS 101 903 form (namespace %s)", xmldsig.Where(p), ns)
			}
			for _, tok := range t.tokens {
				archive = true
				b.in.Timestamps = append(b.in.Timestamps, verifier.TimestampInput{Type: report.ArchiveTimestamp, Token: tok,
					Imprint: imprint(func(w io.Writer) error {
						return archiveTimestampData(w, s, qpObj, usp, before, v141, t.c14n, t.prefixes)
					})})
			}
		case isXAdES(p, "CertificateValues"), isXAdES(p, "AttrAuthoritiesCertValues"):
			values = true
			b.certificateValues(p)
		case isXAdES(p, "RevocationValues"), isXAdES(p, "AttributeRevocationValues"):
			values = true
			b.revocationValues(p)
		case isXAdES(p, "TimeStampValidationData"):
			for _, c := range p.ChildElements() {
				switch {
				case isXAdES(c, "CertificateValues"):
					b.certificateValues(c)
				case isXAdES(c, "RevocationValues"):
					b.revocationValues(c)
				}
			}
		case isXAdES(p, "CounterSignature"):
			for _, cs := range p.ChildElements() {
				nCounter++
				b.counterSignature(cs, nCounter)
			}
		case isXAdES(p, "SigAndRefsTimeStamp"), isXAdES(p, "SigAndRefsTimeStampV2"),
			isXAdES(p, "RefsOnlyTimeStamp"), isXAdES(p, "RefsOnlyTimeStampV2"):
			b.warn("%s: XAdES-X time stamp not evaluated (a superseded form; it proves nothing here)", p.FullTag())
		case isXAdES(p, "CompleteCertificateRefs"), isXAdES(p, "CompleteCertificateRefsV2"),
			isXAdES(p, "CompleteRevocationRefs"), isXAdES(p, "AttributeCertificateRefs"),
			isXAdES(p, "AttributeCertificateRefsV2"), isXAdES(p, "AttributeRevocationRefs"):
			// References to validation data, not the data: nothing to use.
		default:
			b.warn("unsigned property %s not evaluated", p.FullTag())
		}
	}
	if sigTS {
		level = LevelT
		if values {
			level = LevelLT
			if archive {
				level = LevelLTA
			}
		}
	}
	return level
}

// certificateValues adds the EncapsulatedX509Certificate values (EN 319
// 132-1, 5.4.1).
func (b *sigBuilder) certificateValues(p *etree.Element) {
	for _, c := range p.ChildElements() {
		if !isXAdES(c, "EncapsulatedX509Certificate") {
			continue
		}
		der, err := decodeBase64(xmldsig.TextContent(c))
		if err != nil {
			b.warn("%s: not base64; ignored", xmldsig.Where(c))
			continue
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			b.warn("%s: certificate ignored: %v", xmldsig.Where(c), err)
			continue
		}
		b.addCertificates(cert)
	}
}

// revocationValues adds the CRL and OCSP values (EN 319 132-1, 5.4.2).
// EncapsulatedOCSPValue holds an OCSPResponse; some signers put the
// BasicOCSPResponse there, which is wrapped to the same form.
func (b *sigBuilder) revocationValues(p *etree.Element) {
	for _, group := range p.ChildElements() {
		for _, v := range group.ChildElements() {
			der, err := decodeBase64(xmldsig.TextContent(v))
			if err != nil {
				b.warn("%s: not base64; ignored", xmldsig.Where(v))
				continue
			}
			switch {
			case isXAdES(v, "EncapsulatedCRLValue"):
				b.in.CRLs = append(b.in.CRLs, der)
			case isXAdES(v, "EncapsulatedOCSPValue"):
				if isBasicOCSPResponse(der) {
					der = revocation.WrapBasic(der)
				}
				b.in.OCSPResponses = append(b.in.OCSPResponses, der)
			}
		}
	}
}

// isBasicOCSPResponse tells a BasicOCSPResponse (whose first field is the
// tbsResponseData SEQUENCE) from an OCSPResponse (an ENUMERATED status).
func isBasicOCSPResponse(der []byte) bool {
	var outer asn1.RawValue
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		return false
	}
	var first asn1.RawValue
	if _, err := asn1.Unmarshal(outer.Bytes, &first); err != nil {
		return false
	}
	return first.Class == asn1.ClassUniversal && first.Tag == asn1.TagSequence
}

// counterSignature builds a XAdES counter-signature (EN 319 132-1, 5.2.7):
// a ds:Signature one of whose References covers this signature's
// ds:SignatureValue.
func (b *sigBuilder) counterSignature(el *etree.Element, n int) {
	id := fmt.Sprintf("%s-C%d", b.in.ID, n)
	cs := b.v.byElement[el]
	if !isDSig(el, "Signature") || cs == nil {
		out := &Signature{Element: el, input: &verifier.Input{ID: id, Format: "XMLDSig countersignature",
			FormatError: fmt.Errorf("%s: CounterSignature holds no ds:Signature", xmldsig.Where(el))}}
		b.out.CounterSignatures = append(b.out.CounterSignatures, out)
		return
	}
	b.v.consumed[el] = true
	if b.depth >= maxCounterSignatureDepth {
		out := &Signature{Element: el, input: &verifier.Input{ID: id, Format: "XMLDSig countersignature",
			FormatError: fmt.Errorf("counter-signatures nested more than %d deep", maxCounterSignatureDepth)}}
		b.out.CounterSignatures = append(b.out.CounterSignatures, out)
		return
	}
	out := b.v.build(cs, id, b.depth+1)
	sv := b.s.SignatureValueElement()
	found := false
	for _, r := range cs.References {
		if r.Content != nil && sv != nil && r.Content.Element() == sv {
			found = true
			if r.Type != CountersignedSignatureType {
				out.input.Warnings = append(out.input.Warnings, fmt.Sprintf("the Reference to the countersigned SignatureValue has Type %q, not %s", r.Type, CountersignedSignatureType))
			}
		}
	}
	if !found && out.input.FormatError == nil {
		out.input.FormatError = fmt.Errorf("the counter-signature %s covers no ds:SignatureValue of the signature it is in (%s)", xmldsig.Where(el), xmldsig.Where(b.s.Element()))
	}
	b.out.CounterSignatures = append(b.out.CounterSignatures, out)
}
