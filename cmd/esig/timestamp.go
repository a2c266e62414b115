package main

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"esig/internal/cms"
	"esig/signer/tsp"
	"esig/verifier"
	"esig/verifier/report"
	"esig/verifier/revocation"
	"esig/verifier/trust"
)

type timestampFlags struct {
	tsa, out, hash, verify string
	trust, crls, ocsps     []string
	offline                bool
	format                 string
}

func init() {
	var f timestampFlags
	cmd := &cobra.Command{
		Use:   "timestamp --tsa URL IN -o OUT.tsr | timestamp --verify OUT.tsr --trust PEM IN",
		Short: "Get an RFC 3161 time stamp for a file, or verify one",
		Long: `Without --verify: hash IN (streamed), ask the time-stamp authority at --tsa for
a time stamp (RFC 3161 over HTTP, with a nonce and the TSA's certificates
requested), check that the answer is for this hash and nonce, and write the
TimeStampResp to OUT (the .tsr form openssl ts -verify -in reads).

With --verify RESPONSE: validate the time stamp in RESPONSE (a TimeStampResp
or a bare token) over IN: the imprint, the token's signature, and the TSA
certificate (chain to a --trust anchor, critical id-kp-timeStamping,
revocation). Exit status as for esig verify.`,
		Example: `  esig timestamp --tsa http://127.0.0.1:8080/tsa contract.pdf -o contract.tsr
  esig timestamp --verify contract.tsr --trust root.pem contract.pdf`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{errors.New("timestamp: name exactly one input file")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.verify != "" {
				return runTimestampVerify(cmd, f, args[0])
			}
			return runTimestamp(cmd, f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.tsa, "tsa", "", "time-stamp authority URL")
	fl.StringVarP(&f.out, "out", "o", "", "where to write the TimeStampResp")
	fl.StringVar(&f.hash, "hash", "sha256", "digest algorithm: sha256, sha384 or sha512")
	fl.StringVar(&f.verify, "verify", "", "verify this TimeStampResp or token over IN instead of requesting one")
	fl.StringArrayVar(&f.trust, "trust", nil, "with --verify: trust anchor certificates (repeatable)")
	fl.StringArrayVar(&f.crls, "crl", nil, "with --verify: CRL file (repeatable)")
	fl.StringArrayVar(&f.ocsps, "ocsp-response", nil, "with --verify: OCSP response file (repeatable)")
	fl.BoolVar(&f.offline, "offline", false, "with --verify: never fetch revocation data")
	fl.StringVar(&f.format, "format", "", "with --verify: json or text (default text on a terminal)")
	rootCmd.AddCommand(cmd)
}

func hashFile(path string, hs ...crypto.Hash) (map[crypto.Hash][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return cms.Digests(f, hs...)
}

func runTimestamp(cmd *cobra.Command, f timestampFlags, in string) error {
	if f.tsa == "" || f.out == "" {
		return usageError{errors.New("timestamp: --tsa and -o are required")}
	}
	h, err := parseHash(f.hash)
	if err != nil {
		return usageError{err}
	}
	d, err := hashFile(in, h)
	if err != nil {
		return usageError{err}
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	resp, err := (&tsp.Client{URL: f.tsa}).Timestamp(ctx, d[h], h)
	if err != nil {
		return err
	}
	if err := os.WriteFile(f.out, resp.Raw, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "time stamp %X at %s written to %s\n", resp.Info.SerialNumber, resp.Info.GenTime.UTC().Format(time.RFC3339), f.out)
	return nil
}

func runTimestampVerify(cmd *cobra.Command, f timestampFlags, in string) error {
	raw, err := os.ReadFile(f.verify)
	if err != nil {
		return usageError{err}
	}
	token := raw
	if r, err := cms.ParseTimeStampResp(raw); err == nil && r.Token != nil {
		token = r.Token
	}
	cfg := verifier.Config{Anchors: trust.NewAnchors()}
	for _, p := range f.trust {
		certs, err := trust.LoadFile(p)
		if err != nil {
			return usageError{fmt.Errorf("--trust: %w", err)}
		}
		for _, c := range certs {
			cfg.Anchors.Add(c)
		}
	}
	for _, p := range f.crls {
		b, err := os.ReadFile(p)
		if err != nil {
			return usageError{fmt.Errorf("--crl: %w", err)}
		}
		cfg.CRLs = append(cfg.CRLs, b)
	}
	for _, p := range f.ocsps {
		b, err := os.ReadFile(p)
		if err != nil {
			return usageError{fmt.Errorf("--ocsp-response: %w", err)}
		}
		cfg.OCSPResponses = append(cfg.OCSPResponses, b)
	}
	if !f.offline {
		cfg.Fetcher = revocation.NewHTTPFetcher()
	}
	eng, err := verifier.New(cfg)
	if err != nil {
		return usageError{err}
	}
	var want crypto.Hash
	if tok, err := cms.ParseToken(token); err == nil {
		want = tok.Info.Hash
	}
	var digests map[crypto.Hash][]byte
	if want != 0 && want.Available() {
		if digests, err = hashFile(in, want); err != nil {
			return usageError{err}
		}
	} else if _, err := os.Stat(in); err != nil {
		return usageError{err}
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	r := eng.ValidateTimestamp(ctx, token, func(h crypto.Hash) ([]byte, error) {
		if d, ok := digests[h]; ok {
			return d, nil
		}
		return nil, fmt.Errorf("no digest under %v", h)
	})
	format := f.format
	if format == "" {
		format = "json"
		if isTerminal(os.Stdout) {
			format = "text"
		}
	}
	out := cmd.OutOrStdout()
	switch format {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	case "text":
		at := "?"
		if r.ProductionTime != nil {
			at = r.ProductionTime.Format(time.RFC3339)
		}
		fmt.Fprintf(out, "Time stamp: %s at %s by %s\nVerdict: %s", r.SerialNumber, at, r.TSA, r.Indication)
		if r.SubIndication != "" {
			fmt.Fprintf(out, " / %s", r.SubIndication)
		}
		fmt.Fprintln(out)
		for _, e := range r.Errors {
			fmt.Fprintf(out, "Error:   %s\n", e)
		}
		for _, w := range r.Warnings {
			fmt.Fprintf(out, "Warning: %s\n", w)
		}
	default:
		return usageError{fmt.Errorf("--format %q: use json or text", f.format)}
	}
	if code := report.ExitCode([]*report.Report{{Indication: r.Indication}}); code != 0 {
		return verifyResult{code}
	}
	return nil
}
