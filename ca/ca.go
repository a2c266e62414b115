// Package ca is the certificate authority's service layer: it joins the pure
// issuance package to the store, the CRL publisher and the OCSP responder,
// and makes every change of state durable and audited before it is
// acknowledged.
package ca

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"esig/ca/audit"
	"esig/ca/crl"
	"esig/ca/issuance"
	"esig/ca/store"
)

// Errors the service returns besides *issuance.FieldError and
// *issuance.LintError.
var (
	ErrNotFound       = errors.New("no certificate with that serial")
	ErrNotOnHold      = errors.New("the certificate is revoked for good, not on hold")
	ErrUnknownProfile = errors.New("unknown profile")
)

// Invalidator drops cached revocation answers about a serial (the OCSP
// responder).
type Invalidator interface{ Invalidate(serial string) }

// Config assembles an Authority.
type Config struct {
	Store    store.Store
	Issuer   *issuance.Issuer
	Profiles map[string]*issuance.Profile
	CRL      *crl.Publisher
	OCSP     Invalidator // may be nil
	Now      func() time.Time
	Log      *slog.Logger
}

// Authority issues and revokes certificates.
type Authority struct {
	cfg Config
}

// New checks cfg and returns an Authority.
func New(cfg Config) (*Authority, error) {
	if cfg.Store == nil || cfg.Issuer == nil || cfg.CRL == nil || len(cfg.Profiles) == 0 {
		return nil, errors.New("ca: store, issuer, CRL publisher and profiles are required")
	}
	for name, p := range cfg.Profiles {
		if p.Name != name {
			return nil, fmt.Errorf("ca: profile registered as %q is named %q", name, p.Name)
		}
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("ca: %w", err)
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Authority{cfg: cfg}, nil
}

// SetInvalidator connects the OCSP responder, which is built after the
// Authority because its own certificate is issued by it.
func (a *Authority) SetInvalidator(inv Invalidator) { a.cfg.OCSP = inv }

// Issuer is the issuing CA certificate.
func (a *Authority) Issuer() *x509.Certificate { return a.cfg.Issuer.Certificate() }

// IssueRequest asks for one certificate.
type IssueRequest struct {
	CSR          []byte // PEM or DER PKCS#10
	Profile      string
	Subject      issuance.Subject
	SubscriberID string
	Actor        string // who asks, for the audit log
}

// servicesOnly are the profiles of the CA's own services, which only the CA
// itself issues (IssueService).
var servicesOnly = map[string]bool{issuance.ProfileOCSP: true, issuance.ProfileTSA: true, issuance.ProfileReceiptSeal: true}

// Issue checks the request, issues the certificate, and stores it with its
// audit entry before returning it.
func (a *Authority) Issue(ctx context.Context, req IssueRequest) (*store.Certificate, error) {
	p, ok := a.cfg.Profiles[req.Profile]
	if !ok || servicesOnly[req.Profile] {
		return nil, &issuance.FieldError{Field: "profile", Reason: fmt.Sprintf("%q is not a profile this CA issues to subscribers (%v)", req.Profile, a.SubscriberProfiles())}
	}
	pub, err := issuance.ParseCSR(req.CSR)
	if err != nil {
		return nil, err
	}
	return a.issue(ctx, p, pub, req.Subject, req.SubscriberID, req.Actor)
}

// SubscriberProfiles lists the profiles Issue accepts.
func (a *Authority) SubscriberProfiles() []string {
	var out []string
	for _, n := range issuance.Names(a.cfg.Profiles) {
		if !servicesOnly[n] {
			out = append(out, n)
		}
	}
	return out
}

// IssueService issues a certificate of one of the CA's own service
// profiles (OCSP responder, TSA, receipt seal) for a key the CA holds.
func (a *Authority) IssueService(ctx context.Context, profile string, pub crypto.PublicKey, subject issuance.Subject) (*store.Certificate, error) {
	p, ok := a.cfg.Profiles[profile]
	if !ok || !servicesOnly[profile] {
		return nil, fmt.Errorf("ca: %q is not a service profile", profile)
	}
	return a.issue(ctx, p, pub, subject, "", "system")
}

func (a *Authority) issue(ctx context.Context, p *issuance.Profile, pub crypto.PublicKey, subject issuance.Subject, subscriberID, actor string) (*store.Certificate, error) {
	// A random 159-bit serial collides with another only by accident of the
	// random source; retrying covers that without trusting it never happens.
	for attempt := 0; attempt < 3; attempt++ {
		serial, err := issuance.NewSerial()
		if err != nil {
			return nil, err
		}
		shard := crl.ShardOf(serial, a.cfg.CRL.Shards())
		now := a.cfg.Now()
		tok, err := a.cfg.Issuer.Prepare(p, &issuance.Request{PublicKey: pub, Subject: subject, Serial: serial, Shard: shard, Now: now})
		if err != nil {
			return nil, err
		}
		cert, err := a.cfg.Issuer.Issue(tok)
		if err != nil {
			return nil, err
		}
		rec := &store.Certificate{
			Serial: issuance.SerialHex(serial), DER: cert.Raw, Profile: p.Name, Subject: tok.Subject,
			SubscriberID: subscriberID, Shard: shard, NotBefore: cert.NotBefore, NotAfter: cert.NotAfter,
			IssuedAt: now, Status: store.StatusValid,
		}
		sum := sha256.Sum256(cert.Raw)
		details, _ := json.Marshal(map[string]any{
			"profile": p.Name, "subject": tok.Subject, "notAfter": cert.NotAfter, "subscriberId": subscriberID,
			"certificateSha256": hex.EncodeToString(sum[:]),
		})
		err = a.cfg.Store.InsertCertificate(ctx, rec, audit.Event{Time: now, Kind: audit.KindCertificateIssued, Actor: actor, Object: rec.Serial, Details: details})
		if errors.Is(err, store.ErrDuplicate) {
			a.cfg.Log.Warn("serial collision; issuing again with a new serial", "serial", rec.Serial)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("ca: storing certificate: %w", err)
		}
		return rec, nil
	}
	return nil, errors.New("ca: repeated serial collisions; the random source is suspect")
}

// Certificate returns the stored record of a serial (any accepted form).
func (a *Authority) Certificate(ctx context.Context, serial string) (*store.Certificate, error) {
	n, err := issuance.ParseSerial(serial)
	if err != nil {
		return nil, &issuance.FieldError{Field: "serial", Reason: err.Error()}
	}
	c, err := a.cfg.Store.Certificate(ctx, issuance.SerialHex(n))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	return c, err
}

// Revoke revokes a certificate (reason certificateHold puts it on hold),
// then drops cached OCSP answers and republishes its CRL shard. Revoking a
// revoked certificate again changes nothing and reports changed=false.
func (a *Authority) Revoke(ctx context.Context, serial string, reason int, actor string) (*store.Certificate, bool, error) {
	c, err := a.Certificate(ctx, serial)
	if err != nil {
		return nil, false, err
	}
	now := a.cfg.Now()
	kind := audit.KindCertificateRevoked
	if reason == store.ReasonCertificateHold {
		kind = audit.KindCertificateHold
	}
	details, _ := json.Marshal(map[string]any{"reason": ReasonName(reason)})
	c, changed, err := a.cfg.Store.Revoke(ctx, c.Serial, reason, now, audit.Event{Time: now, Kind: kind, Actor: actor, Object: c.Serial, Details: details})
	if err != nil {
		return nil, false, err
	}
	if changed {
		a.published(ctx, c)
	}
	return c, changed, nil
}

// ReleaseHold makes a certificate on hold valid again (on the next CRL it
// is simply absent; RFC 5280 removeFromCRL is for delta CRLs, which esig
// does not publish).
func (a *Authority) ReleaseHold(ctx context.Context, serial, actor string) (*store.Certificate, bool, error) {
	c, err := a.Certificate(ctx, serial)
	if err != nil {
		return nil, false, err
	}
	now := a.cfg.Now()
	c, changed, err := a.cfg.Store.ReleaseHold(ctx, c.Serial, audit.Event{Time: now, Kind: audit.KindCertificateRelease, Actor: actor, Object: c.Serial})
	if errors.Is(err, store.ErrConflict) {
		return nil, false, ErrNotOnHold
	}
	if err != nil {
		return nil, false, err
	}
	if changed {
		a.published(ctx, c)
	}
	return c, changed, nil
}

// published makes a status change visible: OCSP at once, the CRL shard
// regenerated now. A failed CRL generation is logged; the shard is then
// regenerated by the publisher's refresh loop.
func (a *Authority) published(ctx context.Context, c *store.Certificate) {
	if a.cfg.OCSP != nil {
		a.cfg.OCSP.Invalidate(c.Serial)
	}
	if _, err := a.cfg.CRL.Generate(ctx, c.Shard, "system"); err != nil {
		a.cfg.CRL.MarkDirty(c.Shard)
		a.cfg.Log.Error("crl: regenerating shard after a status change failed; will retry", "shard", c.Shard, "serial", c.Serial, "err", err)
	}
}

// List returns one page of certificates.
func (a *Authority) List(ctx context.Context, f store.ListFilter) ([]*store.Certificate, int, error) {
	return a.cfg.Store.ListCertificates(ctx, f)
}
