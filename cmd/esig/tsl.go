package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"esig/verifier/trust"
	"esig/verifier/tsl"
)

// DefaultLOTL is where the European Commission publishes the EU list of
// trusted lists.
const DefaultLOTL = "https://ec.europa.eu/tools/lotl/eu-lotl.xml"

// tslOptions are the trusted-list flags shared by esig tsl and, through
// registerTSLFlags and loadTrustedLists, by esig verify --tsl.
type tslOptions struct {
	cache       string
	offline     bool
	maxAge      time.Duration
	lotlCerts   []string
	pins        []string
	territories []string
	allowStale  bool
	at          string
}

func (o *tslOptions) register(fl *pflag.FlagSet) {
	fl.StringVar(&o.cache, "tsl-cache", "", "trusted list cache directory (default: the user cache directory's esig/tsl)")
	fl.BoolVar(&o.offline, "offline", false, "never use the network: read files and the trusted list cache only")
	fl.DurationVar(&o.maxAge, "max-age", time.Hour, "use a cached list younger than this without asking the server")
	fl.StringArrayVar(&o.lotlCerts, "lotl-cert", nil, "PEM or DER file of certificates the EU list of trusted lists must be signed with, as published in the Official Journal (repeatable; default: the ones the LOTL names for itself, with a warning)")
	fl.StringArrayVar(&o.pins, "pin", nil, "PEM or DER file of the operator certificates a national list must be signed with (repeatable; default: the ones --lotl names for its territory)")
	fl.StringArrayVar(&o.territories, "territory", nil, "load only the national lists of these territories, e.g. PL (repeatable)")
	fl.BoolVar(&o.allowStale, "allow-stale", false, "accept a list past its NextUpdate (reported as a warning) instead of failing closed")
	fl.StringVar(&o.at, "at", "", "judge freshness and service statuses as of this time (RFC 3339) instead of now")
}

func (o *tslOptions) time() (time.Time, error) {
	if o.at == "" {
		return time.Now(), nil
	}
	t, err := time.Parse(time.RFC3339, o.at)
	if err != nil {
		return t, usageError{fmt.Errorf("--at: %w", err)}
	}
	return t, nil
}

func (o *tslOptions) loader(failStale bool) (*tsl.Loader, error) {
	now, err := o.time()
	if err != nil {
		return nil, err
	}
	cache := o.cache
	if cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return nil, usageError{fmt.Errorf("no user cache directory (%v): give --tsl-cache", err)}
		}
		cache = filepath.Join(dir, "esig", "tsl")
	}
	return &tsl.Loader{CacheDir: cache, Offline: o.offline, MaxAge: o.maxAge,
		FailStale: failStale, Now: func() time.Time { return now }}, nil
}

func loadCerts(flag string, files []string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, f := range files {
		cs, err := trust.LoadFile(f)
		if err != nil {
			return nil, usageError{fmt.Errorf("%s: %w", flag, err)}
		}
		out = append(out, cs...)
	}
	return out, nil
}

// sources turns the locations named on the command line into loader
// sources and options: national lists are pinned by --pin (or, without
// it, by a LOTL among them), lists of lists by --lotl-cert.
func (o *tslOptions) sources(locations []string, follow bool) ([]tsl.Source, tsl.LOTLOptions, error) {
	opts := tsl.LOTLOptions{Territories: o.territories, NoFollow: !follow}
	var err error
	if opts.LOTLPinned, err = loadCerts("--lotl-cert", o.lotlCerts); err != nil {
		return nil, opts, err
	}
	pins, err := loadCerts("--pin", o.pins)
	if err != nil {
		return nil, opts, err
	}
	var out []tsl.Source
	for _, l := range locations {
		if l != "" {
			out = append(out, tsl.Source{Location: l, Pinned: pins})
		}
	}
	return out, opts, nil
}

// loadTrustedLists loads the lists esig verify --tsl names (each a LOTL or
// a national list, file or URL; a LOTL's pointers are followed, within
// --territory). It fails only on bad usage: lists that do not pass are in
// the Set's Rejected, for the report. failStale makes a list past its
// NextUpdate refused rather than used with a warning.
func loadTrustedLists(ctx context.Context, o tslOptions, locations []string, failStale bool) (*tsl.Set, error) {
	l, err := o.loader(failStale)
	if err != nil {
		return nil, err
	}
	srcs, opts, err := o.sources(locations, true)
	if err != nil {
		return nil, err
	}
	return l.LoadSet(ctx, srcs, opts), nil
}

