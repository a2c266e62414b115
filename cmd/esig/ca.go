package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"esig/app"
	"esig/ca"
	"esig/ca/issuance"
	"esig/ca/store"
	"esig/ca/store/engines"
	"esig/internal/keys"
)

var caCmd = &cobra.Command{
	Use:   "ca",
	Short: "Create the CA and issue, revoke and list certificates from the command line",
	Long: `Operate the CA directly on its data directory, without the HTTP API.
Every change is recorded in the audit log with actor "cli".`,
}

var caInitFlags struct {
	dir, keyType, hsm, baseURL string
}

var caInitCmd = &cobra.Command{
	Use:   "init",
	Short: "Create a root and an issuing CA",
	Long: `Create a new CA hierarchy: a root and an issuing CA, with keys in files
(PKCS#8, encrypted when ESIG_CA_PASSPHRASE is set) or on a PKCS#11 token
(--hsm pkcs11:token=...;?module-path=...&pin-value=..., or the PIN in
ESIG_PKCS11_PIN). The OCSP responder and TSA certificates are issued on
the first 'esig serve'. Refuses to overwrite an existing CA.`,
	Args: cobra.NoArgs,
	RunE: func(cmd *cobra.Command, _ []string) error {
		cfg, err := loadConfig(cmd)
		if err != nil {
			return err
		}
		if caInitFlags.dir != "" {
			cfg.CA.Dir = caInitFlags.dir
		}
		if cmd.Flags().Changed("key-type") {
			cfg.CA.KeyType = caInitFlags.keyType
		}
		if caInitFlags.hsm != "" {
			cfg.CA.HSM = caInitFlags.hsm
		}
		if caInitFlags.baseURL != "" {
			cfg.BaseURL = caInitFlags.baseURL
		}
		if cfg.BaseURL == "" {
			cfg.BaseURL = "http://" + cfg.Listen
		}
		if err := cfg.Resolve(); err != nil {
			return usageError{err}
		}
		opts, err := app.HierarchyOptions(cfg)
		if err != nil {
			return usageError{err}
		}
		if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
			return err
		}
		st, err := engines.Open(cmd.Context(), cfg.Database)
		if err != nil {
			return err
		}
		defer st.Close()
		defer keys.CloseAll()
		if err := app.InitCA(cmd.Context(), st, opts, "cli"); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "Created a %s CA in %s\n", opts.KeyType, cfg.CA.Dir)
		return nil
	},
}

var caIssueFlags struct{ csr, profile, subject, out, subscriber string }

var caIssueCmd = &cobra.Command{
	Use:   "issue --csr FILE --profile NAME --subject FILE.json",
	Short: "Issue a certificate for a CSR",
	Long: `Issue a certificate. The subject comes from the JSON file, never from the
CSR: {"givenName", "surname", "pesel" | "idDocument", "organizationName",
"nip" | "regon", "email"}. Profiles: person-signing, person-auth,
organization-seal. Prints the certificate as PEM (or writes it to --out).`,
	Args: cobra.NoArgs,
	RunE: func(cmd *cobra.Command, _ []string) error {
		if err := requireFlags(cmd, "csr", "profile", "subject"); err != nil {
			return err
		}
		csr, err := os.ReadFile(caIssueFlags.csr)
		if err != nil {
			return usageError{fmt.Errorf("--csr: %w", err)}
		}
		raw, err := os.ReadFile(caIssueFlags.subject)
		if err != nil {
			return usageError{fmt.Errorf("--subject: %w", err)}
		}
		var subj issuance.Subject
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&subj); err != nil {
			return usageError{fmt.Errorf("--subject %s: %w", caIssueFlags.subject, err)}
		}
		a, err := openApp(cmd)
		if err != nil {
			return err
		}
		defer a.Close()
		c, err := a.Authority.Issue(cmd.Context(), ca.IssueRequest{CSR: csr, Profile: caIssueFlags.profile, Subject: subj, SubscriberID: caIssueFlags.subscriber, Actor: "cli"})
		if err != nil {
			return err
		}
		out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.DER})
		if caIssueFlags.out != "" {
			if err := os.WriteFile(caIssueFlags.out, out, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "issued serial %s to %s\n", c.Serial, caIssueFlags.out)
			return nil
		}
		_, err = cmd.OutOrStdout().Write(out)
		return err
	},
}

var caRevokeReason string

