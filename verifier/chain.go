package verifier

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"time"

	"esig/internal/cms"
	"esig/verifier/report"
	"esig/verifier/revocation"
	"esig/verifier/trust"
)

// maxAgeWithoutNextUpdate is how long revocation data that names no next
// update counts as current (EN 319 102-1, 5.2.5 leaves it to the policy).
const maxAgeWithoutNextUpdate = 24 * time.Hour

// judgement is the outcome of X.509 validation for one certificate.
type judgement struct {
	chain      trust.Chain
	findings   findings
	revocation []report.RevocationUse
	warnings   []string
}

func (j judgement) chainReport(anchors *trust.Anchors) []report.Certificate {
	var out []report.Certificate
	for _, c := range j.chain {
		sum := sha256.Sum256(c.Raw)
		out = append(out, report.Certificate{
			Subject: c.Subject.String(), SerialNumber: hex.EncodeToString(c.SerialNumber.Bytes()),
			NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(),
			CertificateSHA256: hex.EncodeToString(sum[:]), TrustAnchor: anchors.Contains(c),
		})
	}
	return out
}

// judge validates cert for a purpose, as EN 319 102-1 X.509 certificate
// validation (5.2.6) does, at the time the certificate was used:
//
//   - used is when the certificate's key made the object (the
//     best-signature-time for a signature, genTime for a time stamp); every
//     certificate of the chain must be valid then;
//   - poe is the time the object is proven to have existed; a revocation
//     after it does not touch the object (past signature validation,
//     5.6.2.4);
//   - createdAfter, when known, is a time the object is known or admitted to
//     have been made after; a revocation or expiry before it proves the
//     object bad (TOTAL-FAILED/REVOKED, EXPIRED) rather than unproven.
//
// Of the chains that can be built, the first without findings wins;
// otherwise the one with the mildest verdict is reported.
func (e *Engine) judge(ctx context.Context, cert *x509.Certificate, purpose trust.Purpose, used, poe time.Time, createdAfter *time.Time, endEntity bool) judgement {
	chains, err := e.builder.Build(cert)
	if err != nil {
		var j judgement
		j.chain = trust.Chain{cert}
		j.findings.add(report.Indeterminate, report.NoCertificateChainFound,
			"%q: no certificate chain to a trust anchor (%d anchor(s) configured)", cert.Subject.String(), e.anchors.Len())
		return j
	}
	crlWarnings := e.loadPendingCRLs()
	var best *judgement
	for _, ch := range chains {
		j := e.judgeChain(ctx, ch, purpose, used, poe, createdAfter)
		if len(j.findings) == 0 {
			j.warnings = append(crlWarnings, j.warnings...)
			return j
		}
		if best == nil || milder(j.findings, best.findings) {
			jj := j
			best = &jj
		}
	}
	best.warnings = append(crlWarnings, best.warnings...)
	return *best
}

func milder(a, b findings) bool {
	ia, _ := a.outcome()
	ib, _ := b.outcome()
	return ib.Worse(ia)
}

func (e *Engine) judgeChain(ctx context.Context, chain trust.Chain, purpose trust.Purpose, used, poe time.Time, createdAfter *time.Time) judgement {
	j := judgement{chain: chain}
	f := &j.findings
	if err := trust.Constraints(chain, purpose); err != nil {
		f.add(report.Indeterminate, report.ChainConstraintsFailure, "%v", err)
	}

	// Validity at the time of use (RFC 5280 6.1.3 (a)(2), at that time).
	if c, early := trust.Validity(chain, used); c != nil {
		leaf := c == chain[0]
		at := used.UTC().Format(time.RFC3339)
		switch {
		case early && leaf:
			f.add(report.TotalFailed, report.NotYetValid, "%q was not yet valid (from %s) when it was used at %s",
				c.Subject.String(), c.NotBefore.UTC().Format(time.RFC3339), at)
		case early:
			f.add(report.Indeterminate, report.ChainConstraintsFailure, "CA %q was not yet valid at %s", c.Subject.String(), at)
		case leaf && createdAfter != nil && createdAfter.After(c.NotAfter):
			f.add(report.TotalFailed, report.Expired, "%q expired at %s, before the signature was made (not before %s)",
				c.Subject.String(), c.NotAfter.UTC().Format(time.RFC3339), createdAfter.UTC().Format(time.RFC3339))
		default:
			f.add(report.Indeterminate, report.OutOfBoundsNoPOE, "%q expired at %s and there is no proof of existence before then (best time %s)",
				c.Subject.String(), c.NotAfter.UTC().Format(time.RFC3339), at)
		}
	}
	if a := chain.Anchor(); len(chain) > 1 && (used.Before(a.NotBefore) || used.After(a.NotAfter)) {
		j.warnings = append(j.warnings, fmt.Sprintf("trust anchor %q is outside its validity period at %s", a.Subject.String(), used.UTC().Format(time.RFC3339)))
	}

	// Revocation (RFC 5280 6.1.3 (a)(3); EN 319 102-1 5.2.5 freshness).
	for i := 0; i < len(chain)-1; i++ {
		e.revocationOf(ctx, &j, chain[i], chain[i+1], i == 0, purpose, used, poe, createdAfter)
	}

	// Cryptographic constraints on the certificates' own signatures
	// (5.2.8); the anchor's self-signature is not relied upon.
	for i := 0; i < len(chain)-1; i++ {
		c := chain[i]
		alg, err := cms.X509SignatureAlgorithm(c.SignatureAlgorithm)
		if err != nil {
			f.add(report.Indeterminate, report.CryptoConstraintsFailure, "%q: %v", c.Subject.String(), err)
			continue
		}
		if err := e.policy.CheckSignature(alg, cms.KeySize(chain[i+1].PublicKey), poe); err != nil {
			nb := c.NotBefore
			cryptoFinding(f, fmt.Sprintf("signature on certificate %q", c.Subject.String()), err, &nb)
		}
	}
	return j
}

