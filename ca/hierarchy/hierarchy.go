// Package hierarchy creates and loads the CA's own certificates and keys: a
// root, an issuing CA under it, and the service certificates (OCSP
// responder, time-stamping authority) that the issuing CA certifies.
//
// A CA directory holds the certificates as PEM, a manifest (ca.json) that
// says where each private key lives, and, for file keys, the keys under
// keys/. Secrets (passphrases, PINs) are never written to the manifest.
package hierarchy

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"esig/ca/issuance"
	"esig/internal/keys"
)

// Roles of the CA's keys, also the names of their files and token objects.
const (
	RoleRoot    = "root"
	RoleIssuing = "issuing"
	RoleOCSP    = "ocsp"
	RoleTSA     = "tsa"
	RoleReceipt = "receipt"
)

const manifestName = "ca.json"

// Paths under the base URL where the server publishes the root's material.
const (
	RootCertPath = "/ca/root.crt"
	RootCRLPath  = "/crl/root.crl"
)

var anyPolicy = mustOID(2, 5, 29, 32, 0)

func mustOID(ints ...uint64) x509.OID {
	oid, err := x509.OIDFromInts(ints)
	if err != nil {
		panic(err)
	}
	return oid
}

// Manifest records how a CA directory was made and where its keys live.
type Manifest struct {
	Version int               `json:"version"`
	KeyType keys.KeyType      `json:"keyType"`
	Created time.Time         `json:"created"`
	Keys    map[string]string `json:"keys"` // role -> key reference (file path relative to the directory, or pkcs11: URI without PIN)
}

// Options says how to create or open a CA directory.
type Options struct {
	Dir     string
	KeyType keys.KeyType // for Create; default ecdsa-p256
	// HSM is the pkcs11: URI of a token to keep every key on; empty keeps
	// keys in files under Dir/keys.
	HSM string
	// Secrets for the keys: a passphrase encrypts file keys; a PIN opens
	// the token (it may also come in the URI's pin-value or pin-source).
	Passphrase []byte
	PIN        string
	// BaseURL is where the server publishes the root certificate and the
	// root's CRL; the issuing CA certificate points there.
	BaseURL string
	// Organization names the CA in its certificates.
	Organization string
	Country      string
	Now          time.Time
}

// Hierarchy is a loaded CA: certificates and the signers that are online.
// The root key is used only while creating the hierarchy.
type Hierarchy struct {
	Dir      string
	Manifest Manifest
	Root     *x509.Certificate
	Issuing  *x509.Certificate
	Signer   crypto.Signer // the issuing CA's key
}

// Exists reports whether dir holds a CA manifest.
func Exists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, manifestName))
	return err == nil
}

// Create makes a new root and issuing CA in opts.Dir. It refuses to touch a
// directory that already holds a CA.
func Create(opts Options) (*Hierarchy, error) {
	if opts.Dir == "" {
		return nil, errors.New("ca init: no directory given")
	}
	if Exists(opts.Dir) {
		return nil, fmt.Errorf("ca init: %s already holds a CA (%s); refusing to overwrite it", opts.Dir, manifestName)
	}
	if opts.KeyType == "" {
		opts.KeyType = keys.ECDSAP256
	}
	if opts.Organization == "" {
		opts.Organization = "esig"
	}
	if opts.Country == "" {
		opts.Country = "PL"
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.BaseURL == "" {
		return nil, errors.New("ca init: no base URL for the root certificate and CRL")
	}
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("ca init: %w", err)
	}
	m := Manifest{Version: 1, KeyType: opts.KeyType, Created: opts.Now.UTC().Truncate(time.Second), Keys: map[string]string{}}
	rootKey, err := m.generate(opts, RoleRoot)
	if err != nil {
		return nil, err
	}
	issuingKey, err := m.generate(opts, RoleIssuing)
	if err != nil {
		return nil, err
	}
	now := opts.Now.UTC().Truncate(time.Second)
	name := func(cn string) pkix.Name {
		return pkix.Name{Country: []string{opts.Country}, Organization: []string{opts.Organization}, CommonName: opts.Organization + " " + cn}
	}
	root, err := signCA(&x509.Certificate{
		Subject: name("Root CA"), NotBefore: now.Add(-time.Minute), NotAfter: now.AddDate(20, 0, 0),
	}, nil, rootKey, rootKey.Public())
	if err != nil {
		return nil, fmt.Errorf("ca init: root: %w", err)
	}
	issuing, err := signCA(&x509.Certificate{
		Subject: name("Issuing CA"), NotBefore: now.Add(-time.Minute), NotAfter: now.AddDate(10, 0, 0),
		MaxPathLenZero:        true,
		Policies:              []x509.OID{anyPolicy},
		IssuingCertificateURL: []string{opts.BaseURL + RootCertPath},
		CRLDistributionPoints: []string{opts.BaseURL + RootCRLPath},
	}, root, rootKey, issuingKey.Public())
	if err != nil {
		return nil, fmt.Errorf("ca init: issuing CA: %w", err)
	}
	for role, cert := range map[string]*x509.Certificate{RoleRoot: root, RoleIssuing: issuing} {
		if err := WriteCertificate(opts.Dir, role, cert); err != nil {
			return nil, err
		}
	}
	if _, err := signRootCRL(opts.Dir, root, rootKey, now); err != nil {
		return nil, err
	}
	if err := m.write(opts.Dir); err != nil {
		return nil, err
	}
	return &Hierarchy{Dir: opts.Dir, Manifest: m, Root: root, Issuing: issuing, Signer: issuingKey}, nil
}

