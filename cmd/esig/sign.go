package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"esig/verifier/document"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"esig/internal/keys"
	"esig/signer/cades"
	"esig/signer/tsp"
	"esig/signer/xades"
	"esig/verifier/revocation"
	"esig/verifier/trust"
)

// signCmd groups the signature formats; XAdES registers next to CAdES.
var signCmd = &cobra.Command{
	Use:   "sign",
	Short: "Sign documents (CAdES, XAdES)",
	Long:  "Sign documents. Each signature format is a subcommand.",
}

// signFlags are the flags every sign command takes: the signing identity,
// the output, the level with its time-stamp authority, and the algorithms.
type signFlags struct {
	key, cert, chain, out  string
	level, tsa, hash       string
	pss                    bool
	passphraseFile, module string
}

// register adds the flags to fl.
func (f *signFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.key, "key", "", "signing key: file, file:PATH or pkcs11: URI (required)")
	fl.StringVar(&f.cert, "cert", "", "the signer's certificate, PEM or DER (required)")
	fl.StringVar(&f.chain, "chain", "", "PEM file of CA certificates to include (issuing CA up to the root)")
	fl.StringVarP(&f.out, "out", "o", "", "output file (required)")
	fl.StringVar(&f.level, "level", "B", "baseline level: B, T, LT or LTA")
	fl.StringVar(&f.tsa, "tsa", "", "RFC 3161 time-stamp authority URL (levels T, LT, LTA)")
	fl.StringVar(&f.hash, "hash", "sha256", "digest algorithm: sha256, sha384 or sha512")
	fl.BoolVar(&f.pss, "pss", false, "sign with RSASSA-PSS (RSA keys)")
	fl.StringVar(&f.passphraseFile, "passphrase-file", "", "file holding the key's passphrase")
	fl.StringVar(&f.module, "module", "", "PKCS#11 module path (when the URI has no module-path)")
}

// checkSignFlags checks what every sign command checks before it reads
// anything: the required flags, --level (read by the format's parseLevel),
// --hash, and --tsa for the levels from levelT up.
func checkSignFlags[L interface {
	~int
	fmt.Stringer
}](f *signFlags, command string, parseLevel func(string) (L, error), levelT L) (L, crypto.Hash, error) {
	if f.key == "" || f.cert == "" || f.out == "" {
		return 0, 0, usageError{fmt.Errorf("sign %s: --key, --cert and -o are required", command)}
	}
	level, err := parseLevel(f.level)
	if err != nil {
		return 0, 0, usageError{err}
	}
	h, err := parseHash(f.hash)
	if err != nil {
		return 0, 0, usageError{err}
	}
	if level >= levelT && f.tsa == "" {
		return 0, 0, usageError{fmt.Errorf("sign %s: level %s needs --tsa", command, level)}
	}
	return level, h, nil
}

type signCAdESFlags struct {
	signFlags
	detached bool
}

func init() {
	var f signCAdESFlags
	cmd := &cobra.Command{
		Use:   "cades --key KEY --cert CERT [flags] IN -o OUT",
		Short: "Make a CAdES baseline signature (B-B, B-T, B-LT, B-LTA)",
		Long: `Sign IN as a CAdES baseline signature (ETSI EN 319 122) and write the DER CMS to OUT.

The content is streamed: a detached signature of a file of any size, or an
attached one up to 2 GiB, costs a fixed amount of memory.

Levels: B (signed attributes with signing-certificate-v2), T (plus a signature
time stamp from --tsa), LT (plus the certificates and revocation data needed
to validate it, fetched from the URLs in the certificates; give the whole
chain up to the root with --chain), LTA (plus an archive time stamp).

KEY is a key file (PEM, DER PKCS#8, PKCS#12), file:PATH, or a pkcs11: URI.
An encrypted key's passphrase comes from --passphrase-file or
ESIG_KEY_PASSPHRASE; a token's PIN from the URI's pin-value or ESIG_PKCS11_PIN.`,
		Example: `  esig sign cades --key me.key --cert me.pem --chain chain.pem invoice.pdf -o invoice.pdf.p7m
  esig sign cades --key 'pkcs11:token=esig;object=signing' --cert me.pem --detached \
      --level T --tsa https://tsa.example/tsa big.iso -o big.iso.p7s`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{errors.New("sign cades: name exactly one input file")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runSignCAdES(cmd, f, args[0]) },
	}
	fl := cmd.Flags()
	f.register(fl)
	fl.BoolVar(&f.detached, "detached", false, "leave the content out of the signature")
	signCmd.AddCommand(cmd)
	rootCmd.AddCommand(signCmd)
}

