package keys_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/pkcs11"

	"esig/internal/keys"
	"esig/internal/pkcs11uri"
	"esig/internal/softhsmtest"
)

// withPIN replaces the pin-value of a softhsmtest URI.
func withPIN(uri, pin string) string {
	i := strings.Index(uri, "&pin-value=")
	return uri[:i] + "&pin-value=" + pkcs11uri.Escape(pin)
}

// withoutQuery drops the query (module-path and pin-value) of a URI.
func withoutQuery(uri string) string {
	return uri[:strings.IndexByte(uri, '?')]
}

func TestTokenGenerateSignReopen(t *testing.T) {
	tok := softhsmtest.New(t)
	tests := []struct {
		kt   keys.KeyType
		algs []x509.SignatureAlgorithm
	}{
		{keys.ECDSAP256, []x509.SignatureAlgorithm{x509.ECDSAWithSHA256}},
		{keys.ECDSAP384, []x509.SignatureAlgorithm{x509.ECDSAWithSHA384}},
		{keys.RSA3072, []x509.SignatureAlgorithm{x509.SHA256WithRSA, x509.SHA384WithRSAPSS}},
	}
	for _, tt := range tests {
		t.Run(string(tt.kt), func(t *testing.T) {
			label := "esig " + string(tt.kt)
			gen, err := keys.Generate(tt.kt, tok.URI(label), keys.Options{})
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			if got, err := keys.KeyTypeOf(gen.Public()); err != nil || got != tt.kt {
				t.Fatalf("generated key is %v (%v), want %s", got, err, tt.kt)
			}
			signAndVerify(t, gen, gen.Public())
			for _, alg := range tt.algs {
				certify(t, gen, alg)
			}

			// A fresh Open through the URI finds the same key, and its
			// signatures verify under the public key Generate returned.
			again, err := keys.Open(tok.URI(label), keys.Options{})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(must(x509.MarshalPKIXPublicKey(again.Public())), must(x509.MarshalPKIXPublicKey(gen.Public()))) {
				t.Fatal("Open found a different key than Generate made")
			}
			signAndVerify(t, again, gen.Public())

			checkNonExtractable(t, tok, label, gen.Public())
		})
	}
}

// checkNonExtractable reads the private key's attributes directly over
// PKCS#11: the key value must be refused, and the flags that keep it on the
// token must be set.
func checkNonExtractable(t *testing.T, tok *softhsmtest.Token, label string, pub crypto.PublicKey) {
	t.Helper()
	ctx, sh := tok.Session(t)
	template := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
	}
	if err := ctx.FindObjectsInit(sh, template); err != nil {
		t.Fatal(err)
	}
	objs, _, err := ctx.FindObjects(sh, 2)
	ctx.FindObjectsFinal(sh)
	if err != nil || len(objs) != 1 {
		t.Fatalf("found %d private keys labelled %q (%v), want 1", len(objs), label, err)
	}
	priv := objs[0]

	// An EC private key's secret is CKA_VALUE; an RSA key's are the private
	// exponent and the primes.
	secrets := []uint{pkcs11.CKA_VALUE}
	if _, isRSA := pub.(*rsa.PublicKey); isRSA {
		secrets = []uint{pkcs11.CKA_PRIVATE_EXPONENT, pkcs11.CKA_PRIME_1, pkcs11.CKA_PRIME_2}
	}
	for _, secret := range secrets {
		_, err = ctx.GetAttributeValue(sh, priv, []*pkcs11.Attribute{pkcs11.NewAttribute(secret, nil)})
		if !errors.Is(err, pkcs11.Error(pkcs11.CKR_ATTRIBUTE_SENSITIVE)) {
			t.Errorf("reading the key's secret (attribute %#x): %v; want CKR_ATTRIBUTE_SENSITIVE", secret, err)
		}
	}
	attrs, err := ctx.GetAttributeValue(sh, priv, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, nil),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, nil),
		pkcs11.NewAttribute(pkcs11.CKA_NEVER_EXTRACTABLE, nil),
		pkcs11.NewAttribute(pkcs11.CKA_ALWAYS_SENSITIVE, nil),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, nil),
		pkcs11.NewAttribute(pkcs11.CKA_ID, nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint]byte{
		pkcs11.CKA_SENSITIVE: 1, pkcs11.CKA_EXTRACTABLE: 0, pkcs11.CKA_NEVER_EXTRACTABLE: 1,
		pkcs11.CKA_ALWAYS_SENSITIVE: 1, pkcs11.CKA_TOKEN: 1,
	}
	for _, a := range attrs {
		if a.Type == pkcs11.CKA_ID {
			if len(a.Value) != 16 {
				t.Errorf("CKA_ID is %d bytes, want a random 16", len(a.Value))
			}
			continue
		}
		if len(a.Value) != 1 || a.Value[0] != want[a.Type] {
			t.Errorf("attribute %#x = %v, want %d", a.Type, a.Value, want[a.Type])
		}
	}
}