// revocationOf decides the revocation status of cert at the time of use.
func (e *Engine) revocationOf(ctx context.Context, j *judgement, cert, issuer *x509.Certificate, leaf bool, purpose trust.Purpose,
	used, poe time.Time, createdAfter *time.Time) {
	f := &j.findings
	name := cert.Subject.String()
	if purpose == trust.PurposeOCSPSigning && leaf && hasExt(cert, oidOCSPNoCheck) {
		return
	}
	evs := e.checker.Check(ctx, cert, issuer, func(evs []revocation.Evidence) bool {
		_, good, revoked := e.classify(evs, cert, used)
		return good != nil || revoked != nil
	})
	rejected, good, revoked := e.classify(evs, cert, used)
	j.warnings = append(j.warnings, rejected...)
	if revoked != nil {
		use := useOf(cert, *revoked)
		j.revocation = append(j.revocation, use)
		r := revoked.RevokedAt
		if revoked.Reason == 6 {
			j.warnings = append(j.warnings, fmt.Sprintf("%q is on hold (certificateHold) since %s", name, r.UTC().Format(time.RFC3339)))
		}
		if poe.Before(r) {
			// Proven to exist before the revocation: the object stands.
			return
		}
		rt := r.UTC().Format(time.RFC3339)
		switch {
		case leaf && createdAfter != nil && !createdAfter.Before(r):
			f.add(report.TotalFailed, report.Revoked, "%q was revoked at %s (%s), and the signature was made after that (not before %s)",
				name, rt, revocation.ReasonName(revoked.Reason), createdAfter.UTC().Format(time.RFC3339))
		case leaf:
			f.add(report.Indeterminate, report.RevokedNoPOE, "%q was revoked at %s (%s) and there is no proof the signature existed before then",
				name, rt, revocation.ReasonName(revoked.Reason))
		default:
			f.add(report.Indeterminate, report.RevokedCANoPOE, "CA %q was revoked at %s (%s) and there is no proof of existence before then",
				name, rt, revocation.ReasonName(revoked.Reason))
		}
		return
	}
	if good != nil {
		j.revocation = append(j.revocation, useOf(cert, *good))
		return
	}
	msg := fmt.Sprintf("%q: no revocation data shows it was not revoked at %s", name, used.UTC().Format(time.RFC3339))
	if len(evs) == 0 {
		msg += " (none found"
		if len(cert.OCSPServer)+len(cert.CRLDistributionPoints) > 0 && !e.online() {
			msg += "; offline, so nothing was fetched"
		}
		msg += ")"
	}
	if e.now.After(cert.NotAfter) {
		f.add(report.Indeterminate, report.OutOfBoundsNoPOE, "%s, and it has expired since", msg)
		return
	}
	f.add(report.Indeterminate, report.TryLater, "%s", msg)
}

// classify sorts the evidence: the earliest revocation, the freshest good
// status that proves the certificate unrevoked at the time of use, and
// reasons for setting evidence aside.
func (e *Engine) classify(evs []revocation.Evidence, cert *x509.Certificate, used time.Time) (rejected []string, good, revoked *revocation.Evidence) {
	for i := range evs {
		ev := &evs[i]
		if ev.ThisUpdate.After(e.now.Add(clockSkew)) {
			rejected = append(rejected, fmt.Sprintf("%s for %q issued in the future (%s) ignored", ev.Source(), cert.Subject.String(), ev.ThisUpdate.UTC().Format(time.RFC3339)))
			continue
		}
		if err := e.policy.CheckSignature(ev.SignatureAlgorithm, ev.KeyBits, ev.ProducedAt); err != nil {
			rejected = append(rejected, fmt.Sprintf("%s for %q ignored: %v", ev.Source(), cert.Subject.String(), err))
			continue
		}
		switch ev.Status {
		case revocation.Revoked:
			if revoked == nil || ev.RevokedAt.Before(revoked.RevokedAt) {
				revoked = ev
			}
		case revocation.Good:
			if !ev.UsableAfterExpiry(cert) {
				continue
			}
			issuedAfterUse := !ev.ThisUpdate.Before(used)
			current := !ev.ThisUpdate.After(e.now.Add(clockSkew)) &&
				((ev.NextUpdate != nil && !e.now.After(*ev.NextUpdate)) ||
					(ev.NextUpdate == nil && e.now.Sub(ev.ThisUpdate) <= maxAgeWithoutNextUpdate))
			if (issuedAfterUse || current) && (good == nil || ev.ThisUpdate.After(good.ThisUpdate)) {
				good = ev
			}
		}
	}
	return rejected, good, revoked
}

func (e *Engine) online() bool { return e.hasFetcher }

func useOf(cert *x509.Certificate, ev revocation.Evidence) report.RevocationUse {
	tu := ev.ThisUpdate.UTC()
	u := report.RevocationUse{Certificate: cert.Subject.String(), Status: ev.Status.String(), Source: ev.Source(), ThisUpdate: &tu}
	if ev.Status == revocation.Revoked {
		r := ev.RevokedAt.UTC()
		u.Revoked = &r
		u.Reason = revocation.ReasonName(ev.Reason)
	}
	return u
}

var oidOCSPNoCheck = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}

func hasExt(c *x509.Certificate, oid asn1.ObjectIdentifier) bool {
	for _, x := range c.Extensions {
		if x.Id.Equal(oid) {
			return true
		}
	}
	return false
}
