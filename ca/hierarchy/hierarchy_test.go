package hierarchy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"esig/internal/keys"
)

func TestCreateLoad(t *testing.T) {
	for _, kt := range []keys.KeyType{keys.ECDSAP256, keys.RSA3072} {
		t.Run(string(kt), func(t *testing.T) {
			dir := t.TempDir()
			h, err := Create(Options{Dir: dir, KeyType: kt, Passphrase: []byte("secret"), BaseURL: "http://127.0.0.1:8080"})
			if err != nil {
				t.Fatal(err)
			}
			if err := h.Issuing.CheckSignatureFrom(h.Root); err != nil {
				t.Fatal(err)
			}
			if !h.Issuing.MaxPathLenZero || !h.Issuing.IsCA {
				t.Error("issuing CA lacks pathLen 0")
			}
			if _, err := Create(Options{Dir: dir, BaseURL: "http://x"}); err == nil {
				t.Fatal("Create overwrote an existing CA")
			}
			if _, err := Load(Options{Dir: dir, Passphrase: []byte("wrong")}); err == nil {
				t.Fatal("Load with a wrong passphrase succeeded")
			}
			h2, err := Load(Options{Dir: dir, Passphrase: []byte("secret")})
			if err != nil {
				t.Fatal(err)
			}
			if !h2.Issuing.Equal(h.Issuing) {
				t.Error("loaded issuing certificate differs")
			}
			fi, err := os.Stat(filepath.Join(dir, "keys", "root.key"))
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("root key file: %v %v", fi, err)
			}
			raw, _ := os.ReadFile(filepath.Join(dir, "keys", "issuing.key"))
			if len(raw) == 0 || !strings.Contains(string(raw), "ENCRYPTED PRIVATE KEY") {
				t.Error("file key not encrypted although a passphrase was given")
			}
		})
	}
}

func TestURIHelpers(t *testing.T) {
	tests := []struct{ in, obj, want string }{
		{"pkcs11:token=ca?pin-value=1234&module-path=/m.so", "esig-root", "pkcs11:token=ca;object=esig-root?module-path=/m.so"},
		{"pkcs11:token=ca;object=old;id=%01", "esig-tsa", "pkcs11:token=ca;object=esig-tsa"},
		{"pkcs11:token=ca?pin-value=1", "x", "pkcs11:token=ca;object=x"},
	}
	for _, tt := range tests {
		if got := withoutPIN(withObject(tt.in, tt.obj)); got != tt.want {
			t.Errorf("withoutPIN(withObject(%q)) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
