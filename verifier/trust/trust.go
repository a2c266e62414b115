// Package trust builds certificate chains from a certificate to a trust
// anchor and checks the time-independent rules of RFC 5280 path validation
// (6.1) on them: name chaining, signatures, basic constraints, path length,
// key usage, critical extensions, name constraints, and the purpose the end
// certificate is used for.
//
// Validity periods and revocation are deliberately not checked here: which
// time they must hold at depends on proofs of existence that only the
// validation engine knows (EN 319 102-1, 5.2.6 and 5.6.2.1), and
// crypto/x509's Verify checks them at one time only. Chains are therefore
// built once, time-free, and the engine judges them at the time it needs.
//
// Trust comes only from Anchors. A certificate the signature carries is a
// hint for building the path, never a reason to trust it.
package trust

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"esig/internal/cms"
)

// MaxChainLength bounds the chains Build returns (anchor included).
const MaxChainLength = 10

// maxChains bounds how many alternative chains Build explores, so that a
// signature stuffed with cross-certificates cannot make path building
// exponential.
const maxChains = 16

// Anchors is a set of trusted certificates.
type Anchors struct {
	certs []*x509.Certificate
	seen  map[[32]byte]bool
}

// NewAnchors returns a set holding the given certificates.
func NewAnchors(certs ...*x509.Certificate) *Anchors {
	a := &Anchors{seen: map[[32]byte]bool{}}
	for _, c := range certs {
		a.Add(c)
	}
	return a
}

// Add trusts one more certificate.
func (a *Anchors) Add(c *x509.Certificate) {
	if a.seen == nil {
		a.seen = map[[32]byte]bool{}
	}
	k := sha256.Sum256(c.Raw)
	if !a.seen[k] {
		a.seen[k] = true
		a.certs = append(a.certs, c)
	}
}

// Contains reports whether c itself is trusted.
func (a *Anchors) Contains(c *x509.Certificate) bool {
	return a != nil && a.seen[sha256.Sum256(c.Raw)]
}

// Certificates returns the anchors.
func (a *Anchors) Certificates() []*x509.Certificate {
	if a == nil {
		return nil
	}
	return a.certs
}

// Len is the number of anchors.
func (a *Anchors) Len() int {
	if a == nil {
		return 0
	}
	return len(a.certs)
}

// ParseCertificates reads certificates from PEM ("CERTIFICATE" blocks) or,
// failing that, from a single DER certificate.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" && b.Type != "TRUSTED CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("trust: certificate %d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		c, err := x509.ParseCertificate(bytes.TrimSpace(data))
		if err != nil {
			return nil, errors.New("trust: no PEM CERTIFICATE block and not a DER certificate")
		}
		out = append(out, c)
	}
	return out, nil
}

