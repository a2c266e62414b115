// Package crl publishes the CA's certificate revocation lists.
//
// Revoked certificates are spread over a fixed number of shards, chosen at
// issuance from the serial and written into each certificate's CRL
// distribution point, so a relying party downloads one small CRL instead of
// every revocation the CA ever made. Each shard is an RFC 5280 CRL with its
// own monotonic CRL number, reason codes, the authority key identifier and
// an issuing distribution point naming the shard's URL.
package crl

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"sync/atomic"
	"time"

	"esig/ca/audit"
	"esig/ca/store"
)

// Config describes a Publisher.
type Config struct {
	Store  store.Store
	Issuer *x509.Certificate
	Signer crypto.Signer
	Shards int
	// Validity is the time from thisUpdate to nextUpdate.
	Validity time.Duration
	// RefreshBefore regenerates a shard when its nextUpdate is nearer than
	// this, so a fresh CRL is published well before the old one expires.
	RefreshBefore time.Duration
	// URL is the address of a shard, as written in certificates.
	URL func(shard int) string
	Now func() time.Time
	Log *slog.Logger
}

// Publisher signs and stores CRL shards.
type Publisher struct {
	cfg   Config
	locks []sync.Mutex  // one per shard: no two generations of a shard race in-process
	dirty []atomic.Bool // shards whose last regeneration after a status change failed
}

// New checks cfg and returns a Publisher.
func New(cfg Config) (*Publisher, error) {
	switch {
	case cfg.Store == nil || cfg.Issuer == nil || cfg.Signer == nil || cfg.URL == nil:
		return nil, errors.New("crl: store, issuer, signer and URL are required")
	case cfg.Shards < 1 || cfg.Shards > 1024:
		return nil, fmt.Errorf("crl: shard count %d outside 1..1024", cfg.Shards)
	case cfg.Validity < time.Minute:
		return nil, fmt.Errorf("crl: validity %v is too short", cfg.Validity)
	}
	if cfg.RefreshBefore <= 0 || cfg.RefreshBefore >= cfg.Validity {
		cfg.RefreshBefore = cfg.Validity / 2
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Publisher{cfg: cfg, locks: make([]sync.Mutex, cfg.Shards), dirty: make([]atomic.Bool, cfg.Shards)}, nil
}

// Shards is the number of shards.
func (p *Publisher) Shards() int { return p.cfg.Shards }

// ShardOf places a serial in one of n shards.
func ShardOf(serial *big.Int, n int) int {
	return int(new(big.Int).Mod(serial, big.NewInt(int64(n))).Int64())
}

var oidIssuingDistributionPoint = asn1.ObjectIdentifier{2, 5, 29, 28}

// issuingDistributionPoint encodes the IDP extension (RFC 5280 5.2.5) that
// names the shard's URL and says the CRL covers end-entity certificates
// only. It is critical, as RFC 5280 requires.
func issuingDistributionPoint(url string) (pkix.Extension, error) {
	type distributionPointName struct {
		FullName []asn1.RawValue `asn1:"optional,tag:0"`
	}
	// distributionPoint is [0] DistributionPointName, a CHOICE and so
	// explicitly tagged by nature: an implicit [0] on the Go struct (which
	// would otherwise be a SEQUENCE) encodes exactly that.
	type idp struct {
		DistributionPoint     distributionPointName `asn1:"optional,tag:0"`
		OnlyContainsUserCerts bool                  `asn1:"optional,tag:1"`
	}
	val, err := asn1.Marshal(idp{
		DistributionPoint:     distributionPointName{FullName: []asn1.RawValue{{Class: asn1.ClassContextSpecific, Tag: 6, Bytes: []byte(url)}}},
		OnlyContainsUserCerts: true,
	})
	if err != nil {
		return pkix.Extension{}, err
	}
	return pkix.Extension{Id: oidIssuingDistributionPoint, Critical: true, Value: val}, nil
}

// Generate signs and stores a new CRL for shard, numbered one above the
// newest stored. If another process stored a newer one first, it retries.
func (p *Publisher) Generate(ctx context.Context, shard int, actor string) (*store.CRL, error) {
	if shard < 0 || shard >= p.cfg.Shards {
		return nil, fmt.Errorf("crl: no shard %d (shards are 0..%d)", shard, p.cfg.Shards-1)
	}
	p.locks[shard].Lock()
	defer p.locks[shard].Unlock()
	for attempt := 0; attempt < 3; attempt++ {
		c, err := p.generate(ctx, shard, actor)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err == nil {
			p.dirty[shard].Store(false)
		}
		return c, err
	}
	return nil, fmt.Errorf("crl: shard %d: gave up after repeated concurrent updates", shard)
}

func (p *Publisher) generate(ctx context.Context, shard int, actor string) (*store.CRL, error) {
	number := int64(1)
	if prev, err := p.cfg.Store.LatestCRL(ctx, shard); err == nil {
		number = prev.Number + 1
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	now := p.cfg.Now().UTC().Truncate(time.Second)
	// Entries stay on the CRL until one full CRL period after the
	// certificate expired, so every relying party sees them at least once.
	revoked, err := p.cfg.Store.RevokedInShard(ctx, shard, now.Add(-p.cfg.Validity))
	if err != nil {
		return nil, err
	}
	entries := make([]x509.RevocationListEntry, 0, len(revoked))
	for _, r := range revoked {
		serial, ok := new(big.Int).SetString(r.Serial, 16)
		if !ok {
			return nil, fmt.Errorf("crl: stored serial %q is not hex", r.Serial)
		}
		entries = append(entries, x509.RevocationListEntry{SerialNumber: serial, RevocationTime: r.RevokedAt.UTC(), ReasonCode: r.Reason})
	}
	idp, err := issuingDistributionPoint(p.cfg.URL(shard))
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(number),
		ThisUpdate:                now,
		NextUpdate:                now.Add(p.cfg.Validity),
		RevokedCertificateEntries: entries,
		ExtraExtensions:           []pkix.Extension{idp},
	}, p.cfg.Issuer, p.cfg.Signer)
	if err != nil {
		return nil, fmt.Errorf("crl: signing shard %d: %w", shard, err)
	}
	c := &store.CRL{Shard: shard, Number: number, ThisUpdate: now, NextUpdate: now.Add(p.cfg.Validity), DER: der}
	details, _ := json.Marshal(map[string]any{"shard": shard, "number": number, "entries": len(entries), "nextUpdate": c.NextUpdate})
	ev := audit.Event{Time: now, Kind: audit.KindCRLPublished, Actor: actor, Object: fmt.Sprintf("crl/%d", shard), Details: details}
	if err := p.cfg.Store.SaveCRL(ctx, c, ev); err != nil {
		return nil, err
	}
	return c, nil
}

