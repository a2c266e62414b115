// Package revocation gathers and checks revocation information for a
// certificate: CRLs (RFC 5280) and OCSP responses (RFC 6960), taken from the
// signature itself, from files the user names, and, unless the verifier is
// offline, fetched from the URLs the certificate lists.
//
// It verifies each item's signature and issuer (a CRL must be signed by the
// certificate's issuer, an OCSP response by the issuer or by a responder the
// issuer authorised with id-kp-OCSPSigning), its scope (issuing distribution
// point, CRLs that keep expired certificates, OCSP archive cutoff), and
// reports what each says as Evidence. Whether that evidence is fresh enough
// depends on the time of interest, which only the engine knows (EN 319 102-1,
// 5.2.5): the engine judges, this package reports.
package revocation

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"

	"esig/internal/cms"
	"esig/verifier/trust"
)

// Status of a certificate according to one piece of revocation data.
type Status int

// Statuses.
const (
	Unknown Status = iota
	Good
	Revoked
)

// String names the status as reports do.
func (s Status) String() string {
	if s < Unknown || s > Revoked {
		return "invalid"
	}
	return [...]string{"unknown", "good", "revoked"}[s]
}

// Origin says where revocation data came from.
type Origin string

// Origins.
const (
	Embedded Origin = "embedded"
	File     Origin = "file"
	Online   Origin = "online"
)

// Evidence is what one CRL or OCSP response says about one certificate.
type Evidence struct {
	Kind   string // "CRL" or "OCSP"
	Origin Origin
	Status Status
	// ThisUpdate is when the status was known to be correct; ProducedAt
	// for OCSP is when the response was signed.
	ThisUpdate time.Time
	NextUpdate *time.Time
	ProducedAt time.Time
	RevokedAt  time.Time
	Reason     int // CRL reason code, -1 when absent
	// CoversExpired is the time from which the source keeps listing
	// revoked certificates after they expire (ExpiredCertsOnCRL, OCSP
	// archiveCutoff); nil when it does not say.
	CoversExpired *time.Time
	// Raw is the CRL or OCSPResponse, for embedding in B-LT signatures.
	Raw []byte
	// SignatureAlgorithm and KeyBits describe the data's own signature,
	// for the algorithm policy.
	SignatureAlgorithm cms.SignatureAlgorithm
	KeyBits            int
	// Responder is the delegated OCSP responder certificate, if any.
	Responder *x509.Certificate
}

// Source names the evidence in reports ("CRL (embedded)").
func (e Evidence) Source() string { return fmt.Sprintf("%s (%s)", e.Kind, e.Origin) }

// UsableAfterExpiry reports whether a Good status can be trusted for a
// certificate that had expired when the data was issued: issuers drop
// expired certificates from CRLs unless they say otherwise (RFC 5280,
// 5.2.7 note; X.509 ExpiredCertsOnCRL; RFC 6960 archiveCutoff).
func (e Evidence) UsableAfterExpiry(cert *x509.Certificate) bool {
	if !e.ThisUpdate.After(cert.NotAfter) {
		return true
	}
	return e.CoversExpired != nil && !e.CoversExpired.After(cert.NotAfter)
}

// Fetcher retrieves revocation data over the network. The verifier has
// none under --offline, so that it never opens a connection.
type Fetcher interface {
	FetchCRL(ctx context.Context, url string) ([]byte, error)
	FetchOCSP(ctx context.Context, url string, request []byte) ([]byte, error)
}

// Checker holds the revocation data known for one verification.
type Checker struct {
	fetcher Fetcher
	builder *trust.Builder

	mu      sync.Mutex
	crls    []*crl
	ocsps   []*OCSPResponse
	origins map[[32]byte]Origin
	fetched map[string]bool
	// crlCache, when set, shares parsed CRLs with other checkers.
	crlCache *CRLCache
	// Problems collects data that could not be used, for warnings.
	problems []string
}

type crl struct {
	*parsedCRL
	raw    []byte
	origin Origin
}

// parsedCRL is what parsing a CRL yields. It is never changed once made,
// so the checkers of many verifications may share it (CRLCache).
type parsedCRL struct {
	list         *x509.RevocationList
	expiredOnCRL *time.Time
	idp          *idp
	delta        bool
}

// NewChecker returns a checker that fetches with f (nil: offline) and
// finds responder issuers through b.
func NewChecker(f Fetcher, b *trust.Builder) *Checker {
	return &Checker{fetcher: f, builder: b, origins: map[[32]byte]Origin{}, fetched: map[string]bool{}}
}