func parseHash(s string) (crypto.Hash, error) {
	switch strings.ToLower(strings.ReplaceAll(s, "-", "")) {
	case "sha256":
		return crypto.SHA256, nil
	case "sha384":
		return crypto.SHA384, nil
	case "sha512":
		return crypto.SHA512, nil
	}
	return 0, fmt.Errorf("--hash %q: use sha256, sha384 or sha512", s)
}

// openSigningKey opens the signing key: a key file, file:PATH or a pkcs11:
// URI. An encrypted key's passphrase comes from passphraseFile or
// ESIG_KEY_PASSPHRASE, a token's PIN from the URI or ESIG_PKCS11_PIN.
func openSigningKey(key, module, passphraseFile string) (crypto.Signer, error) {
	opts := keys.Options{PIN: os.Getenv("ESIG_PKCS11_PIN"), ModulePath: module}
	if p := os.Getenv("ESIG_KEY_PASSPHRASE"); p != "" {
		opts.Passphrase = []byte(p)
	}
	if passphraseFile != "" {
		b, err := os.ReadFile(passphraseFile)
		if err != nil {
			return nil, usageError{fmt.Errorf("--passphrase-file: %w", err)}
		}
		opts.Passphrase = []byte(strings.TrimRight(string(b), "\r\n"))
	}
	signer, err := keys.Open(key, opts)
	if err != nil {
		return nil, fmt.Errorf("--key: %w", err)
	}
	return signer, nil
}

// signingIdentity is what every sign command signs with: the key, its
// certificate and the CA certificates to carry.
type signingIdentity struct {
	signer crypto.Signer
	cert   *x509.Certificate
	chain  []*x509.Certificate
}

// identity reads --cert (the signer first; any more certificates in the
// file join the chain), --chain and --key.
func (f *signFlags) identity() (*signingIdentity, error) {
	certs, err := trust.LoadFile(f.cert)
	if err != nil {
		return nil, usageError{fmt.Errorf("--cert: %w", err)}
	}
	var chain []*x509.Certificate
	if f.chain != "" {
		if chain, err = trust.LoadFile(f.chain); err != nil {
			return nil, usageError{fmt.Errorf("--chain: %w", err)}
		}
	}
	signer, err := openSigningKey(f.key, f.module, f.passphraseFile)
	if err != nil {
		return nil, err
	}
	return &signingIdentity{signer: signer, cert: certs[0], chain: append(certs[1:], chain...)}, nil
}

