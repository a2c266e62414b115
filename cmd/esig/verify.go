package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"esig/verifier"
	"esig/verifier/document"
	"esig/verifier/policy"
	"esig/verifier/report"
	"esig/verifier/revocation"
	"esig/verifier/trust"
	"esig/verifier/tsl"
)

// verifyFlags are the options of esig verify.
type verifyFlags struct {
	trust, certs, crls, ocsps []string
	offline                   bool
	detached                  []string
	at                        string
	format                    string
	policyFile                string
	validationPolicy          string
	tsl                       verifyTSLFlags
}

func init() {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify [flags] FILE...",
		Short: "Verify signatures and print an ETSI EN 319 102-1 report",
		Long: `Verify the signatures in each FILE (XAdES or other XML signatures, enveloped,
enveloping or detached; CAdES or PKCS#7/CMS, attached or detached, DER, PEM or
base64) and report each one as TOTAL-PASSED, TOTAL-FAILED or INDETERMINATE
with the ETSI EN 319 102-1 sub-indication. XML input is recognised by its
first character.

Detached content is given with --detached-content. An XML signature names
its detached data by URI: give each as NAME=FILE, NAME being the URI as the
signature writes it (a bare FILE stands for its base name). A CMS signature
takes one bare FILE. Nothing else is read, and nothing is fetched, whatever
the signature names.

Trust comes from --trust files and from EU trusted lists (--tsl: the LOTL or
a national list, whose CA/QC and TSA/QTST services become anchors and decide
each signature's qualification: QESig, QESeal, AdESig-QC ...). A certificate
the signature carries is never trusted for being there. Revocation data comes from the signature, from
--crl and --ocsp-response files and, unless --offline, from the URLs in the
certificates. --offline never opens a network connection.

Exit status: 0 every signature TOTAL-PASSED, 1 any TOTAL-FAILED, 2 otherwise
(INDETERMINATE, or no signature found), 64 bad usage or unreadable input.

A validation policy (--policy FILE.yaml) says what is accepted beyond a sound
signature: formats, XAdES packagings and transforms, whether a stale trusted
list fails closed, and the trusted-profile sealer. Without it the Ministry of
Finance profile applies (XAdES enveloped or enveloping). An XAdES seal by the
trusted-profile sealer carrying a person's identity in its signed
properties is reported with that identity (trustedProfile).

Formats: json (one array of reports), text, etsi (ETSI TS 119 102-2 XML),
html (a printable report, a page per signature).`,
		Example: `  esig verify --trust root.pem --offline --crl ca.crl signed.p7m
  esig verify --trust root.pem --detached-content invoice.pdf --format json invoice.pdf.p7s
  esig verify --trust root.pem --detached-content faktura.pdf=scans/0001.pdf zgloszenie.xml
  esig verify --trust root.pem --at 2025-01-31T12:00:00Z archive.p7m`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{errors.New("verify: name at least one FILE")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runVerify(cmd, f, args) },
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.trust, "trust", nil, "PEM or DER file of trust anchor certificates (repeatable)")
	fl.StringArrayVar(&f.certs, "cert", nil, "PEM file of untrusted intermediate certificates to build paths with (repeatable)")
	fl.StringArrayVar(&f.crls, "crl", nil, "CRL file, DER or PEM (repeatable)")
	fl.StringArrayVar(&f.ocsps, "ocsp-response", nil, "OCSP response file, DER (repeatable)")
	fl.BoolVar(&f.offline, "offline", false, "never fetch revocation data over the network")
	fl.StringArrayVar(&f.detached, "detached-content", nil, "signed content of a detached signature: NAME=FILE for XML (repeatable), FILE for CMS (streamed, any size)")
	fl.StringVar(&f.at, "at", "", "validate as of this time (RFC 3339) instead of now")
	fl.StringVar(&f.format, "format", "", "report format: json, text, etsi or html (default text on a terminal, json otherwise)")
	fl.StringVar(&f.policyFile, "crypto-policy", "", "JSON file changing the algorithm policy (see verifier/policy)")
	fl.StringVar(&f.validationPolicy, "policy", "", "YAML validation policy (formats, XAdES packagings and transforms, trusted lists, trusted-profile sealer)")
	registerVerifyTSLFlags(fl, &f.tsl)
	rootCmd.AddCommand(cmd)
}

// verifyResult carries verify's exit status through cobra to main.
type verifyResult struct{ code int }

// Error is empty: the report already said everything.
func (r verifyResult) Error() string { return "" }

// ExitCode implements exitCoder.
func (r verifyResult) ExitCode() int { return r.code }

