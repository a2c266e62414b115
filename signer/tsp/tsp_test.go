package tsp_test

import (
	"context"
	"crypto"
	"crypto/sha256"
	"math/big"
	"strings"
	"testing"

	"github.com/digitorus/timestamp"

	"esig/internal/testpki"
	"esig/signer/tsp"
)

func TestTimestampFromTestTSA(t *testing.T) {
	p := testpki.New(t)
	d := sha256.Sum256([]byte("data"))
	r, err := (&tsp.Client{URL: p.TSAURL()}).Timestamp(context.Background(), d[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if r.Info.Hash != crypto.SHA256 || r.Info.Nonce == nil || !r.Info.Policy.Equal(testpki.TSAPolicy) {
		t.Errorf("TSTInfo %+v", r.Info)
	}
	if _, err := (&tsp.Client{URL: p.TSAURL()}).Timestamp(context.Background(), d[:20], crypto.SHA256); err == nil {
		t.Error("a digest of the wrong length was sent")
	}
	if _, err := (&tsp.Client{URL: p.URL + "/nothing-here"}).Timestamp(context.Background(), d[:], crypto.SHA256); err == nil {
		t.Error("an HTTP 404 was taken for a time stamp")
	}
}

// TestCheck refuses answers that do not answer the request.
func TestCheck(t *testing.T) {
	p := testpki.New(t)
	d := sha256.Sum256([]byte("data"))
	other := sha256.Sum256([]byte("other"))
	r, err := (&tsp.Client{URL: p.TSAURL()}).Timestamp(context.Background(), d[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	rejection, _ := timestamp.CreateErrorResponse(timestamp.Rejection, timestamp.BadAlgorithm)
	cases := []struct {
		name   string
		raw    []byte
		digest []byte
		nonce  *big.Int
		want   string
	}{
		{"other imprint", r.Raw, other[:], nil, "imprint"},
		{"other nonce", r.Raw, d[:], big.NewInt(7), "nonce"},
		{"rejection", rejection, d[:], nil, "badAlg"},
		{"garbage", []byte("garbage"), d[:], nil, "TimeStampResp"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := tsp.Check(c.raw, c.digest, crypto.SHA256, c.nonce)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one mentioning %q", err, c.want)
			}
		})
	}
	if _, err := tsp.Check(r.Raw, d[:], crypto.SHA256, r.Info.Nonce); err != nil {
		t.Errorf("the genuine answer: %v", err)
	}
}