// Current returns the CRL to serve for shard, generating one when none is
// stored or the stored one is due for refresh.
func (p *Publisher) Current(ctx context.Context, shard int) (*store.CRL, error) {
	if shard < 0 || shard >= p.cfg.Shards {
		return nil, fmt.Errorf("crl: no shard %d", shard)
	}
	c, err := p.cfg.Store.LatestCRL(ctx, shard)
	if err == nil && !p.due(c) && !p.dirty[shard].Load() {
		return c, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return p.Generate(ctx, shard, "system")
}

// MarkDirty asks for shard to be regenerated at the next refresh, after a
// status change whose regeneration failed.
func (p *Publisher) MarkDirty(shard int) {
	if shard >= 0 && shard < len(p.dirty) {
		p.dirty[shard].Store(true)
	}
}

func (p *Publisher) due(c *store.CRL) bool {
	return p.cfg.Now().Add(p.cfg.RefreshBefore).After(c.NextUpdate)
}

// RefreshAll regenerates every shard that has no CRL or is due, and
// returns the first error after trying them all.
func (p *Publisher) RefreshAll(ctx context.Context) error {
	var first error
	for shard := 0; shard < p.cfg.Shards; shard++ {
		if _, err := p.Current(ctx, shard); err != nil {
			p.cfg.Log.Error("crl refresh failed", "shard", shard, "err", err)
			if first == nil {
				first = err
			}
		}
	}
	return first
}

// Run refreshes due shards every interval until ctx ends.
func (p *Publisher) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		_ = p.RefreshAll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
