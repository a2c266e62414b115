package evidence

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"esig/verifier"
	"esig/verifier/policy"
	"esig/verifier/report"
	"esig/verifier/revocation"
	"esig/verifier/trust"
	"esig/verifier/tsl"
)

// Replay is what a bundle gives a verification that reproduces its
// verdicts: the engine configuration shared by every input (anchors,
// supplied certificates and revocation data, trusted lists, policies,
// the validation time, and no fetcher), the validation policy, and the
// detached content.
type Replay struct {
	Config   verifier.Config
	Policy   *policy.Validation
	Detached []Content
	bundle   *Bundle
}

// Content is detached content from a bundle.
type Content struct {
	Name string
	Data []byte
}

// Replay prepares the bundle's verification again as of at (zero: the
// recorded validation time). Each trusted list must still verify with the
// operator certificate recorded for it.
func (b *Bundle) Replay(at time.Time) (*Replay, error) {
	m := &b.Manifest
	if at.IsZero() {
		at = m.ValidationTime
	}
	r := &Replay{bundle: b, Policy: policy.DefaultValidation()}
	if m.Options.ValidationPolicy != "" {
		p, err := policy.ParseValidation(bytes.NewReader(b.files[m.Options.ValidationPolicy]))
		if err != nil {
			return nil, fmt.Errorf("evidence: %s: %w", m.Options.ValidationPolicy, err)
		}
		r.Policy = p
	}
	cfg := verifier.Config{Anchors: trust.NewAnchors(), Policy: r.Policy.Algorithms, Time: at, CRLCache: revocation.NewCRLCache()}
	if m.Options.CryptoPolicy != "" {
		p, err := policy.Parse(bytes.NewReader(b.files[m.Options.CryptoPolicy]))
		if err != nil {
			return nil, fmt.Errorf("evidence: %s: %w", m.Options.CryptoPolicy, err)
		}
		cfg.Policy = p
	}
	if m.Anchors != "" {
		certs, err := trust.ParseCertificates(b.files[m.Anchors])
		if err != nil {
			return nil, fmt.Errorf("evidence: %s: %w", m.Anchors, err)
		}
		for _, c := range certs {
			cfg.Anchors.Add(c)
		}
	}
	if m.Intermediates != "" {
		certs, err := trust.ParseCertificates(b.files[m.Intermediates])
		if err != nil {
			return nil, fmt.Errorf("evidence: %s: %w", m.Intermediates, err)
		}
		cfg.Intermediates = certs
	}
	// The CRLs every input shares are parsed once for all their engines.
	var crls [][]byte
	crls, cfg.OCSPResponses = b.revocation(m.Revocation)
	for _, der := range crls {
		c, err := revocation.ParseCRL(der)
		if err != nil {
			return nil, fmt.Errorf("evidence: CRL: %w", err)
		}
		cfg.ParsedCRLs = append(cfg.ParsedCRLs, c)
	}
	if len(m.TrustedLists) > 0 {
		set, err := b.trustedLists(at)
		if err != nil {
			return nil, err
		}
		for _, c := range tsl.TrustAnchors(append(set.CAAnchors(), set.TimestampAnchors()...)).Certificates() {
			cfg.Anchors.Add(c)
		}
		cfg.TrustedLists = set
	}
	for _, d := range m.Detached {
		r.Detached = append(r.Detached, Content{Name: d.Name, Data: b.files[d.Entry]})
	}
	r.Config = cfg
	return r, nil
}

func (b *Bundle) revocation(rs []Revocation) (crls, ocsps [][]byte) {
	for _, r := range rs {
		if r.Kind == "CRL" {
			crls = append(crls, b.files[r.Entry])
		} else {
			ocsps = append(ocsps, b.files[r.Entry])
		}
	}
	return crls, ocsps
}

// trustedLists rebuilds the set: each snapshot is parsed and its signature
// checked again against the operator certificate recorded for it, then
// carries the judgement recorded when it was first accepted (how it was
// pinned, whether stale, its warnings), which the reports quote.
func (b *Bundle) trustedLists(at time.Time) (*tsl.Set, error) {
	set := &tsl.Set{}
	for _, l := range b.Manifest.TrustedLists {
		list, err := tsl.Parse(b.files[l.Entry])
		if err != nil {
			return nil, fmt.Errorf("evidence: %s: %w", l.Entry, err)
		}
		signer, err := trust.ParseCertificates(b.files[l.Signer])
		if err != nil || len(signer) != 1 {
			return nil, fmt.Errorf("evidence: %s: want one operator certificate (%v)", l.Signer, err)
		}
		res := list.CheckSignature(signer, at)
		if res.Err != nil {
			return nil, fmt.Errorf("evidence: trusted list %s: %w", l.Entry, res.Err)
		}
		set.Add(&tsl.Trusted{List: list, Location: l.Location, Signer: res.Signer, PinnedBy: l.PinnedBy,
			Origin: tsl.Origin(l.Origin), Stale: l.Stale, Warnings: slices.Clone(l.Warnings), Raw: b.files[l.Entry]})
	}
	return set, nil
}

// Input returns the recorded content of an input.
func (r *Replay) Input(in Input) []byte { return r.bundle.files[in.Entry] }

// ConfigFor is the engine configuration for one input: the shared one plus
// the revocation data that input's own verification fetched.
func (r *Replay) ConfigFor(in Input) verifier.Config {
	cfg := r.Config
	crls, ocsps := r.bundle.revocation(in.Fetched)
	cfg.CRLs = append(slices.Clone(cfg.CRLs), crls...)
	cfg.OCSPResponses = append(slices.Clone(cfg.OCSPResponses), ocsps...)
	return cfg
}

// Differences says how a new report's verdicts differ from those recorded
// for in: the file's indication, and each signature's indication,
// sub-indication and qualification. None means the verdict was
// reproduced.
func Differences(in Input, r *report.Report) []string {
	var out []string
	if r.Indication != in.Indication {
		out = append(out, fmt.Sprintf("indication %s, recorded %s", r.Indication, in.Indication))
	}
	now := verdicts(r)
	if len(now) != len(in.Signatures) {
		return append(out, fmt.Sprintf("%d signatures, recorded %d", len(now), len(in.Signatures)))
	}
	for i, want := range in.Signatures {
		if got := now[i]; got != want {
			out = append(out, fmt.Sprintf("signature %s: %s, recorded %s", want.ID, got, want))
		}
	}
	return out
}

// String writes a verdict as "INDICATION[/SUB-INDICATION], qualification Q".
func (v Verdict) String() string {
	s := string(v.Indication)
	if v.SubIndication != "" {
		s += "/" + string(v.SubIndication)
	}
	return s + ", qualification " + v.Qualification
}
