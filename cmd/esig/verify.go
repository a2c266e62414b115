package main

import (
	"bytes"
	"context"
	"crypto/x509"
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
	batch                     batchFlags
}

func init() {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify [flags] FILE|DIR...",
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

Formats: json, text, etsi (ETSI TS 119 102-2 XML), html (a printable report,
a page per signature).

Batches: a DIR stands for the regular files in it (--recursive: in its whole
tree; names starting with a dot are skipped). Given a DIR or several FILEs,
esig verify checks them in parallel (--jobs, default one per core), each file
with its own engine so that no verdict depends on the others, all as of one
validation time; online revocation data is fetched once per URL for the
whole batch. A progress bar is shown when stderr is a terminal. With json,
each file's report is one line (JSON lines), in the order the files were
named; a summary table (passed, failed, indeterminate, by format) ends the
run, on stdout after text reports and on stderr otherwise. --report-dir
writes NAME.json, NAME.xml (ETSI) and NAME.html per file and an index.html
summary.

Evidence: --evidence OUT.zip keeps, for an auditor's file, every input, its
JSON and ETSI reports, the manifest (what was verified, when, with which
options, the SHA-256 of every entry) and the trust material the verdicts
rested on: the anchors and certificates supplied, the CRLs and OCSP
responses supplied or fetched, and the trusted lists used. --evidence-in
OUT.zip verifies the bundle's inputs again from the bundle alone: offline,
as of the recorded validation time (unless --at), and says whether each
verdict was reproduced. A bundle whose entries do not match the manifest is
refused.`,
		Example: `  esig verify --trust root.pem --offline --crl ca.crl signed.p7m
  esig verify --trust root.pem --detached-content invoice.pdf --format json invoice.pdf.p7s
  esig verify --trust root.pem --detached-content faktura.pdf=scans/0001.pdf zgloszenie.xml
  esig verify --trust root.pem --at 2025-01-31T12:00:00Z archive.p7m
  esig verify --trust root.pem --recursive --jobs 2 --report-dir raport --evidence dowody.zip archiwum/
  esig verify --offline --evidence-in dowody.zip`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && f.batch.evidenceIn == "" {
				return usageError{errors.New("verify: name at least one FILE or DIR")}
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
	registerBatchFlags(fl, &f.batch)
	rootCmd.AddCommand(cmd)
}

// verifyResult carries verify's exit status through cobra to main.
type verifyResult struct{ code int }

// Error is empty: the report already said everything.
func (r verifyResult) Error() string { return "" }

// ExitCode implements exitCoder.
func (r verifyResult) ExitCode() int { return r.code }

// verifySetup is what every file of a run is verified with, and what an
// evidence bundle keeps of it.
type verifySetup struct {
	// cfg is the engine configuration without a fetcher; each file gets
	// its own engine, and its own recorder over fetcher.
	cfg     verifier.Config
	fetcher revocation.Fetcher
	pol     *policy.Validation
	parts   detachedParts
	// What the evidence bundle keeps: the anchors given with --trust
	// (those of trusted lists travel with the lists), the files given,
	// the policies as written.
	anchors    []*x509.Certificate
	crls       []supplied
	ocsps      []supplied
	policyYAML []byte
	cryptoJSON []byte
}

// supplied is revocation data read from a file named on the command line.
type supplied struct {
	path string
	data []byte
}

func runVerify(cmd *cobra.Command, f verifyFlags, args []string) error {
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
	if f.batch.jobs < 0 {
		return usageError{fmt.Errorf("--jobs %d: give a positive number of workers", f.batch.jobs)}
	}
	if f.batch.evidenceIn != "" {
		return runReplay(cmd, f, format, args)
	}
	files, batch, err := collectInputs(args, f.batch.recursive)
	if err != nil {
		return usageError{err}
	}
	setup, err := buildVerifySetup(cmd, f)
	if err != nil {
		return err
	}
	keep := f.batch.evidence != ""
	return runBatch(cmd, batchRun{
		format: format, batch: batch, flags: f.batch, paths: files, validationTime: setup.cfg.Time, setup: setup,
		verify: func(ctx context.Context, i int) fileResult { return setup.verifyFile(ctx, files[i], keep) },
	})
}

// buildVerifySetup reads every file the flags name, loads the trusted
// lists and fixes the validation time: --at, or now for the whole run.
func buildVerifySetup(cmd *cobra.Command, f verifyFlags) (*verifySetup, error) {
	s := &verifySetup{pol: policy.DefaultValidation()}
	if f.validationPolicy != "" {
		raw, err := os.ReadFile(f.validationPolicy)
		if err != nil {
			return nil, usageError{fmt.Errorf("--policy: validation policy: %w", err)}
		}
		if s.pol, err = policy.ParseValidation(bytes.NewReader(raw)); err != nil {
			return nil, usageError{fmt.Errorf("--policy: validation policy: %w", err)}
		}
		s.policyYAML = raw
	}
	cfg := verifier.Config{Anchors: trust.NewAnchors(), Policy: s.pol.Algorithms}
	for _, p := range f.trust {
		certs, err := trust.LoadFile(p)
		if err != nil {
			return nil, usageError{fmt.Errorf("--trust: %w", err)}
		}
		for _, c := range certs {
			cfg.Anchors.Add(c)
		}
		s.anchors = append(s.anchors, certs...)
	}
	f.tsl.failStale = f.tsl.failStale || s.pol.TrustedLists.StaleFailsClosed
	lists, err := f.tsl.load(cmd.Context(), f.offline, f.at)
	if err != nil {
		return nil, err
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
			return nil, usageError{fmt.Errorf("--cert: %w", err)}
		}
		cfg.Intermediates = append(cfg.Intermediates, certs...)
	}
	// CRL files are parsed once here for every file's engine.
	for _, p := range f.crls {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, usageError{fmt.Errorf("--crl: %w", err)}
		}
		c, err := revocation.ParseCRL(b)
		if err != nil {
			return nil, usageError{fmt.Errorf("--crl %s: %w", p, err)}
		}
		cfg.ParsedCRLs = append(cfg.ParsedCRLs, c)
		s.crls = append(s.crls, supplied{p, b})
	}
	for _, p := range f.ocsps {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, usageError{fmt.Errorf("--ocsp-response: %w", err)}
		}
		cfg.OCSPResponses = append(cfg.OCSPResponses, b)
		s.ocsps = append(s.ocsps, supplied{p, b})
	}
	cfg.Time = time.Now()
	if f.at != "" {
		t, err := time.Parse(time.RFC3339, f.at)
		if err != nil {
			return nil, usageError{fmt.Errorf("--at: %w", err)}
		}
		cfg.Time = t
	}
	if f.policyFile != "" {
		raw, err := os.ReadFile(f.policyFile)
		if err != nil {
			return nil, usageError{fmt.Errorf("--crypto-policy: %w", err)}
		}
		if cfg.Policy, err = policy.Parse(bytes.NewReader(raw)); err != nil {
			return nil, usageError{fmt.Errorf("--crypto-policy: %w", err)}
		}
		s.cryptoJSON = raw
	}
	if !f.offline {
		s.fetcher = revocation.NewShared(revocation.NewHTTPFetcher())
	}
	if s.parts, err = parseDetached(f.detached); err != nil {
		return nil, usageError{err}
	}
	// An engine is made per file; they share the CRLs they parse. Making
	// one now reports unusable revocation files as bad usage before any
	// work starts.
	cfg.CRLCache = revocation.NewCRLCache()
	if _, err := verifier.New(cfg); err != nil {
		return nil, usageError{err}
	}
	s.cfg = cfg
	return s, nil
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
