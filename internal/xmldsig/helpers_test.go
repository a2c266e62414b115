package xmldsig

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// testKey is a throwaway key with a self-signed certificate.
type testKey struct {
	name   string
	signer crypto.Signer
	cert   *x509.Certificate
}

var (
	keysMu sync.Mutex
	keys   = map[string]*testKey{}
)

// newTestKey returns a cached throwaway key of kind rsa2048, ec256 or ec384.
func newTestKey(t testing.TB, kind string) *testKey {
	t.Helper()
	keysMu.Lock()
	defer keysMu.Unlock()
	if k, ok := keys[kind]; ok {
		return k
	}
	var s crypto.Signer
	var err error
	switch kind {
	case "rsa2048":
		s, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ec256":
		s, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ec384":
		s, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	default:
		t.Fatalf("unknown key kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "esig xmldsig test " + kind},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, s.Public(), s)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	k := &testKey{name: kind, signer: s, cert: c}
	keys[kind] = k
	return k
}

// files writes the key and certificate as PEM into dir for xmlsec1.
func (k *testKey) files(t testing.TB, dir string) (keyPath, certPath string) {
	t.Helper()
	kd, err := x509.MarshalPKCS8PrivateKey(k.signer)
	if err != nil {
		t.Fatal(err)
	}
	keyPath = filepath.Join(dir, k.name+"-key.pem")
	certPath = filepath.Join(dir, k.name+"-cert.pem")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return keyPath, certPath
}

// needXmlsec skips the test when xmlsec1 is not installed.
func needXmlsec(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("xmlsec1"); err != nil {
		t.Skip("xmlsec1 not installed (Debian package xmlsec1); skipping interop")
	}
}