func runSignCAdES(cmd *cobra.Command, f signCAdESFlags, in string) error {
	level, h, err := checkSignFlags(&f.signFlags, "cades", cades.ParseLevel, cades.LevelT)
	if err != nil {
		return err
	}
	id, err := f.identity()
	if err != nil {
		return err
	}
	content, err := os.Open(in)
	if err != nil {
		return usageError{err}
	}
	defer content.Close()

	o := cades.Options{Signer: id.signer, Certificate: id.cert, Chain: id.chain,
		Hash: h, PSS: f.pss, Detached: f.detached, Level: level}
	if level >= cades.LevelT {
		o.Timestamper = tsaTimestamper(f.tsa)
	}
	if level >= cades.LevelLT {
		o.Validation = cades.OnlineValidation{Fetcher: revocation.NewHTTPFetcher()}
	}

	// Write next to OUT and rename, so that a failure leaves no half file.
	tmp, err := os.CreateTemp(filepath.Dir(f.out), ".esig-sign-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if err := cades.Sign(ctx, content, tmp, o); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), f.out)
}

type signXAdESFlags struct {
	signFlags
	packaging, mimeType, name string
	roles                     []string
	policy, policyFile        string
	policyDigest, policyURI   string
	v1                        bool
}

func init() {
	var f signXAdESFlags
	cmd := &cobra.Command{
		Use:   "xades --key KEY --cert CERT [flags] IN -o OUT",
		Short: "Make a XAdES baseline signature (B-B, B-T, B-LT, B-LTA)",
		Long: `Sign IN as a XAdES baseline signature (ETSI EN 319 132) and write the XML to OUT.

Packaging: enveloped (the signature is added to the XML document IN),
enveloping (IN is carried inside the signature: XML as it is, other data in
base64) or detached (the signature names IN by --name, default its base
name, and IN travels beside it; verify with --detached-content NAME=FILE).
The default is enveloped for XML input and detached otherwise.

The signed properties hold the signing time, SigningCertificateV2, a
DataObjectFormat with the MIME type, and optionally claimed roles
(SignerRoleV2) and a signature policy: --policy OID with the digest of the
policy document, from --policy-file or as --policy-digest sha256:BASE64.
--signing-certificate-v1 writes SigningCertificate and SignerRole instead,
for relying parties that know only TS 101 903.

Levels: B, T (a signature time stamp from --tsa), LT (plus the certificates
and revocation data to validate it, fetched from the URLs in the
certificates; give the chain up to the root with --chain), LTA (plus an
archive time stamp).

KEY is a key file (PEM, DER PKCS#8, PKCS#12), file:PATH, or a pkcs11: URI.
An encrypted key's passphrase comes from --passphrase-file or
ESIG_KEY_PASSPHRASE; a token's PIN from the URI's pin-value or ESIG_PKCS11_PIN.`,
		Example: `  esig sign xades --key me.key --cert me.pem --chain chain.pem deklaracja.xml -o deklaracja.signed.xml
  esig sign xades --key me.key --cert me.pem --packaging detached --level T --tsa https://tsa.example/tsa \
      --claimed-role "Prezes Zarządu" faktura.pdf -o faktura.pdf.xades.xml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{errors.New("sign xades: name exactly one input file")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runSignXAdES(cmd, f, args[0]) },
	}
	fl := cmd.Flags()
	f.register(fl)
	fl.StringVar(&f.packaging, "packaging", "", "enveloped, enveloping or detached (default: enveloped for XML, detached otherwise)")
	fl.StringArrayVar(&f.roles, "claimed-role", nil, "a role the signer claims (SignerRoleV2 ClaimedRole; repeatable)")
	fl.StringVar(&f.policy, "policy", "", "OID of the signature policy (SignaturePolicyIdentifier)")
	fl.StringVar(&f.policyFile, "policy-file", "", "the policy document, hashed for SigPolicyHash")
	fl.StringVar(&f.policyDigest, "policy-digest", "", "the policy document's digest as ALG:BASE64 (sha256, sha384, sha512)")
	fl.StringVar(&f.policyURI, "policy-uri", "", "where the policy document is published (SPURI qualifier)")
	fl.BoolVar(&f.v1, "signing-certificate-v1", false, "write SigningCertificate and SignerRole (TS 101 903) instead of the V2 forms")
	fl.StringVar(&f.mimeType, "mime-type", "", "MIME type of the content for DataObjectFormat (default from the content)")
	fl.StringVar(&f.name, "name", "", "the URI a detached signature names the content by (default: IN's base name)")
	signCmd.AddCommand(cmd)
}

func runSignXAdES(cmd *cobra.Command, f signXAdESFlags, in string) error {
	level, h, err := checkSignFlags(&f.signFlags, "xades", xades.ParseLevel, xades.LevelT)
	if err != nil {
		return err
	}
	content, err := os.ReadFile(in)
	if err != nil {
		return usageError{err}
	}
	packaging := xades.Detached
	if document.Detect(content) == document.KindXML {
		packaging = xades.Enveloped
	}
	if f.packaging != "" {
		if packaging, err = xades.ParsePackaging(f.packaging); err != nil {
			return usageError{err}
		}
	}
	policy, err := f.signaturePolicy()
	if err != nil {
		return usageError{err}
	}
	id, err := f.identity()
	if err != nil {
		return err
	}
	name := f.name
	if name == "" {
		name = filepath.Base(in)
	}
	o := xades.Options{Signer: id.signer, Certificate: id.cert, Chain: id.chain, Hash: h, PSS: f.pss,
		Packaging: packaging, Level: level, SigningCertificateV1: f.v1, ClaimedRoles: f.roles, Policy: policy,
		Name: name, MimeType: f.mimeType}
	if level >= xades.LevelT {
		o.Timestamper = tsaTimestamper(f.tsa)
	}
	if level >= xades.LevelLT {
		o.Validation = cades.OnlineValidation{Fetcher: revocation.NewHTTPFetcher()}
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	sig, err := xades.Sign(ctx, content, o)
	if err != nil {
		return err
	}
	return writeAtomically(f.out, sig)
}

// signaturePolicy builds the SignaturePolicyIdentifier from the flags: an
// OID and the digest of the policy document, from the document or given.
func (f signXAdESFlags) signaturePolicy() (*xades.Policy, error) {
	if f.policy == "" {
		if f.policyFile != "" || f.policyDigest != "" || f.policyURI != "" {
			return nil, errors.New("--policy-file, --policy-digest and --policy-uri need --policy OID")
		}
		return nil, nil
	}
	p := &xades.Policy{OID: strings.TrimPrefix(f.policy, "urn:oid:"), URI: f.policyURI}
	switch {
	case f.policyFile != "" && f.policyDigest != "":
		return nil, errors.New("give --policy-file or --policy-digest, not both")
	case f.policyFile != "":
		b, err := os.ReadFile(f.policyFile)
		if err != nil {
			return nil, fmt.Errorf("--policy-file: %w", err)
		}
		p.Hash = crypto.SHA256
		d := p.Hash.New()
		d.Write(b)
		p.Digest = d.Sum(nil)
	case f.policyDigest != "":
		alg, value, ok := strings.Cut(f.policyDigest, ":")
		h, err := parseHash(alg)
		if !ok || err != nil {
			return nil, fmt.Errorf("--policy-digest %q: use ALG:BASE64 with sha256, sha384 or sha512", f.policyDigest)
		}
		d, err := base64.StdEncoding.DecodeString(value)
		if err != nil || len(d) != h.Size() {
			return nil, fmt.Errorf("--policy-digest: not a base64 %v digest", h)
		}
		p.Hash, p.Digest = h, d
	default:
		return nil, errors.New("--policy needs the policy document's digest: --policy-file FILE or --policy-digest ALG:BASE64")
	}
	for _, part := range strings.Split(p.OID, ".") {
		if part == "" || strings.Trim(part, "0123456789") != "" {
			return nil, fmt.Errorf("--policy %q is not an OID", f.policy)
		}
	}
	return p, nil
}

// tsaTimestamper asks the RFC 3161 time-stamping authority at url for the
// tokens of B-T and above.
func tsaTimestamper(url string) cades.TimestamperFunc {
	client := &tsp.Client{URL: url}
	return func(ctx context.Context, d []byte, h crypto.Hash) ([]byte, error) {
		r, err := client.Timestamp(ctx, d, h)
		if err != nil {
			return nil, err
		}
		return r.Token, nil
	}
}

// writeAtomically writes data next to path and renames it into place, so a
// failure leaves no half-written signature behind.
func writeAtomically(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".esig-sign-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
