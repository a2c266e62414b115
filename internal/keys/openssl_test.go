package keys_test

import (
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"esig/internal/keys"
)

// openssl runs the openssl command as an independent oracle, skipping when
// it is not installed (it is on Debian and in CI).
func openssl(t *testing.T, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed")
	}
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestOpenSSLReadsGeneratedKeys checks that what Generate writes is standard:
// OpenSSL decrypts it with the passphrase and finds the same public key.
func TestOpenSSLReadsGeneratedKeys(t *testing.T) {
	for _, tt := range []struct {
		kt   keys.KeyType
		pass string
	}{
		{keys.ECDSAP256, ""},
		{keys.ECDSAP384, "hasło do klucza"},
		{keys.RSA2048, "rsa"},
	} {
		t.Run(string(tt.kt), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k.pem")
			s, err := keys.Generate(tt.kt, path, keys.Options{Passphrase: []byte(tt.pass)})
			if err != nil {
				t.Fatal(err)
			}
			args := []string{"pkey", "-in", path, "-pubout", "-outform", "DER", "-out", path + ".pub"}
			if tt.pass != "" {
				args = append(args, "-passin", "pass:"+tt.pass)
			}
			openssl(t, args...)
			pub, err := os.ReadFile(path + ".pub")
			if err != nil {
				t.Fatal(err)
			}
			if want := must(x509.MarshalPKIXPublicKey(s.Public())); string(pub) != string(want) {
				t.Fatal("OpenSSL sees a different public key")
			}
		})
	}
}

// TestOpenOpenSSLKeys reads keys OpenSSL wrote in its default formats,
// including scrypt-protected PKCS#8 and an OpenSSL 3 PKCS#12 (PBES2,
// AES-256-CBC, HMAC-SHA256 MAC).
func TestOpenOpenSSLKeys(t *testing.T) {
	dir := t.TempDir()
	ec := filepath.Join(dir, "ec.pem")
	openssl(t, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", ec)
	cert := filepath.Join(dir, "cert.pem")
	openssl(t, "req", "-new", "-x509", "-key", ec, "-subj", "/CN=openssl test/C=PL", "-days", "1", "-out", cert)

	pbkdf2 := filepath.Join(dir, "pbkdf2.pem")
	openssl(t, "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", ec, "-out", pbkdf2, "-passout", "pass:tajne")
	scrypt := filepath.Join(dir, "scrypt.pem")
	openssl(t, "pkcs8", "-topk8", "-scrypt", "-in", ec, "-out", scrypt, "-passout", "pass:tajne")
	traditional := filepath.Join(dir, "trad.pem")
	openssl(t, "ec", "-in", ec, "-out", traditional)
	p12 := filepath.Join(dir, "bundle.p12")
	openssl(t, "pkcs12", "-export", "-inkey", ec, "-in", cert, "-out", p12, "-passout", "pass:tajne")

	want, err := keys.Open(ec, keys.Options{})
	if err != nil {
		t.Fatalf("Open(OpenSSL PKCS#8): %v", err)
	}
	for _, path := range []string{pbkdf2, scrypt, traditional, p12} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			s, err := keys.Open(path, keys.Options{Passphrase: []byte("tajne")})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			signAndVerify(t, s, want.Public())
		})
	}
}
