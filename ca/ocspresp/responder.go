// Package ocspresp answers OCSP requests (RFC 6960) about the certificates
// of the issuing CA, signed by a delegated responder certificate.
//
// Answers are pre-signed and cached per certificate: serving a known
// certificate costs a map lookup, not a private-key operation. A cached
// answer is re-signed when half its validity has passed, dropped as soon as
// this process revokes the certificate, and dropped when the store reports
// a status change made by another process (Watch), which bounds how long
// any replica can serve a stale status. Requests with a nonce are signed
// afresh, since the nonce must be echoed.
package ocspresp

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"

	"esig/ca/store"
)

// Config describes a Responder.
type Config struct {
	Store     store.Store
	Issuer    *x509.Certificate // the CA whose certificates are answered for
	Responder *x509.Certificate // the delegated responder certificate
	Signer    crypto.Signer     // the responder's key
	// Validity is nextUpdate - thisUpdate of each answer.
	Validity time.Duration
	// MaxCached bounds the cache; beyond it, entries are dropped at random.
	MaxCached int
	Now       func() time.Time
	Log       *slog.Logger
	// Observe, if set, is told the outcome of every request: "good",
	// "revoked", "unknown", "unauthorized", "malformed", "error".
	Observe func(outcome string)
}

// Responder answers OCSP requests.
type Responder struct {
	cfg      Config
	signer   *responseSigner
	nameHash map[crypto.Hash][]byte
	keyHash  map[crypto.Hash][]byte
	mu       sync.RWMutex
	cache    map[cacheKey]*entry
}

type cacheKey struct {
	serial string
	hash   crypto.Hash
}

type entry struct {
	der       []byte
	outcome   string
	refreshAt time.Time
}

// New checks cfg and returns a Responder.
func New(cfg Config) (*Responder, error) {
	if cfg.Store == nil || cfg.Issuer == nil || cfg.Responder == nil || cfg.Signer == nil {
		return nil, errors.New("ocsp: store, issuer, responder certificate and signer are required")
	}
	if err := cfg.Responder.CheckSignatureFrom(cfg.Issuer); err != nil {
		return nil, fmt.Errorf("ocsp: responder certificate is not issued by the CA: %w", err)
	}
	if !hasEKU(cfg.Responder, x509.ExtKeyUsageOCSPSigning) {
		return nil, errors.New("ocsp: responder certificate lacks id-kp-OCSPSigning")
	}
	if cfg.Validity < time.Minute {
		cfg.Validity = 4 * time.Hour
	}
	if cfg.MaxCached <= 0 {
		cfg.MaxCached = 200_000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Observe == nil {
		cfg.Observe = func(string) {}
	}
	rs, err := newResponseSigner(cfg.Signer, cfg.Responder)
	if err != nil {
		return nil, err
	}
	r := &Responder{cfg: cfg, signer: rs, nameHash: map[crypto.Hash][]byte{}, keyHash: map[crypto.Hash][]byte{}, cache: map[cacheKey]*entry{}}
	var spki struct {
		Alg pkix.AlgorithmIdentifier
		Key asn1.BitString
	}
	if _, err := asn1.Unmarshal(cfg.Issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil, fmt.Errorf("ocsp: issuer key: %w", err)
	}
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		n := h.New()
		n.Write(cfg.Issuer.RawSubject)
		r.nameHash[h] = n.Sum(nil)
		k := h.New()
		k.Write(spki.Key.Bytes)
		r.keyHash[h] = k.Sum(nil)
	}
	return r, nil
}

func hasEKU(c *x509.Certificate, u x509.ExtKeyUsage) bool {
	for _, e := range c.ExtKeyUsage {
		if e == u {
			return true
		}
	}
	return false
}