// signCA signs a CA certificate template with parent's key (parent nil:
// self-signed), with a random serial, CA key usages and an RFC 7093 subject
// key identifier, and lints it.
func signCA(tmpl, parent *x509.Certificate, parentKey crypto.Signer, pub crypto.PublicKey) (*x509.Certificate, error) {
	serial, err := issuance.NewSerial()
	if err != nil {
		return nil, err
	}
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	var info struct {
		Alg pkix.AlgorithmIdentifier
		Key asn1.BitString
	}
	if _, err := asn1.Unmarshal(spki, &info); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(info.Key.Bytes)
	tmpl.SerialNumber = serial
	tmpl.SubjectKeyId = sum[:20]
	tmpl.BasicConstraintsValid = true
	tmpl.IsCA = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		return nil, err
	}
	if err := issuance.LintDER(der); err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// generate makes the key of one role where opts says and records its
// reference in the manifest.
func (m *Manifest) generate(opts Options, role string) (crypto.Signer, error) {
	ref, rel := keyRef(opts, role)
	if opts.HSM == "" {
		if err := os.MkdirAll(filepath.Join(opts.Dir, "keys"), 0o700); err != nil {
			return nil, fmt.Errorf("ca init: %w", err)
		}
	}
	signer, err := keys.Generate(opts.KeyType, ref, keys.Options{Passphrase: opts.Passphrase, PIN: opts.PIN})
	if err != nil {
		return nil, fmt.Errorf("ca init: %s key: %w", role, err)
	}
	m.Keys[role] = rel
	return signer, nil
}

// GenerateServiceKey makes the key of a service role (OCSP, TSA) in the same
// key store as the CA's own keys and records it in the manifest.
func (h *Hierarchy) GenerateServiceKey(opts Options, role string) (crypto.Signer, error) {
	opts.Dir = h.Dir
	if opts.KeyType == "" {
		opts.KeyType = h.Manifest.KeyType
	}
	if opts.HSM == "" && strings.HasPrefix(h.Manifest.Keys[RoleIssuing], "pkcs11:") {
		opts.HSM = h.Manifest.Keys[RoleIssuing]
	}
	signer, err := h.Manifest.generate(opts, role)
	if err != nil {
		return nil, err
	}
	return signer, h.Manifest.write(h.Dir)
}

// keyRef returns the reference to generate a role's key at, and the form
// recorded in the manifest (relative path, or URI without its PIN).
func keyRef(opts Options, role string) (ref, recorded string) {
	if opts.HSM == "" {
		rel := filepath.Join("keys", role+".key")
		return filepath.Join(opts.Dir, rel), rel
	}
	uri := withObject(opts.HSM, "esig-"+role)
	return uri, withoutPIN(uri)
}

