package crl_test

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"
	"testing"
	"time"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"

	"esig/api/apitest"
	"esig/app"
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