func runVerify(cmd *cobra.Command, f verifyFlags, files []string) error {
	format := f.format
	if format == "" {
		format = "json"
		if isTerminal(os.Stdout) {
			format = "text"
		}
	}
	switch format {
	case "json", "text", "etsi", "html":
	default:
		return usageError{fmt.Errorf("--format %q: use json, text, etsi or html", f.format)}
	}
	pol := policy.DefaultValidation()
	if f.validationPolicy != "" {
		var err error
		if pol, err = policy.LoadValidation(f.validationPolicy); err != nil {
			return usageError{fmt.Errorf("--policy: %w", err)}
		}
	}
	cfg := verifier.Config{Anchors: trust.NewAnchors(), Policy: pol.Algorithms}
	for _, p := range f.trust {
		certs, err := trust.LoadFile(p)
		if err != nil {
			return usageError{fmt.Errorf("--trust: %w", err)}
		}
		for _, c := range certs {
			cfg.Anchors.Add(c)
		}
	}
	f.tsl.failStale = f.tsl.failStale || pol.TrustedLists.StaleFailsClosed
	lists, err := f.tsl.load(cmd.Context(), f.offline, f.at)
	if err != nil {
		return err
	}
	if lists != nil {
		for _, c := range tsl.TrustAnchors(append(lists.CAAnchors(), lists.TimestampAnchors()...)).Certificates() {
			cfg.Anchors.Add(c)
		}
		cfg.TrustedLists = lists
		for _, r := range lists.Rejected {
			fmt.Fprintln(cmd.ErrOrStderr(), "esig: trusted list not used:", r)
		}
	}
	for _, p := range f.certs {
		certs, err := trust.LoadFile(p)
		if err != nil {
			return usageError{fmt.Errorf("--cert: %w", err)}
		}
		cfg.Intermediates = append(cfg.Intermediates, certs...)
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
	if f.at != "" {
		t, err := time.Parse(time.RFC3339, f.at)
		if err != nil {
			return usageError{fmt.Errorf("--at: %w", err)}
		}
		cfg.Time = t
	}
	if f.policyFile != "" {
		pf, err := os.Open(f.policyFile)
		if err != nil {
			return usageError{fmt.Errorf("--crypto-policy: %w", err)}
		}
		cfg.Policy, err = policy.Parse(pf)
		pf.Close()
		if err != nil {
			return usageError{fmt.Errorf("--crypto-policy: %w", err)}
		}
	}
	if !f.offline {
		cfg.Fetcher = revocation.NewHTTPFetcher()
	}
	parts, err := parseDetached(f.detached)
	if err != nil {
		return usageError{err}
	}
	eng, err := verifier.New(cfg)
	if err != nil {
		return usageError{err}
	}
	var reports []*report.Report
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			return usageError{err}
		}
		res, err := document.Verify(cmd.Context(), eng, data, parts.documentParts(), pol)
		if err != nil {
			return usageError{err}
		}
		res.Report.File = path
		reports = append(reports, res.Report)
	}
	out := cmd.OutOrStdout()
	switch format {
	case "json":
		err = report.WriteJSON(out, reports)
	case "etsi":
		err = report.WriteETSI(out, reports)
	case "html":
		err = report.WriteHTML(out, reports)
	default:
		err = report.WriteText(out, reports)
	}
	if err != nil {
		return err
	}
	if code := report.ExitCode(reports); code != 0 {
		return verifyResult{code}
	}
	return nil
}

// detachedPart is one --detached-content value: the name a signature uses
// for the content, and the file holding it.
type detachedPart struct{ name, path string }

type detachedParts []detachedPart

// parseDetached reads the --detached-content values: NAME=FILE, or a bare
// FILE named by its base name. A value that is an existing file is bare
// even if it contains '='.
func parseDetached(values []string) (detachedParts, error) {
	var out detachedParts
	for _, v := range values {
		p := detachedPart{name: filepath.Base(v), path: v}
		if _, err := os.Stat(v); err != nil {
			name, file, ok := strings.Cut(v, "=")
			if !ok || name == "" {
				return nil, fmt.Errorf("--detached-content: %w", err)
			}
			if _, err := os.Stat(file); err != nil {
				return nil, fmt.Errorf("--detached-content %s: %w", name, err)
			}
			p = detachedPart{name: name, path: file}
		}
		out = append(out, p)
	}
	return out, nil
}

// documentParts turns the parts into detached content the verifier opens
// when (and only if) a signature needs them; CMS content is streamed.
func (d detachedParts) documentParts() []document.Part {
	out := make([]document.Part, 0, len(d))
	for _, p := range d {
		path := p.path
		out = append(out, document.Part{Name: p.name, Open: func() (io.ReadCloser, error) { return os.Open(path) }})
	}
	return out
}
