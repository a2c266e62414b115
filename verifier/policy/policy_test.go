package policy

import (
	"crypto"
	"errors"
	"strings"
	"testing"
	"time"

	"esig/internal/cms"
)

func TestDefaultPolicy(t *testing.T) {
	p := Default()
	d := func(s string) time.Time { t, _ := time.Parse("2006-01-02", s); return t }
	rsa := func(h crypto.Hash) cms.SignatureAlgorithm { return cms.SignatureAlgorithm{Key: cms.KeyRSA, Hash: h} }
	cases := []struct {
		name string
		alg  cms.SignatureAlgorithm
		bits int
		poe  time.Time
		ok   bool
	}{
		{"RSA-2048 SHA-256 now", rsa(crypto.SHA256), 2048, d("2026-11-23"), true},
		{"RSA-4096 SHA-512", rsa(crypto.SHA512), 4096, d("2026-11-23"), true},
		{"SHA-1 in 2009", rsa(crypto.SHA1), 2048, d("2009-12-31"), true},
		{"SHA-1 in 2010", rsa(crypto.SHA1), 2048, d("2010-01-01"), false},
		{"RSA-1024 in 2013", rsa(crypto.SHA256), 1024, d("2013-06-01"), true},
		{"RSA-1024 in 2014", rsa(crypto.SHA256), 1024, d("2014-01-01"), false},
		{"RSA-512 ever", rsa(crypto.SHA256), 512, d("2000-01-01"), false},
		{"MD5 ever", rsa(crypto.MD5), 2048, d("2000-01-01"), false},
		{"ECDSA P-256", cms.SignatureAlgorithm{Key: cms.KeyECDSA, Hash: crypto.SHA256}, 256, d("2026-11-23"), true},
		{"ECDSA P-224", cms.SignatureAlgorithm{Key: cms.KeyECDSA, Hash: crypto.SHA256}, 224, d("2026-11-23"), false},
		{"Ed25519", cms.SignatureAlgorithm{Key: cms.KeyEd25519}, 256, d("2026-11-23"), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := p.CheckSignature(c.alg, c.bits, c.poe)
			if (err == nil) != c.ok {
				t.Fatalf("err %v, want ok=%v", err, c.ok)
			}
			var v *Violation
			if err != nil && !errors.As(err, &v) {
				t.Errorf("error %T is not a *Violation", err)
			}
		})
	}
}

func TestParse(t *testing.T) {
	p, err := Parse(strings.NewReader(`{"digests": {"SHA-1": {"until": "never"}, "SHA-256": {"until": "2030-01-01"}}, "keys": {"RSA": [{"minBits": 3072}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.CheckDigest(crypto.SHA1, time.Date(2005, 1, 1, 0, 0, 0, 0, time.UTC)) == nil {
		t.Error("SHA-1 accepted under never")
	}
	if p.CheckDigest(crypto.SHA256, time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)) == nil {
		t.Error("SHA-256 accepted after its new sunset")
	}
	if p.CheckSignature(cms.SignatureAlgorithm{Key: cms.KeyRSA, Hash: crypto.SHA384}, 2048, time.Now()) == nil {
		t.Error("RSA-2048 accepted under a 3072-bit minimum")
	}
	if p.CheckDigest(crypto.SHA384, time.Now()) != nil {
		t.Error("defaults not kept for unnamed digests")
	}
	for _, bad := range []string{`{"digests": {"SHA-1": {"until": "soon"}}}`, `{"unknown": 1}`, `not json`} {
		if _, err := Parse(strings.NewReader(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