// AddCRL adds a DER CRL (PEM is accepted too).
func (c *Checker) AddCRL(der []byte, o Origin) error {
	der = pemOrDER(der, "X509 CRL")
	k := sha256.Sum256(der)
	c.mu.Lock()
	_, dup := c.origins[k]
	c.mu.Unlock()
	if dup {
		return nil
	}
	p, err := c.crlCache.parse(k, der)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.origins[k]; dup {
		return nil
	}
	c.origins[k] = o
	c.crls = append(c.crls, &crl{parsedCRL: p, raw: der, origin: o})
	return nil
}

// UseCRLCache makes the checker take parsed CRLs from cache, and leave
// those it parses there: the engines of a batch, one per file, then parse
// a large CRL once between them. Call it before adding any CRL.
func (c *Checker) UseCRLCache(cache *CRLCache) { c.crlCache = cache }

// parseCRL parses a DER CRL and the extensions that limit its scope.
func parseCRL(der []byte) (*parsedCRL, error) {
	l, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("revocation: CRL: %w", err)
	}
	x := &parsedCRL{list: l}
	for _, e := range l.Extensions {
		switch {
		case e.Id.Equal(oidExpiredCertsOnCRL):
			var t time.Time
			if _, err := asn1.Unmarshal(e.Value, &t); err == nil {
				x.expiredOnCRL = &t
			}
		case e.Id.Equal(oidDeltaCRLIndicator):
			x.delta = true
		case e.Id.Equal(oidIssuingDistributionPoint):
			p, err := parseIDP(e.Value)
			if err != nil {
				return nil, fmt.Errorf("revocation: CRL issuingDistributionPoint: %w", err)
			}
			x.idp = p
		}
	}
	return x, nil
}

// AddOCSP adds a DER OCSPResponse.
func (c *Checker) AddOCSP(der []byte, o Origin) error {
	r, err := ParseOCSPResponse(der)
	if err != nil {
		return err
	}
	k := sha256.Sum256(r.Basic)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.origins[k]; dup {
		return nil
	}
	c.origins[k] = o
	c.ocsps = append(c.ocsps, r)
	if c.builder != nil {
		c.builder.AddIntermediates(r.Certificates...)
	}
	return nil
}

// Problems returns the reasons revocation data was set aside.
func (c *Checker) Problems() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.problems...)
}

