package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// maxKeyFileSize bounds what Open reads. A key is a few kilobytes and a
// PKCS#12 bundle with a long chain a few tens; anything larger is a wrong
// path (a log file, a database), better refused than read into memory.
const maxKeyFileSize = 4 << 20

// minRSABits is the smallest RSA modulus esig signs with. Certificates and
// signatures made for Polish public administration must stay verifiable for
// years, and 1024-bit RSA has been withdrawn everywhere.
const minRSABits = 2048

func openFile(path string, opts Options) (crypto.Signer, error) {
	data, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	if isPKCS12Name(path) || sniffDER(data) == derPKCS12 {
		signer, _, _, err := decodePKCS12(path, data, string(opts.Passphrase))
		return signer, err
	}
	key, err := parseKeyData(data, opts.Passphrase)
	if err != nil {
		return nil, fmt.Errorf("keys: key file %q: %w", path, err)
	}
	return key, nil
}

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("keys: reading key file: %w", err)
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("keys: key file %q: %w: larger than %d bytes", path, ErrNotAKey, maxKeyFileSize)
	}
	return data, nil
}

func isPKCS12Name(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".p12", ".pfx":
		return true
	}
	return false
}

// parseKeyData decodes a PEM or DER private key. Errors wrap the package's
// sentinel errors and say what was found instead.
func parseKeyData(data []byte, passphrase []byte) (crypto.Signer, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%w: the file is empty", ErrNotAKey)
	}
	if bytes.Contains(data, []byte("-----BEGIN")) {
		return parsePEM(data, passphrase)
	}
	return parseDER(data, passphrase)
}

// pemKeyTypes are the PEM block types that hold a private key.
var pemKeyTypes = map[string]bool{
	"PRIVATE KEY":           true,
	"ENCRYPTED PRIVATE KEY": true,
	"EC PRIVATE KEY":        true,
	"RSA PRIVATE KEY":       true,
}

func parsePEM(data []byte, passphrase []byte) (crypto.Signer, error) {
	if line, ok := corruptPEMLine(data); ok {
		return nil, fmt.Errorf("%w: corrupt PEM block at line %d (bad base64, or a missing or mismatched END line)", ErrNotAKey, line)
	}
	var (
		key    crypto.Signer
		others []string
	)
	for rest := data; ; {
		block, r := pem.Decode(rest)
		if block == nil {
			break
		}
		rest = r
		if !pemKeyTypes[block.Type] {
			others = append(others, block.Type)
			continue
		}
		if key != nil {
			return nil, fmt.Errorf("%w: the file holds more than one private key; keep one key per file", ErrNotAKey)
		}
		k, err := parsePEMKey(block, passphrase)
		if err != nil {
			return nil, err
		}
		key = k
	}
	if key == nil {
		return nil, fmt.Errorf("%w: the PEM file holds only %s", ErrNotAKey, strings.Join(others, ", "))
	}
	return key, nil
}

// corruptPEMLine finds the first "-----BEGIN" that does not start a
// decodable block. pem.Decode silently skips such a block and carries on, so
// without this check a damaged key next to a good certificate would be
// reported as "holds only CERTIFICATE".
func corruptPEMLine(data []byte) (int, bool) {
	marker := []byte("-----BEGIN")
	off := 0
	for {
		i := bytes.Index(data[off:], marker)
		if i < 0 {
			return 0, false
		}
		start := off + i
		end := len(data)
		if j := bytes.Index(data[start+len(marker):], marker); j >= 0 {
			end = start + len(marker) + j
		}
		if b, _ := pem.Decode(data[start:end]); b == nil {
			return bytes.Count(data[:start], []byte("\n")) + 1, true
		}
		off = end
	}
}

func parsePEMKey(block *pem.Block, passphrase []byte) (crypto.Signer, error) {
	if strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
		return nil, fmt.Errorf("%w: %s block uses legacy PEM encryption (DEK-Info), which is weak and not supported; "+
			"convert it with: openssl pkcs8 -topk8 -v2 aes-256-cbc", ErrUnsupportedEncryption, block.Type)
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" {
		return decryptPKCS8(block.Bytes, passphrase)
	}
	return parseUnencrypted(block.Bytes, block.Type)
}

// parseUnencrypted parses a PKCS#8, PKCS#1 or SEC 1 key. The declared format
// is tried first and its error reported, but the others are tried too,
// because mislabelled PEM blocks are common in the wild.
func parseUnencrypted(der []byte, declared string) (crypto.Signer, error) {
	var key any
	var err error
	switch declared {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(der)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(der)
	default:
		return parsePKCS8(der)
	}
	if err == nil {
		return checkKey(key)
	}
	if k, err2 := x509.ParsePKCS8PrivateKey(der); err2 == nil {
		return checkKey(k)
	}
	if strings.Contains(err.Error(), "unknown elliptic curve") {
		return nil, fmt.Errorf("%w: ECDSA key on a curve other than P-256, P-384 or P-521", ErrUnsupportedKey)
	}
	return nil, fmt.Errorf("%w: malformed %s block: %v", ErrNotAKey, declared, err)
}

// Object identifiers of PKCS#8 private key algorithms, for error messages.
var keyAlgorithmNames = map[string]string{
	"1.2.840.113549.1.1.1":  "RSA",
	"1.2.840.113549.1.1.10": "RSASSA-PSS (an RSA key restricted to PSS, which Go cannot read; re-export it as a plain RSA key)",
	"1.2.840.10045.2.1":     "ECDSA",
	"1.2.840.10040.4.1":     "DSA",
	"1.3.101.110":           "X25519",
	"1.3.101.111":           "X448",
	"1.3.101.112":           "Ed25519",
	"1.3.101.113":           "Ed448",
}

