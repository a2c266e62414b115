package cms

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"testing"
)

// signWithoutNull signs like the gov.pl trusted-profile seal: RSASSA-PKCS1-v1_5
// with a DigestInfo whose AlgorithmIdentifier has no NULL parameters.
func signWithoutNull(t *testing.T, key *rsa.PrivateKey, digest []byte) []byte {
	t.Helper()
	oid, _ := asn1.Marshal(OIDForHash(crypto.SHA256))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, 0, Sequence(Sequence(oid), Encode(ClassUniversal, TagOctetString, false, digest)))
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func TestDigestInfoWithoutNull(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("podpis"))
	other := sha256.Sum256([]byte("inny"))
	without := signWithoutNull(t, key, digest[:])
	with, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		digest []byte
		sig    []byte
		want   bool
	}{
		{"without NULL", digest[:], without, true},
		{"with NULL (the other form)", digest[:], with, false},
		{"another digest", other[:], without, false},
		{"truncated", digest[:], without[1:], false},
	} {
		if got := verifyPKCS1v15(&key.PublicKey, crypto.SHA256, tc.digest, tc.sig, false); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], without) == nil {
		t.Fatal("crypto/rsa accepts the form without NULL: the fallback is no longer needed")
	}
	// VerifyDigest, which every CMS signature goes through, takes both
	// forms and neither over other bytes.
	alg := SignatureAlgorithm{Key: KeyRSA, Hash: crypto.SHA256}
	for name, sig := range map[string][]byte{"without NULL": without, "with NULL": with} {
		if err := alg.VerifyDigest(&key.PublicKey, digest[:], sig); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if alg.VerifyDigest(&key.PublicKey, other[:], sig) == nil {
			t.Errorf("%s: verified over another digest", name)
		}
	}
}