// verifyTSLFlags are the trusted-list flags of esig verify (wired there by
// registerVerifyTSLFlags): the lists to load and how to pin them. esig
// verify's own --offline and --at apply to the lists too.
type verifyTSLFlags struct {
	opts      tslOptions
	lists     []string
	failStale bool
}

// registerVerifyTSLFlags adds to esig verify: --tsl FILE|URL (repeatable;
// a LOTL or a national list), --tsl-cert (pins of national lists),
// --lotl-cert, --tsl-territory, --tsl-cache and --tsl-fail-stale.
func registerVerifyTSLFlags(fl *pflag.FlagSet, f *verifyTSLFlags) {
	fl.StringArrayVar(&f.lists, "tsl", nil, "trusted list to take CA/QC and TSA/QTST anchors and qualification from: the EU LOTL or a national list, file or URL (repeatable)")
	fl.StringArrayVar(&f.opts.pins, "tsl-cert", nil, "PEM or DER file of a national list's operator certificates (repeatable; default: what a --tsl LOTL names)")
	fl.StringArrayVar(&f.opts.lotlCerts, "lotl-cert", nil, "PEM or DER file of the certificates the LOTL must be signed with, from the Official Journal (repeatable)")
	fl.StringArrayVar(&f.opts.territories, "tsl-territory", nil, "follow the LOTL only to these territories, e.g. PL (repeatable)")
	fl.StringVar(&f.opts.cache, "tsl-cache", "", "trusted list cache directory (default: the user cache directory's esig/tsl)")
	fl.BoolVar(&f.failStale, "tsl-fail-stale", false, "refuse a trusted list past its NextUpdate instead of using it with a warning")
	f.opts.maxAge = time.Hour
}

// load loads the lists named by --tsl, nil when there are none. offline
// and at are esig verify's own flags.
func (f *verifyTSLFlags) load(ctx context.Context, offline bool, at string) (*tsl.Set, error) {
	if len(f.lists) == 0 {
		return nil, nil
	}
	o := f.opts
	o.offline, o.at = offline, at
	return loadTrustedLists(ctx, o, f.lists, f.failStale)
}

// tslExit carries the exit status of esig tsl check and fetch.
type tslExit struct{ code int }

// Error is empty: the command has already printed why it failed.
func (e tslExit) Error() string { return "" }

// ExitCode implements exitCoder.
func (e tslExit) ExitCode() int { return e.code }

func init() {
	cmd := &cobra.Command{
		Use:   "tsl",
		Short: "Fetch, show and check EU trusted lists (ETSI TS 119 612)",
		Long: `Trusted lists say which trust service providers are qualified, for which
services, since when: the EU list of trusted lists (LOTL) names every national
list and the certificates its operator signs it with; a national list (the
Polish one is published by the National Bank of Poland) names the providers
(Certum, KIR, EuroCert, PWPW, CenCert ...) and the status history of each of
their services.

A list is used only when its XML signature verifies under a pinned operator
certificate: for the LOTL, those published in the Official Journal of the EU
(--lotl-cert), failing which the ones the LOTL names for itself (a weaker,
reported check); for a national list, --pin or the ones the LOTL names for
its territory (--lotl). A list past its NextUpdate fails closed unless
--allow-stale.

Downloaded lists are cached (--tsl-cache); a refresh replaces the cached copy
only if it passes every check, so "esig tsl fetch" before going offline lets
"esig verify --offline --tsl" use the lists on an auditor's laptop.`,
	}
	cmd.AddCommand(tslFetchCmd(), tslShowCmd(), tslCheckCmd())
	rootCmd.AddCommand(cmd)
}