// withObject sets the object= path attribute of a pkcs11: URI.
func withObject(uri, object string) string {
	path, query, hasQuery := strings.Cut(uri, "?")
	attrs := strings.Split(strings.TrimPrefix(path, "pkcs11:"), ";")
	kept := attrs[:0]
	for _, a := range attrs {
		if a != "" && !strings.HasPrefix(a, "object=") && !strings.HasPrefix(a, "id=") {
			kept = append(kept, a)
		}
	}
	out := "pkcs11:" + strings.Join(append(kept, "object="+object), ";")
	if hasQuery {
		out += "?" + query
	}
	return out
}

// withoutPIN drops pin-value from a pkcs11: URI's query.
func withoutPIN(uri string) string {
	path, query, hasQuery := strings.Cut(uri, "?")
	if !hasQuery {
		return uri
	}
	var kept []string
	for _, a := range strings.Split(query, "&") {
		if !strings.HasPrefix(a, "pin-value=") {
			kept = append(kept, a)
		}
	}
	if len(kept) == 0 {
		return path
	}
	return path + "?" + strings.Join(kept, "&")
}

// Load opens an existing CA directory and its issuing key.
func Load(opts Options) (*Hierarchy, error) {
	raw, err := os.ReadFile(filepath.Join(opts.Dir, manifestName))
	if err != nil {
		return nil, fmt.Errorf("ca: %w (run 'esig ca init' first)", err)
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("ca: %s: %w", manifestName, err)
	}
	if m.Version != 1 {
		return nil, fmt.Errorf("ca: %s: unsupported version %d", manifestName, m.Version)
	}
	h := &Hierarchy{Dir: opts.Dir, Manifest: m}
	if h.Root, err = ReadCertificate(opts.Dir, RoleRoot); err != nil {
		return nil, err
	}
	if h.Issuing, err = ReadCertificate(opts.Dir, RoleIssuing); err != nil {
		return nil, err
	}
	if err := h.Issuing.CheckSignatureFrom(h.Root); err != nil {
		return nil, fmt.Errorf("ca: issuing CA certificate is not signed by the root: %w", err)
	}
	if h.Signer, err = h.OpenKey(opts, RoleIssuing); err != nil {
		return nil, err
	}
	if !h.Issuing.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(h.Signer.Public()) {
		return nil, errors.New("ca: the issuing key does not match the issuing CA certificate")
	}
	return h, nil
}

// HasKey reports whether the manifest names a key for role.
func (h *Hierarchy) HasKey(role string) bool { return h.Manifest.Keys[role] != "" }

// OpenKey opens the key of a role named in the manifest.
func (h *Hierarchy) OpenKey(opts Options, role string) (crypto.Signer, error) {
	ref, ok := h.Manifest.Keys[role]
	if !ok {
		return nil, fmt.Errorf("ca: %s names no %s key", manifestName, role)
	}
	if !strings.HasPrefix(ref, "pkcs11:") && !filepath.IsAbs(ref) {
		ref = filepath.Join(h.Dir, ref)
	}
	s, err := keys.Open(ref, keys.Options{Passphrase: opts.Passphrase, PIN: opts.PIN})
	if err != nil {
		return nil, fmt.Errorf("ca: %s key: %w", role, err)
	}
	return s, nil
}

func (m *Manifest) write(dir string) error {
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, manifestName+".tmp")
	if err := os.WriteFile(tmp, append(raw, '\n'), 0o600); err != nil {
		return fmt.Errorf("ca: writing manifest: %w", err)
	}
	return os.Rename(tmp, filepath.Join(dir, manifestName))
}

// CertPath is where a role's certificate is kept in a CA directory.
func CertPath(dir, role string) string { return filepath.Join(dir, role+".pem") }

// WriteCertificate stores a role's certificate as PEM.
func WriteCertificate(dir, role string, cert *x509.Certificate) error {
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	tmp := CertPath(dir, role) + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("ca: writing %s certificate: %w", role, err)
	}
	return os.Rename(tmp, CertPath(dir, role))
}

// ReadCertificate loads a role's certificate; os.ErrNotExist (wrapped) if
// there is none yet.
func ReadCertificate(dir, role string) (*x509.Certificate, error) {
	data, err := os.ReadFile(CertPath(dir, role))
	if err != nil {
		return nil, fmt.Errorf("ca: %s certificate: %w", role, err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("ca: %s: not a PEM certificate", CertPath(dir, role))
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("ca: %s: %w", CertPath(dir, role), err)
	}
	return c, nil
}
