package cades

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/pem"
	"testing"

	"esig/internal/cms"
	"esig/internal/testpki"
	signer "esig/signer/cades"
	"esig/verifier"
	"esig/verifier/report"
)

// TestMalformedInput feeds garbage, truncations and bit flips of a valid
// signature: every one must end in a report (FORMAT_FAILURE or another
// failure), never a panic or a pass.
func TestMalformedInput(t *testing.T) {
	e := newEnv(t)
	leaf := e.pki.Leaf(t, testpki.LeafOptions{})
	sig := e.sign(leaf, content, signer.Options{Level: signer.LevelT})
	cases := map[string][]byte{
		"empty":              {},
		"one byte":           {0x30},
		"garbage":            []byte("this is not a signature at all"),
		"zeros":              make([]byte, 64),
		"indefinite forever": {0x30, 0x80, 0x30, 0x80, 0x30, 0x80},
		"huge length":        {0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x00},
		"not SignedData":     {0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01},
	}
	for _, n := range []int{1, 2, 10, 50, len(sig) / 3, len(sig) / 2, len(sig) - 1} {
		cases["truncated to "+itoa(n)] = sig[:n]
	}
	deep := bytes.Repeat([]byte{0x30, 0x80}, 10000)
	cases["deep nesting"] = deep
	eng, _ := verifier.New(e.config())
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			rep := Verify(context.Background(), eng, b, nil)
			if len(rep.Signatures) != 1 {
				t.Fatalf("%d signatures", len(rep.Signatures))
			}
			expect(t, rep, report.TotalFailed, report.FormatFailure)
		})
	}
}

// TestSignedBytesFlipped flips each byte of what the signature covers (the
// content, the signed attributes, the signature value): none may pass.
func TestSignedBytesFlipped(t *testing.T) {
	e := newEnv(t)
	leaf := e.pki.Leaf(t, testpki.LeafOptions{})
	sig := e.sign(leaf, content, signer.Options{})
	sd, err := cms.ParseContentInfo(sig)
	if err != nil {
		t.Fatal(err)
	}
	si := sd.SignerInfos[0]
	eng, _ := verifier.New(e.config())
	for _, part := range [][]byte{sd.Content, si.SignedAttrsRaw, si.Signature} {
		at := bytes.Index(sig, part)
		if at < 0 {
			t.Fatal("signed part not found in the encoding")
		}
		for i := at; i < at+len(part); i++ {
			b := append([]byte(nil), sig...)
			b[i] ^= 0x01
			rep := Verify(context.Background(), eng, b, nil)
			if rep.Indication == report.TotalPassed {
				t.Fatalf("flipping byte %d still passes", i)
			}
		}
	}
}

// TestInputEncodings accepts DER, PEM and bare base64.
func TestInputEncodings(t *testing.T) {
	e := newEnv(t)
	leaf := e.pki.Leaf(t, testpki.LeafOptions{})
	sig := e.sign(leaf, content, signer.Options{})
	for name, b := range map[string][]byte{
		"DER":    sig,
		"PEM":    pem.EncodeToMemory(&pem.Block{Type: "PKCS7", Bytes: sig}),
		"base64": []byte(base64.StdEncoding.EncodeToString(sig) + "\n"),
	} {
		t.Run(name, func(t *testing.T) { expect(t, e.verify(b, e.config(), nil), report.TotalPassed, "") })
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