// LoadFile reads certificates from a PEM or DER file.
func LoadFile(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	certs, err := ParseCertificates(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return certs, nil
}

// Chain is a certification path: the target certificate first, a trust
// anchor last.
type Chain []*x509.Certificate

// Anchor is the chain's trust anchor.
func (c Chain) Anchor() *x509.Certificate { return c[len(c)-1] }

// Builder finds chains. It caches signature checks: the engine builds
// chains for the signer, the time-stamp authority and OCSP responders,
// which share CAs.
type Builder struct {
	Anchors *Anchors
	pool    []*x509.Certificate
	seen    map[[32]byte]bool
	sigOK   map[[64]byte]bool
	// bySubject indexes anchors and pool by subject, so that path building
	// looks only at certificates whose name can chain, however many
	// certificates a long run has accumulated.
	bySubject map[string][]*x509.Certificate
	digest    map[*x509.Certificate][32]byte
}

// NewBuilder returns a builder over the anchors and an untrusted pool of
// intermediate certificates.
func NewBuilder(anchors *Anchors, pool ...*x509.Certificate) *Builder {
	b := &Builder{Anchors: anchors, seen: map[[32]byte]bool{}, sigOK: map[[64]byte]bool{},
		bySubject: map[string][]*x509.Certificate{}, digest: map[*x509.Certificate][32]byte{}}
	for _, a := range anchors.Certificates() {
		k := cms.NormalizedName(a.RawSubject)
		b.bySubject[k] = append(b.bySubject[k], a)
	}
	b.AddIntermediates(pool...)
	return b
}

// AddIntermediates adds untrusted certificates to build paths through.
func (b *Builder) AddIntermediates(certs ...*x509.Certificate) {
	for _, c := range certs {
		k := sha256.Sum256(c.Raw)
		if !b.seen[k] {
			b.seen[k] = true
			b.pool = append(b.pool, c)
			n := cms.NormalizedName(c.RawSubject)
			b.bySubject[n] = append(b.bySubject[n], c)
		}
	}
}

// Issues reports whether parent issued child: names chain, key identifiers
// do not contradict each other, and parent's key verifies child's signature.
func (b *Builder) Issues(parent, child *x509.Certificate) bool {
	if !cms.SameName(child.RawIssuer, parent.RawSubject) {
		return false
	}
	if len(child.AuthorityKeyId) > 0 && len(parent.SubjectKeyId) > 0 &&
		!bytes.Equal(child.AuthorityKeyId, parent.SubjectKeyId) {
		return false
	}
	var k [64]byte
	p, c := b.sum(parent), b.sum(child)
	copy(k[:32], p[:])
	copy(k[32:], c[:])
	if ok, done := b.sigOK[k]; done {
		return ok
	}
	ok := cms.CheckCertificateSignature(child, parent) == nil
	b.sigOK[k] = ok
	return ok
}

// ErrNoChain is returned when no path leads from the certificate to an anchor.
var ErrNoChain = errors.New("no certificate chain to a trust anchor")

// Build returns the chains from cert to a trust anchor, shortest first.
// Only names, key identifiers and signatures are checked; see Constraints
// and the engine for the rest.
func (b *Builder) Build(cert *x509.Certificate) ([]Chain, error) {
	var out []Chain
	var walk func(path Chain)
	walk = func(path Chain) {
		if len(out) >= maxChains {
			return
		}
		last := path[len(path)-1]
		if b.Anchors.Contains(last) {
			out = append(out, append(Chain(nil), path...))
			return
		}
		if len(path) >= MaxChainLength {
			return
		}
		cands := b.bySubject[cms.NormalizedName(last.RawIssuer)]
		// Anchors first: the shortest trusted path wins.
		for _, anchorsFirst := range []bool{true, false} {
			for _, p := range cands {
				if b.Anchors.Contains(p) != anchorsFirst || inPath(path, p) || !b.Issues(p, last) {
					continue
				}
				walk(append(path, p))
			}
		}
	}
	walk(Chain{cert})
	if len(out) == 0 {
		return nil, ErrNoChain
	}
	// Shortest first: fewer links, fewer things to go wrong.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && len(out[j]) < len(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

func inPath(path Chain, c *x509.Certificate) bool {
	for _, p := range path {
		if bytes.Equal(p.Raw, c.Raw) {
			return true
		}
	}
	return false
}

func (b *Builder) sum(c *x509.Certificate) [32]byte {
	if d, ok := b.digest[c]; ok {
		return d
	}
	d := sha256.Sum256(c.Raw)
	b.digest[c] = d
	return d
}

// Candidates returns the known certificates (anchors and pool) for which
// match is true, looking first at those with the given subject.
func (b *Builder) Candidates(match func(*x509.Certificate) bool) []*x509.Certificate {
	var out []*x509.Certificate
	seen := map[*x509.Certificate]bool{}
	for _, list := range [][]*x509.Certificate{b.Anchors.Certificates(), b.pool} {
		for _, c := range list {
			if !seen[c] && match(c) {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// Pool returns the untrusted certificates the builder knows.
func (b *Builder) Pool() []*x509.Certificate { return b.pool }
