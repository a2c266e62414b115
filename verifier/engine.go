// Package verifier is the validation engine every signature format feeds:
// CAdES and PKCS#7 now, XAdES and PAdES later. A format layer parses its
// signature, does the format-specific work (which bytes are signed, what the
// content digest is) and hands the engine an Input; the engine applies the
// validation model of ETSI EN 319 102-1 and returns a report.Signature.
//
// The engine follows the standard's building blocks in order:
//
//   - format checking (5.2.2): the format layer's FormatError;
//   - identification of the signing certificate (5.2.3): candidates by the
//     signer identifier, then bound by signing-certificate(-v2) (identify);
//   - cryptographic verification (5.2.7): the content digest and the
//     signature value (verifyCrypto);
//   - time-stamp validation (5.4) and proofs of existence: archive time
//     stamps first, newest to oldest, each giving a POE to what it covers,
//     then signature time stamps, whose earliest valid time is the
//     best-signature-time (timestamps.go);
//   - X.509 certificate validation (5.2.6) with revocation freshness
//     (5.2.5), judged at the best-signature-time with the POE of the
//     signature: this is past signature validation (5.6.2.4), so a time stamp
//     that proves the signature existed before its certificate expired or was
//     revoked keeps it valid (chain.go);
//   - signature acceptance validation (5.2.8): the algorithm policy at the
//     time the material is proven to have existed.
//
// A failure that proves the signature bad (TOTAL-FAILED) outranks one that
// only leaves it unproven (INDETERMINATE), as in the basic validation
// process (5.3.4): a tampered document under an untrusted chain is
// HASH_FAILURE, not NO_CERTIFICATE_CHAIN_FOUND.
//
// The engine never opens a network connection unless Config.Fetcher is set;
// with --offline it is nil.
package verifier

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"esig/internal/cms"
	"esig/verifier/policy"
	"esig/verifier/qualification"
	"esig/verifier/report"
	"esig/verifier/revocation"
	"esig/verifier/trust"
	"esig/verifier/tsl"
)

// Config configures an Engine for one verification run.
type Config struct {
	// Anchors are the only certificates trusted as such.
	Anchors *trust.Anchors
	// Intermediates are untrusted certificates that may help build paths.
	Intermediates []*x509.Certificate
	// CRLs and OCSPResponses are revocation data from files (DER or PEM).
	CRLs          [][]byte
	OCSPResponses [][]byte
	// ParsedCRLs are CRL files parsed once (revocation.ParseCRL) for the
	// many engines of a batch; they count as files, like CRLs.
	ParsedCRLs []*revocation.CRL
	// Fetcher fetches revocation data online; nil means offline.
	Fetcher revocation.Fetcher
	// Policy is the algorithm policy; nil means policy.Default().
	Policy *policy.Policy
	// Time is the validation time; zero means now. A past time validates
	// as of then (esig verify --at).
	Time time.Time
	// TrustedLists, when set, decide each signature's qualification
	// (ETSI TS 119 615); their CA/QC and TSA/QTST services should also be
	// among the Anchors.
	TrustedLists *tsl.Set
	// CRLCache, when set, shares parsed CRLs (files, embedded, fetched)
	// with the other engines of a run that use the same cache, as a batch
	// with an engine per file does.
	CRLCache *revocation.CRLCache
}

// Engine validates signatures. One Engine serves one verification run:
// it accumulates the certificates and revocation data it sees, so that
// one download serves every signature that needs it.
type Engine struct {
	anchors *trust.Anchors
	lists   *tsl.Set
	builder *trust.Builder
	checker *revocation.Checker
	policy  *policy.Policy
	now     time.Time
	// hasFetcher is false under --offline.
	hasFetcher bool
	// pendingCRLs are embedded CRLs not parsed yet. Parsing a large CRL
	// costs more than the rest of a verification, and a CRL is consulted
	// only once a chain to an anchor exists, so they are parsed then.
	pendingCRLs [][]byte
	seenCRLs    map[[32]byte]bool
}

