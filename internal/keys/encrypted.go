package keys

import (
	"crypto"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"

	"github.com/youmark/pkcs8"
)

// pbkdf2Iterations is the PBKDF2-HMAC-SHA256 work factor for keys esig
// encrypts: OWASP's 2023 recommendation. Opening such a key costs a few
// tenths of a second, paid once at start-up.
const pbkdf2Iterations = 600_000

// Limits on the work an encrypted key file may demand. A file with a
// billion PBKDF2 rounds or a 64 GiB scrypt would stall or kill the service
// at start-up; such a file is a mistake or an attack, and is refused up front.
const (
	maxPBKDF2Iterations = 10_000_000
	maxScryptMemory     = 1 << 30 // bytes: 128 * N * r
	maxScryptP          = 16
)

var (
	oidPBES2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidScrypt        = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}
	oidHMACWithSHA1  = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACWithSHA2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	encryptionByName = map[string]struct {
		name  string
		block int
	}{
		"2.16.840.1.101.3.4.1.2":  {"AES-128-CBC", 16},
		"2.16.840.1.101.3.4.1.22": {"AES-192-CBC", 16},
		"2.16.840.1.101.3.4.1.42": {"AES-256-CBC", 16},
		"1.2.840.113549.3.7":      {"DES-EDE3-CBC", 8},
	}
)

type encryptedPrivateKeyInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Data      []byte
}

type pbes2Params struct {
	KDF        pkix.AlgorithmIdentifier
	Encryption pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

type scryptParams struct {
	Salt      []byte
	N         int
	R         int
	P         int
	KeyLength int `asn1:"optional"`
}

// checkPBES2 validates an EncryptedPrivateKeyInfo before any decryption.
// The PKCS#8 library trusts its input (a ciphertext that is not a whole
// number of blocks panics, and work factors are unbounded), and once the
// structure is known to be sound any failure to decrypt can honestly be
// reported as a wrong passphrase.
func checkPBES2(der []byte) error {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) != 0 {
		return fmt.Errorf("%w: malformed EncryptedPrivateKeyInfo", ErrNotAKey)
	}
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return fmt.Errorf("%w: key encrypted with %s; only PBES2 is supported "+
			"(re-encrypt with: openssl pkcs8 -topk8 -v2 aes-256-cbc)", ErrUnsupportedEncryption, info.Algorithm.Algorithm)
	}
	var params pbes2Params
	if rest, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &params); err != nil || len(rest) != 0 {
		return fmt.Errorf("%w: malformed PBES2 parameters", ErrNotAKey)
	}
	switch kdf := params.KDF; {
	case kdf.Algorithm.Equal(oidPBKDF2):
		var p pbkdf2Params
		if _, err := asn1.Unmarshal(kdf.Parameters.FullBytes, &p); err != nil {
			return fmt.Errorf("%w: malformed PBKDF2 parameters", ErrNotAKey)
		}
		if p.Iterations < 1 || p.Iterations > maxPBKDF2Iterations {
			return fmt.Errorf("%w: PBKDF2 iteration count %d is outside 1..%d", ErrUnsupportedEncryption, p.Iterations, maxPBKDF2Iterations)
		}
		if prf := p.PRF.Algorithm; len(prf) != 0 && !prf.Equal(oidHMACWithSHA1) && !prf.Equal(oidHMACWithSHA2) {
			return fmt.Errorf("%w: PBKDF2 with PRF %s; only HMAC-SHA1 and HMAC-SHA256 are supported", ErrUnsupportedEncryption, prf)
		}
	case kdf.Algorithm.Equal(oidScrypt):
		var p scryptParams
		if _, err := asn1.Unmarshal(kdf.Parameters.FullBytes, &p); err != nil {
			return fmt.Errorf("%w: malformed scrypt parameters", ErrNotAKey)
		}
		if p.N < 2 || p.N&(p.N-1) != 0 || p.R < 1 || p.P < 1 || p.P > maxScryptP ||
			int64(p.N)*int64(p.R)*128 > maxScryptMemory {
			return fmt.Errorf("%w: scrypt parameters N=%d r=%d p=%d are invalid or need more than %d MiB",
				ErrUnsupportedEncryption, p.N, p.R, p.P, maxScryptMemory>>20)
		}
	default:
		return fmt.Errorf("%w: key derivation function %s; only PBKDF2 and scrypt are supported", ErrUnsupportedEncryption, kdf.Algorithm)
	}
	enc, ok := encryptionByName[params.Encryption.Algorithm.String()]
	if !ok {
		return fmt.Errorf("%w: key encrypted with cipher %s; AES-CBC is supported "+
			"(re-encrypt with: openssl pkcs8 -topk8 -v2 aes-256-cbc)", ErrUnsupportedEncryption, params.Encryption.Algorithm)
	}
	var iv []byte
	if _, err := asn1.Unmarshal(params.Encryption.Parameters.FullBytes, &iv); err != nil || len(iv) != enc.block {
		return fmt.Errorf("%w: %s needs a %d-byte IV", ErrNotAKey, enc.name, enc.block)
	}
	if len(info.Data) == 0 || len(info.Data)%enc.block != 0 {
		return fmt.Errorf("%w: encrypted key is %d bytes, not a whole number of %s blocks (truncated?)", ErrNotAKey, len(info.Data), enc.name)
	}
	return nil
}

// decryptPKCS8 decrypts and parses a PBES2 EncryptedPrivateKeyInfo.
func decryptPKCS8(der []byte, passphrase []byte) (signer crypto.Signer, err error) {
	if err := checkPBES2(der); err != nil {
		return nil, err
	}
	if len(passphrase) == 0 {
		return nil, ErrPassphraseNeeded
	}
	defer func() {
		// checkPBES2 should leave nothing for the library to panic on; if it
		// does anyway, a bad file must not take the process down.
		if r := recover(); r != nil {
			signer, err = nil, fmt.Errorf("%w: cannot decrypt: %v", ErrNotAKey, r)
		}
	}()
	key, err := pkcs8.ParsePKCS8PrivateKey(der, passphrase)
	if err != nil {
		// The structure was checked above, so the library fails here only
		// when the decrypted bytes are not a key: the passphrase is wrong.
		return nil, ErrWrongPassphrase
	}
	return checkKey(key)
}

// encodePKCS8PEM marshals key as PKCS#8 PEM, encrypted under passphrase when
// it is not empty.
func encodePKCS8PEM(key crypto.Signer, passphrase []byte) ([]byte, error) {
	if len(passphrase) == 0 {
		der, err := pkcs8.MarshalPrivateKey(key, nil, nil)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	}
	der, err := pkcs8.MarshalPrivateKey(key, passphrase, &pkcs8.Opts{
		Cipher: pkcs8.AES256CBC,
		KDFOpts: pkcs8.PBKDF2Opts{
			SaltSize:       16,
			IterationCount: pbkdf2Iterations,
			HMACHash:       crypto.SHA256,
		},
	})
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}), nil
}
