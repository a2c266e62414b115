// Package keys turns a key reference into a crypto.Signer, wherever the key
// lives: a PEM or DER file, a PKCS#12 bundle, or a PKCS#11 token.
//
// Everything above this package (the CA, the OCSP responder, the TSA, the
// signer) holds a crypto.Signer and never asks where it came from; changing
// a key from a file to an HSM is a configuration change, not a code change.
//
// A reference is one of
//
//	pkcs11:token=esig-ca;object=issuing-2026?module-path=...   (RFC 7512)
//	file:/etc/esig/ca.key
//	/etc/esig/ca.key                                          (a plain path)
//
// Token keys are generated on the token, marked sensitive and
// non-extractable, and never leave it. File keys are written as PKCS#8 PEM,
// encrypted when a passphrase is given, and never overwrite an existing file.
package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"

	"esig/internal/pkcs11uri"
)

// KeyType names a key algorithm and size that esig generates. The names are
// what operators type on the command line and in configuration.
type KeyType string

// The key types esig generates. ECDSA P-256 is the default for new keys; RSA
// remains for relying parties that still cannot verify ECDSA.
const (
	ECDSAP256 KeyType = "ecdsa-p256"
	ECDSAP384 KeyType = "ecdsa-p384"
	RSA2048   KeyType = "rsa-2048"
	RSA3072   KeyType = "rsa-3072"
	RSA4096   KeyType = "rsa-4096"
)

// KeyTypes lists every KeyType in the order help texts should show them.
func KeyTypes() []KeyType {
	return []KeyType{ECDSAP256, ECDSAP384, RSA2048, RSA3072, RSA4096}
}

// String returns the key type's name.
func (kt KeyType) String() string { return string(kt) }

// ParseKeyType parses a key type name such as "ecdsa-p256". Case is ignored,
// so "ECDSA-P256" from a shell script works too; the error lists the valid
// names.
func ParseKeyType(s string) (KeyType, error) {
	for _, kt := range KeyTypes() {
		if strings.EqualFold(s, string(kt)) {
			return kt, nil
		}
	}
	names := make([]string, 0, len(KeyTypes()))
	for _, kt := range KeyTypes() {
		names = append(names, string(kt))
	}
	return "", fmt.Errorf("keys: unknown key type %q; valid types are %s", s, strings.Join(names, ", "))
}

// curve returns the elliptic curve of an ECDSA key type, or nil.
func (kt KeyType) curve() elliptic.Curve {
	switch kt {
	case ECDSAP256:
		return elliptic.P256()
	case ECDSAP384:
		return elliptic.P384()
	}
	return nil
}

// rsaBits returns the modulus size of an RSA key type, or 0.
func (kt KeyType) rsaBits() int {
	switch kt {
	case RSA2048:
		return 2048
	case RSA3072:
		return 3072
	case RSA4096:
		return 4096
	}
	return 0
}

// KeyTypeOf returns the KeyType of a public key, for reporting what a
// reference turned out to hold. Keys esig can use but would not generate
// (ECDSA P-521, RSA of other sizes) give an error.
func KeyTypeOf(pub crypto.PublicKey) (KeyType, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return ECDSAP256, nil
		case elliptic.P384():
			return ECDSAP384, nil
		}
		return "", fmt.Errorf("keys: ECDSA key on curve %s has no KeyType", k.Curve.Params().Name)
	case *rsa.PublicKey:
		switch k.N.BitLen() {
		case 2048:
			return RSA2048, nil
		case 3072:
			return RSA3072, nil
		case 4096:
			return RSA4096, nil
		}
		return "", fmt.Errorf("keys: RSA key of %d bits has no KeyType", k.N.BitLen())
	}
	return "", fmt.Errorf("keys: %T has no KeyType", pub)
}

// Options carries the secrets and settings needed to reach a key. The zero
// value is valid for unencrypted files.
type Options struct {
	// Passphrase decrypts (Open) or encrypts (Generate) a key file, and is
	// the password of a PKCS#12 file. Empty means the file is not encrypted.
	Passphrase []byte

	// PIN is the token user PIN. When set it overrides pin-value and
	// pin-source in the URI, so a PIN typed at a prompt wins over a stale
	// file.
	PIN string

	// ModulePath is the PKCS#11 module library to load when the URI has no
	// module-path. When both are empty the environment variable
	// ESIG_PKCS11_MODULE is used.
	ModulePath string
}

