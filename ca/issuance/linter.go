package issuance

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"sort"
	"sync"

	zx509 "github.com/zmap/zcrypto/x509"
	// Every lint package registers its lints in init; the root package
	// imports them all.
	_ "github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"
)

// Linter runs zlint over a certificate before the CA signs it.
//
// The certificate to lint is signed first by a throwaway key under a lint
// issuer: a copy of the real issuer certificate (same subject, same subject
// key identifier, same key type) self-signed by that throwaway key. The lint
// copy therefore has exactly the TBSCertificate the real one will have, and
// nothing is ever signed by the CA key before the lints pass. The throwaway
// key, the lint issuer and the lint registry are built once: building them
// per request would dominate the cost of issuance.
type Linter struct {
	issuer *x509.Certificate
	key    crypto.Signer
	lints  *lintSet
}

// lintSet is the registry's certificate lints and configuration, listed
// once: zlint's LintCertificateEx sorts every lint name and fills a map of
// all results for each certificate, of which esig only wants the findings.
type lintSet struct {
	lints  []*lint.CertificateLint
	config lint.Configuration
}

func newLintSet(r lint.Registry) *lintSet {
	return &lintSet{lints: r.CertificateLints().Lints(), config: r.GetConfiguration()}
}

// run executes every lint on c and returns a *LintError naming each one
// that reported a warning, an error or a fatal finding (a lint that panics
// is a fatal finding: zlint recovers it).
func (s *lintSet) run(c *zx509.Certificate) error {
	var bad []string
	for _, l := range s.lints {
		r := l.Execute(c, s.config)
		if r.Status >= lint.Warn {
			f := fmt.Sprintf("%s (%s)", l.Name, r.Status)
			if r.Details != "" {
				f += ": " + r.Details
			}
			bad = append(bad, f)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return &LintError{Lints: bad}
}

// NewLinter prepares a linter for certificates issued by realIssuer, whose
// private key is of the same type as realKey's public part.
func NewLinter(realIssuer *x509.Certificate, realPub crypto.PublicKey) (*Linter, error) {
	key, err := throwawayKey(realPub)
	if err != nil {
		return nil, err
	}
	tmpl := *realIssuer
	tmpl.Raw, tmpl.RawTBSCertificate, tmpl.RawSubjectPublicKeyInfo = nil, nil, nil
	tmpl.Signature = nil
	tmpl.PublicKey = key.Public()
	tmpl.AuthorityKeyId = nil // self-signed: Go sets it from the subject key id
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("lint issuer: %w", err)
	}
	issuer, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("lint issuer: %w", err)
	}
	return &Linter{issuer: issuer, key: key, lints: issuanceLints()}, nil
}

// excludedLints are lints that cannot say anything about a lint copy, or
// whose check esig makes itself before it builds one.
//
// e_cert_issued_by_compromised_emudhra_ca checks whether the certificate's
// signature verifies under one leaked ECDSA P-384 key. The lint copy is
// signed by a throwaway key, so the answer is always no, and the check is a
// generic P-384 verification that costs more than all other lints together.
//
// e_ecdsa_small_private_key looks for an ECDSA private scalar of at most
// 2^16 (or its negation). CheckKey refuses those keys before Prepare
// builds anything, from a table of the same range (smallECDSAKey); the
// lint's walk cost a sixth of an issuance.
var excludedLints = []string{"e_cert_issued_by_compromised_emudhra_ca", "e_ecdsa_small_private_key"}

// excludedSources are lint families that cannot apply to a certificate
// esig issues: the CA/Browser Forum's TLS, EV and code-signing
// requirements, and the Apple, Chrome and Mozilla root programs (TLS and
// S/MIME). Profile.Validate refuses the purposes they govern (serverAuth,
// codeSigning, emailProtection, anyExtendedKeyUsage), so each of their
// lints would only answer "not applicable"; skipping them saves a sixth of
// the cost of issuance. TestProfilesPassEveryLint keeps every profile clean
// under the full registry, which is what the zlint command runs.
var excludedSources = lint.SourceList{
	lint.CABFBaselineRequirements, lint.CABFEVGuidelines, lint.CABFCSBaselineRequirements,
	lint.AppleRootStorePolicy, lint.ChromeRootStorePolicy, lint.MozillaRootStorePolicy,
}

