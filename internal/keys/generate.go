package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// newSoftwareKey generates a key of type kt in memory.
func newSoftwareKey(kt KeyType) (crypto.Signer, error) {
	if c := kt.curve(); c != nil {
		return ecdsa.GenerateKey(c, rand.Reader)
	}
	return rsa.GenerateKey(rand.Reader, kt.rsaBits())
}

// generateFile creates path exclusively (O_EXCL: an existing key, or a
// symbolic link planted in its place, makes it fail) with mode 0600, then
// writes the new key into it. The file is created before the key is
// generated so that a refusal costs nothing, and removed again if anything
// after that fails, so no half-written key is left behind.
func generateFile(kt KeyType, path string, opts Options) (signer crypto.Signer, err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("keys: key file %q: %w", path, ErrKeyExists)
		}
		return nil, fmt.Errorf("keys: creating key file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(path)
		}
	}()
	key, err := newSoftwareKey(kt)
	if err != nil {
		return nil, fmt.Errorf("keys: generating %s key: %w", kt, err)
	}
	data, err := encodePKCS8PEM(key, opts.Passphrase)
	if err != nil {
		return nil, fmt.Errorf("keys: encoding %s key for %q: %w", kt, path, err)
	}
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if err != nil {
		return nil, fmt.Errorf("keys: writing key file: %w", err)
	}
	if err = f.Close(); err != nil {
		return nil, fmt.Errorf("keys: writing key file: %w", err)
	}
	syncDir(filepath.Dir(path))
	return key, nil
}

// syncDir makes the new directory entry durable, so a key that a CA has
// started using does not vanish in a power cut. Failure is ignored: some
// file systems cannot sync a directory, and the key itself is already synced.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