// New returns an engine. Revocation files that cannot be parsed are an
// error: the user named them, so silently ignoring them would mislead.
func New(cfg Config) (*Engine, error) {
	e := &Engine{anchors: cfg.Anchors, lists: cfg.TrustedLists, policy: cfg.Policy, now: cfg.Time, hasFetcher: cfg.Fetcher != nil}
	if e.anchors == nil {
		e.anchors = trust.NewAnchors()
	}
	if e.policy == nil {
		e.policy = policy.Default()
	}
	if e.now.IsZero() {
		e.now = time.Now()
	}
	e.builder = trust.NewBuilder(e.anchors, cfg.Intermediates...)
	e.checker = revocation.NewChecker(cfg.Fetcher, e.builder)
	e.checker.UseCRLCache(cfg.CRLCache)
	for _, c := range cfg.ParsedCRLs {
		e.checker.AddParsedCRL(c, revocation.File)
	}
	for i, c := range cfg.CRLs {
		if err := e.checker.AddCRL(c, revocation.File); err != nil {
			return nil, fmt.Errorf("CRL file %d: %w", i+1, err)
		}
	}
	for i, o := range cfg.OCSPResponses {
		if err := e.checker.AddOCSP(o, revocation.File); err != nil {
			return nil, fmt.Errorf("OCSP response file %d: %w", i+1, err)
		}
	}
	return e, nil
}

// ValidationTime is the time the engine validates at.
func (e *Engine) ValidationTime() time.Time { return e.now }

// Input is what a format layer knows about one signature.
type Input struct {
	// ID names the signature in the report (e.g. "S1", "S1-C1").
	ID string
	// Format is the report's format name ("CAdES-BASELINE-B", "PKCS7").
	Format string
	// FormatError, when set, makes the signature TOTAL-FAILED/FORMAT_FAILURE.
	FormatError error
	// MissingData names signed data objects that are not available (a
	// detached signature verified without its content).
	MissingData []string
	// HashError, when set, makes the signature TOTAL-FAILED/HASH_FAILURE:
	// the signed data's digest does not match the signed one.
	HashError error

	// SignerID tells whether a certificate is the one the signature names
	// (issuer and serial, subject key identifier, a KeyInfo ...).
	SignerID func(*x509.Certificate) bool
	// SignerIDText describes the identifier for error messages.
	SignerIDText string
	// SigningCertRefs are the signed references to the signing certificate
	// (ESS signing-certificate(-v2), XAdES SigningCertificate(V2)); the
	// first names the signer's certificate. Empty when the format has none.
	SigningCertRefs []cms.CertRef
	// BindSigningCertificate, when set, decides in place of matching the
	// first of SigningCertRefs whether a candidate certificate is the one
	// the signed references name; an error says why it is not. XAdES needs
	// this: its SigningCertificate(V2) may list the signer's certificate
	// anywhere among its Cert elements, and the certificate must match both
	// the digest and, when present, the issuer and serial number (ETSI EN
	// 319 132-1, 5.2.2; EN 319 102-1, 5.2.3.4), so that a certificate
	// substituted for the signer's is refused rather than merely noted.
	BindSigningCertificate func(*x509.Certificate) error
	// VerifySignature checks the signature value with a candidate key.
	VerifySignature func(pub crypto.PublicKey) (cms.SignatureAlgorithm, error)
	// DigestAlgorithm is the hash of the signed data (for the policy).
	DigestAlgorithm crypto.Hash

	// Certificates and revocation data carried by the signature.
	Certificates  []*x509.Certificate
	CRLs          [][]byte
	OCSPResponses [][]byte

	// ClaimedSigningTime is the signer's own claim (signing-time).
	ClaimedSigningTime *time.Time
	Timestamps         []TimestampInput

	SignedObjects     []report.SignedObject
	Warnings          []string
	CounterSignatures []*Input
}

// ErrNotCovered is wrapped by a TimestampInput.Imprint error when the
// time-stamped data can be shown to have changed (an archive time stamp's
// hash index naming something no longer there): HASH_FAILURE for the token.
var ErrNotCovered = errors.New("time-stamped data is no longer all present")

