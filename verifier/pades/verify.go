package pades

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"sort"
	"strings"

	"esig/internal/cms"
	"esig/verifier"
	"esig/verifier/report"
)

// oidAdbeRevocationArchival is Adobe's adbe-revocationInfoArchival.
var oidAdbeRevocationArchival = []int{1, 2, 840, 113583, 1, 1, 8}

// Verified is one signature with what the PDF layer established about it.
type Verified struct {
	Report *report.Signature
	// Signature is the dictionary as the signed revision holds it.
	Signature *Signature
	// Certificate is the signing certificate the engine identified.
	Certificate *x509.Certificate
}

// Result is the report and the signatures behind it, in the report's order.
type Result struct {
	Report     *report.Report
	Signatures []*Verified
}

// Verify validates every signature of a PDF. A file that is not a PDF, or
// that pdfcpu cannot read, yields one TOTAL-FAILED/FORMAT_FAILURE
// signature; a PDF without signatures yields none (NO_SIGNATURE_FOUND).
// Document time stamps are not reported as signatures: each counts as a
// time stamp of the signatures it covers.
func Verify(ctx context.Context, eng *verifier.Engine, data []byte) (res *Result) {
	res = &Result{Report: &report.Report{ValidationTime: eng.ValidationTime().UTC()}}
	defer res.Report.Finish()
	defer func() {
		// pdfcpu is hardened, but a panic on a crafted file must still end
		// in a verdict, and the file proves nothing then.
		if r := recover(); r != nil {
			rep := eng.Validate(ctx, &verifier.Input{ID: "S1", Format: "PAdES", FormatError: fmt.Errorf("the PDF could not be processed: %v", r)})
			res.Report.Signatures = []*report.Signature{rep}
			res.Signatures = []*Verified{{Report: rep}}
		}
	}()
	doc, err := Locate(data)
	if err != nil {
		rep := eng.Validate(ctx, &verifier.Input{ID: "S1", Format: "PAdES", FormatError: err})
		res.Report.Signatures = append(res.Report.Signatures, rep)
		res.Signatures = append(res.Signatures, &Verified{Report: rep})
		return res
	}
	final, _ := doc.final.context(data)
	dss := readDSS(final)
	docWarnings := doc.warnings()
	n := 0
	for _, s := range doc.Signatures {
		if s.Kind == KindDocTimestamp {
			continue
		}
		n++
		in := doc.input(s, fmt.Sprintf("S%d", n), dss)
		in.Warnings = append(in.Warnings, docWarnings...)
		rep, cert := eng.ValidateSigner(ctx, in)
		doc.judgeChanges(s, rep)
		res.Report.Signatures = append(res.Report.Signatures, rep)
		res.Signatures = append(res.Signatures, &Verified{Report: rep, Signature: s, Certificate: cert})
	}
	return res
}

// warnings are remarks about the file as a whole, repeated on every
// signature since the report has no place for the document.
func (d *Document) warnings() []string {
	var out []string
	if d.Trailing > 0 {
		out = append(out, fmt.Sprintf("%d bytes after the last %%%%EOF are not part of any revision; no signature covers them", d.Trailing))
	}
	for _, s := range d.Signatures {
		if s.Kind == KindDocTimestamp && s.Err != nil {
			out = append(out, fmt.Sprintf("document time stamp %q is unsound and proves nothing: %v", s.Field, s.Err))
		}
	}
	return out
}

// digest hashes what a sound ByteRange covers.
func (d *Document) digest(s *Signature, h crypto.Hash) ([]byte, error) {
	if s.Err != nil {
		return nil, s.Err
	}
	if !h.Available() {
		return nil, fmt.Errorf("hash %v unavailable", h)
	}
	w := h.New()
	br := s.ByteRange
	w.Write(d.data[br[0] : br[0]+br[1]])
	w.Write(d.data[br[2] : br[2]+br[3]])
	return w.Sum(nil), nil
}

