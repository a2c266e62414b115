package issuance

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"sort"
	"sync"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	zx509 "github.com/zmap/zcrypto/x509"
	// Every lint package registers its lints in init; the root package
	// imports them all.
	_ "github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"
)

// Linter runs zlint over a certificate before the CA signs it.
//
// The certificate to lint is the very TBSCertificate the CA will sign,
// signed first by a throwaway key of the same type as the CA's (so its
// signature algorithm and encoding are what the real one will be). Nothing
// is ever signed by the CA key before the lints pass. The throwaway key
// and the lint set are made once: making them per request would dominate
// the cost of issuance.
type Linter struct {
	key   crypto.Signer
	alg   sigAlg
	lints *lintSet
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

// NewLinter prepares a linter for certificates signed by a CA whose public
// key is realPub.
func NewLinter(realPub crypto.PublicKey) (*Linter, error) {
	alg, err := signatureAlgorithm(realPub)
	if err != nil {
		return nil, err
	}
	key, err := throwawayKey(realPub)
	if err != nil {
		return nil, err
	}
	return &Linter{key: key, alg: alg, lints: issuanceLints()}, nil
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
// esig issues: the CA/Browser Forum's TLS, EV, code-signing and S/MIME
// requirements, and the Apple, Chrome and Mozilla root programs (TLS and
// S/MIME). Profile.Validate refuses the purposes they govern (serverAuth,
// codeSigning, emailProtection, anyExtendedKeyUsage), so each of their
// lints would only answer "not applicable"; skipping them saves a sixth of
// the cost of issuance. TestProfilesPassEveryLint keeps every profile clean
// under the full registry, which is what the zlint command runs.
var excludedSources = lint.SourceList{
	lint.CABFBaselineRequirements, lint.CABFEVGuidelines, lint.CABFCSBaselineRequirements, lint.CABFSMIMEBaselineRequirements,
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

// linted is a certificate body that passed the lints, ready for the real
// issuer to sign exactly those bytes.
type linted struct {
	tbs []byte // the DER TBSCertificate
	alg sigAlg // the signature algorithm named inside tbs
}

// Check encodes body, signs it with the throwaway key and runs the lints.
// It returns the linted TBSCertificate, or a *LintError naming every lint
// that reported a warning, an error or a fatal finding.
func (l *Linter) Check(body *certBody) (*linted, error) {
	if string(body.sigAlg.der) != string(l.alg.der) {
		return nil, errors.New("lint: the certificate names another signature algorithm than the CA key's")
	}
	tbs, err := body.marshal()
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			return nil, err
		}
		return nil, fmt.Errorf("issuance: encoding the certificate: %w", err)
	}
	sig, err := signDigest(l.key, l.alg.hash, tbs)
	if err != nil {
		return nil, fmt.Errorf("lint: signing the lint copy: %w", err)
	}
	zc, err := zx509.ParseCertificate(assemble(tbs, l.alg, sig))
	if err != nil {
		return nil, fmt.Errorf("lint: parsing the lint certificate: %w", err)
	}
	if err := l.lints.run(zc); err != nil {
		return nil, err
	}
	return &linted{tbs: tbs, alg: l.alg}, nil
}

// signDigest signs the digest of msg under hash with key.
func signDigest(key crypto.Signer, hash crypto.Hash, msg []byte) ([]byte, error) {
	h := hash.New()
	h.Write(msg)
	return key.Sign(rand.Reader, h.Sum(nil), hash)
}

// assemble is the DER Certificate made of tbs, its algorithm and sig.
func assemble(tbs []byte, alg sigAlg, sig []byte) []byte {
	b := cryptobyte.NewBuilder(make([]byte, 0, len(tbs)+len(alg.der)+len(sig)+16))
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		b.AddBytes(alg.der)
		b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
			b.AddUint8(0)
			b.AddBytes(sig)
		})
	})
	return b.BytesOrPanic() // only lengths beyond 2^32 could fail
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