// Respond answers one DER OCSP request with a DER OCSP response. Requests
// that cannot be answered get the RFC 6960 error responses
// (malformedRequest, unauthorized, internalError); err is set only
// alongside internalError, for logging.
func (r *Responder) Respond(ctx context.Context, der []byte) ([]byte, error) {
	req, err := parseRequest(der)
	if err != nil {
		r.cfg.Observe("malformed")
		return ocsp.MalformedRequestErrorResponse, nil
	}
	if !bytes.Equal(req.issuerNameHash, r.nameHash[req.hash]) || !bytes.Equal(req.issuerKeyHash, r.keyHash[req.hash]) {
		r.cfg.Observe("unauthorized")
		return ocsp.UnauthorizedErrorResponse, nil
	}
	serial := hex.EncodeToString(req.serial.Bytes())
	key := cacheKey{serial, req.hash}
	now := r.cfg.Now()
	if req.nonce == nil {
		r.mu.RLock()
		e := r.cache[key]
		r.mu.RUnlock()
		if e != nil && now.Before(e.refreshAt) {
			r.cfg.Observe(e.outcome)
			return e.der, nil
		}
	}
	resp, outcome, err := r.sign(ctx, req, serial, now)
	if err != nil {
		r.cfg.Observe("error")
		return ocsp.InternalErrorErrorResponse, err
	}
	if req.nonce == nil && outcome != "unknown" {
		r.store(key, &entry{der: resp, outcome: outcome, refreshAt: now.Add(r.cfg.Validity / 2)})
	}
	r.cfg.Observe(outcome)
	return resp, nil
}

// sign builds and signs a response from the store's current record.
func (r *Responder) sign(ctx context.Context, req *request, serial string, now time.Time) ([]byte, string, error) {
	now = now.UTC().Truncate(time.Second)
	a := &answer{
		hash: req.hash, nameHash: req.issuerNameHash, keyHash: req.issuerKeyHash, serial: req.serial,
		thisUpdate: now, nextUpdate: now.Add(r.cfg.Validity), nonce: req.nonce,
	}
	outcome := "good"
	c, err := r.cfg.Store.Certificate(ctx, serial)
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.status, outcome = statusUnknown, "unknown"
	case err != nil:
		return nil, "", err
	case c.Status == store.StatusRevoked || c.Status == store.StatusOnHold:
		a.status, outcome = statusRevoked, "revoked"
		a.revokedAt, a.reason = c.RevokedAt.Truncate(time.Second), c.Reason
	default:
		a.status = statusGood
	}
	der, err := r.signer.sign(a, now)
	if err != nil {
		return nil, "", fmt.Errorf("ocsp: response for %s: %w", serial, err)
	}
	return der, outcome, nil
}

func (r *Responder) store(k cacheKey, e *entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.cache) >= r.cfg.MaxCached {
		n := len(r.cache) / 2
		for old := range r.cache { // map order is random: a cheap random eviction
			if n == 0 {
				break
			}
			delete(r.cache, old)
			n--
		}
	}
	r.cache[k] = e
}

// SetObserver sets the function told the outcome of every request (the
// server's metrics, which are built after the responder).
func (r *Responder) SetObserver(fn func(outcome string)) { r.cfg.Observe = fn }

// Invalidate drops the cached answers about serial, so the next request
// reads the store.
func (r *Responder) Invalidate(serial string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		delete(r.cache, cacheKey{serial, h})
	}
}

// Watch polls the store every interval for status changes made by any
// process and drops their cached answers, until ctx ends. A status change
// is therefore served by every replica within about one interval.
func (r *Responder) Watch(ctx context.Context, interval time.Duration) {
	since := r.cfg.Now().Add(-interval)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Overlap the window by one interval so a change committed with
		// an earlier timestamp than it became visible is not missed.
		next := r.cfg.Now()
		serials, err := r.cfg.Store.StatusChangedSince(ctx, since.Add(-interval))
		if err != nil {
			r.cfg.Log.Warn("ocsp: polling status changes failed", "err", err)
			continue
		}
		for _, s := range serials {
			r.Invalidate(s)
		}
		since = next
	}
}