// ErrDataNotAvailable is wrapped by a TimestampInput.Imprint error when
// some of the time-stamped data is not at hand (detached content the
// caller did not supply): INDETERMINATE/SIGNED_DATA_NOT_FOUND for the
// token, which is then neither proven nor disproven.
var ErrDataNotAvailable = errors.New("time-stamped data is not available")

// TimestampInput is one time-stamp token attached to a signature.
type TimestampInput struct {
	// Type is report.ContentTimestamp, SignatureTimestamp or ArchiveTimestamp.
	Type  string
	Token []byte
	// Imprint returns the hash, under the given algorithm, of the data the
	// time stamp must cover.
	Imprint func(crypto.Hash) ([]byte, error)
}

// finding is one failed check, in the vocabulary of EN 319 102-1.
type finding struct {
	ind report.Indication
	sub report.SubIndication
	msg string
}

type findings []finding

func (f *findings) add(ind report.Indication, sub report.SubIndication, format string, args ...any) {
	*f = append(*f, finding{ind, sub, fmt.Sprintf(format, args...)})
}

// outcome picks the verdict: the first TOTAL-FAILED, else the first
// INDETERMINATE, else TOTAL-PASSED.
func (f findings) outcome() (report.Indication, report.SubIndication) {
	for _, x := range f {
		if x.ind == report.TotalFailed {
			return x.ind, x.sub
		}
	}
	if len(f) > 0 {
		return f[0].ind, f[0].sub
	}
	return report.TotalPassed, ""
}

func (f findings) messages() []string {
	var out []string
	for _, x := range f {
		out = append(out, x.msg)
	}
	return out
}

// Validate runs the validation process on one signature.
func (e *Engine) Validate(ctx context.Context, in *Input) *report.Signature {
	rep, _ := e.ValidateSigner(ctx, in)
	return rep
}

// ValidateSigner is Validate that also returns the signing certificate the
// engine identified (5.2.3), nil when none was. Format layers that hand the
// certificate itself on (trusted-profile checks, portal intake) use it; the
// report only describes the certificate.
func (e *Engine) ValidateSigner(ctx context.Context, in *Input) (*report.Signature, *x509.Certificate) {
	rep := &report.Signature{ID: in.ID, Format: in.Format, SignedObjects: in.SignedObjects,
		Warnings: append([]string(nil), in.Warnings...)}
	if in.ClaimedSigningTime != nil {
		t := in.ClaimedSigningTime.UTC()
		rep.SigningTime = &t
	}
	var (
		f     findings
		chain []*x509.Certificate // set once a path was built
		bst   time.Time
	)
	defer func() {
		rep.Indication, rep.SubIndication = f.outcome()
		rep.Errors = append(rep.Errors, f.messages()...)
		// Qualification is judged after the AdES verdict (TS 119 615): it
		// needs the path and the best-signature-time, and it reports a
		// failed signature as such.
		rep.Qualification = report.QualificationNotApplicable
		if chain != nil {
			q := qualification.Signature(qualification.Input{Chain: chain, SigningTime: bst, Indication: rep.Indication, Lists: e.lists})
			rep.Qualification, rep.QualificationDetails = q.Qualification, q.Reasons
		}
		for _, c := range in.CounterSignatures {
			rep.CounterSignatures = append(rep.CounterSignatures, e.Validate(ctx, c))
		}
	}()

	// Format checking (5.2.2).
	if in.FormatError != nil {
		f.add(report.TotalFailed, report.FormatFailure, "%v", in.FormatError)
		return rep, nil
	}

	// Cryptographic verification of the data digest (5.2.7) comes first:
	// it needs no certificate and proves tampering on its own, even when
	// other signed data is missing.
	if in.HashError != nil {
		e.addEmbedded(in, rep)
		f.add(report.TotalFailed, report.HashFailure, "%v", in.HashError)
		return rep, nil
	}
	if len(in.MissingData) > 0 {
		for _, m := range in.MissingData {
			f.add(report.Indeterminate, report.SignedDataNotFound, "signed data not available: %s", m)
		}
		// A format whose signature value does not depend on the missing
		// data (XMLDSig signs SignedInfo, which holds only its digest)
		// still has it checked: a forged value is TOTAL-FAILED whatever
		// else is missing. Otherwise nothing more can be said.
		if in.VerifySignature == nil {
			return rep, nil
		}
	}
	e.addEmbedded(in, rep)

	// Identification of the signing certificate (5.2.3).
	signer, alg, ok := e.identify(in, rep, &f)
	if !ok {
		return rep, nil
	}

	// Time stamps and proofs of existence (5.4, 5.6.2).
	poe := e.timestamps(ctx, in, rep, &f)
	bst = poe.signature
	b := bst.UTC()
	rep.BestSignatureTime = &b

	// The latest time the signer is known (or admits) to have been signing
	// at: proof that the signature came after a revocation or expiry.
	lower := poe.createdAfter
	if in.ClaimedSigningTime != nil && (lower == nil || in.ClaimedSigningTime.After(*lower)) {
		lower = in.ClaimedSigningTime
	}
	if in.ClaimedSigningTime != nil && in.ClaimedSigningTime.After(bst.Add(clockSkew)) {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("claimed signing time %s is after the best-signature-time %s",
			in.ClaimedSigningTime.UTC().Format(time.RFC3339), bst.UTC().Format(time.RFC3339)))
	}

	// X.509 certificate validation at the best-signature-time (5.2.6,
	// 5.6.2.4 past signature validation).
	j := e.judge(ctx, signer, trust.PurposeSignature, bst, bst, lower, true)
	f = append(f, j.findings...)
	if len(j.chain) > 0 {
		chain = j.chain
	}
	rep.Chain = j.chainReport(e.anchors)
	rep.Revocation = j.revocation
	rep.Warnings = append(rep.Warnings, j.warnings...)

	// Signature acceptance validation: cryptographic constraints (5.2.8).
	if err := e.policy.CheckSignature(alg, cms.KeySize(signer.PublicKey), bst); err != nil {
		cryptoFinding(&f, "signature value", err, lower)
	}
	if in.DigestAlgorithm != 0 && in.DigestAlgorithm != alg.Hash {
		if err := e.policy.CheckDigest(in.DigestAlgorithm, bst); err != nil {
			cryptoFinding(&f, "signed data digest", err, lower)
		}
	}
	return rep, signer
}