var caRevokeCmd = &cobra.Command{
	Use:   "revoke SERIAL --reason R",
	Short: "Revoke a certificate (certificateHold puts it on hold)",
	Long: `Revoke a certificate by serial (hex). Reasons: unspecified, keyCompromise,
affiliationChanged, superseded, cessationOfOperation, certificateHold,
privilegeWithdrawn. Revoking again changes nothing.`,
	Args: cobra.ExactArgs(1),
	RunE: func(cmd *cobra.Command, args []string) error {
		reason, err := ca.ParseReason(caRevokeReason)
		if err != nil {
			return usageError{fmt.Errorf("--reason: %w", err)}
		}
		a, err := openApp(cmd)
		if err != nil {
			return err
		}
		defer a.Close()
		c, changed, err := a.Authority.Revoke(cmd.Context(), args[0], reason, "cli")
		if err != nil {
			return err
		}
		if !changed {
			fmt.Fprintf(cmd.OutOrStdout(), "%s was already %s (%s)\n", c.Serial, c.Status, ca.ReasonName(c.Reason))
			return nil
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s %s (%s) at %s\n", c.Serial, c.Status, ca.ReasonName(c.Reason), c.RevokedAt.UTC().Format(time.RFC3339))
		return nil
	},
}

var caReleaseCmd = &cobra.Command{
	Use:   "release SERIAL",
	Short: "Release a certificate from hold",
	Args:  cobra.ExactArgs(1),
	RunE: func(cmd *cobra.Command, args []string) error {
		a, err := openApp(cmd)
		if err != nil {
			return err
		}
		defer a.Close()
		c, _, err := a.Authority.ReleaseHold(cmd.Context(), args[0], "cli")
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", c.Serial, c.Status)
		return nil
	},
}

var caListFlags struct {
	status string
	page   int
}

var caListCmd = &cobra.Command{
	Use:   "list [--status valid|revoked|on-hold] [--page N]",
	Short: "List issued certificates, newest first",
	Args:  cobra.NoArgs,
	RunE: func(cmd *cobra.Command, _ []string) error {
		a, err := openApp(cmd)
		if err != nil {
			return err
		}
		defer a.Close()
		certs, total, err := a.Authority.List(cmd.Context(), store.ListFilter{Status: store.Status(caListFlags.status), Page: caListFlags.page, PageSize: 100})
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SERIAL\tSTATUS\tPROFILE\tNOT AFTER\tSUBJECT")
		for _, c := range certs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Serial, c.Status, c.Profile, c.NotAfter.UTC().Format("2006-01-02"), c.Subject)
		}
		tw.Flush()
		fmt.Fprintf(cmd.OutOrStdout(), "%d of %d certificates (page %d)\n", len(certs), total, caListFlags.page)
		return nil
	},
}

var caCRLFlags struct {
	shard int
	out   string
}

var caCRLCmd = &cobra.Command{
	Use:   "crl [--shard N --out FILE]",
	Short: "Publish fresh CRLs now (all shards, or one written to a file)",
	Args:  cobra.NoArgs,
	RunE: func(cmd *cobra.Command, _ []string) error {
		a, err := openApp(cmd)
		if err != nil {
			return err
		}
		defer a.Close()
		shards := []int{caCRLFlags.shard}
		if caCRLFlags.shard < 0 {
			shards = shards[:0]
			for i := 0; i < a.CRL.Shards(); i++ {
				shards = append(shards, i)
			}
		}
		for _, s := range shards {
			c, err := a.CRL.Generate(context.Background(), s, "cli")
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "shard %d: CRL number %d, next update %s\n", s, c.Number, c.NextUpdate.Format(time.RFC3339))
			if caCRLFlags.out != "" && len(shards) == 1 {
				if err := os.WriteFile(caCRLFlags.out, c.DER, 0o644); err != nil {
					return err
				}
			}
		}
		return nil
	},
}

func init() {
	caInitCmd.Flags().StringVar(&caInitFlags.dir, "dir", "", "CA directory (default <data>/ca)")
	caInitCmd.Flags().StringVar(&caInitFlags.keyType, "key-type", "ecdsa-p256", "key type: ecdsa-p256, ecdsa-p384, rsa-3072, rsa-4096")
	caInitCmd.Flags().StringVar(&caInitFlags.hsm, "hsm", "", "pkcs11: URI of the token to keep the keys on")
	caInitCmd.Flags().StringVar(&caInitFlags.baseURL, "base-url", "", "public base URL written into the issuing CA certificate (default http://<listen>)")
	caIssueCmd.Flags().StringVar(&caIssueFlags.csr, "csr", "", "PKCS#10 request file (PEM or DER)")
	caIssueCmd.Flags().StringVar(&caIssueFlags.profile, "profile", "", "profile: person-signing, person-auth, organization-seal")
	caIssueCmd.Flags().StringVar(&caIssueFlags.subject, "subject", "", "subject JSON file")
	caIssueCmd.Flags().StringVar(&caIssueFlags.out, "out", "", "write the certificate here instead of standard output")
	caIssueCmd.Flags().StringVar(&caIssueFlags.subscriber, "subscriber", "", "subscriber id to record")
	caRevokeCmd.Flags().StringVar(&caRevokeReason, "reason", "unspecified", "RFC 5280 revocation reason")
	caListCmd.Flags().StringVar(&caListFlags.status, "status", "", "only certificates with this status")
	caListCmd.Flags().IntVar(&caListFlags.page, "page", 1, "page number (100 a page)")
	caCRLCmd.Flags().IntVar(&caCRLFlags.shard, "shard", -1, "only this shard")
	caCRLCmd.Flags().StringVar(&caCRLFlags.out, "out", "", "with --shard: write the DER CRL here")
	caCmd.AddCommand(caInitCmd, caIssueCmd, caRevokeCmd, caReleaseCmd, caListCmd, caCRLCmd)
	rootCmd.AddCommand(caCmd)
}
