package crl_test

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"

	"esig/api/apitest"
	"esig/app"
	"esig/ca/audit"
	"esig/ca/crl"
	"esig/ca/store"
)

func TestShardCRL(t *testing.T) {
	env := apitest.Start(t, apitest.Options{})
	a := env.App
	ctx := context.Background()
	tsa := a.TSACert
	serial := fmt.Sprintf("%x", tsa.SerialNumber.Bytes())
	shard := crl.ShardOf(tsa.SerialNumber, a.CRL.Shards())

	entry := func(rl *x509.RevocationList) *x509.RevocationListEntry {
		for i, e := range rl.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(tsa.SerialNumber) == 0 {
				return &rl.RevokedCertificateEntries[i]
			}
		}
		return nil
	}

	parse := func(c *store.CRL) *x509.RevocationList {
		t.Helper()
		rl, err := x509.ParseRevocationList(c.DER)
		if err != nil {
			t.Fatal(err)
		}
		if err := rl.CheckSignatureFrom(a.Hierarchy.Issuing); err != nil {
			t.Fatalf("CRL signature: %v", err)
		}
		zl, err := zx509.ParseRevocationList(c.DER)
		if err != nil {
			t.Fatal(err)
		}
		for name, r := range zlint.LintRevocationListEx(zl, lint.GlobalRegistry()).Results {
			// The CA/B Forum's TLS rules forbid certificateHold; this CA
			// issues no TLS certificates and its users need holds.
			if name == "e_cab_crl_has_valid_reason_code" && entry(rl) != nil && entry(rl).ReasonCode == 6 {
				continue
			}
			if r.Status >= lint.Warn {
				t.Errorf("zlint %s: %s %s", name, r.Status, r.Details)
			}
		}
		return rl
	}
	first, err := a.CRL.Generate(ctx, shard, "test")
	if err != nil {
		t.Fatal(err)
	}
	rl := parse(first)
	if entry(rl) != nil {
		t.Fatal("a valid certificate is on the CRL")
	}
	if got := idpURL(t, rl); got != app.CRLURL(a.Config.BaseURL, shard) {
		t.Errorf("issuing distribution point %q, want %q", got, app.CRLURL(a.Config.BaseURL, shard))
	}

	steps := []struct {
		name   string
		change func() error
		reason int // -1: absent
	}{
		{"hold", func() error { _, _, err := a.Authority.Revoke(ctx, serial, 6, "test"); return err }, 6},
		{"release", func() error { _, _, err := a.Authority.ReleaseHold(ctx, serial, "test"); return err }, -1},
		{"revoke", func() error { _, _, err := a.Authority.Revoke(ctx, serial, 1, "test"); return err }, 1},
	}
	prev := first.Number
	for _, s := range steps {
		if err := s.change(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		c, err := a.CRL.Current(ctx, shard)
		if err != nil {
			t.Fatal(err)
		}
		if c.Number <= prev {
			t.Fatalf("%s: CRL number %d not above %d: the status change did not republish the shard", s.name, c.Number, prev)
		}
		prev = c.Number
		rl := parse(c)
		if rl.Number.Cmp(big.NewInt(c.Number)) != 0 {
			t.Errorf("%s: CRL number extension %v, stored %d", s.name, rl.Number, c.Number)
		}
		e := entry(rl)
		switch {
		case s.reason < 0 && e != nil:
			t.Errorf("%s: still listed", s.name)
		case s.reason >= 0 && (e == nil || e.ReasonCode != s.reason):
			t.Errorf("%s: entry %+v, want reason %d", s.name, e, s.reason)
		}
	}
	if _, err := a.CRL.Generate(ctx, a.CRL.Shards(), "test"); err == nil {
		t.Error("a shard beyond the count was generated")
	}
}

// TestRefreshAll publishes every shard and regenerates only those due.
func TestRefreshAll(t *testing.T) {
	env := apitest.Start(t, apitest.Options{})
	a := env.App
	ctx := context.Background()
	if err := a.CRL.RefreshAll(ctx); err != nil {
		t.Fatal(err)
	}
	numbers := map[int]int64{}
	for s := 0; s < a.CRL.Shards(); s++ {
		c, err := a.Store.LatestCRL(ctx, s)
		if err != nil {
			t.Fatalf("shard %d not published: %v", s, err)
		}
		if !c.NextUpdate.After(time.Now()) {
			t.Errorf("shard %d already stale", s)
		}
		numbers[s] = c.Number
	}
	if err := a.CRL.RefreshAll(ctx); err != nil {
		t.Fatal(err)
	}
	for s := 0; s < a.CRL.Shards(); s++ {
		c, _ := a.Store.LatestCRL(ctx, s)
		if c.Number != numbers[s] {
			t.Errorf("shard %d regenerated although not due", s)
		}
	}
}

func idpURL(t *testing.T, rl *x509.RevocationList) string {
	t.Helper()
	for _, ext := range rl.Extensions {
		if ext.Id.String() == "2.5.29.28" {
			if !ext.Critical {
				t.Error("issuing distribution point is not critical")
			}
			var idp struct {
				DP struct {
					FullName []asn1.RawValue `asn1:"optional,tag:0"`
				} `asn1:"optional,tag:0"`
				OnlyUser bool `asn1:"optional,tag:1"`
			}
			if _, err := asn1.Unmarshal(ext.Value, &idp); err != nil || len(idp.DP.FullName) != 1 || !idp.OnlyUser {
				t.Fatalf("issuing distribution point: %v %+v", err, idp)
			}
			return string(idp.DP.FullName[0].Bytes)
		}
	}
	t.Fatal("no issuing distribution point")
	return ""
}