func (c *Checker) problem(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// Check returns the evidence about cert, issued by issuer, from the data at
// hand. When want reports that this evidence does not settle the question
// and a fetcher is set, it fetches from the certificate's OCSP responders
// and CRL distribution points and tries again.
func (c *Checker) Check(ctx context.Context, cert, issuer *x509.Certificate, want func([]Evidence) bool) []Evidence {
	ev := c.evidence(cert, issuer)
	if c.fetcher == nil || (want != nil && want(ev)) {
		return ev
	}
	c.fetch(ctx, cert, issuer)
	return c.evidence(cert, issuer)
}

func (c *Checker) fetch(ctx context.Context, cert, issuer *x509.Certificate) {
	for _, url := range cert.OCSPServer {
		key := "ocsp " + url + " " + cert.SerialNumber.String()
		if c.once(key) {
			continue
		}
		req, err := ocsp.CreateRequest(cert, issuer, nil)
		if err != nil {
			continue
		}
		der, err := c.fetcher.FetchOCSP(ctx, url, req)
		if err != nil {
			c.mu.Lock()
			c.problem("OCSP %s: %v", url, err)
			c.mu.Unlock()
			continue
		}
		if err := c.AddOCSP(der, Online); err != nil {
			c.mu.Lock()
			c.problem("OCSP %s: %v", url, err)
			c.mu.Unlock()
		}
	}
	for _, url := range cert.CRLDistributionPoints {
		if c.once("crl " + url) {
			continue
		}
		der, err := c.fetcher.FetchCRL(ctx, url)
		if err == nil {
			err = c.AddCRL(der, Online)
		}
		if err != nil {
			c.mu.Lock()
			c.problem("CRL %s: %v", url, err)
			c.mu.Unlock()
		}
	}
}

func (c *Checker) once(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fetched[key] {
		return true
	}
	c.fetched[key] = true
	return false
}

func (c *Checker) evidence(cert, issuer *x509.Certificate) []Evidence {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Evidence
	for _, l := range c.crls {
		if e, ok := c.fromCRL(l, cert, issuer); ok {
			out = append(out, e)
		}
	}
	for _, r := range c.ocsps {
		if e, ok := c.fromOCSP(r, cert, issuer); ok {
			out = append(out, e)
		}
	}
	return out
}

var (
	oidExpiredCertsOnCRL        = asn1.ObjectIdentifier{2, 5, 29, 60}
	oidDeltaCRLIndicator        = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidIssuingDistributionPoint = asn1.ObjectIdentifier{2, 5, 29, 28}
)

func (c *Checker) fromCRL(l *crl, cert, issuer *x509.Certificate) (Evidence, bool) {
	if !cms.SameName(l.list.RawIssuer, cert.RawIssuer) || l.delta {
		return Evidence{}, false
	}
	if !cms.SameName(l.list.RawIssuer, issuer.RawSubject) {
		return Evidence{}, false
	}
	alg, err := cms.X509SignatureAlgorithm(l.list.SignatureAlgorithm)
	if err == nil {
		err = alg.Verify(issuer.PublicKey, l.list.RawTBSRevocationList, l.list.Signature)
	}
	if err != nil {
		c.problem("CRL of %q (%s) is not signed by the certificate's issuer: %v", l.list.Issuer.String(), l.origin, err)
		return Evidence{}, false
	}
	if issuer.KeyUsage != 0 && issuer.KeyUsage&x509.KeyUsageCRLSign == 0 {
		c.problem("CRL of %q: issuer key usage lacks cRLSign", l.list.Issuer.String())
		return Evidence{}, false
	}
	if l.idp != nil {
		if reason := l.idp.excludes(cert); reason != "" {
			return Evidence{}, false
		}
	}
	e := Evidence{
		Kind: "CRL", Origin: l.origin, Status: Good, ThisUpdate: l.list.ThisUpdate,
		ProducedAt: l.list.ThisUpdate, Reason: -1, CoversExpired: l.expiredOnCRL, Raw: l.raw,
		SignatureAlgorithm: alg, KeyBits: cms.KeySize(issuer.PublicKey),
	}
	if !l.list.NextUpdate.IsZero() {
		nu := l.list.NextUpdate
		e.NextUpdate = &nu
	}
	for _, r := range l.list.RevokedCertificateEntries {
		if r.SerialNumber.Cmp(cert.SerialNumber) == 0 {
			if r.ReasonCode == 8 { // removeFromCRL: only meaningful in delta CRLs
				continue
			}
			e.Status = Revoked
			e.RevokedAt = r.RevocationTime
			e.Reason = r.ReasonCode
			break
		}
	}
	return e, true
}

func (c *Checker) fromOCSP(r *OCSPResponse, cert, issuer *x509.Certificate) (Evidence, bool) {
	var single *SingleResponse
	for i := range r.Responses {
		if r.Responses[i].matches(cert, issuer) {
			single = &r.Responses[i]
			break
		}
	}
	if single == nil {
		return Evidence{}, false
	}
	signer, err := c.ocspSigner(r, issuer)
	if err != nil {
		c.problem("OCSP response for serial %X: %v", cert.SerialNumber, err)
		return Evidence{}, false
	}
	alg, err := cms.ParseSignatureAlgorithm(r.SignatureAlg, 0)
	if err == nil {
		err = alg.Verify(signer.PublicKey, r.tbs, r.Signature)
	}
	if err != nil {
		c.problem("OCSP response for serial %X: signature: %v", cert.SerialNumber, err)
		return Evidence{}, false
	}
	k := sha256.Sum256(r.Basic)
	e := Evidence{
		Kind: "OCSP", Origin: c.origins[k], Status: single.Status, ThisUpdate: single.ThisUpdate,
		NextUpdate: single.NextUpdate, ProducedAt: r.ProducedAt, RevokedAt: single.RevokedAt,
		Reason: single.Reason, CoversExpired: r.ArchiveCutoff, Raw: r.Raw,
		SignatureAlgorithm: alg, KeyBits: cms.KeySize(signer.PublicKey),
	}
	if e.Status == Good || e.Status == Revoked {
		if signer != issuer {
			e.Responder = signer
		}
	}
	return e, true
}

// ocspSigner finds the key that must have signed r: the issuer's own, or
// a delegated responder certificate the issuer signed, valid when the
// response was produced and holding id-kp-OCSPSigning (RFC 6960, 4.2.2.2).
func (c *Checker) ocspSigner(r *OCSPResponse, issuer *x509.Certificate) (*x509.Certificate, error) {
	if names(r, issuer) {
		return issuer, nil
	}
	cands := append([]*x509.Certificate(nil), r.Certificates...)
	for _, cand := range cands {
		if !names(r, cand) {
			continue
		}
		if c.builder == nil || !c.builder.Issues(issuer, cand) {
			return nil, fmt.Errorf("responder %q is not certified by the certificate's issuer", cand.Subject.String())
		}
		if err := trust.Constraints(trust.Chain{cand, issuer}, trust.PurposeOCSPSigning); err != nil {
			return nil, err
		}
		if r.ProducedAt.Before(cand.NotBefore) || r.ProducedAt.After(cand.NotAfter) {
			return nil, fmt.Errorf("responder certificate %q was not valid when the response was produced", cand.Subject.String())
		}
		if !hasNoCheck(cand) {
			c.problem("OCSP responder %q has no id-pkix-ocsp-nocheck; its own revocation status was not checked", cand.Subject.String())
		}
		return cand, nil
	}
	return nil, fmt.Errorf("no responder certificate matches the responder ID")
}

func names(r *OCSPResponse, c *x509.Certificate) bool {
	if r.ResponderName != nil {
		return cms.SameName(r.ResponderName, c.RawSubject)
	}
	sum := sha1Sum(publicKeyBits(c))
	return string(sum) == string(r.ResponderKeyID)
}

// idp is the part of an IssuingDistributionPoint (RFC 5280, 5.2.5) that
// limits which certificates a CRL speaks for.
type idp struct {
	uris                       []string
	userOnly, caOnly, attrOnly bool
	someReasons, indirect      bool
}

func parseIDP(der []byte) (*idp, error) {
	e, err := cms.ParseOne(der)
	if err != nil {
		return nil, err
	}
	f, err := e.Children()
	if err != nil {
		return nil, err
	}
	p := &idp{}
	for _, x := range f {
		switch {
		case x.Is(cms.ClassContext, 0):
			// distributionPoint: [0] fullName [0] GeneralNames
			if dp, err := x.Children(); err == nil && len(dp) == 1 && dp[0].Is(cms.ClassContext, 0) {
				if gns, err := dp[0].Children(); err == nil {
					for _, gn := range gns {
						if gn.Is(cms.ClassContext, 6) {
							p.uris = append(p.uris, string(gn.Body))
						}
					}
				}
			}
		case x.Is(cms.ClassContext, 1):
			p.userOnly = boolBody(x)
		case x.Is(cms.ClassContext, 2):
			p.caOnly = boolBody(x)
		case x.Is(cms.ClassContext, 3):
			p.someReasons = true
		case x.Is(cms.ClassContext, 4):
			p.indirect = boolBody(x)
		case x.Is(cms.ClassContext, 5):
			p.attrOnly = boolBody(x)
		}
	}
	return p, nil
}

func boolBody(e cms.Element) bool { return len(e.Body) == 1 && e.Body[0] != 0 }

// excludes says why the CRL does not speak for cert, "" when it does.
func (p *idp) excludes(cert *x509.Certificate) string {
	switch {
	case p.indirect:
		return "indirect CRLs are not supported"
	case p.someReasons:
		return "CRLs partitioned by reason are not supported"
	case p.attrOnly:
		return "CRL covers attribute certificates only"
	case p.userOnly && cert.IsCA:
		return "CRL covers end-entity certificates only"
	case p.caOnly && !cert.IsCA:
		return "CRL covers CA certificates only"
	}
	if len(p.uris) > 0 && len(cert.CRLDistributionPoints) > 0 {
		for _, u := range p.uris {
			for _, d := range cert.CRLDistributionPoints {
				if u == d {
					return ""
				}
			}
		}
		return "CRL is for another distribution point"
	}
	return ""
}

// ReasonName is the RFC 5280 (5.3.1) name of a CRL reason code.
func ReasonName(code int) string {
	names := map[int]string{0: "unspecified", 1: "keyCompromise", 2: "cACompromise", 3: "affiliationChanged",
		4: "superseded", 5: "cessationOfOperation", 6: "certificateHold", 8: "removeFromCRL",
		9: "privilegeWithdrawn", 10: "aACompromise"}
	if n, ok := names[code]; ok {
		return n
	}
	return ""
}
