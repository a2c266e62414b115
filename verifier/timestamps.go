package verifier

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"sort"
	"time"

	"esig/internal/cms"
	"esig/verifier/report"
	"esig/verifier/trust"
)

// proofs is what the time stamps establish about a signature.
type proofs struct {
	// signature is the best-signature-time (EN 319 102-1, 5.1.4 and
	// 5.5.4): the earliest time the signature is proven to exist, the
	// validation time when nothing proves earlier.
	signature time.Time
	// createdAfter is the latest genTime of a valid content time stamp:
	// the signature covers that token, so it was made after it.
	createdAfter *time.Time
}

type parsedTS struct {
	in  TimestampInput
	tok *cms.Token
	err error
}

// timestamps validates every time-stamp token of the signature and
// derives the proofs of existence. Archive time stamps are processed newest
// first: each valid one proves that everything it covers, including older
// archive time stamps, existed at its genTime, so the older ones are
// validated with that time as their POE (5.6.2.4; ETSI EN 319 122-1,
// 5.5.3). Signature time stamps are then validated with the archive POE and
// give the best-signature-time; content time stamps come last, with the
// best-signature-time as their POE, since the signature covers them.
func (e *Engine) timestamps(ctx context.Context, in *Input, rep *report.Signature, f *findings) proofs {
	var archives, sigs, contents []parsedTS
	for _, t := range in.Timestamps {
		p := parsedTS{in: t}
		p.tok, p.err = cms.ParseToken(t.Token)
		switch t.Type {
		case report.ArchiveTimestamp:
			archives = append(archives, p)
		case report.ContentTimestamp:
			contents = append(contents, p)
		default:
			sigs = append(sigs, p)
		}
	}
	genTime := func(p parsedTS) time.Time {
		if p.tok == nil {
			return time.Time{}
		}
		return p.tok.Info.GenTime
	}
	sort.SliceStable(archives, func(i, j int) bool { return genTime(archives[i]).After(genTime(archives[j])) })
	sort.SliceStable(sigs, func(i, j int) bool { return genTime(sigs[i]).Before(genTime(sigs[j])) })

	archivePOE := e.now
	for _, a := range archives {
		r, ok := e.validateTimestamp(ctx, a, in, archivePOE)
		rep.Timestamps = append(rep.Timestamps, r)
		if ok && a.tok.Info.GenTime.Before(archivePOE) {
			archivePOE = a.tok.Info.GenTime
		}
		if !ok {
			rep.Warnings = append(rep.Warnings, "an archive time stamp is not valid and proves nothing")
		}
	}
	bst := archivePOE
	for _, s := range sigs {
		r, ok := e.validateTimestamp(ctx, s, in, archivePOE)
		rep.Timestamps = append(rep.Timestamps, r)
		if ok && s.tok.Info.GenTime.Before(bst) {
			bst = s.tok.Info.GenTime
		}
		if !ok {
			rep.Warnings = append(rep.Warnings, "a signature time stamp is not valid and proves nothing")
		}
	}
	out := proofs{signature: bst}
	for _, c := range contents {
		r, ok := e.validateTimestamp(ctx, c, in, bst)
		rep.Timestamps = append(rep.Timestamps, r)
		if !ok {
			rep.Warnings = append(rep.Warnings, "a content time stamp is not valid and proves nothing")
			continue
		}
		g := c.tok.Info.GenTime
		// 5.5.4: content time stamps must precede the signature time stamps.
		if g.After(bst.Add(clockSkew)) && bst.Before(e.now) {
			f.add(report.Indeterminate, report.TimestampOrderFailure,
				"content time stamp (%s) is later than the best-signature-time (%s)", g.UTC().Format(time.RFC3339), bst.UTC().Format(time.RFC3339))
		}
		if out.createdAfter == nil || g.After(*out.createdAfter) {
			out.createdAfter = &g
		}
	}
	return out
}