func parsePKCS8(der []byte) (crypto.Signer, error) {
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err == nil {
		return checkKey(key)
	}
	oid, ok := pkcs8Algorithm(der)
	if !ok {
		return nil, fmt.Errorf("%w: not a PKCS#8 PrivateKeyInfo: %v", ErrNotAKey, err)
	}
	name, known := keyAlgorithmNames[oid.String()]
	switch {
	case strings.Contains(err.Error(), "unknown elliptic curve"):
		return nil, fmt.Errorf("%w: ECDSA key on a curve other than P-256, P-384 or P-521", ErrUnsupportedKey)
	case strings.Contains(err.Error(), "unknown algorithm"):
		if !known {
			name = "algorithm " + oid.String()
		}
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedKey, name)
	}
	return nil, fmt.Errorf("%w: malformed PKCS#8 key: %v", ErrNotAKey, err)
}

// pkcs8Algorithm reads the algorithm OID of a PrivateKeyInfo without
// interpreting the key, so errors can name what the file holds.
func pkcs8Algorithm(der []byte) (asn1.ObjectIdentifier, bool) {
	in := cryptobyte.String(der)
	var info, alg cryptobyte.String
	var version int
	var oid asn1.ObjectIdentifier
	if !in.ReadASN1(&info, cbasn1.SEQUENCE) ||
		!info.ReadASN1Integer(&version) ||
		!info.ReadASN1(&alg, cbasn1.SEQUENCE) ||
		!alg.ReadASN1ObjectIdentifier(&oid) {
		return nil, false
	}
	return oid, true
}

type derKind int

const (
	derUnknown   derKind = iota
	derTruncated         // the outer SEQUENCE is incomplete
	derPKCS8             // PrivateKeyInfo or OneAsymmetricKey
	derEncrypted         // EncryptedPrivateKeyInfo
	derPKCS1             // RSAPrivateKey
	derSEC1              // ECPrivateKey
	derPKCS12            // PFX
	derSigned            // a certificate, CRL or other signed structure
)

// sniffDER tells the DER key formats apart by their first fields: they all
// start with a SEQUENCE, and differ in the version number and the type of
// what follows it.
func sniffDER(data []byte) derKind {
	in := cryptobyte.String(data)
	var seq cryptobyte.String
	var tag cbasn1.Tag
	if len(data) < 2 || data[0] != 0x30 {
		return derUnknown
	}
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return derTruncated
	}
	if !in.Empty() {
		return derUnknown
	}
	if seq.PeekASN1Tag(cbasn1.SEQUENCE) {
		// EncryptedPrivateKeyInfo starts with an AlgorithmIdentifier; a
		// certificate or CRL starts with a to-be-signed SEQUENCE whose
		// first field is a version or serial number.
		var first cryptobyte.String
		if seq.ReadASN1(&first, cbasn1.SEQUENCE) && first.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER) {
			return derEncrypted
		}
		return derSigned
	}
	var version int64
	var next cryptobyte.String
	if !seq.ReadASN1Integer(&version) || !seq.ReadAnyASN1Element(&next, &tag) {
		return derUnknown
	}
	switch {
	case version == 3 && tag == cbasn1.SEQUENCE:
		return derPKCS12
	case tag == cbasn1.SEQUENCE:
		return derPKCS8
	case tag == cbasn1.INTEGER:
		return derPKCS1
	case tag == cbasn1.OCTET_STRING:
		return derSEC1
	}
	return derUnknown
}

func parseDER(data []byte, passphrase []byte) (crypto.Signer, error) {
	switch sniffDER(data) {
	case derTruncated:
		return nil, fmt.Errorf("%w: truncated or malformed DER (the outer SEQUENCE runs past the end of the file)", ErrNotAKey)
	case derPKCS8:
		return parsePKCS8(data)
	case derEncrypted:
		return decryptPKCS8(data, passphrase)
	case derPKCS1:
		return parseUnencrypted(data, "RSA PRIVATE KEY")
	case derSEC1:
		return parseUnencrypted(data, "EC PRIVATE KEY")
	case derSigned:
		return nil, fmt.Errorf("%w: the file holds a certificate or another signed structure, not a private key", ErrNotAKey)
	}
	return nil, fmt.Errorf("%w: neither PEM nor a DER private key", ErrNotAKey)
}

// checkKey accepts the private keys esig signs with and explains the rest.
func checkKey(key any) (crypto.Signer, error) {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return k, nil
		}
		return nil, fmt.Errorf("%w: ECDSA key on curve %s", ErrUnsupportedKey, k.Curve.Params().Name)
	case *rsa.PrivateKey:
		if bits := k.N.BitLen(); bits < minRSABits {
			return nil, fmt.Errorf("%w: RSA key of %d bits is too small (at least %d)", ErrUnsupportedKey, bits, minRSABits)
		}
		return k, nil
	case ed25519.PrivateKey:
		return nil, fmt.Errorf("%w: Ed25519 (esig signs with ECDSA or RSA)", ErrUnsupportedKey)
	case *ecdh.PrivateKey:
		return nil, fmt.Errorf("%w: %T is a key-agreement key, not a signing key", ErrUnsupportedKey, k)
	case nil:
		return nil, fmt.Errorf("%w: no private key found", ErrNotAKey)
	}
	return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, key)
}

// sameKey reports whether two public keys are equal. Every public key type in
// the standard library has an Equal method.
func sameKey(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}