// input builds the engine's view of one signature.
func (d *Document) input(s *Signature, id string, dss *validationData) *verifier.Input {
	in := &verifier.Input{ID: id, Format: "PAdES", Warnings: append([]string(nil), s.Warnings...)}
	in.SignedObjects = []report.SignedObject{{Reference: d.describe(s)}}
	in.Certificates = append(in.Certificates, dss.certs...)
	in.CRLs = append(in.CRLs, dss.crls...)
	for _, o := range dss.ocsps {
		in.OCSPResponses = append(in.OCSPResponses, wrapOCSP(o))
	}
	in.Warnings = append(in.Warnings, dss.warnings...)
	if s.M != nil {
		t := *s.M
		in.ClaimedSigningTime = &t
	}
	if s.Err != nil {
		in.FormatError = s.Err
		return in
	}
	switch s.SubFilter {
	case "ETSI.CAdES.detached", "adbe.pkcs7.detached":
	case "adbe.pkcs7.sha1", "adbe.x509.rsa_sha1":
		in.FormatError = fmt.Errorf("SubFilter %s is not supported: it is deprecated (ISO 32000-2, 12.8.3) and not a PAdES form", s.SubFilter)
		return in
	default:
		in.FormatError = fmt.Errorf("SubFilter %q is not a signature format esig knows", s.SubFilter)
		return in
	}
	sd, err := cms.ParseContentInfo(s.Contents)
	if err != nil {
		in.FormatError = fmt.Errorf("the signature's Contents: %w", err)
		return in
	}
	if len(sd.SignerInfos) != 1 {
		in.FormatError = fmt.Errorf("the signature's CMS has %d SignerInfos; a PDF signature has exactly one (ISO 32000-1, 12.8.3.3.1)", len(sd.SignerInfos))
		return in
	}
	if sd.HasContent {
		in.FormatError = errors.New("the signature's CMS encapsulates content; a PDF signature is detached (ISO 32000-1, 12.8.3.3.1)")
		return in
	}
	si := &sd.SignerInfos[0]
	in.Format = d.format(s, sd, si)
	if s.SubFilter == "ETSI.CAdES.detached" && !strings.HasPrefix(in.Format, "PAdES") {
		in.Warnings = append(in.Warnings, "SubFilter ETSI.CAdES.detached without a signing-certificate(-v2) attribute is not a PAdES baseline signature (ETSI EN 319 142-1, 6.3)")
	}
	in.SignerID, in.SignerIDText, in.DigestAlgorithm = si.SID.Matches, si.SID.String(), si.Hash()
	in.SignedObjects[0].DigestAlgorithm = cms.HashName(si.Hash())
	for _, c := range sd.Certificates {
		if c.Certificate != nil {
			in.Certificates = append(in.Certificates, c.Certificate)
		}
	}
	for _, r := range sd.CRLs {
		switch r.Kind {
		case cms.RevocationCRL:
			in.CRLs = append(in.CRLs, r.Data)
		case cms.RevocationOCSP:
			in.OCSPResponses = append(in.OCSPResponses, r.Data)
		}
	}
	crls, ocsps := archivalRevocation(si)
	in.CRLs = append(in.CRLs, crls...)
	for _, o := range ocsps {
		in.OCSPResponses = append(in.OCSPResponses, wrapOCSP(o))
	}
	if si.Hash() == 0 {
		in.FormatError = fmt.Errorf("SignerInfo.digestAlgorithm %v is not supported", si.DigestAlgorithm.Algorithm)
		return in
	}
	if in.SigningCertRefs, err = si.SigningCertificateRefs(); err != nil {
		in.FormatError = fmt.Errorf("signing-certificate attribute: %w", err)
		return in
	}
	claimed, err := si.SigningTime()
	if err != nil {
		in.FormatError = err
		return in
	}
	if claimed != nil {
		in.ClaimedSigningTime = claimed
		if s.SubFilter == "ETSI.CAdES.detached" {
			in.Warnings = append(in.Warnings, "the CMS carries a signing-time attribute, which PAdES baseline signatures must not (ETSI EN 319 142-1, 6.3): the M entry holds the claimed time")
		}
	}
	digest, err := d.digest(s, si.Hash())
	if err != nil {
		in.FormatError = err
		return in
	}
	if err := si.CheckAttributes(sd.ContentType, digest); err != nil {
		if errors.Is(err, cms.ErrMessageDigest) {
			in.HashError = fmt.Errorf("the bytes the ByteRange covers do not match the signed message-digest: %w", err)
		} else {
			in.FormatError = err
		}
		return in
	}
	in.VerifySignature = func(pub crypto.PublicKey) (cms.SignatureAlgorithm, error) {
		return si.VerifySignature(pub, digest)
	}
	in.Timestamps = d.timestamps(s, sd, si, digest)
	return in
}

// describe names what a signature covers for the report.
func (d *Document) describe(s *Signature) string {
	what := fmt.Sprintf("field %q", s.Field)
	if len(s.ByteRange) == 4 {
		what += fmt.Sprintf(", ByteRange [%d %d %d %d]", s.ByteRange[0], s.ByteRange[1], s.ByteRange[2], s.ByteRange[3])
	}
	if s.Revision >= 0 {
		what += fmt.Sprintf(", revision %d of %d", s.Revision+1, len(d.Revisions))
		if s.Revision == len(d.Revisions)-1 && d.Trailing == 0 {
			what += " (the whole document)"
		}
	}
	return what
}