// ModuleEnv is the environment variable that names the PKCS#11 module when
// neither the URI nor Options does.
const ModuleEnv = "ESIG_PKCS11_MODULE"

// Errors that callers may want to tell apart with errors.Is, for instance to
// prompt for a passphrase and try again.
var (
	// ErrPassphraseNeeded: the file is encrypted and no passphrase was given.
	ErrPassphraseNeeded = errors.New("the key is encrypted and needs a passphrase")
	// ErrWrongPassphrase: the passphrase did not decrypt the file.
	ErrWrongPassphrase = errors.New("wrong passphrase")
	// ErrNotAKey: the file or object holds no private key esig can read.
	ErrNotAKey = errors.New("not a private key")
	// ErrUnsupportedKey: a private key, but of a type or size esig does not sign with.
	ErrUnsupportedKey = errors.New("unsupported key type")
	// ErrUnsupportedEncryption: the key file is protected in a way esig
	// does not read (legacy PEM encryption, an unknown cipher or KDF, or
	// work factors beyond the limits that keep start-up bounded).
	ErrUnsupportedEncryption = errors.New("unsupported key encryption")
	// ErrKeyExists: Generate refused to replace an existing key.
	ErrKeyExists = errors.New("a key already exists there; refusing to overwrite it")
	// ErrWrongPIN: the token refused the PIN.
	ErrWrongPIN = errors.New("wrong PIN")
	// ErrTokenNotFound: no token in the module matches the URI.
	ErrTokenNotFound = errors.New("no such token")
	// ErrKeyNotFound: the token holds no private key matching the URI.
	ErrKeyNotFound = errors.New("no such key on the token")
)

// Open returns a signer for the key that ref names: a pkcs11: URI, a
// file:PATH, or a plain path. See the package comment for the forms and
// Options for the secrets each needs.
//
// For a file the format is recognised from its content (PEM, DER PKCS#8,
// PKCS#12), with a .p12 or .pfx name also meaning PKCS#12. For a token, the
// context is shared with every other Open of the same token in this process;
// call CloseAll at shutdown.
func Open(ref string, opts Options) (crypto.Signer, error) {
	if pkcs11uri.IsPKCS11(ref) {
		return openToken(ref, opts)
	}
	path, err := filePath(ref)
	if err != nil {
		return nil, err
	}
	return openFile(path, opts)
}

// Generate makes a new key pair of type kt where ref says and returns its
// signer.
//
// For a file, the private key is written as PKCS#8 PEM with mode 0600,
// encrypted (PBES2: PBKDF2-HMAC-SHA256 and AES-256-CBC) when
// opts.Passphrase is set. An existing file is never replaced.
//
// For a pkcs11: URI the pair is generated on the token with object= as its
// label and id= as its CKA_ID (random when absent); the private half is
// sensitive and not extractable. Generate refuses when a key with that label
// or id is already on the token.
func Generate(kt KeyType, ref string, opts Options) (crypto.Signer, error) {
	if kt.curve() == nil && kt.rsaBits() == 0 {
		_, err := ParseKeyType(string(kt))
		return nil, err
	}
	if pkcs11uri.IsPKCS11(ref) {
		return generateToken(kt, ref, opts)
	}
	path, err := filePath(ref)
	if err != nil {
		return nil, err
	}
	return generateFile(kt, path, opts)
}

// filePath turns a file:PATH or plain-path reference into a path.
// "file:///abs" and "file://localhost/abs" are accepted as the URL forms of
// "/abs"; anything else after "file:" is taken literally.
func filePath(ref string) (string, error) {
	if ref == "" {
		return "", errors.New("keys: empty key reference")
	}
	if len(ref) >= 5 && strings.EqualFold(ref[:5], "file:") {
		p := ref[5:]
		if strings.HasPrefix(p, "//") {
			host, rest, _ := strings.Cut(p[2:], "/")
			if host != "" && !strings.EqualFold(host, "localhost") {
				return "", fmt.Errorf("keys: key reference %q names host %q; only local files are supported", ref, host)
			}
			p = "/" + rest
		}
		if p == "" || p == "/" {
			return "", fmt.Errorf("keys: key reference %q names no file", ref)
		}
		return p, nil
	}
	return ref, nil
}