// clockSkew tolerates small disagreements between the clocks of signers,
// TSAs and the verifier.
const clockSkew = 5 * time.Minute

func (e *Engine) addEmbedded(in *Input, rep *report.Signature) {
	e.builder.AddIntermediates(in.Certificates...)
	for _, c := range in.CRLs {
		k := sha256.Sum256(c)
		if e.seenCRLs == nil {
			e.seenCRLs = map[[32]byte]bool{}
		}
		if !e.seenCRLs[k] {
			e.seenCRLs[k] = true
			e.pendingCRLs = append(e.pendingCRLs, c)
		}
	}
	for _, o := range in.OCSPResponses {
		if err := e.checker.AddOCSP(o, revocation.Embedded); err != nil {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("embedded OCSP response ignored: %v", err))
		}
	}
}

// loadPendingCRLs parses the embedded CRLs set aside by addEmbedded and
// returns a warning for each that cannot be used.
func (e *Engine) loadPendingCRLs() []string {
	var warnings []string
	for _, c := range e.pendingCRLs {
		if err := e.checker.AddCRL(c, revocation.Embedded); err != nil {
			warnings = append(warnings, fmt.Sprintf("embedded CRL ignored: %v", err))
		}
	}
	e.pendingCRLs = nil
	return warnings
}

