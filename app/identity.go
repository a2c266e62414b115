package app

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"esig/internal/config"
	"esig/ra"
	"esig/verifier"
	"esig/verifier/document"
	"esig/verifier/policy"
	"esig/verifier/report"
	"esig/verifier/revocation"
	"esig/verifier/trust"
	"esig/verifier/tsl"
)

// identityVerifier proves identities for the registration authority with
// esig's own verifier: a document signed with a valid trusted-profile seal,
// or with a qualified electronic signature (QESig under the trusted lists)
// whose certificate names a PESEL.
type identityVerifier struct {
	anchors []*x509.Certificate
	lists   *tsl.Set
	policy  *policy.Validation
	// fetcher downloads revocation data for every document verified, and
	// keeps what it downloaded for a few minutes; nil when offline.
	fetcher revocation.Fetcher
}

// newIdentityVerifier loads the RA's trust: anchor files, trusted lists
// (each with the operator certificates it must be signed with) and the
// validation policy.
func newIdentityVerifier(ctx context.Context, c config.RA) (*identityVerifier, error) {
	v := &identityVerifier{policy: policy.DefaultValidation()}
	if !c.Offline {
		v.fetcher = revocation.NewCached(revocation.NewHTTPFetcher(), 5*time.Minute, 1024)
	}
	if c.Policy != "" {
		p, err := policy.LoadValidation(c.Policy)
		if err != nil {
			return nil, fmt.Errorf("ra.policy: %w", err)
		}
		v.policy = p
	}
	for _, f := range c.Trust {
		certs, err := trust.LoadFile(f)
		if err != nil {
			return nil, fmt.Errorf("ra.trust: %w", err)
		}
		v.anchors = append(v.anchors, certs...)
	}
	if len(c.TrustedLists) > 0 {
		var pins []*x509.Certificate
		for _, f := range c.TrustedListCerts {
			certs, err := trust.LoadFile(f)
			if err != nil {
				return nil, fmt.Errorf("ra.trustedListCerts: %w", err)
			}
			pins = append(pins, certs...)
		}
		var srcs []tsl.Source
		for _, l := range c.TrustedLists {
			srcs = append(srcs, tsl.Source{Location: l, Pinned: pins})
		}
		loader := &tsl.Loader{Offline: c.Offline, FailStale: v.policy.TrustedLists.StaleFailsClosed}
		v.lists = loader.LoadSet(ctx, srcs, tsl.LOTLOptions{})
		if len(v.lists.Lists()) == 0 {
			return nil, fmt.Errorf("ra.trustedLists: no list could be used: %v", v.lists.Rejected)
		}
		v.anchors = append(v.anchors, tsl.TrustAnchors(append(v.lists.CAAnchors(), v.lists.TimestampAnchors()...)).Certificates()...)
	}
	return v, nil
}

// Verify verifies a document under the portal's trust and policy (the
// intake's verifier, and the first step of proving an identity).
func (v *identityVerifier) Verify(ctx context.Context, doc []byte, detached []document.Part) (*document.Result, error) {
	eng, err := v.engine()
	if err != nil {
		return nil, err
	}
	return document.Verify(ctx, eng, doc, detached, v.policy)
}

// VerifyReport is Verify for the intake, which needs the report alone:
// a CMS document is not read a second time for its content and signer.
func (v *identityVerifier) VerifyReport(ctx context.Context, doc []byte, detached []document.Part) (*report.Report, error) {
	eng, err := v.engine()
	if err != nil {
		return nil, err
	}
	return document.VerifyReport(ctx, eng, doc, detached, v.policy)
}

// engine is a verification engine under the portal's trust for one
// document.
func (v *identityVerifier) engine() (*verifier.Engine, error) {
	anchors := trust.NewAnchors()
	for _, c := range v.anchors {
		anchors.Add(c)
	}
	return verifier.New(verifier.Config{Anchors: anchors, TrustedLists: v.lists, Policy: v.policy.Algorithms, Fetcher: v.fetcher})
}

// VerifyIdentity implements ra.IdentityVerifier.
func (v *identityVerifier) VerifyIdentity(ctx context.Context, signed []byte) (*ra.ProvenIdentity, error) {
	res, err := v.Verify(ctx, signed, nil)
	if err != nil {
		return nil, err
	}
	if len(res.Report.Signatures) != 1 {
		return nil, fmt.Errorf("the document must carry exactly one signature, it carries %d", len(res.Report.Signatures))
	}
	s := res.Report.Signatures[0]
	if s.Indication != report.TotalPassed {
		return nil, fmt.Errorf("the signature is %s/%s: %s", s.Indication, s.SubIndication, strings.Join(append(s.Errors, s.Warnings...), "; "))
	}
	content, err := signedContent(res)
	if err != nil {
		return nil, err
	}
	evidence := map[string]string{"signer": s.Signer.Subject, "certificateSha256": s.Signer.CertificateSHA256, "format": s.Format, "qualification": s.Qualification}
	if tp := s.TrustedProfile; tp != nil {
		evidence["sealedBy"] = tp.SealedBy
		return &ra.ProvenIdentity{Method: ra.ProofTrustedProfile, GivenNames: tp.GivenNames, Surname: tp.Surname, PESEL: tp.PESEL, SignedContent: content, Evidence: evidence}, nil
	}
	if s.Qualification != "QESig" {
		return nil, fmt.Errorf("the signature is neither a trusted-profile signature nor a qualified electronic signature (qualification %s; warnings: %s)", s.Qualification, strings.Join(s.Warnings, "; "))
	}
	cert, err := signingCertificate(res)
	if err != nil {
		return nil, err
	}
	pesel, ok := strings.CutPrefix(cert.Subject.SerialNumber, "PNOPL-")
	if !ok {
		return nil, errors.New("the qualified certificate names no PESEL (serialNumber PNOPL-...)")
	}
	var given []string
	var surname string
	for _, n := range cert.Subject.Names {
		switch n.Type.String() {
		case "2.5.4.42":
			given = append(given, strings.Fields(fmt.Sprint(n.Value))...)
		case "2.5.4.4":
			surname = fmt.Sprint(n.Value)
		}
	}
	return &ra.ProvenIdentity{Method: ra.ProofQualifiedSignature, GivenNames: given, Surname: surname, PESEL: pesel, SignedContent: content, Evidence: evidence}, nil
}

// signedContent is exactly what the one signature covers: for XAdES the
// digested octets of its one valid data object (not the SignedProperties),
// for CMS the encapsulated content.
func signedContent(res *document.Result) ([]byte, error) {
	if len(res.XAdES) == 1 {
		var out []byte
		for _, o := range res.XAdES[0].SignedObjects {
			if o.Type == "http://uri.etsi.org/01903#SignedProperties" || o.Manifest || o.Content == nil {
				continue
			}
			if out != nil {
				return nil, errors.New("the signature covers more than one document")
			}
			out = o.Content.Octets
		}
		if out == nil {
			return nil, errors.New("the signature covers no document")
		}
		return out, nil
	}
	if res.CMSContent == nil {
		return nil, errors.New("the signature carries no content (a detached signature cannot prove an application)")
	}
	return res.CMSContent, nil
}

func signingCertificate(res *document.Result) (*x509.Certificate, error) {
	if len(res.XAdES) == 1 && res.XAdES[0].SigningCertificate != nil {
		return res.XAdES[0].SigningCertificate, nil
	}
	if res.CMSSigner != nil {
		return res.CMSSigner, nil
	}
	return nil, errors.New("the signing certificate is not known")
}