// clock is a settable time source for publishers under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// publisher returns a second publisher over a's store and issuing CA, as
// another replica of the same CA would run, under its own lease holder name.
func publisher(t *testing.T, a *app.App, holder string, now func() time.Time, leaseTTL time.Duration) *crl.Publisher {
	t.Helper()
	p, err := crl.New(crl.Config{
		Store: a.Store, Issuer: a.Hierarchy.Issuing, Signer: a.Hierarchy.Signer, Shards: a.CRL.Shards(),
		Validity: a.Config.CRL.Validity, URL: func(s int) string { return app.CRLURL(a.Config.BaseURL, s) },
		Holder: holder, LeaseTTL: leaseTTL, Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLeases runs replicas' publishers against one store: each shard is
// written by one of them at a time, a lease another holds is respected until
// it runs out, and a status change no CRL reflects yet is caught up with.
func TestLeases(t *testing.T) {
	for _, engine := range []struct {
		name     string
		postgres bool
	}{{"sqlite", false}, {"postgres", true}} {
		t.Run(engine.name, func(t *testing.T) {
			env := apitest.Start(t, apitest.Options{Postgres: engine.postgres})
			a := env.App
			ctx := context.Background()
			clk := &clock{t: time.Now()}
			pa := publisher(t, a, "replica-a", clk.Now, 200*time.Millisecond)
			pb := publisher(t, a, "replica-b", clk.Now, 200*time.Millisecond)
			if pa.Holder() == pb.Holder() {
				t.Fatalf("both publishers hold leases as %q", pa.Holder())
			}

			// Both replicas start on a store without CRLs and publish at
			// once: one CRL per shard, not one each.
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, p := range []*crl.Publisher{pa, pb} {
				wg.Go(func() { errs[i] = p.RefreshAll(ctx) })
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			for s := 0; s < pa.Shards(); s++ {
				c, err := a.Store.LatestCRL(ctx, s)
				if err != nil || c.Number != 1 {
					t.Fatalf("shard %d after both replicas refreshed: %+v, %v; want only CRL number 1", s, c, err)
				}
			}

			// A replica that died holding shard 0's lease: the others serve
			// the stored CRL and wait for the lease, until it runs out.
			const shard = 0
			if _, held, err := a.Store.TakeCRLLease(ctx, shard, "dead-replica", clk.Now(), clk.Now().Add(time.Minute)); err != nil || !held {
				t.Fatalf("taking the lease for the dead replica: held %v, %v", held, err)
			}
			pa.MarkDirty(shard)
			c, err := pa.Current(ctx, shard)
			if err != nil || c.Number != 1 {
				t.Fatalf("Current while another holds the lease = %+v, %v; want the stored CRL 1", c, err)
			}
			if _, err := pa.Generate(ctx, shard, "test"); !errors.Is(err, crl.ErrLeaseHeld) {
				t.Fatalf("Generate while another holds the lease: error %v, want ErrLeaseHeld", err)
			}
			clk.Advance(time.Minute + time.Second)
			c, err = pa.Generate(ctx, shard, "test")
			if err != nil || c.Number != 2 {
				t.Fatalf("Generate after the dead replica's lease ran out = %+v, %v; want CRL 2", c, err)
			}
			// Generate released the lease: the other replica may take it.
			if l, held, err := a.Store.TakeCRLLease(ctx, shard, "replica-b", clk.Now(), clk.Now().Add(time.Second)); err != nil || !held {
				t.Fatalf("lease after Generate: %+v held %v, %v; want it released", l, held, err)
			}
			if err := a.Store.ReleaseCRLLease(ctx, shard, "replica-b"); err != nil {
				t.Fatal(err)
			}

			// A revocation committed by a replica that died before it
			// regenerated the CRL: the next refresh of any replica catches
			// up, in that shard only, and then is quiet.
			tsa := a.TSACert
			serial := fmt.Sprintf("%x", tsa.SerialNumber.Bytes())
			tsaShard := crl.ShardOf(tsa.SerialNumber, pa.Shards())
			before := map[int]int64{}
			for s := 0; s < pa.Shards(); s++ {
				c, _ := a.Store.LatestCRL(ctx, s)
				before[s] = c.Number
			}
			ev := audit.Event{Time: clk.Now(), Kind: audit.KindCertificateRevoked, Actor: "test", Object: serial}
			if _, _, err := a.Store.Revoke(ctx, serial, 1, clk.Now(), ev); err != nil {
				t.Fatal(err)
			}
			for round := range 2 {
				if err := pb.RefreshAll(ctx); err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				for s := 0; s < pa.Shards(); s++ {
					c, _ := a.Store.LatestCRL(ctx, s)
					want := before[s]
					if s == tsaShard {
						want++
					}
					if c.Number != want {
						t.Errorf("round %d: shard %d has CRL %d, want %d", round, s, c.Number, want)
					}
				}
			}
			c, _ = a.Store.LatestCRL(ctx, tsaShard)
			rl, err := x509.ParseRevocationList(c.DER)
			if err != nil {
				t.Fatal(err)
			}
			if len(rl.RevokedCertificateEntries) != 1 || rl.RevokedCertificateEntries[0].SerialNumber.Cmp(tsa.SerialNumber) != 0 {
				t.Errorf("caught-up CRL lists %v, want only %s", rl.RevokedCertificateEntries, serial)
			}
		})
	}
}