// timestamps lists a signature's time stamps: the CMS's own (content and
// signature time stamps, EN 319 142-1, 5.3) and every document time stamp
// in a later revision, which covers the signature with everything before
// it (5.4.3). The first such one stands in for a missing signature time
// stamp (level B-T by a document time stamp, EN 319 142-1, 6.3); the
// others are archive time stamps.
func (d *Document) timestamps(s *Signature, sd *cms.SignedData, si *cms.SignerInfo, digest []byte) []verifier.TimestampInput {
	var out []verifier.TimestampInput
	contentDigest := func(h crypto.Hash) ([]byte, error) {
		if h == si.Hash() {
			return digest, nil
		}
		return d.digest(s, h)
	}
	for _, a := range si.SignedAttrs.All(cms.OIDAttrContentTimestamp) {
		for _, v := range a.Values {
			out = append(out, verifier.TimestampInput{Type: report.ContentTimestamp, Token: v.Raw, Imprint: contentDigest})
		}
	}
	sigValue := si.Signature
	hasSigTS := false
	for _, a := range si.UnsignedAttrs.All(cms.OIDAttrSignatureTimestamp) {
		for _, v := range a.Values {
			hasSigTS = true
			out = append(out, verifier.TimestampInput{Type: report.SignatureTimestamp, Token: v.Raw,
				Imprint: func(h crypto.Hash) ([]byte, error) {
					w := h.New()
					w.Write(sigValue)
					return w.Sum(nil), nil
				}})
		}
	}
	for _, t := range d.laterTimestamps(s) {
		typ := report.ArchiveTimestamp
		if !hasSigTS {
			typ, hasSigTS = report.SignatureTimestamp, true
		}
		dts := t
		out = append(out, verifier.TimestampInput{Type: typ, Token: trimDER(dts.Contents),
			Imprint: func(h crypto.Hash) ([]byte, error) {
				b, err := d.digest(dts, h)
				if err != nil {
					return nil, fmt.Errorf("document time stamp %q: %w", dts.Field, err)
				}
				return b, nil
			}})
	}
	return out
}

// laterTimestamps lists the document time stamps whose ByteRange covers
// the whole revision a signature signed, oldest first.
func (d *Document) laterTimestamps(s *Signature) []*Signature {
	var out []*Signature
	for _, t := range d.Signatures {
		if t.Kind == KindDocTimestamp && len(t.ByteRange) == 4 && t.end() > s.end() {
			out = append(out, t)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].end() < out[j].end() })
	return out
}

// trimDER cuts the zero padding after a DER element.
func trimDER(b []byte) []byte {
	_, rest, err := cms.ParseElement(b)
	if err != nil {
		return b
	}
	return b[:len(b)-len(rest)]
}

// format names the signature's form (ETSI EN 319 142-1, 6): PAdES baseline
// levels for SubFilter ETSI.CAdES.detached with a signed signing
// certificate; the older adbe.pkcs7.detached signatures are named PKCS7 at
// the same levels, as EU DSS does. T needs a signature time stamp or a
// later document time stamp, LT the DSS with revocation data after the
// signature, LTA a document time stamp after that DSS.
func (d *Document) format(s *Signature, sd *cms.SignedData, si *cms.SignerInfo) string {
	family := "PKCS7-"
	bound := len(si.SignedAttrs.All(cms.OIDAttrSigningCertificateV2))+len(si.SignedAttrs.All(cms.OIDAttrSigningCertificate)) > 0
	if s.SubFilter == "ETSI.CAdES.detached" && bound {
		family = "PAdES-BASELINE-"
	}
	level := "B"
	later := d.laterTimestamps(s)
	if len(si.UnsignedAttrs.All(cms.OIDAttrSignatureTimestamp)) == 0 && len(later) == 0 {
		return family + level
	}
	level = "T"
	dssAt := int64(-1)
	for _, r := range d.Revisions {
		if r.End <= s.end() {
			continue
		}
		ctx, err := r.context(d.data)
		if err != nil {
			continue
		}
		if readDSS(ctx).revocation {
			dssAt = r.End
			break
		}
	}
	if dssAt < 0 {
		return family + level
	}
	level = "LT"
	for _, t := range later {
		if t.end() > dssAt {
			level = "LTA"
		}
	}
	return family + level
}

// judgeChanges compares what the signature signed with the document as it
// is now and records the outcome: failures make the signature
// TOTAL-FAILED/FORMAT_FAILURE (as the format checks of EU DSS do), warnings
// and notes are added.
func (d *Document) judgeChanges(s *Signature, rep *report.Signature) {
	if s.Err != nil || s.Revision < 0 {
		return
	}
	signed, err1 := d.Revisions[s.Revision].context(d.data)
	final, err2 := d.final.context(d.data)
	if err1 != nil || err2 != nil {
		return
	}
	if d.Revisions[s.Revision] == d.final {
		return
	}
	j := judge(s, changes(signed, final))
	rep.Warnings = append(rep.Warnings, j.warnings...)
	if len(j.failures) > 0 {
		rep.Errors = append(rep.Errors, j.failures...)
		if rep.Indication != report.TotalFailed {
			rep.Indication, rep.SubIndication = report.TotalFailed, report.FormatFailure
		}
	}
}