// identify finds the signing certificate (EN 319 102-1, 5.2.3) and checks
// the signature value with it (5.2.7). Candidates are the certificates the
// signer identifier names, from the signature, the configured pool and the
// anchors; a signed reference (signing-certificate-v2) must then match,
// which defeats substitution of another certificate for the same key.
func (e *Engine) identify(in *Input, rep *report.Signature, f *findings) (*x509.Certificate, cms.SignatureAlgorithm, bool) {
	var cands []*x509.Certificate
	seen := map[[32]byte]bool{}
	consider := func(cs []*x509.Certificate) {
		for _, c := range cs {
			k := sha256.Sum256(c.Raw)
			if !seen[k] && in.SignerID != nil && in.SignerID(c) {
				seen[k] = true
				cands = append(cands, c)
			}
		}
	}
	if in.SignerID != nil {
		consider(in.Certificates)
		consider(e.builder.Candidates(in.SignerID))
	}
	if len(cands) == 0 {
		f.add(report.Indeterminate, report.NoSigningCertificateFound, "no certificate matches the signer identifier (%s)", in.SignerIDText)
		return nil, cms.SignatureAlgorithm{}, false
	}
	if len(in.SigningCertRefs) == 0 {
		rep.Warnings = append(rep.Warnings, "the signing certificate is not bound by a signed attribute (signing-certificate-v2): "+
			"another certificate for the same key could be substituted")
	}
	if in.BindSigningCertificate != nil {
		var bound []*x509.Certificate
		var why []string
		for _, c := range cands {
			if err := in.BindSigningCertificate(c); err != nil {
				why = append(why, fmt.Sprintf("%q: %v", c.Subject.String(), err))
				continue
			}
			bound = append(bound, c)
		}
		if len(bound) == 0 {
			rep.Signer = describe(cands[0])
			f.add(report.Indeterminate, report.NoSigningCertificateFound,
				"the signed signing-certificate reference names none of the %d candidate certificate(s): %s", len(cands), strings.Join(why, "; "))
			return nil, cms.SignatureAlgorithm{}, false
		}
		cands = bound
	} else if len(in.SigningCertRefs) > 0 {
		ref := in.SigningCertRefs[0]
		var bound []*x509.Certificate
		for _, c := range cands {
			if ref.MatchesDigest(c) {
				bound = append(bound, c)
				if !ref.MatchesIssuerSerial(c) {
					rep.Warnings = append(rep.Warnings, "signing-certificate issuerSerial does not name the signing certificate")
				}
			}
		}
		if len(bound) == 0 {
			rep.Signer = describe(cands[0])
			f.add(report.Indeterminate, report.NoSigningCertificateFound,
				"the signed signing-certificate reference (%s digest) matches none of the %d certificate(s) named by the signer identifier", ref.Hash, len(cands))
			return nil, cms.SignatureAlgorithm{}, false
		}
		cands = bound
	}
	var lastErr error
	for _, c := range cands {
		alg, err := in.VerifySignature(c.PublicKey)
		if err == nil {
			rep.Signer = describe(c)
			rep.SignatureAlgorithm = alg.String()
			return c, alg, true
		}
		lastErr = err
	}
	rep.Signer = describe(cands[0])
	f.add(report.TotalFailed, report.SigCryptoFailure, "signature value does not verify with the signing certificate's key: %v", lastErr)
	return nil, cms.SignatureAlgorithm{}, false
}

// cryptoFinding turns a policy violation into the EN 319 102-1 verdict:
// CRYPTO_CONSTRAINTS_FAILURE when the material is known to have been made
// after the algorithm's sunset (by the signer's own claimed time or a proof
// of existence of what it signed), CRYPTO_CONSTRAINTS_FAILURE_NO_POE when
// there is just no proof it existed before.
func cryptoFinding(f *findings, what string, err error, createdAfter *time.Time) {
	v, ok := err.(*policy.Violation)
	if !ok || v.Sunset.IsZero() || (createdAfter != nil && !createdAfter.Before(v.Sunset)) {
		f.add(report.Indeterminate, report.CryptoConstraintsFailure, "%s: %v", what, err)
		return
	}
	f.add(report.Indeterminate, report.CryptoConstraintsFailureNoPOE, "%s: %v, and there is no proof of existence before then", what, err)
}

func describe(c *x509.Certificate) *report.Signer {
	sum := sha256.Sum256(c.Raw)
	return &report.Signer{
		Subject:           c.Subject.String(),
		SerialNumber:      hex.EncodeToString(c.SerialNumber.Bytes()),
		Issuer:            c.Issuer.String(),
		CertificateSHA256: hex.EncodeToString(sum[:]),
	}
}
