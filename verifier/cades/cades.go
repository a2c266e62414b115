// Package cades is the CMS format layer of the verifier: CAdES (ETSI EN 319
// 122-1) and plain PKCS#7/CMS signatures (RFC 5652), attached or detached,
// in DER, BER, PEM or bare base64. It parses the signature with
// internal/cms, works out what each signer signed and with which digest
// (streaming detached content through every hash it needs, once, so that a
// file of any size costs a fixed amount of memory), collects the
// certificates, revocation values and time stamps the signature carries, and
// hands each SignerInfo to the engine as a verifier.Input.
package cades

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"

	"esig/internal/cms"
	"esig/verifier"
	"esig/verifier/report"
	"esig/verifier/revocation"
)

// maxCounterSignatureDepth bounds counter-signatures of counter-signatures.
const maxCounterSignatureDepth = 4

// Content is detached content to verify against.
type Content interface {
	// Name is how the content is named in the report.
	Name() string
	// Open returns the content from its start. It is read once.
	Open() (io.ReadCloser, error)
}

// Decode returns the DER (or BER) of a signature given as binary, PEM
// (PKCS7, CMS or SIGNED DATA blocks) or bare base64.
func Decode(data []byte) ([]byte, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == 0x30 {
		return data, nil
	}
	if blk, _ := pem.Decode(trimmed); blk != nil {
		return blk.Bytes, nil
	}
	if b, ok := decodeBase64(trimmed); ok {
		return b, nil
	}
	return nil, errors.New("not DER, PEM or base64 CMS")
}

// decodeBase64 decodes base64 (padded or not, with line breaks) holding a
// DER SEQUENCE. Anything but base64 characters and white space is refused
// in a first pass that allocates nothing, so a binary file that is not CMS
// costs no copy; a base64 one is copied once, without its white space, and
// decoded once.
func decodeBase64(text []byte) ([]byte, bool) {
	n := 0
	for _, c := range text {
		switch {
		case c == ' ' || c == '\n' || c == '\r' || c == '\t':
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/', c == '=':
			n++
		default:
			return nil, false
		}
	}
	clean := make([]byte, 0, n)
	for _, c := range text {
		if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
			clean = append(clean, c)
		}
	}
	enc := base64.StdEncoding
	if len(clean)%4 != 0 {
		clean, enc = bytes.TrimRight(clean, "="), base64.RawStdEncoding
	}
	out := make([]byte, enc.DecodedLen(len(clean)))
	m, err := enc.Decode(out, clean)
	if err != nil || m == 0 || out[0] != 0x30 {
		return nil, false
	}
	return out[:m], true
}

// Verify validates every signature in a CMS file and returns the report.
// A file that cannot be parsed yields one TOTAL-FAILED/FORMAT_FAILURE
// signature: the bytes claim to be a signature and are not a valid one.
func Verify(ctx context.Context, eng *verifier.Engine, data []byte, detached Content) *report.Report {
	rep := &report.Report{ValidationTime: eng.ValidationTime().UTC()}
	defer rep.Finish()
	der, err := Decode(data)
	var sd *cms.SignedData
	if err == nil {
		sd, err = cms.ParseContentInfo(der)
	}
	if err != nil {
		rep.Signatures = append(rep.Signatures, eng.Validate(ctx, &verifier.Input{ID: "S1", Format: "CMS", FormatError: err}))
		return rep
	}
	digests, warn, err := contentDigests(sd, detached)
	for i := range sd.SignerInfos {
		in := buildInput(sd, &sd.SignerInfos[i], fmt.Sprintf("S%d", i+1), digests, detached, err)
		in.Warnings = append(in.Warnings, warn...)
		rep.Signatures = append(rep.Signatures, eng.Validate(ctx, in))
	}
	return rep
}

// digestSet holds the content's hash under every algorithm needed.
type digestSet map[crypto.Hash][]byte

// neededHashes lists the hashes of the content that the signers, their
// content time stamps and their archive time stamps need.
func neededHashes(sd *cms.SignedData) []crypto.Hash {
	set := map[crypto.Hash]bool{}
	for i := range sd.SignerInfos {
		si := &sd.SignerInfos[i]
		if h := si.Hash(); h != 0 && h.Available() {
			set[h] = true
		}
		for _, a := range append(si.SignedAttrs.All(cms.OIDAttrContentTimestamp), si.UnsignedAttrs.All(cms.OIDAttrArchiveTimestampV3)...) {
			for _, v := range a.Values {
				if t, err := cms.ParseToken(v.Raw); err == nil && t.Info.Hash.Available() {
					set[t.Info.Hash] = true
				}
			}
		}
	}
	var out []crypto.Hash
	for h := range set {
		out = append(out, h)
	}
	return out
}

