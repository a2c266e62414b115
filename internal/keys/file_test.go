package keys_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"esig/internal/keys"
)

// Generating RSA keys is slow, so each test key is made once per process.
var (
	keyOnce  sync.Map // KeyType -> *sync.Once
	keyCache sync.Map // KeyType -> crypto.Signer
)

func testKey(t *testing.T, kt keys.KeyType) crypto.Signer {
	t.Helper()
	o, _ := keyOnce.LoadOrStore(kt, new(sync.Once))
	o.(*sync.Once).Do(func() {
		var k crypto.Signer
		var err error
		switch kt {
		case keys.ECDSAP256:
			k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		case keys.ECDSAP384:
			k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		case keys.RSA2048:
			k, err = rsa.GenerateKey(rand.Reader, 2048)
		default:
			t.Fatalf("no test key for %s", kt)
		}
		if err != nil {
			t.Fatal(err)
		}
		keyCache.Store(kt, k)
	})
	k, ok := keyCache.Load(kt)
	if !ok {
		t.Fatalf("test key %s was not generated", kt)
	}
	return k.(crypto.Signer)
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func pemBytes(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func selfSigned(t *testing.T, k crypto.Signer, cn string, parent *x509.Certificate, parentKey crypto.Signer) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  parent == nil,
		BasicConstraintsValid: true,
	}
	if parent == nil {
		parent, parentKey = tmpl, k
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, k.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// must unwraps a marshalling result in test set-up, where an error is a bug
// in the test itself.
func must(der []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return der
}

// TestOpenFormats writes one key in every supported file format and checks
// that Open gives a signer for that very key.
func TestOpenFormats(t *testing.T) {
	for _, kt := range []keys.KeyType{keys.ECDSAP256, keys.ECDSAP384, keys.RSA2048} {
		key := testKey(t, kt)
		pkcs8DER := must(x509.MarshalPKCS8PrivateKey(key))
		ca := selfSigned(t, testKey(t, keys.ECDSAP384), "esig test root", nil, nil)
		leaf := selfSigned(t, key, "esig test leaf", ca, testKey(t, keys.ECDSAP384))
		p12 := must(pkcs12.Modern.Encode(key, leaf, []*x509.Certificate{ca}, "hasło-p12"))

		type format struct {
			name, file string
			data       []byte
			pass       string
		}
		formats := []format{
			{"PKCS#8 PEM", "key.pem", pemBytes("PRIVATE KEY", pkcs8DER), ""},
			{"PKCS#8 DER", "key.der", pkcs8DER, ""},
			{"PKCS#8 PEM after a certificate", "bundle.pem", append(pemBytes("CERTIFICATE", leaf.Raw), pemBytes("PRIVATE KEY", pkcs8DER)...), ""},
			{"PKCS#12 by extension", "key.p12", p12, "hasło-p12"},
			{"PKCS#12 .pfx", "key.pfx", p12, "hasło-p12"},
			{"PKCS#12 sniffed", "key.bin", p12, "hasło-p12"},
		}
		switch k := key.(type) {
		case *ecdsa.PrivateKey:
			sec1 := must(x509.MarshalECPrivateKey(k))
			formats = append(formats,
				format{"SEC 1 EC PRIVATE KEY", "ec.pem", pemBytes("EC PRIVATE KEY", sec1), ""},
				format{"SEC 1 with EC PARAMETERS", "ec-params.pem", append(pemBytes("EC PARAMETERS", []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}), pemBytes("EC PRIVATE KEY", sec1)...), ""},
				format{"SEC 1 DER", "ec.der", sec1, ""},
				format{"PKCS#8 mislabelled EC PRIVATE KEY", "mislabelled.pem", pemBytes("EC PRIVATE KEY", pkcs8DER), ""})
		case *rsa.PrivateKey:
			pkcs1 := x509.MarshalPKCS1PrivateKey(k)
			formats = append(formats,
				format{"PKCS#1 RSA PRIVATE KEY", "rsa.pem", pemBytes("RSA PRIVATE KEY", pkcs1), ""},
				format{"PKCS#1 DER", "rsa.der", pkcs1, ""})
		}
		for _, f := range formats {
			t.Run(string(kt)+"/"+f.name, func(t *testing.T) {
				path := writeFile(t, f.file, f.data)
				s, err := keys.Open(path, keys.Options{Passphrase: []byte(f.pass)})
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				if !key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(s.Public()) {
					t.Fatal("Open returned a different key")
				}
				signAndVerify(t, s, key.Public())
			})
		}
	}
}

// TestGenerateFile generates every key type into a file, plain and
// encrypted, and opens it again through each reference form.
func TestGenerateFile(t *testing.T) {
	tests := []struct {
		kt   keys.KeyType
		pass string
	}{
		{keys.ECDSAP256, ""},
		{keys.ECDSAP256, "zażółć gęślą jaźń"},
		{keys.ECDSAP384, ""},
		{keys.ECDSAP384, "p384-pass"},
		{keys.RSA2048, ""},
		{keys.RSA2048, "rsa-pass"},
		{keys.RSA3072, ""},
		{keys.RSA4096, ""},
	}
	for _, tt := range tests {
		name := string(tt.kt)
		if tt.pass != "" {
			name += "/encrypted"
		}
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "new.key")
			opts := keys.Options{Passphrase: []byte(tt.pass)}
			gen, err := keys.Generate(tt.kt, path, opts)
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			if got, err := keys.KeyTypeOf(gen.Public()); err != nil || got != tt.kt {
				t.Fatalf("KeyTypeOf = %v, %v; want %s", got, err, tt.kt)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if perm := fi.Mode().Perm(); perm&0o077 != 0 {
				t.Errorf("key file mode %v, want no group or other access", perm)
			}
			data, _ := os.ReadFile(path)
			block, _ := pem.Decode(data)
			wantType := "PRIVATE KEY"
			if tt.pass != "" {
				wantType = "ENCRYPTED PRIVATE KEY"
				checkStrongPBES2(t, block.Bytes)
			}
			if block == nil || block.Type != wantType {
				t.Fatalf("file holds %v, want a %q PEM block", block, wantType)
			}
			for _, ref := range []string{path, "file:" + path, "file://" + path} {
				s, err := keys.Open(ref, opts)
				if err != nil {
					t.Fatalf("Open(%q): %v", ref, err)
				}
				signAndVerify(t, s, gen.Public())
			}
		})
	}
}

