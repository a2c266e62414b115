package main

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"esig/internal/keys"
)

var enrollFlags struct {
	url, token, keyOut, hsm, keyType, certOut, passphraseFile string
}

var enrollCmd = &cobra.Command{
	Use:   "enroll --url URL --token T (--key-out FILE | --hsm pkcs11:URI)",
	Short: "Get a certificate with an enrollment link, the key made here",
	Long: `Enroll from a terminal, as the enrollment page does in a browser: make a key
pair here (in a file, encrypted when --passphrase-file is given, or on a
PKCS#11 token), send a PKCS#10 request with the one-time token, and write
the certificate and chain (PEM). The private key never leaves this machine.
--url is the server's base URL or the whole enrollment link; --token may be
omitted when the link carries it.`,
	Args: cobra.NoArgs,
	RunE: func(cmd *cobra.Command, _ []string) error {
		base, token, err := enrollTarget(enrollFlags.url, enrollFlags.token)
		if err != nil {
			return usageError{err}
		}
		if (enrollFlags.keyOut == "") == (enrollFlags.hsm == "") {
			return usageError{fmt.Errorf("give exactly one of --key-out and --hsm")}
		}
		kt, err := keys.ParseKeyType(enrollFlags.keyType)
		if err != nil {
			return usageError{fmt.Errorf("--key-type: %w", err)}
		}
		opts := keys.Options{}
		if enrollFlags.passphraseFile != "" {
			p, err := os.ReadFile(enrollFlags.passphraseFile)
			if err != nil {
				return usageError{fmt.Errorf("--passphrase-file: %w", err)}
			}
			opts.Passphrase = bytes.TrimRight(p, "\r\n")
		}
		ref := enrollFlags.keyOut
		if enrollFlags.hsm != "" {
			ref = enrollFlags.hsm
		}
		certOut := enrollFlags.certOut
		if certOut == "" {
			if enrollFlags.keyOut == "" {
				return usageError{fmt.Errorf("--cert-out is required with --hsm")}
			}
			certOut = strings.TrimSuffix(enrollFlags.keyOut, ".key") + ".crt"
		}
		// Check the link first, so a dead link wastes no key.
		if err := enrollGet(base, token); err != nil {
			return err
		}
		signer, err := keys.Generate(kt, ref, opts)
		if err != nil {
			return err
		}
		defer keys.CloseAll()
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "esig enrollment"}}, signer)
		if err != nil {
			return fmt.Errorf("making the request: %w", err)
		}
		body, _ := json.Marshal(map[string]string{"csr": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))})
		resp, err := httpClient().Post(base+"/v1/enroll/"+url.PathEscape(token), "application/json", bytes.NewReader(body))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("enrollment refused: %s", problemDetail(resp.Status, raw))
		}
		var out struct{ Serial, Certificate, Chain string }
		if err := json.Unmarshal(raw, &out); err != nil {
			return fmt.Errorf("reading the answer: %w", err)
		}
		if err := os.WriteFile(certOut, []byte(out.Certificate+out.Chain), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "certificate %s written to %s (key: %s)\n", out.Serial, certOut, ref)
		return nil
	},
}

// enrollTarget splits a base URL or enrollment link into base and token.
func enrollTarget(raw, token string) (string, string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", "", fmt.Errorf("--url %q is not an http(s) URL", raw)
	}
	if i := strings.Index(u.Path, "/enroll/"); i >= 0 {
		if token == "" {
			token = u.Path[i+len("/enroll/"):]
		}
		u.Path = u.Path[:i]
	}
	if token == "" {
		return "", "", fmt.Errorf("--token is required (or give the whole enrollment link as --url)")
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.Path, "/"), token, nil
}

func enrollGet(base, token string) error {
	resp, err := httpClient().Get(base + "/v1/enroll/" + url.PathEscape(token))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the enrollment link does not work: %s", problemDetail(resp.Status, raw))
	}
	return nil
}

func httpClient() *http.Client { return &http.Client{Timeout: 60 * time.Second} }

// problemDetail extracts the detail of an RFC 9457 problem for a message.
func problemDetail(status string, raw []byte) string {
	var p struct{ Title, Detail string }
	if json.Unmarshal(raw, &p) == nil && p.Detail != "" {
		return status + ": " + p.Detail
	}
	return status
}

func init() {
	f := enrollCmd.Flags()
	f.StringVar(&enrollFlags.url, "url", "", "server base URL, or the whole enrollment link")
	f.StringVar(&enrollFlags.token, "token", "", "the one-time enrollment token")
	f.StringVar(&enrollFlags.keyOut, "key-out", "", "write the new private key here (PKCS#8 PEM, mode 0600; never overwrites)")
	f.StringVar(&enrollFlags.hsm, "hsm", "", "make the key on this PKCS#11 token instead (pkcs11: URI with object=)")
	f.StringVar(&enrollFlags.keyType, "key-type", "ecdsa-p256", "ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096")
	f.StringVar(&enrollFlags.certOut, "cert-out", "", "where to write the certificate and chain (default: the key file with .crt)")
	f.StringVar(&enrollFlags.passphraseFile, "passphrase-file", "", "encrypt the key file with the passphrase in this file")
	rootCmd.AddCommand(enrollCmd)
}