// contentDigests hashes the encapsulated or detached content under every
// needed algorithm in one pass. A nil set with a nil error means detached
// content that was not supplied.
func contentDigests(sd *cms.SignedData, detached Content) (digestSet, []string, error) {
	var warn []string
	var r io.Reader
	switch {
	case sd.HasContent:
		if detached != nil {
			warn = append(warn, "the signature encapsulates its content; the detached content given was not used")
		}
		r = bytes.NewReader(sd.Content)
	case detached == nil:
		return nil, nil, nil
	default:
		rc, err := detached.Open()
		if err != nil {
			return nil, nil, err
		}
		defer rc.Close()
		r = rc
	}
	out, err := cms.Digests(r, neededHashes(sd)...)
	if err != nil {
		if !sd.HasContent {
			err = fmt.Errorf("reading %s: %w", detached.Name(), err)
		}
		return nil, nil, err
	}
	return out, warn, nil
}

func (d digestSet) get(h crypto.Hash) ([]byte, error) {
	v, ok := d[h]
	if !ok {
		return nil, fmt.Errorf("content digest under %v not computed", h)
	}
	return v, nil
}

// buildInput turns one SignerInfo into an engine Input.
func buildInput(sd *cms.SignedData, si *cms.SignerInfo, id string, digests digestSet, detached Content, readErr error) *verifier.Input {
	in := &verifier.Input{
		ID:              id,
		Format:          formatName(sd, si),
		SignerID:        si.SID.Matches,
		SignerIDText:    si.SID.String(),
		DigestAlgorithm: si.Hash(),
	}
	obj := report.SignedObject{Reference: "encapsulated content", URI: "", DigestAlgorithm: cms.HashName(si.Hash())}
	if !sd.HasContent {
		obj.Reference = "detached content"
		if detached != nil {
			obj.URI = detached.Name()
		}
	}
	in.SignedObjects = []report.SignedObject{obj}
	collectValidationData(sd, si, in)
	if len(si.SignedAttrs.All(cms.OIDAttrSignaturePolicy)) > 0 {
		in.Warnings = append(in.Warnings, "the signature names a signature policy (signature-policy-identifier); "+
			"it was not retrieved or applied: the verdict follows esig's own validation policy")
	}

	if readErr != nil {
		in.FormatError = readErr
		return in
	}
	if si.Hash() == 0 {
		in.FormatError = fmt.Errorf("SignerInfo.digestAlgorithm %v is not supported", si.DigestAlgorithm.Algorithm)
		return in
	}
	var err error
	if in.SigningCertRefs, err = si.SigningCertificateRefs(); err != nil {
		in.FormatError = fmt.Errorf("signing-certificate attribute: %w", err)
		return in
	}
	if in.ClaimedSigningTime, err = si.SigningTime(); err != nil {
		in.FormatError = err
		return in
	}
	if digests == nil {
		in.MissingData = []string{"the signature is detached and no content was given (--detached-content)"}
		return in
	}
	digest, err := digests.get(si.Hash())
	if err != nil {
		in.FormatError = err
		return in
	}
	if err := si.CheckAttributes(sd.ContentType, digest); err != nil {
		if errors.Is(err, cms.ErrMessageDigest) {
			in.HashError = err
		} else {
			in.FormatError = err
		}
		return in
	}
	in.VerifySignature = func(pub crypto.PublicKey) (cms.SignatureAlgorithm, error) {
		return si.VerifySignature(pub, digest)
	}
	in.Timestamps = timestampInputs(sd, si, digests, in)
	in.CounterSignatures = counterSignatures(sd, si, id, 1)
	return in
}