// checkStrongPBES2 decodes the encryption parameters of a key Generate wrote
// and holds them to the promise: PBES2, PBKDF2-HMAC-SHA256 with at least
// 600 000 rounds and a 16-byte salt, AES-256-CBC.
func checkStrongPBES2(t *testing.T, der []byte) {
	t.Helper()
	var info struct {
		Alg  pkix.AlgorithmIdentifier
		Data []byte
	}
	var pbes2 struct{ KDF, Enc pkix.AlgorithmIdentifier }
	var kdf struct {
		Salt []byte
		Iter int
		PRF  pkix.AlgorithmIdentifier `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(der, &info); err != nil {
		t.Fatal(err)
	}
	if _, err := asn1.Unmarshal(info.Alg.Parameters.FullBytes, &pbes2); err != nil {
		t.Fatal(err)
	}
	if _, err := asn1.Unmarshal(pbes2.KDF.Parameters.FullBytes, &kdf); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what string
		ok   bool
	}{
		{"PBES2", info.Alg.Algorithm.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13})},
		{"PBKDF2", pbes2.KDF.Algorithm.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12})},
		{"HMAC-SHA256", kdf.PRF.Algorithm.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9})},
		{">= 600000 iterations", kdf.Iter >= 600_000},
		{"16-byte salt", len(kdf.Salt) == 16},
		{"AES-256-CBC", pbes2.Enc.Algorithm.Equal(asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42})},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("encrypted key: want %s", c.what)
		}
	}
}

// encryptedKeyFile generates an encrypted key file once per test and returns
// its path and contents.
func encryptedKeyFile(t *testing.T, pass string) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "enc.key")
	if _, err := keys.Generate(keys.ECDSAP256, path, keys.Options{Passphrase: []byte(pass)}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, data
}

// withIterations rewrites the PBKDF2 iteration count of an encrypted key.
func withIterations(t *testing.T, pemData []byte, iter int) []byte {
	t.Helper()
	block, _ := pem.Decode(pemData)
	type kdfParams struct {
		Salt []byte
		Iter int
		PRF  pkix.AlgorithmIdentifier `asn1:"optional"`
	}
	var info struct {
		Alg  pkix.AlgorithmIdentifier
		Data []byte
	}
	var pbes2 struct{ KDF, Enc pkix.AlgorithmIdentifier }
	var kdf kdfParams
	_, err1 := asn1.Unmarshal(block.Bytes, &info)
	_, err2 := asn1.Unmarshal(info.Alg.Parameters.FullBytes, &pbes2)
	_, err3 := asn1.Unmarshal(pbes2.KDF.Parameters.FullBytes, &kdf)
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	kdf.Iter = iter
	pbes2.KDF.Parameters = asn1.RawValue{FullBytes: must(asn1.Marshal(kdf))}
	info.Alg.Parameters = asn1.RawValue{FullBytes: must(asn1.Marshal(pbes2))}
	return pemBytes("ENCRYPTED PRIVATE KEY", must(asn1.Marshal(info)))
}

func TestOpenErrors(t *testing.T) {
	encPath, encData := encryptedKeyFile(t, "właściwe")
	encBlock, _ := pem.Decode(encData)
	ecKey := testKey(t, keys.ECDSAP256)
	pkcs8DER := must(x509.MarshalPKCS8PrivateKey(ecKey))
	goodPEM := pemBytes("PRIVATE KEY", pkcs8DER)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	leaf := selfSigned(t, ecKey, "leaf", nil, nil)
	p12 := must(pkcs12.Modern.Encode(ecKey, leaf, nil, "p12-pass"))
	// Corrupt the base64 of the body, keeping BEGIN/END intact.
	corrupt := bytes.Replace(goodPEM, []byte("\n"), []byte("\n!!"), 2)

	tests := []struct {
		name    string
		file    string
		data    []byte // nil: use path as is
		path    string
		pass    string
		wantErr error
		wantMsg string
	}{
		{name: "encrypted, wrong passphrase", path: encPath, pass: "niewłaściwe", wantErr: keys.ErrWrongPassphrase},
		{name: "encrypted, no passphrase", path: encPath, wantErr: keys.ErrPassphraseNeeded},
		{name: "encrypted DER, no passphrase", file: "enc.der", data: encBlock.Bytes, wantErr: keys.ErrPassphraseNeeded},
		{name: "encrypted, ciphertext truncated", file: "trunc-enc.pem", data: pemBytes("ENCRYPTED PRIVATE KEY", truncateEncrypted(t, encBlock.Bytes)), pass: "właściwe", wantErr: keys.ErrNotAKey, wantMsg: "whole number"},
		{name: "encrypted, absurd iteration count", file: "slow.pem", data: withIterations(t, encData, 2_000_000_000), pass: "właściwe", wantErr: keys.ErrUnsupportedEncryption, wantMsg: "iteration count"},
		{name: "corrupt PEM", file: "corrupt.pem", data: corrupt, wantErr: keys.ErrNotAKey, wantMsg: "corrupt PEM block at line 1"},
		{name: "corrupt PEM key after good certificate", file: "corrupt2.pem", data: append(pemBytes("CERTIFICATE", leaf.Raw), corrupt...), wantErr: keys.ErrNotAKey, wantMsg: "corrupt PEM"},
		{name: "PEM without END line", file: "noend.pem", data: goodPEM[:len(goodPEM)-30], wantErr: keys.ErrNotAKey, wantMsg: "corrupt PEM"},
		{name: "only a certificate", file: "cert.pem", data: pemBytes("CERTIFICATE", leaf.Raw), wantErr: keys.ErrNotAKey, wantMsg: "holds only CERTIFICATE"},
		{name: "two keys", file: "two.pem", data: append(append([]byte{}, goodPEM...), goodPEM...), wantErr: keys.ErrNotAKey, wantMsg: "more than one"},
		{name: "truncated DER", file: "trunc.der", data: pkcs8DER[:len(pkcs8DER)/2], wantErr: keys.ErrNotAKey, wantMsg: "truncated"},
		{name: "certificate DER", file: "cert.der", data: leaf.Raw, wantErr: keys.ErrNotAKey, wantMsg: "a certificate"},
		{name: "garbage", file: "garbage", data: []byte("to nie jest klucz\n"), wantErr: keys.ErrNotAKey},
		{name: "empty file", file: "empty.pem", data: []byte("\n"), wantErr: keys.ErrNotAKey, wantMsg: "empty"},
		{name: "malformed PKCS#8 in PEM", file: "bad8.pem", data: pemBytes("PRIVATE KEY", []byte{0x30, 0x03, 0x02, 0x01, 0x00}), wantErr: keys.ErrNotAKey},
		{name: "Ed25519", file: "ed.pem", data: pemBytes("PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(edKey))), wantErr: keys.ErrUnsupportedKey, wantMsg: "Ed25519"},
		{name: "P-224", file: "p224.pem", data: pemBytes("EC PRIVATE KEY", must(x509.MarshalECPrivateKey(p224))), wantErr: keys.ErrUnsupportedKey, wantMsg: "P-224"},
		{name: "RSA-1024", file: "rsa1024.pem", data: pemBytes("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsa1024)), wantErr: keys.ErrUnsupportedKey, wantMsg: "1024 bits"},
		{name: "legacy PEM encryption", file: "legacy.pem", data: pem.EncodeToMemory(&pem.Block{
			Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"},
			Bytes: bytes.Repeat([]byte{1}, 64)}), wantErr: keys.ErrUnsupportedEncryption, wantMsg: "legacy PEM encryption"},
		{name: "PKCS#12, wrong password", file: "k.p12", data: p12, pass: "złe", wantErr: keys.ErrWrongPassphrase},
		{name: "PKCS#12, no password", file: "k.p12", data: p12, wantErr: keys.ErrPassphraseNeeded},
		{name: "PKCS#12 truncated", file: "k.pfx", data: p12[:len(p12)/2], pass: "p12-pass", wantErr: keys.ErrNotAKey},
		{name: "missing file", path: filepath.Join(t.TempDir(), "nie-ma.pem"), wantErr: fs.ErrNotExist},
		{name: "file URL naming a host", path: "file://ca.example/etc/key.pem", wantMsg: "only local files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if tt.data != nil {
				path = writeFile(t, tt.file, tt.data)
			}
			s, err := keys.Open(path, keys.Options{Passphrase: []byte(tt.pass)})
			if err == nil {
				t.Fatalf("Open = %T, want an error", s)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %q is not %q", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
			if tt.data != nil && !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file %q", err, path)
			}
		})
	}
}

// truncateEncrypted drops the last 5 bytes of the ciphertext of an
// EncryptedPrivateKeyInfo, leaving the structure well-formed.
func truncateEncrypted(t *testing.T, der []byte) []byte {
	t.Helper()
	var info struct {
		Alg  pkix.AlgorithmIdentifier
		Data []byte
	}
	if _, err := asn1.Unmarshal(der, &info); err != nil {
		t.Fatal(err)
	}
	info.Data = info.Data[:len(info.Data)-5]
	return must(asn1.Marshal(info))
}

func TestGenerateRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "ca.key")
	original := []byte("the CA's key, which must survive\n")
	if err := os.WriteFile(existing, original, 0o600); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "link.key")
	if err := os.Symlink(filepath.Join(dir, "elsewhere"), dangling); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{existing, "file:" + existing, dangling} {
		s, err := keys.Generate(keys.ECDSAP256, ref, keys.Options{})
		if !errors.Is(err, keys.ErrKeyExists) {
			t.Errorf("Generate(%q) = %v, %v; want ErrKeyExists", ref, s, err)
		}
	}
	if got, _ := os.ReadFile(existing); !bytes.Equal(got, original) {
		t.Errorf("existing file changed to %q", got)
	}
	if _, err := os.Lstat(filepath.Join(dir, "elsewhere")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Generate wrote through a symbolic link: %v", err)
	}
	// A directory that does not exist is an error naming it, and leaves nothing.
	missing := filepath.Join(dir, "no-such-dir", "k.pem")
	if _, err := keys.Generate(keys.ECDSAP256, missing, keys.Options{}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Generate into a missing directory: %v", err)
	}
}

func TestOpenPKCS12(t *testing.T) {
	key := testKey(t, keys.RSA2048)
	rootKey := testKey(t, keys.ECDSAP384)
	root := selfSigned(t, rootKey, "esig root", nil, nil)
	leaf := selfSigned(t, key, "esig leaf", root, rootKey)
	otherLeaf := selfSigned(t, testKey(t, keys.ECDSAP256), "someone else", root, rootKey)

	good := writeFile(t, "good.p12", must(pkcs12.Modern.Encode(key, leaf, []*x509.Certificate{root}, "tajne")))
	legacy := writeFile(t, "legacy.p12", must(pkcs12.LegacyDES.Encode(key, leaf, nil, "tajne")))
	mismatched := writeFile(t, "mismatch.p12", must(pkcs12.Modern.Encode(key, otherLeaf, nil, "tajne")))

	t.Run("modern", func(t *testing.T) {
		s, cert, chain, err := keys.OpenPKCS12(good, "tajne")
		if err != nil {
			t.Fatal(err)
		}
		if !cert.Equal(leaf) || len(chain) != 1 || !chain[0].Equal(root) {
			t.Fatalf("got certificate %q and %d chain certificates", cert.Subject, len(chain))
		}
		signAndVerify(t, s, cert.PublicKey)
	})
	t.Run("legacy 3DES", func(t *testing.T) {
		s, cert, _, err := keys.OpenPKCS12(legacy, "tajne")
		if err != nil {
			t.Fatal(err)
		}
		signAndVerify(t, s, cert.PublicKey)
	})
	t.Run("wrong password", func(t *testing.T) {
		_, _, _, err := keys.OpenPKCS12(good, "jawne")
		if !errors.Is(err, keys.ErrWrongPassphrase) || !strings.Contains(err.Error(), good) {
			t.Fatalf("error %v; want ErrWrongPassphrase naming %s", err, good)
		}
	})
	t.Run("certificate of another key", func(t *testing.T) {
		_, _, _, err := keys.OpenPKCS12(mismatched, "tajne")
		if err == nil || !strings.Contains(err.Error(), "does not belong") {
			t.Fatalf("error %v; want a key/certificate mismatch", err)
		}
	})
}

func TestParseKeyType(t *testing.T) {
	for _, kt := range keys.KeyTypes() {
		for _, s := range []string{string(kt), strings.ToUpper(string(kt))} {
			if got, err := keys.ParseKeyType(s); err != nil || got != kt {
				t.Errorf("ParseKeyType(%q) = %q, %v", s, got, err)
			}
		}
	}
	for _, bad := range []string{"", "ecdsa", "rsa-1024", "ed25519", "ecdsa-p521"} {
		_, err := keys.ParseKeyType(bad)
		if err == nil {
			t.Errorf("ParseKeyType(%q) succeeded", bad)
			continue
		}
		for _, kt := range keys.KeyTypes() {
			if !strings.Contains(err.Error(), string(kt)) {
				t.Errorf("ParseKeyType(%q) error %q does not list %s", bad, err, kt)
			}
		}
	}
	if _, err := keys.Generate("dsa-1024", filepath.Join(t.TempDir(), "k"), keys.Options{}); err == nil || !strings.Contains(err.Error(), "ecdsa-p256") {
		t.Errorf("Generate with an unknown key type: %v", err)
	}
}

func TestFileSignerWorksForCA(t *testing.T) {
	for _, tt := range []struct {
		kt  keys.KeyType
		alg x509.SignatureAlgorithm
	}{
		{keys.ECDSAP256, x509.ECDSAWithSHA256},
		{keys.ECDSAP384, x509.ECDSAWithSHA384},
		{keys.RSA2048, x509.SHA256WithRSA},
		{keys.RSA2048, x509.SHA256WithRSAPSS},
	} {
		t.Run(string(tt.kt)+"/"+tt.alg.String(), func(t *testing.T) {
			path := writeFile(t, "k.pem", pemBytes("PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(testKey(t, tt.kt)))))
			s, err := keys.Open(path, keys.Options{})
			if err != nil {
				t.Fatal(err)
			}
			certify(t, s, tt.alg)
		})
	}
}