// lintRegistry is every zlint lint but the excluded ones, filtered once on
// first use: commands that never issue (esig verify) do not pay for it at
// start-up.
var lintRegistry = sync.OnceValue(func() lint.Registry {
	r, err := lint.GlobalRegistry().Filter(lint.FilterOptions{ExcludeNames: excludedLints, ExcludeSources: excludedSources})
	if err != nil {
		panic("zlint registry: " + err.Error()) // only if a lint above was renamed
	}
	return r
})

// issuanceLints and allLints are the two lint sets esig runs: the filtered
// registry before every issuance, the whole one over certificates signed
// outside Prepare/Issue.
var (
	issuanceLints = sync.OnceValue(func() *lintSet { return newLintSet(lintRegistry()) })
	allLints      = sync.OnceValue(func() *lintSet { return newLintSet(lint.GlobalRegistry()) })
)

func throwawayKey(pub crypto.PublicKey) (crypto.Signer, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return ecdsa.GenerateKey(k.Curve, rand.Reader)
	case *rsa.PublicKey:
		return rsa.GenerateKey(rand.Reader, k.N.BitLen())
	default:
		return nil, fmt.Errorf("lint issuer: unsupported issuer key type %T", pub)
	}
}

// linted is a certificate body that passed the lints, split so the real
// issuer can sign exactly those bytes.
type linted struct {
	tbs    []byte // the DER TBSCertificate
	sigAlg []byte // the DER AlgorithmIdentifier, equal to the one inside tbs
	hash   crypto.Hash
}

// Check signs tmpl under the lint issuer and runs the lints. It returns the
// linted TBSCertificate, or a *LintError naming every lint that reported a
// warning, an error or a fatal finding.
func (l *Linter) Check(tmpl *x509.Certificate, pub crypto.PublicKey) (*linted, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, l.issuer, pub, l.key)
	if err != nil {
		return nil, fmt.Errorf("building certificate: %w", err)
	}
	zc, err := zx509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("lint: parsing the lint certificate: %w", err)
	}
	if err := l.lints.run(zc); err != nil {
		return nil, err
	}
	var outer struct {
		TBS    asn1.RawValue
		SigAlg asn1.RawValue
		Sig    asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		return nil, fmt.Errorf("lint: splitting the lint certificate: %w", err)
	}
	h, err := signatureHash(zc.SignatureAlgorithm)
	if err != nil {
		return nil, err
	}
	return &linted{tbs: outer.TBS.FullBytes, sigAlg: outer.SigAlg.FullBytes, hash: h}, nil
}

// signatureHash is the digest crypto/x509 pairs with each key type it
// chooses a signature algorithm for.
func signatureHash(alg zx509.SignatureAlgorithm) (crypto.Hash, error) {
	switch alg {
	case zx509.ECDSAWithSHA256, zx509.SHA256WithRSA:
		return crypto.SHA256, nil
	case zx509.ECDSAWithSHA384, zx509.SHA384WithRSA:
		return crypto.SHA384, nil
	case zx509.ECDSAWithSHA512, zx509.SHA512WithRSA:
		return crypto.SHA512, nil
	}
	return 0, fmt.Errorf("lint: unexpected signature algorithm %v", alg)
}

// LintDER runs every zlint lint over an already signed certificate, for
// certificates the CA signs outside Prepare/Issue (its own root).
func LintDER(der []byte) error {
	zc, err := zx509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("lint: %w", err)
	}
	return allLints().run(zc)
}