// formatName names the signature's form for the report: CAdES baseline
// levels (ETSI EN 319 122-2) when the signer bound its certificate with a
// signing-certificate attribute, plain PKCS7 otherwise.
func formatName(sd *cms.SignedData, si *cms.SignerInfo) string {
	if len(si.SignedAttrs.All(cms.OIDAttrSigningCertificateV2))+len(si.SignedAttrs.All(cms.OIDAttrSigningCertificate)) == 0 {
		return "PKCS7"
	}
	level := "B"
	if len(si.UnsignedAttrs.All(cms.OIDAttrSignatureTimestamp)) > 0 {
		level = "T"
		if len(sd.CRLs) > 0 || len(si.UnsignedAttrs.All(cms.OIDAttrRevocationValues)) > 0 {
			level = "LT"
		}
		if len(si.UnsignedAttrs.All(cms.OIDAttrArchiveTimestampV3)) > 0 {
			level = "LTA"
		}
	}
	return "CAdES-BASELINE-" + level
}

// collectValidationData gathers the certificates and revocation values in
// SignedData and in the CAdES certificate-values and revocation-values
// attributes (ETSI EN 319 122-1, 5.4.1 and 5.4.2).
func collectValidationData(sd *cms.SignedData, si *cms.SignerInfo, in *verifier.Input) {
	for _, c := range sd.Certificates {
		if c.Certificate != nil {
			in.Certificates = append(in.Certificates, c.Certificate)
		} else if c.ParseError != nil {
			in.Warnings = append(in.Warnings, fmt.Sprintf("a certificate in SignedData could not be parsed: %v", c.ParseError))
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
	for _, a := range si.UnsignedAttrs.All(cms.OIDAttrCertValues) {
		for _, v := range a.Values {
			certs, _ := v.Children()
			for _, c := range certs {
				if der, err := c.ToDER(); err == nil {
					if x, err := x509.ParseCertificate(der); err == nil {
						in.Certificates = append(in.Certificates, x)
					}
				}
			}
		}
	}
	for _, a := range si.UnsignedAttrs.All(cms.OIDAttrRevocationValues) {
		for _, v := range a.Values {
			fields, _ := v.Children()
			for _, fld := range fields {
				inner, err := fld.Children()
				if err != nil || len(inner) != 1 {
					continue
				}
				items, _ := inner[0].Children()
				for _, it := range items {
					der, err := it.ToDER()
					if err != nil {
						continue
					}
					switch {
					case fld.Is(cms.ClassContext, 0):
						in.CRLs = append(in.CRLs, der)
					case fld.Is(cms.ClassContext, 1):
						in.OCSPResponses = append(in.OCSPResponses, revocation.WrapBasic(der))
					}
				}
			}
		}
	}
}

// timestampInputs lists the time stamps of a signer with what each must
// cover: the content for content time stamps, the signature value for
// signature time stamps (EN 319 122-1, 5.3), the archive-time-stamp-v3
// input for archive time stamps (5.5.3).
func timestampInputs(sd *cms.SignedData, si *cms.SignerInfo, digests digestSet, in *verifier.Input) []verifier.TimestampInput {
	var out []verifier.TimestampInput
	for _, a := range si.SignedAttrs.All(cms.OIDAttrContentTimestamp) {
		for _, v := range a.Values {
			out = append(out, verifier.TimestampInput{Type: report.ContentTimestamp, Token: tokenBytes(v, in), Imprint: digests.get})
		}
	}
	sigValue := si.Signature
	for _, a := range si.UnsignedAttrs.All(cms.OIDAttrSignatureTimestamp) {
		for _, v := range a.Values {
			out = append(out, verifier.TimestampInput{Type: report.SignatureTimestamp, Token: tokenBytes(v, in),
				Imprint: func(h crypto.Hash) ([]byte, error) {
					d := h.New()
					d.Write(sigValue)
					return d.Sum(nil), nil
				}})
		}
	}
	for _, a := range si.UnsignedAttrs.All(cms.OIDAttrArchiveTimestampV3) {
		for _, v := range a.Values {
			raw := v.Raw
			out = append(out, verifier.TimestampInput{Type: report.ArchiveTimestamp, Token: raw,
				Imprint: func(h crypto.Hash) ([]byte, error) { return archiveImprint(sd, si, raw, h, digests) }})
		}
	}
	for _, t := range []struct {
		oid  []int
		name string
	}{{cms.OIDAttrEscTimestamp, "CAdES-C time stamp (escTimeStamp)"}, {cms.OIDAttrCertCRLTimestamp, "CAdES-X type 2 time stamp"},
		{cms.OIDAttrArchiveTimestampV2, "archive time stamp v2"}} {
		if n := len(si.UnsignedAttrs.All(t.oid)); n > 0 {
			in.Warnings = append(in.Warnings, fmt.Sprintf("%d %s not evaluated (superseded forms; they prove nothing here)", n, t.name))
		}
	}
	return out
}

// tokenBytes returns a time-stamp attribute value. Some signers wrap the
// token in an OCTET STRING; the token's own signature protects it either
// way, so the wrapper is accepted with a warning rather than failing the
// time stamp.
func tokenBytes(v cms.Element, in *verifier.Input) []byte {
	if v.IsUniversal(cms.TagOctetString) {
		if b, err := v.OctetString(); err == nil && len(b) > 0 && b[0] == 0x30 {
			in.Warnings = append(in.Warnings, "a time-stamp token is wrapped in an OCTET STRING, which CAdES does not allow; it was unwrapped")
			return b
		}
	}
	return v.Raw
}

func archiveImprint(sd *cms.SignedData, si *cms.SignerInfo, token []byte, h crypto.Hash, digests digestSet) ([]byte, error) {
	tok, err := cms.ParseToken(token)
	if err != nil {
		return nil, err
	}
	idx, err := cms.FindATSHashIndex(tok.Signer().UnsignedAttrs)
	if err != nil {
		return nil, err
	}
	if err := idx.Check(sd, si); err != nil {
		return nil, fmt.Errorf("%w: %v", verifier.ErrNotCovered, err)
	}
	cd, err := digests.get(h)
	if err != nil {
		return nil, err
	}
	return cms.ArchiveImprint(h, sd, si, cd, idx.Value), nil
}

// counterSignatures builds inputs for the countersignature attributes
// (RFC 5652, 11.4): SignerInfos over the parent's signature value.
func counterSignatures(sd *cms.SignedData, parent *cms.SignerInfo, parentID string, depth int) []*verifier.Input {
	var out []*verifier.Input
	n := 0
	for _, a := range parent.UnsignedAttrs.All(cms.OIDAttrCounterSignature) {
		for _, v := range a.Values {
			n++
			id := fmt.Sprintf("%s-C%d", parentID, n)
			in := &verifier.Input{ID: id, Format: "CMS countersignature"}
			if depth > maxCounterSignatureDepth {
				in.FormatError = errors.New("countersignatures nested too deeply")
				out = append(out, in)
				continue
			}
			cs, err := cms.ParseSignerInfo(v)
			if err != nil {
				in.FormatError = fmt.Errorf("countersignature: %w", err)
				out = append(out, in)
				continue
			}
			in.SignerID, in.SignerIDText, in.DigestAlgorithm = cs.SID.Matches, cs.SID.String(), cs.Hash()
			collectValidationData(sd, cs, in)
			h := cs.Hash()
			if h == 0 {
				in.FormatError = fmt.Errorf("countersignature digestAlgorithm %v is not supported", cs.DigestAlgorithm.Algorithm)
				out = append(out, in)
				continue
			}
			d := h.New()
			d.Write(parent.Signature)
			digest := d.Sum(nil)
			if in.SigningCertRefs, err = cs.SigningCertificateRefs(); err == nil {
				in.ClaimedSigningTime, err = cs.SigningTime()
			}
			if err == nil {
				err = cs.CheckAttributes(nil, digest)
			}
			switch {
			case errors.Is(err, cms.ErrMessageDigest):
				in.HashError = err
			case err != nil:
				in.FormatError = err
			}
			in.VerifySignature = func(pub crypto.PublicKey) (cms.SignatureAlgorithm, error) { return cs.VerifySignature(pub, digest) }
			in.SignedObjects = []report.SignedObject{{Reference: "signature value of " + parentID, DigestAlgorithm: cms.HashName(h)}}
			sigValue := cs.Signature
			for _, ta := range cs.UnsignedAttrs.All(cms.OIDAttrSignatureTimestamp) {
				for _, tv := range ta.Values {
					in.Timestamps = append(in.Timestamps, verifier.TimestampInput{Type: report.SignatureTimestamp, Token: tv.Raw,
						Imprint: func(h crypto.Hash) ([]byte, error) { d := h.New(); d.Write(sigValue); return d.Sum(nil), nil }})
				}
			}
			in.CounterSignatures = counterSignatures(sd, cs, id, depth+1)
			out = append(out, in)
		}
	}
	return out
}
