package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"esig/internal/keys"
	"esig/signer/cades"
	"esig/signer/tsp"
	"esig/verifier/revocation"
	"esig/verifier/trust"
)

// signCmd groups the signature formats; XAdES registers next to CAdES.
var signCmd = &cobra.Command{
	Use:   "sign",
	Short: "Sign documents (CAdES)",
	Long:  "Sign documents. Each signature format is a subcommand.",
}

type signCAdESFlags struct {
	key, cert, chain, out string
	detached, pss         bool
	level, tsa, hash      string
	passphraseFile        string
	module                string
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
	fl.StringVar(&f.key, "key", "", "signing key: file, file:PATH or pkcs11: URI (required)")
	fl.StringVar(&f.cert, "cert", "", "the signer's certificate, PEM or DER (required)")
	fl.StringVar(&f.chain, "chain", "", "PEM file of CA certificates to include (issuing CA up to the root)")
	fl.StringVarP(&f.out, "out", "o", "", "output file (required)")
	fl.BoolVar(&f.detached, "detached", false, "leave the content out of the signature")
	fl.StringVar(&f.level, "level", "B", "baseline level: B, T, LT or LTA")
	fl.StringVar(&f.tsa, "tsa", "", "RFC 3161 time-stamp authority URL (levels T, LT, LTA)")
	fl.StringVar(&f.hash, "hash", "sha256", "digest algorithm: sha256, sha384 or sha512")
	fl.BoolVar(&f.pss, "pss", false, "sign with RSASSA-PSS (RSA keys)")
	fl.StringVar(&f.passphraseFile, "passphrase-file", "", "file holding the key's passphrase")
	fl.StringVar(&f.module, "module", "", "PKCS#11 module path (when the URI has no module-path)")
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

func runSignCAdES(cmd *cobra.Command, f signCAdESFlags, in string) error {
	if f.key == "" || f.cert == "" || f.out == "" {
		return usageError{errors.New("sign cades: --key, --cert and -o are required")}
	}
	level, err := cades.ParseLevel(f.level)
	if err != nil {
		return usageError{err}
	}
	h, err := parseHash(f.hash)
	if err != nil {
		return usageError{err}
	}
	if level >= cades.LevelT && f.tsa == "" {
		return usageError{fmt.Errorf("sign cades: level %s needs --tsa", level)}
	}
	certs, err := trust.LoadFile(f.cert)
	if err != nil {
		return usageError{fmt.Errorf("--cert: %w", err)}
	}
	var chain []*x509.Certificate
	if f.chain != "" {
		if chain, err = trust.LoadFile(f.chain); err != nil {
			return usageError{fmt.Errorf("--chain: %w", err)}
		}
	}
	opts := keys.Options{PIN: os.Getenv("ESIG_PKCS11_PIN"), ModulePath: f.module}
	if p := os.Getenv("ESIG_KEY_PASSPHRASE"); p != "" {
		opts.Passphrase = []byte(p)
	}
	if f.passphraseFile != "" {
		b, err := os.ReadFile(f.passphraseFile)
		if err != nil {
			return usageError{fmt.Errorf("--passphrase-file: %w", err)}
		}
		opts.Passphrase = []byte(strings.TrimRight(string(b), "\r\n"))
	}
	signer, err := keys.Open(f.key, opts)
	if err != nil {
		return fmt.Errorf("--key: %w", err)
	}
	content, err := os.Open(in)
	if err != nil {
		return usageError{err}
	}
	defer content.Close()

	o := cades.Options{Signer: signer, Certificate: certs[0], Chain: append(certs[1:], chain...),
		Hash: h, PSS: f.pss, Detached: f.detached, Level: level}
	if level >= cades.LevelT {
		client := &tsp.Client{URL: f.tsa}
		o.Timestamper = cades.TimestamperFunc(func(ctx context.Context, d []byte, h crypto.Hash) ([]byte, error) {
			r, err := client.Timestamp(ctx, d, h)
			if err != nil {
				return nil, err
			}
			return r.Token, nil
		})
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
