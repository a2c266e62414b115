package keys

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"

	"software.sslmate.com/src/go-pkcs12"
)

// OpenPKCS12 reads a PKCS#12 (.p12, .pfx) file and returns its private key
// as a signer, the certificate that matches the key, and the other
// certificates in the file (usually the issuing chain). The modern PBES2 /
// AES files that current OpenSSL and Windows write are supported, as are the
// legacy RC2 and 3DES ones.
//
// An empty password is tried as the empty password; when that fails the
// error wraps ErrPassphraseNeeded, otherwise ErrWrongPassphrase.
func OpenPKCS12(path string, password string) (crypto.Signer, *x509.Certificate, []*x509.Certificate, error) {
	data, err := readKeyFile(path)
	if err != nil {
		return nil, nil, nil, err
	}
	return decodePKCS12(path, data, password)
}

func decodePKCS12(path string, data []byte, password string) (crypto.Signer, *x509.Certificate, []*x509.Certificate, error) {
	fail := func(err error) (crypto.Signer, *x509.Certificate, []*x509.Certificate, error) {
		return nil, nil, nil, fmt.Errorf("keys: PKCS#12 file %q: %w", path, err)
	}
	key, cert, chain, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		var notImpl pkcs12.NotImplementedError
		switch {
		case errors.Is(err, pkcs12.ErrIncorrectPassword) || errors.Is(err, pkcs12.ErrDecryption):
			if password == "" {
				return fail(ErrPassphraseNeeded)
			}
			return fail(ErrWrongPassphrase)
		case errors.As(err, &notImpl):
			return fail(fmt.Errorf("%w: %v", ErrUnsupportedKey, err))
		}
		return fail(fmt.Errorf("%w: not a readable PKCS#12 file: %v", ErrNotAKey, err))
	}
	signer, err := checkKey(key)
	if err != nil {
		return fail(err)
	}
	if cert != nil && !sameKey(signer.Public(), cert.PublicKey) {
		return fail(fmt.Errorf("the certificate (subject %q) does not belong to the private key", cert.Subject.String()))
	}
	return signer, cert, chain, nil
}
