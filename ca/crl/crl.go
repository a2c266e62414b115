// Package crl publishes the CA's certificate revocation lists.
//
// Revoked certificates are spread over a fixed number of shards, chosen at
// issuance from the serial and written into each certificate's CRL
// distribution point, so a relying party downloads one small CRL instead of
// every revocation the CA ever made. Each shard is an RFC 5280 CRL with its
// own monotonic CRL number, reason codes, the authority key identifier and
// an issuing distribution point naming the shard's URL.
//
// Several replicas may publish from one database. A shard is regenerated
// only by the replica holding its lease in the store (store.Lease), taken
// for the one regeneration and released after it; the others serve the
// newest stored CRL meanwhile. A replica that dies holding a lease blocks
// that shard only until the lease runs out (Config.LeaseTTL). The CRL
// number, which the store only lets grow, backs the lease up: a holder whose
// lease ran out while it was stalled can at worst lose its save, never
// publish out of order.
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
	mrand "math/rand/v2"
	"os"
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
	// Holder names this publisher in the shard leases it takes; it must
	// differ between processes (default: host name, process id and a
	// random suffix).
	Holder string
	// LeaseTTL is how long a shard lease lasts unless renewed, and so how
	// long a replica that died holding one delays that shard (default
	// DefaultLeaseTTL).
	LeaseTTL time.Duration
	Now      func() time.Time
	Log      *slog.Logger
}

// DefaultLeaseTTL is the default Config.LeaseTTL: far longer than building
// and signing a CRL takes (and a holder renews its lease before it saves
// anyway), and short, so a shard whose holder died is soon taken over.
const DefaultLeaseTTL = 10 * time.Second

// leasePoll is how often Generate asks again for a lease another replica
// holds.
const leasePoll = 50 * time.Millisecond

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
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.Holder == "" {
		cfg.Holder = defaultHolder()
	}
	return &Publisher{cfg: cfg, locks: make([]sync.Mutex, cfg.Shards), dirty: make([]atomic.Bool, cfg.Shards)}, nil
}

// defaultHolder names this process uniquely enough for leases: the host
// name says where, the process id and a random suffix tell apart replicas on
// one host and publishers in one process.
func defaultHolder() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%x", host, os.Getpid(), b)
}

// Holder is the name this publisher takes shard leases under.
func (p *Publisher) Holder() string { return p.cfg.Holder }

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

// ErrLeaseHeld reports that another replica holds a shard's lease past the
// time this one was willing to wait for it.
var ErrLeaseHeld = errors.New("crl: another replica holds the shard's lease")

// Generate signs and stores a new CRL for shard, numbered one above the
// newest stored, whether or not one is due: a status change calls it. It
// first takes the shard's lease, waiting for another replica's generation
// to finish (or its lease to run out), so the CRL it signs is read after
// every change committed before the call. If another process stored a newer
// CRL first anyway, it retries.
func (p *Publisher) Generate(ctx context.Context, shard int, actor string) (*store.CRL, error) {
	if shard < 0 || shard >= p.cfg.Shards {
		return nil, fmt.Errorf("crl: no shard %d (shards are 0..%d)", shard, p.cfg.Shards-1)
	}
	p.locks[shard].Lock()
	defer p.locks[shard].Unlock()
	release, err := p.takeLease(ctx, shard, true)
	if err != nil {
		return nil, err
	}
	defer release()
	return p.generateHeld(ctx, shard, actor)
}

