package signer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"
)

func TestCheckNewSignature(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, tt := range []struct {
		name string
		pub  crypto.PublicKey
		h    crypto.Hash
		want string // "" accepted
	}{
		{"ECDSA SHA-256", ec.Public(), crypto.SHA256, ""},
		{"ECDSA SHA3-512", ec.Public(), crypto.SHA3_512, ""},
		{"RSA-2048 SHA-384", rsa2048.Public(), crypto.SHA384, ""},
		{"SHA-1", ec.Public(), crypto.SHA1, "SHA-1 is not acceptable"},
		{"MD5", ec.Public(), crypto.MD5, "MD5 is not acceptable"},
		{"no hash", ec.Public(), 0, "not acceptable"},
		{"RSA-1024", rsa1024.Public(), crypto.SHA256, "below 2048 bits"},
	} {
		err := CheckNewSignature(tt.pub, tt.h)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}
