package xades_test

import (
	"context"
	"crypto"
	"testing"

	"esig/internal/testpki"
	"esig/signer/cades"
	"esig/signer/tsp"
	xsign "esig/signer/xades"
	"esig/verifier"
	"esig/verifier/revocation"
	"esig/verifier/trust"
	vxades "esig/verifier/xades"
)

var xmlDoc = []byte(`<?xml version="1.0" encoding="UTF-8"?>
<Deklaracja xmlns="urn:esig:test:zus" wersja="1"><Naglowek>ZUS DRA</Naglowek><Okres>2026-01</Okres><Kwota waluta="PLN">1234.56</Kwota></Deklaracja>`)

var binDoc = []byte("Wniosek o wydanie certyfikatu\x00\xff binarny załącznik\n")

func tsaFor(p *testpki.PKI) xsign.Timestamper {
	c := &tsp.Client{URL: p.TSAURL()}
	return cades.TimestamperFunc(func(ctx context.Context, d []byte, h crypto.Hash) ([]byte, error) {
		r, err := c.Timestamp(ctx, d, h)
		if err != nil {
			return nil, err
		}
		return r.Token, nil
	})
}

// options fills the key, certificate, chain and, for the levels that need
// them, the TSA and revocation source of the test PKI.
func options(p *testpki.PKI, leaf *testpki.Cert, o xsign.Options) xsign.Options {
	o.Signer, o.Certificate = leaf.Key, leaf.Cert
	o.Chain = append(o.Chain, p.CA.Cert, p.Root.Cert)
	if o.Level >= xsign.LevelT {
		o.Timestamper = tsaFor(p)
	}
	if o.Level >= xsign.LevelLT {
		o.Validation = cades.OnlineValidation{Fetcher: revocation.NewHTTPFetcher()}
	}
	return o
}

// verify runs the XAdES verifier trusting the test root, online against
// the test PKI's server.
func verify(t *testing.T, p *testpki.PKI, sig []byte, detached map[string][]byte) *vxades.Result {
	t.Helper()
	eng, err := verifier.New(verifier.Config{Anchors: trust.NewAnchors(p.Root.Cert), Fetcher: revocation.NewHTTPFetcher()})
	if err != nil {
		t.Fatal(err)
	}
	var res vxades.Options
	if detached != nil {
		res.Detached = xmldsigContent(detached)
	}
	return vxades.Verify(context.Background(), eng, sig, res)
}
