// Package document verifies a signed document whatever its format, under a
// validation policy: it recognises XAdES, CAdES/PKCS#7 and PDF (PAdES), runs
// the format layer on the engine, applies the policy's acceptance rules
// (formats, XAdES packagings and transforms) and decides whether each XAdES
// or PAdES signature is a trusted-profile signature. The command line, the registration authority's
// identity proofing and the portal intake all verify through here, so they
// cannot judge the same file differently.
package document

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/beevik/etree"

	"esig/internal/cms"
	"esig/internal/xmldsig"
	"esig/verifier"
	"esig/verifier/cades"
	"esig/verifier/pades"
	"esig/verifier/policy"
	"esig/verifier/report"
	"esig/verifier/trustedprofile"
	"esig/verifier/xades"
)

// Part is detached content supplied with a signature: the name the
// signature uses for it and a way to read it.
type Part struct {
	Name string
	Open func() (io.ReadCloser, error)
}

// Bytes is a Part held in memory.
func Bytes(name string, b []byte) Part {
	return Part{Name: name, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}
}

// Result is the report and, for XML, what the XAdES layer established
// about each signature (signed content, properties, the signing
// certificate), in the report's order.
type Result struct {
	Report *report.Report
	XAdES  []*xades.Signature
	// CMSContent is the encapsulated content of an attached CMS signature
	// (nil for detached ones and XML), and CMSSigner the certificate of
	// its first signer as the report names it.
	CMSContent []byte
	CMSSigner  *x509.Certificate
	// PAdES holds, for a PDF, what the PDF layer established about each
	// signature (the signed revision's dictionary, the signing
	// certificate), in the report's order.
	PAdES []*pades.Verified
}

// Kind names what a document looks like.
type Kind int

// Document kinds.
const (
	KindCMS Kind = iota // CAdES or PKCS#7, DER, PEM or base64
	KindXML             // XAdES or XMLDSig
	KindPDF             // a PDF, with PAdES or PKCS#7 signatures inside
)

// Detect tells XML, PDF and CMS apart by the first significant bytes. A
// PDF must begin with its header: readers tolerate bytes before it, but an
// attached CMS signature of a PDF (a .pdf.p7m) also holds "%PDF-" near its
// start, and it is a CMS signature.
func Detect(data []byte) Kind {
	if bytes.HasPrefix(data, []byte("%PDF-")) {
		return KindPDF
	}
	b := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(b) > 0 && b[0] == '<' {
		return KindXML
	}
	return KindCMS
}

// Verify verifies data with eng under pol (nil: policy.DefaultValidation).
func Verify(ctx context.Context, eng *verifier.Engine, data []byte, detached []Part, pol *policy.Validation) (*Result, error) {
	return verifyDocument(ctx, eng, data, detached, pol, true)
}

// VerifyReport is Verify for a caller that needs the report alone (esig
// verify): the report is the same, but Result's CMS fields are left out,
// and reading them meant parsing a CMS file a second time.
func VerifyReport(ctx context.Context, eng *verifier.Engine, data []byte, detached []Part, pol *policy.Validation) (*report.Report, error) {
	res, err := verifyDocument(ctx, eng, data, detached, pol, false)
	if err != nil {
		return nil, err
	}
	return res.Report, nil
}