func tslFetchCmd() *cobra.Command {
	var o tslOptions
	c := &cobra.Command{
		Use:   "fetch [flags] [LOTL-URL|FILE]",
		Short: "Download the LOTL and the national lists it points at into the cache",
		Long: `Load the EU list of trusted lists (default ` + DefaultLOTL + `), check it,
follow its pointers to the national lists (all, or --territory), check each
against the certificates the LOTL names for it, and keep those that pass in
the cache. Prints one line per list. Exit status 0 when every list passed,
1 when any was refused, 64 on bad usage.`,
		Example: `  esig tsl fetch --lotl-cert oj-lotl-signers.pem --territory PL
  esig tsl fetch --tsl-cache ./tsl-cache --allow-stale lotl.xml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			loc := DefaultLOTL
			if len(args) == 1 {
				loc = args[0]
			}
			l, err := o.loader(!o.allowStale)
			if err != nil {
				return err
			}
			srcs, opts, err := o.sources([]string{loc}, true)
			if err != nil {
				return err
			}
			set := l.LoadSet(cmd.Context(), srcs, opts)
			w := cmd.OutOrStdout()
			printSetSummary(w, set)
			if len(set.Rejected) > 0 || len(set.Lists()) == 0 {
				return tslExit{1}
			}
			return nil
		},
	}
	o.register(c.Flags())
	c.Flags().MarkHidden("pin")
	return c
}

func printSetSummary(w io.Writer, set *tsl.Set) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TERRITORY\tSEQ\tISSUED\tNEXT UPDATE\tRESULT\tFROM\tLOCATION")
	for _, t := range set.Lists() {
		res := "ok"
		if t.Stale {
			res = "stale"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", t.List.Territory, t.List.SequenceNumber, day(t.List.IssueDate),
			day(t.List.NextUpdate), res, t.Origin, t.Location)
	}
	for _, r := range set.Rejected {
		fmt.Fprintf(tw, "?\t\t\t\tREFUSED\t\t%s\n", r.Location)
	}
	tw.Flush()
	for _, t := range set.Lists() {
		for _, warn := range t.Warnings {
			fmt.Fprintf(w, "warning: %s: %s\n", t.Name(), warn)
		}
	}
	for _, r := range set.Rejected {
		fmt.Fprintf(w, "refused: %v\n", r.Err)
	}
}

func day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02T15:04Z")
}

// judgeOne loads one list with the pins the options give (through a LOTL
// when --lotl is set) and returns it, or the reason it was refused.
func judgeOne(ctx context.Context, o tslOptions, lotl, location string, failStale bool) (*tsl.Trusted, *tsl.Set, error) {
	for _, loc := range []string{lotl, location} {
		if loc != "" && !tsl.IsURL(loc) {
			if _, err := os.Stat(loc); err != nil {
				return nil, nil, usageError{fmt.Errorf("trusted list: %w", err)}
			}
		}
	}
	l, err := o.loader(failStale)
	if err != nil {
		return nil, nil, err
	}
	srcs, opts, err := o.sources([]string{lotl, location}, false)
	if err != nil {
		return nil, nil, err
	}
	set := l.LoadSet(ctx, srcs, opts)
	for _, t := range set.Lists() {
		if t.Location == location {
			return t, set, nil
		}
	}
	for _, r := range set.Rejected {
		if r.Location == location {
			return nil, set, r.Err
		}
	}
	return nil, set, fmt.Errorf("%s: not loaded", location)
}

func tslShowCmd() *cobra.Command {
	var o tslOptions
	var lotl, format string
	var history bool
	c := &cobra.Command{
		Use:   "show [flags] FILE|URL",
		Short: "Print a trusted list: its providers, their services and status",
		Long: `Print the scheme information of a trusted list, whether its signature
verifies (under --pin, or the certificates --lotl names for its territory),
and a table of its trust service providers with each service's type and
status (the current one, or the one in force at --at); --history adds every
earlier status. A list that cannot be verified is still shown, marked NOT
VERIFIED: nothing in it may be relied on.`,
		Example: `  esig tsl show --lotl eu-lotl.xml PL-TSL.xml
  esig tsl show --pin nbp-tsl-operator.pem --at 2019-09-10T00:00:00Z --history PL-TSL.xml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return usageError{fmt.Errorf("--format %q: use text or json", format)}
			}
			at, err := o.time()
			if err != nil {
				return err
			}
			var list *tsl.List
			verdict := ""
			t, _, err := judgeOne(cmd.Context(), o, lotl, args[0], false)
			switch {
			case err == nil:
				list = t.List
				verdict = fmt.Sprintf("valid, signed by %q, pinned by %s", t.Signer.Subject.String(), t.PinnedBy)
				for _, w := range t.Warnings {
					verdict += "\n  warning: " + w
				}
			default:
				var uerr usageError
				if errors.As(err, &uerr) {
					return err
				}
				l, lerr := o.loader(false)
				if lerr != nil {
					return lerr
				}
				data, ferr := l.Fetch(cmd.Context(), args[0])
				if ferr != nil {
					return usageError{ferr}
				}
				if list, ferr = tsl.Parse(data); ferr != nil {
					return usageError{ferr}
				}
				verdict = "NOT VERIFIED: " + err.Error()
				if errors.Is(err, tsl.ErrNoPins) {
					verdict = "NOT VERIFIED: no operator certificate to check it against (use --pin or --lotl)"
				}
			}
			if format == "json" {
				return showJSON(cmd.OutOrStdout(), list, verdict, at)
			}
			showText(cmd.OutOrStdout(), list, verdict, at, o.at != "", history)
			return nil
		},
	}
	o.register(c.Flags())
	c.Flags().StringVar(&lotl, "lotl", "", "EU list of trusted lists (file or URL) whose pointer gives the operator certificates")
	c.Flags().MarkHidden("territory")
	c.Flags().StringVar(&format, "format", "text", "text or json")
	c.Flags().BoolVar(&history, "history", false, "list every earlier status of each service")
	return c
}