// generateHeld generates shard while this publisher holds its lease.
func (p *Publisher) generateHeld(ctx context.Context, shard int, actor string) (*store.CRL, error) {
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

// takeLease takes shard's lease for this publisher and returns the function
// that releases it. When another replica holds it, takeLease waits (polling)
// for it to be released or run out if wait is set, up to one lease length
// and a poll, and otherwise, or after that, returns ErrLeaseHeld.
func (p *Publisher) takeLease(ctx context.Context, shard int, wait bool) (release func(), err error) {
	// The wait is measured on the wall clock, whatever Config.Now says.
	deadline := time.Now().Add(p.cfg.LeaseTTL + leasePoll)
	for {
		now := p.cfg.Now()
		lease, held, err := p.cfg.Store.TakeCRLLease(ctx, shard, p.cfg.Holder, now, now.Add(p.cfg.LeaseTTL))
		if err != nil {
			return nil, fmt.Errorf("crl: lease on shard %d: %w", shard, err)
		}
		if held {
			return func() {
				// Release even when ctx was cancelled, else the shard waits
				// a whole lease for nothing.
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				defer cancel()
				if err := p.cfg.Store.ReleaseCRLLease(rctx, shard, p.cfg.Holder); err != nil {
					p.cfg.Log.Warn("crl: releasing a shard lease failed; it will run out", "shard", shard, "err", err)
				}
			}, nil
		}
		if !wait || !time.Now().Before(deadline) {
			return nil, fmt.Errorf("%w: shard %d is leased to %s until %s", ErrLeaseHeld, shard, lease.Holder, lease.Until.Format(time.RFC3339))
		}
		// A little jitter keeps replicas waiting for one shard from
		// asking in lockstep.
		t := time.NewTimer(leasePoll + mrand.N(leasePoll/2))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
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
	// Renewing just before saving confirms the lease was not lost while
	// the CRL was being built (a long pause, say); the CRL number guards
	// the rare remainder.
	if err := p.cfg.Store.RenewCRLLease(ctx, shard, p.cfg.Holder, p.cfg.Now().Add(p.cfg.LeaseTTL)); err != nil {
		return nil, fmt.Errorf("crl: shard %d: lease lost while generating: %w", shard, err)
	}
	if err := p.cfg.Store.SaveCRL(ctx, c, ev); err != nil {
		return nil, err
	}
	return c, nil
}

// Current returns the CRL to serve for shard, generating one when none is
// stored or the stored one is due for refresh (or a regeneration after a
// status change failed here). If another replica holds the shard's lease,
// it is already regenerating the shard: Current then serves the stored CRL,
// and waits for that replica's only when none is stored yet.
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
	c, _, err = p.refresh(ctx, shard, c, func(c *store.CRL) (bool, error) { return p.due(c) || p.dirty[shard].Load(), nil })
	return c, err
}

// refresh regenerates shard, whose stored CRL is stored (nil if none), if
// stale says it needs it once the lease is held: another replica may have
// regenerated it meanwhile. If another replica holds the lease, refresh
// returns stored and deferred=true, leaving the shard to that replica (or
// to a later refresh, should that replica have died).
func (p *Publisher) refresh(ctx context.Context, shard int, stored *store.CRL, stale func(*store.CRL) (bool, error)) (c *store.CRL, deferred bool, err error) {
	p.locks[shard].Lock()
	defer p.locks[shard].Unlock()
	release, err := p.takeLease(ctx, shard, stored == nil)
	if errors.Is(err, ErrLeaseHeld) && stored != nil {
		return stored, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer release()
	c, err = p.cfg.Store.LatestCRL(ctx, shard)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, false, err
	default:
		if need, err := stale(c); err != nil || !need {
			return c, false, err
		}
	}
	c, err = p.generateHeld(ctx, shard, "system")
	return c, false, err
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

// behind reports whether the stored CRL c of a shard lists other
// revocations than the store holds for that shard: a status change whose
// regeneration never happened, because the replica that made it died
// between its commit and the new CRL, say. Entries are compared by serial
// and reason, over the same expiry cut-off c was built with.
func (p *Publisher) behind(ctx context.Context, c *store.CRL) (bool, error) {
	rl, err := x509.ParseRevocationList(c.DER)
	if err != nil {
		return false, fmt.Errorf("crl: stored CRL %d of shard %d: %w", c.Number, c.Shard, err)
	}
	revoked, err := p.cfg.Store.RevokedInShard(ctx, c.Shard, c.ThisUpdate.Add(-p.cfg.Validity))
	if err != nil {
		return false, err
	}
	if len(revoked) != len(rl.RevokedCertificateEntries) {
		return true, nil
	}
	listed := make(map[string]int, len(rl.RevokedCertificateEntries))
	for _, e := range rl.RevokedCertificateEntries {
		listed[e.SerialNumber.Text(16)] = e.ReasonCode
	}
	for _, r := range revoked {
		n, ok := new(big.Int).SetString(r.Serial, 16)
		if !ok {
			return false, fmt.Errorf("crl: stored serial %q is not hex", r.Serial)
		}
		if reason, ok := listed[n.Text(16)]; !ok || reason != r.Reason {
			return true, nil
		}
	}
	return false, nil
}

// RefreshAll regenerates every shard that has no CRL, is due, or lists
// other revocations than the store holds, and returns the first error
// after trying them all. Shards another replica holds the lease of are left
// to it. Comparing every shard's CRL with the store reads each shard once
// per call; that is what makes every replica converge on CRLs that agree
// with the store, whichever replica made a change and whatever became of it.
func (p *Publisher) RefreshAll(ctx context.Context) error {
	_, err := p.refreshAll(ctx)
	return err
}

// refreshAll is RefreshAll that also counts the stale shards it left to the
// holder of their lease.
func (p *Publisher) refreshAll(ctx context.Context) (deferred int, first error) {
	for shard := 0; shard < p.cfg.Shards; shard++ {
		d, err := p.refreshShard(ctx, shard)
		if d {
			deferred++
		}
		if err != nil {
			p.cfg.Log.Error("crl refresh failed", "shard", shard, "err", err)
			if first == nil {
				first = err
			}
		}
	}
	return deferred, first
}

func (p *Publisher) refreshShard(ctx context.Context, shard int) (deferred bool, err error) {
	stale := func(c *store.CRL) (bool, error) {
		if p.due(c) || p.dirty[shard].Load() {
			return true, nil
		}
		return p.behind(ctx, c)
	}
	c, err := p.cfg.Store.LatestCRL(ctx, shard)
	switch {
	case errors.Is(err, store.ErrNotFound):
		c = nil
	case err != nil:
		return false, err
	default:
		if need, err := stale(c); err != nil || !need {
			return false, err
		}
	}
	_, deferred, err = p.refresh(ctx, shard, c, stale)
	return deferred, err
}

// Run refreshes shards (RefreshAll) at once and then every interval until
// ctx ends. When a pass left a stale shard to the holder of its lease, the
// next pass comes after one lease length instead, in case that holder died
// (a replica restarted after a crash finds its former self's leases).
func (p *Publisher) Run(ctx context.Context, interval time.Duration) {
	for {
		wait := interval
		if deferred, _ := p.refreshAll(ctx); deferred > 0 && p.cfg.LeaseTTL < wait {
			wait = p.cfg.LeaseTTL
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