// validateTimestamp is the time-stamp validation building block (EN 319
// 102-1, 5.4): the token is a CMS signature by a TSA whose certificate must
// chain to an anchor and carry id-kp-timeStamping, over a TSTInfo whose
// imprint must be the hash of what the token claims to cover. poe is the
// time the token itself is proven to exist.
func (e *Engine) validateTimestamp(ctx context.Context, p parsedTS, in *Input, poe time.Time) (*report.Timestamp, bool) {
	r := &report.Timestamp{Type: p.in.Type}
	var f findings
	done := func() (*report.Timestamp, bool) {
		r.Indication, r.SubIndication = f.outcome()
		r.Errors = append(r.Errors, f.messages()...)
		return r, r.Indication == report.TotalPassed
	}
	if p.err != nil {
		f.add(report.TotalFailed, report.FormatFailure, "time-stamp token: %v", p.err)
		return done()
	}
	tok := p.tok
	g := tok.Info.GenTime.UTC()
	r.ProductionTime = &g
	r.SerialNumber = fmt.Sprintf("%X", tok.Info.SerialNumber)
	r.DigestAlgorithm = cms.HashName(tok.Info.Hash)

	// The imprint binds the token to what it time-stamps.
	match, err := tok.Info.MatchesImprint(p.in.Imprint)
	switch {
	case errors.Is(err, ErrNotCovered):
		f.add(report.TotalFailed, report.HashFailure, "time-stamp imprint: %v", err)
		return done()
	case errors.Is(err, ErrDataNotAvailable):
		f.add(report.Indeterminate, report.SignedDataNotFound, "time-stamp imprint: %v", err)
		return done()
	case err != nil:
		f.add(report.TotalFailed, report.FormatFailure, "time-stamp imprint: %v", err)
		return done()
	case !match:
		f.add(report.TotalFailed, report.HashFailure, "time-stamp message imprint does not match the time-stamped data")
		return done()
	}

	// The token's own signed attributes and signature.
	sd := tok.SignedData
	si := tok.Signer()
	h := si.Hash()
	if h == 0 || !h.Available() {
		f.add(report.TotalFailed, report.FormatFailure, "time-stamp token digest algorithm %v unknown", si.DigestAlgorithm.Algorithm)
		return done()
	}
	d := h.New()
	d.Write(sd.Content)
	if err := si.CheckAttributes(cms.OIDTSTInfo, d.Sum(nil)); err != nil {
		if errors.Is(err, cms.ErrMessageDigest) {
			f.add(report.TotalFailed, report.HashFailure, "time-stamp token: TSTInfo was altered: %v", err)
		} else {
			f.add(report.TotalFailed, report.FormatFailure, "time-stamp token: %v", err)
		}
		return done()
	}
	certs := sd.X509Certificates()
	e.builder.AddIntermediates(certs...)
	e.builder.AddIntermediates(in.Certificates...)
	cands := e.builder.Candidates(si.SID.Matches)
	refs, err := si.SigningCertificateRefs()
	if err != nil {
		f.add(report.TotalFailed, report.FormatFailure, "time-stamp token signing-certificate: %v", err)
		return done()
	}
	if len(refs) == 0 {
		r.Warnings = append(r.Warnings, "time-stamp token lacks the ESS signing-certificate attribute RFC 3161 (2.4.1) requires")
	} else {
		var bound []*x509.Certificate
		for _, c := range cands {
			if refs[0].MatchesDigest(c) {
				bound = append(bound, c)
			}
		}
		cands = bound
	}
	if len(cands) == 0 {
		f.add(report.Indeterminate, report.NoSigningCertificateFound, "no TSA certificate matches the token's signer identifier (%s) and signing-certificate", si.SID)
		return done()
	}
	var tsa *x509.Certificate
	var alg cms.SignatureAlgorithm
	for _, c := range cands {
		if a, err := si.VerifySignature(c.PublicKey, nil); err == nil {
			tsa, alg = c, a
			break
		}
	}
	if tsa == nil {
		f.add(report.TotalFailed, report.SigCryptoFailure, "time-stamp token signature does not verify")
		return done()
	}
	r.TSA = tsa.Subject.String()
	if g.After(e.now.Add(clockSkew)) {
		f.add(report.Indeterminate, report.NoPOE, "time stamp claims a time (%s) after the validation time", g.Format(time.RFC3339))
		return done()
	}

	gt := tok.Info.GenTime
	j := e.judge(ctx, tsa, trust.PurposeTimestamping, gt, poe, &gt, true)
	f = append(f, j.findings...)
	r.Warnings = append(r.Warnings, j.warnings...)
	if err := e.policy.CheckSignature(alg, cms.KeySize(tsa.PublicKey), poe); err != nil {
		cryptoFinding(&f, "time-stamp signature", err, &gt)
	}
	if err := e.policy.CheckDigest(tok.Info.Hash, poe); err != nil {
		cryptoFinding(&f, "time-stamp imprint", err, &gt)
	}
	return done()
}

// DocumentTimestamp is the report type of a time stamp validated on its
// own (esig timestamp --verify), after ETSI TS 119 102-2.
const DocumentTimestamp = "DOCUMENT_TIMESTAMP"

// ValidateTimestamp validates a standalone time-stamp token (RFC 3161)
// over data whose digest imprint returns, with the same building block
// signature time stamps go through.
func (e *Engine) ValidateTimestamp(ctx context.Context, token []byte, imprint func(crypto.Hash) ([]byte, error)) *report.Timestamp {
	p := parsedTS{in: TimestampInput{Type: DocumentTimestamp, Token: token, Imprint: imprint}}
	p.tok, p.err = cms.ParseToken(token)
	r, _ := e.validateTimestamp(ctx, p, &Input{}, e.now)
	if r.Errors == nil {
		r.Errors = []string{}
	}
	if r.Warnings == nil {
		r.Warnings = []string{}
	}
	return r
}