func statusAt(s *tsl.Service, at time.Time, useAt bool) *tsl.ServiceInfo {
	if useAt {
		return s.At(at)
	}
	return s.Current
}

func showText(w io.Writer, l *tsl.List, verdict string, at time.Time, useAt, history bool) {
	fmt.Fprintf(w, "Trusted list %s #%d (%s, version %d)\n", l.Territory, l.SequenceNumber, tsl.ShortName(l.Type), l.Version)
	fmt.Fprintf(w, "Operator:    %s\n", l.OperatorName)
	fresh := "fresh"
	if l.Stale(at) {
		fresh = "STALE"
	}
	fmt.Fprintf(w, "Issued:      %s, next update %s (%s at %s)\n", day(l.IssueDate), day(l.NextUpdate), fresh, day(at))
	fmt.Fprintf(w, "Signature:   %s\n", verdict)
	for _, p := range l.Pointers {
		if p.IsXML() {
			fmt.Fprintf(w, "Points to:   %s %s (%s, %d certificate(s))\n", p.Territory, p.Location, tsl.ShortName(p.Type), len(p.Certificates))
		}
	}
	if len(l.Providers) == 0 {
		return
	}
	fmt.Fprintln(w)
	when := "CURRENT STATUS"
	if useAt {
		when = "STATUS AT " + day(at)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "PROVIDER\tSERVICE\tCERTIFICATE\tTYPE\t%s\tSINCE\n", when)
	for _, p := range l.Providers {
		name := clip(p.Name.String(), 40)
		for _, s := range p.Services {
			st := statusAt(s, at, useAt)
			ident := ""
			if cs := s.Certificates(); len(cs) > 0 {
				ident = clip(cs[0].Subject.CommonName, 36)
			}
			if st == nil {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t(not listed)\t\n", name, clip(s.Current.Name.String(), 48), ident, tsl.ShortName(s.Current.Type))
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", name, clip(st.Name.String(), 48), ident, tsl.ShortName(st.Type), tsl.ShortName(st.Status), day(st.StatusStart))
			if history {
				tl := s.Timeline()
				for i := len(tl) - 1; i >= 0; i-- {
					if h := tl[i]; h != st {
						fmt.Fprintf(tw, "\t  earlier\t\t%s\t%s\t%s\n", tsl.ShortName(h.Type), tsl.ShortName(h.Status), day(h.StatusStart))
					}
				}
			}
		}
	}
	tw.Flush()
}

// clip shortens s to n runes for the table.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

type showService struct {
	Name        string   `json:"name"`
	Certificate string   `json:"certificate,omitempty"`
	Type        string   `json:"type"`
	Status      string   `json:"status"`
	Since       string   `json:"since"`
	History     []string `json:"history,omitempty"`
	Qualifier   []string `json:"qualifiers,omitempty"`
}

type showProvider struct {
	Name      string        `json:"name"`
	TradeName []string      `json:"tradeNames,omitempty"`
	Services  []showService `json:"services"`
}

func showJSON(w io.Writer, l *tsl.List, verdict string, at time.Time) error {
	out := struct {
		Territory  string         `json:"territory"`
		Sequence   int64          `json:"sequenceNumber"`
		Type       string         `json:"type"`
		Operator   string         `json:"operator"`
		Issued     time.Time      `json:"issued"`
		NextUpdate time.Time      `json:"nextUpdate"`
		Stale      bool           `json:"stale"`
		Signature  string         `json:"signature"`
		Providers  []showProvider `json:"providers"`
	}{Territory: l.Territory, Sequence: l.SequenceNumber, Type: l.Type, Operator: l.OperatorName.String(),
		Issued: l.IssueDate, NextUpdate: l.NextUpdate, Stale: l.Stale(at), Signature: verdict, Providers: []showProvider{}}
	for _, p := range l.Providers {
		sp := showProvider{Name: p.Name.String()}
		for _, n := range p.TradeName {
			sp.TradeName = append(sp.TradeName, n.Value)
		}
		for _, s := range p.Services {
			st := s.Current
			ss := showService{Name: st.Name.String(), Type: st.Type, Status: st.Status, Since: st.StatusStart.Format(time.RFC3339)}
			if cs := s.Certificates(); len(cs) > 0 {
				ss.Certificate = cs[0].Subject.String()
			}
			for _, h := range s.History {
				ss.History = append(ss.History, h.StatusStart.Format(time.RFC3339)+" "+h.Status)
			}
			for _, q := range st.Qualifications {
				ss.Qualifier = append(ss.Qualifier, q.Qualifiers...)
			}
			sp.Services = append(sp.Services, ss)
		}
		out.Providers = append(out.Providers, sp)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func tslCheckCmd() *cobra.Command {
	var o tslOptions
	var lotl string
	c := &cobra.Command{
		Use:   "check [flags] FILE|URL",
		Short: "Check a trusted list's signature and freshness",
		Long: `Check that a trusted list is signed (enveloped XML signature over the whole
list) under a pinned operator certificate and is not past its NextUpdate
(at --at, default now). The pins: --pin, else the certificates --lotl names
for the list's territory; a LOTL checked alone is pinned by --lotl-cert or,
failing that, by the certificates it names for itself (reported). An expired
operator certificate is reported; it does not fail the check, the pin does
the trusting.

Exit status: 0 the list passes, 1 it does not (or is stale without
--allow-stale), 64 bad usage or unreadable input.`,
		Example: `  esig tsl check --lotl eu-lotl.xml --at 2019-09-10T00:00:00Z PL-TSL.xml
  esig tsl check --pin operator.pem https://www.nccert.pl/tsl/PL_TSL.xml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			at, err := o.time()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			t, set, err := judgeOne(cmd.Context(), o, lotl, args[0], !o.allowStale)
			var uerr usageError
			if errors.As(err, &uerr) {
				return err
			}
			if set != nil {
				for _, r := range set.Rejected {
					if r.Location == lotl && lotl != "" {
						fmt.Fprintf(w, "refused:    the list of trusted lists: %v\n", r.Err)
					}
				}
			}
			if err != nil {
				fmt.Fprintf(w, "FAILED: %v\n", err)
				return tslExit{1}
			}
			l := t.List
			fmt.Fprintf(w, "list:       %s (%s, %s)\n", t.Name(), l.OperatorName, t.Origin)
			fmt.Fprintf(w, "signature:  valid, operator certificate %q (valid %s to %s), pinned by %s\n",
				t.Signer.Subject.String(), day(t.Signer.NotBefore), day(t.Signer.NotAfter), t.PinnedBy)
			state := "fresh"
			if t.Stale {
				state = "STALE (accepted: --allow-stale)"
			}
			fmt.Fprintf(w, "freshness:  issued %s, next update %s: %s at %s\n", day(l.IssueDate), day(l.NextUpdate), state, day(at))
			for _, warn := range t.Warnings {
				fmt.Fprintf(w, "warning:    %s\n", warn)
			}
			fmt.Fprintln(w, "OK")
			return nil
		},
	}
	o.register(c.Flags())
	c.Flags().StringVar(&lotl, "lotl", "", "EU list of trusted lists (file or URL) whose pointer gives the operator certificates")
	c.Flags().MarkHidden("territory")
	return c
}