func TestTokenGenerateRefusesExisting(t *testing.T) {
	tok := softhsmtest.New(t)
	const id = "%0A%0B%0C"
	if _, err := keys.Generate(keys.ECDSAP256, tok.URI("ocsp"), keys.Options{}); err != nil {
		t.Fatal(err)
	}
	withID := strings.Replace(tok.URI("tsa"), "?", ";id="+id+"?", 1)
	if _, err := keys.Generate(keys.ECDSAP256, withID, keys.Options{}); err != nil {
		t.Fatal(err)
	}
	sameID := strings.Replace(tok.URI("tsa-2"), "?", ";id="+id+"?", 1)
	for _, ref := range []string{tok.URI("ocsp"), sameID} {
		s, err := keys.Generate(keys.ECDSAP384, ref, keys.Options{})
		if !errors.Is(err, keys.ErrKeyExists) {
			t.Errorf("Generate(%s) = %v, %v; want ErrKeyExists", ref, s, err)
		}
	}
	// The id= given is the one used, and opening by id alone finds the key.
	byID := strings.Replace(tok.URI(""), "?", ";id="+id+"?", 1)
	if _, err := keys.Open(byID, keys.Options{}); err != nil {
		t.Errorf("Open by id: %v", err)
	}
}

func TestTokenErrors(t *testing.T) {
	tok := softhsmtest.New(t)
	if _, err := keys.Generate(keys.ECDSAP256, tok.URI("signer"), keys.Options{}); err != nil {
		t.Fatal(err)
	}
	other := softhsmtest.New(t)
	unopened := softhsmtest.New(t) // nothing in this process has logged in to it
	t.Setenv(keys.ModuleEnv, "")
	missingModule := strings.Replace(tok.URI("signer"), "module-path="+pkcs11uri.Escape(tok.ModulePath), "module-path=%2Fnonexistent%2Flibp11.so", 1)

	tests := []struct {
		name    string
		ref     string
		opts    keys.Options
		wantErr error
		wantMsg string
	}{
		{name: "wrong PIN on a token not yet open", ref: withPIN(unopened.URI("x"), "0000"), wantErr: keys.ErrWrongPIN},
		{name: "wrong PIN on a token already open", ref: withPIN(tok.URI("signer"), "0000"), wantErr: keys.ErrWrongPIN},
		{name: "wrong Options.PIN overrides a right pin-value", ref: tok.URI("signer"), opts: keys.Options{PIN: "0000"}, wantErr: keys.ErrWrongPIN},
		{name: "token open by label, wrong PIN by serial", ref: strings.Replace(withPIN(tok.URI("signer"), "0000"), "token="+tok.Label, "serial="+tok.Serial, 1), wantErr: keys.ErrWrongPIN},
		{name: "unknown token label", ref: strings.Replace(tok.URI("signer"), tok.Label, "esig-no-such-token", 1), wantErr: keys.ErrTokenNotFound, wantMsg: "esig-no-such-token"},
		{name: "label and serial of different tokens", ref: strings.Replace(other.URI("signer"), "token="+other.Label, "token="+tok.Label+";serial="+other.Serial, 1), wantErr: keys.ErrTokenNotFound, wantMsg: "token="},
		{name: "no such key", ref: tok.URI("nie-ma"), wantErr: keys.ErrKeyNotFound, wantMsg: "nie-ma"},
		{name: "no module anywhere", ref: withoutQuery(tok.URI("signer")) + "?pin-value=" + tok.PIN, wantMsg: "module-path"},
		{name: "module does not exist", ref: missingModule, wantMsg: "no such file"},
		{name: "no PIN", ref: withoutQuery(tok.URI("signer")), opts: keys.Options{ModulePath: tok.ModulePath}, wantMsg: "no PIN"},
		{name: "no token", ref: "pkcs11:object=signer?pin-value=1", opts: keys.Options{ModulePath: tok.ModulePath}, wantMsg: "names no token"},
		{name: "no object", ref: tok.URI(""), wantMsg: "names no key"},
		{name: "certificate type", ref: strings.Replace(tok.URI("signer"), "?", ";type=cert?", 1), wantMsg: "type=cert"},
		{name: "module-name mismatch", ref: tok.URI("signer") + "&module-name=opensc-pkcs11", wantMsg: "module-name"},
		{name: "malformed URI", ref: "pkcs11:token=a;tokne=b", wantMsg: `"tokne"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := keys.Open(tt.ref, tt.opts)
			if err == nil {
				t.Fatalf("Open = %v, want an error", s)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %q is not %q", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
			if strings.Contains(err.Error(), tok.PIN) || strings.Contains(err.Error(), unopened.PIN) {
				t.Errorf("error %q contains a PIN", err)
			}
		})
	}
}

// TestTokenReferenceForms reaches one key every way a configuration can
// name it: module from Options or the environment, PIN from Options or a
// pin-source file, token by label or serial.
func TestTokenReferenceForms(t *testing.T) {
	tok := softhsmtest.New(t)
	gen, err := keys.Generate(keys.ECDSAP256, tok.URI("forms"), keys.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pinFile := filepath.Join(t.TempDir(), "pin")
	if err := os.WriteFile(pinFile, []byte(tok.PIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bare := withoutQuery(tok.URI("forms"))
	bySerial := strings.Replace(bare, "token="+tok.Label, "serial="+tok.Serial, 1)
	tests := []struct {
		name string
		ref  string
		opts keys.Options
		env  string
	}{
		{"module and PIN from Options", bare, keys.Options{ModulePath: tok.ModulePath, PIN: tok.PIN}, ""},
		{"module from the environment", bare + "?pin-value=" + tok.PIN, keys.Options{}, tok.ModulePath},
		{"PIN from a pin-source file", bare + "?pin-source=file:" + pinFile, keys.Options{ModulePath: tok.ModulePath}, ""},
		{"Options.PIN over a wrong pin-value", withPIN(tok.URI("forms"), "0000"), keys.Options{PIN: tok.PIN}, ""},
		{"token by serial", bySerial, keys.Options{ModulePath: tok.ModulePath, PIN: tok.PIN}, ""},
		{"module-name matching the module", tok.URI("forms") + "&module-name=softhsm2", keys.Options{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(keys.ModuleEnv, tt.env)
			s, err := keys.Open(tt.ref, tt.opts)
			if err != nil {
				t.Fatalf("Open(%s): %v", tt.ref, err)
			}
			signAndVerify(t, s, gen.Public())
		})
	}
}

// TestCloseAll checks that signers stop after CloseAll and that a later
// Open logs in afresh.
func TestCloseAll(t *testing.T) {
	tok := softhsmtest.New(t)
	s, err := keys.Generate(keys.ECDSAP256, tok.URI("closing"), keys.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.CloseAll(); err != nil {
		t.Fatalf("CloseAll: %v", err)
	}
	if _, err := s.Sign(nil, make([]byte, 32), crypto.SHA256); err == nil {
		t.Error("a signer still signs after CloseAll")
	}
	again, err := keys.Open(tok.URI("closing"), keys.Options{})
	if err != nil {
		t.Fatalf("Open after CloseAll: %v", err)
	}
	signAndVerify(t, again, s.Public())
}

// TestTokenConcurrentOpen opens and uses one token key from many goroutines
// at once, as the HTTP handlers of a server do, so the race detector can see
// the shared context cache and the session pool at work.
func TestTokenConcurrentOpen(t *testing.T) {
	tok := softhsmtest.New(t)
	gen, err := keys.Generate(keys.ECDSAP256, tok.URI("shared"), keys.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const workers = 8
	errs := make(chan error, workers)
	for i := 0; i < workers; i++ {
		go func() {
			s, err := keys.Open(tok.URI("shared"), keys.Options{})
			if err == nil {
				digest := sha256.Sum256([]byte("równolegle"))
				var sig []byte
				if sig, err = s.Sign(rand.Reader, digest[:], crypto.SHA256); err == nil && !ecdsa.VerifyASN1(gen.Public().(*ecdsa.PublicKey), digest[:], sig) {
					err = errors.New("signature does not verify")
				}
			}
			errs <- err
		}()
	}
	for i := 0; i < workers; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