// verifyDocument is Verify; withCMS says whether to fill CMSContent and CMSSigner.
func verifyDocument(ctx context.Context, eng *verifier.Engine, data []byte, detached []Part, pol *policy.Validation, withCMS bool) (*Result, error) {
	if pol == nil {
		pol = policy.DefaultValidation()
	}
	res := &Result{}
	switch Detect(data) {
	case KindXML:
		resolver := xmldsig.DetachedContent{}
		for _, p := range detached {
			b, err := readPart(p)
			if err != nil {
				return nil, err
			}
			resolver[p.Name] = b
		}
		x := xades.Verify(ctx, eng, data, xades.Options{Detached: resolver})
		res.Report, res.XAdES = x.Report, x.Signatures
		for _, s := range x.Signatures {
			applyXAdESPolicy(s, pol)
		}
	case KindPDF:
		if len(detached) > 0 {
			return nil, fmt.Errorf("a PDF signature covers the PDF itself; %d detached content(s) were given", len(detached))
		}
		p := pades.Verify(ctx, eng, data)
		res.Report, res.PAdES = p.Report, p.Signatures
		for _, v := range p.Signatures {
			if !pol.AcceptsFormat(v.Report.Format) {
				continue // refused below; a refused seal confirms nobody
			}
			out := pades.TrustedProfile(v, pol.TrustedProfile)
			v.Report.TrustedProfile = out.Identity
			v.Report.Warnings = append(v.Report.Warnings, out.Warnings...)
		}
	default:
		var content cades.Content
		switch len(detached) {
		case 0:
		case 1:
			content = partContent{detached[0]}
		default:
			return nil, fmt.Errorf("a CMS signature covers one detached content, %d were given", len(detached))
		}
		res.Report = cades.Verify(ctx, eng, data, content)
		if withCMS {
			res.CMSContent, res.CMSSigner = cmsContent(data, res.Report)
		}
	}
	for _, s := range res.Report.Signatures {
		if !pol.AcceptsFormat(s.Format) {
			constrain(s, fmt.Sprintf("the validation policy does not accept the format %s (accepted: %v)", s.Format, pol.Formats))
		}
	}
	res.Report.Finish()
	return res, nil
}

// applyXAdESPolicy checks packaging and transforms, then decides on the
// trusted profile: only a signature the policy accepts can be one.
func applyXAdESPolicy(s *xades.Signature, pol *policy.Validation) {
	for _, why := range pol.CheckXAdES(s.Packaging, s.Transforms) {
		constrain(s.Report, why)
	}
	var signed *etree.Element
	if s.Properties != nil {
		signed = s.Properties.Element
	}
	out := trustedprofile.Evaluate(s.Report, s.SigningCertificate, signed, s.UnsignedProperties, pol.TrustedProfile)
	s.Report.TrustedProfile = out.Identity
	s.Report.Warnings = append(s.Report.Warnings, out.Warnings...)
}

// constrain records a policy objection: a passed signature becomes
// INDETERMINATE/SIG_CONSTRAINTS_FAILURE (EN 319 102-1, 5.2.8); a worse
// outcome stands, with the objection added.
func constrain(s *report.Signature, why string) {
	s.Errors = append(s.Errors, why)
	if s.Indication == report.TotalPassed {
		s.Indication, s.SubIndication = report.Indeterminate, report.SigConstraintsFailure
	}
}

func readPart(p Part) ([]byte, error) {
	rc, err := p.Open()
	if err != nil {
		return nil, fmt.Errorf("detached content %s: %w", p.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("detached content %s: %w", p.Name, err)
	}
	return b, nil
}

// partContent is a Part as the CAdES layer reads detached content.
type partContent struct{ p Part }

func (c partContent) Name() string                 { return c.p.Name }
func (c partContent) Open() (io.ReadCloser, error) { return c.p.Open() }

// cmsContent reads the encapsulated content of a CMS signature and finds
// the certificate the report names as the first signer's.
func cmsContent(data []byte, rep *report.Report) ([]byte, *x509.Certificate) {
	der, err := cades.Decode(data)
	if err != nil {
		return nil, nil
	}
	sd, err := cms.ParseContentInfo(der)
	if err != nil {
		return nil, nil
	}
	var content []byte
	if sd.HasContent {
		content = sd.Content
	}
	if len(rep.Signatures) == 0 || rep.Signatures[0].Signer == nil {
		return content, nil
	}
	for _, c := range sd.Certificates {
		if c.Certificate == nil {
			continue
		}
		sum := sha256.Sum256(c.Certificate.Raw)
		if hex.EncodeToString(sum[:]) == rep.Signatures[0].Signer.CertificateSHA256 {
			return content, c.Certificate
		}
	}
	return content, nil
}
