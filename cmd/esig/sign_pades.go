package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"esig/signer/cades"
	"esig/signer/pades"
	"esig/verifier/revocation"
)

type signPAdESFlags struct {
	signFlags
	name, reason, location, contact string
	field                           string
	visible                         bool
	page                            int
	rect                            string
}

func init() {
	var f signPAdESFlags
	cmd := &cobra.Command{
		Use:   "pades --key KEY --cert CERT [flags] IN.pdf -o OUT.pdf",
		Short: "Sign a PDF as a PAdES baseline signature (B-B, B-T, B-LT, B-LTA)",
		Long: `Sign IN.pdf as a PAdES baseline signature (ETSI EN 319 142-1) and write OUT.pdf.

The signature is an incremental update: OUT.pdf is IN.pdf, byte for byte,
followed by a signature field and the signature, so that earlier signatures
stay valid. The field is invisible unless --visible places it on --page in
--rect (llx,lly,urx,ury in points from the page's lower left corner).

Levels: B (a CMS with signing-certificate-v2; the signing time is the
signature dictionary's M entry), T (plus a signature time stamp from --tsa),
LT (plus a Document Security Store with the certificates and revocation data
to validate it, fetched from the URLs in the certificates; give the chain up
to the root with --chain), LTA (plus a document time stamp over all that).

--name, --reason, --location and --contact fill the signature dictionary's
entries of the same names; the signature covers them.

KEY is a key file (PEM, DER PKCS#8, PKCS#12), file:PATH, or a pkcs11: URI.
An encrypted key's passphrase comes from --passphrase-file or
ESIG_KEY_PASSPHRASE; a token's PIN from the URI's pin-value or ESIG_PKCS11_PIN.`,
		Example: `  esig sign pades --key me.key --cert me.pem --chain chain.pem umowa.pdf -o umowa.signed.pdf
  esig sign pades --key me.key --cert me.pem --chain chain.pem --level LTA --tsa https://tsa.example/tsa \
      --visible --page 2 --rect 300,60,560,140 --reason "Akceptuję warunki" umowa.pdf -o umowa.signed.pdf`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{errors.New("sign pades: name exactly one input PDF")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runSignPAdES(cmd, f, args[0]) },
	}
	fl := cmd.Flags()
	f.register(fl)
	fl.StringVar(&f.name, "name", "", "signer's name for the signature dictionary (Name)")
	fl.StringVar(&f.reason, "reason", "", "reason for signing (Reason)")
	fl.StringVar(&f.location, "location", "", "where the document was signed (Location)")
	fl.StringVar(&f.contact, "contact", "", "how to reach the signer (ContactInfo)")
	fl.StringVar(&f.field, "field", "", "name of the new signature field (default Signature1, Signature2, ...)")
	fl.BoolVar(&f.visible, "visible", false, "show the signature on the page (see --page, --rect)")
	fl.IntVar(&f.page, "page", 1, "page of a visible signature, from 1")
	fl.StringVar(&f.rect, "rect", "36,36,266,106", "rectangle of a visible signature: llx,lly,urx,ury in points")
	signCmd.AddCommand(cmd)
}

// parseRect reads "llx,lly,urx,ury".
func parseRect(s string) ([4]float64, error) {
	var r [4]float64
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return r, fmt.Errorf("--rect %q: give llx,lly,urx,ury", s)
	}
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return r, fmt.Errorf("--rect %q: %q is not a number", s, p)
		}
		r[i] = v
	}
	return r, nil
}

func runSignPAdES(cmd *cobra.Command, f signPAdESFlags, in string) error {
	level, h, err := checkSignFlags(&f.signFlags, "pades", cades.ParseLevel, cades.LevelT)
	if err != nil {
		return err
	}
	o := pades.Options{Hash: h, PSS: f.pss, Level: level, Name: f.name, Reason: f.reason, Location: f.location,
		ContactInfo: f.contact, FieldName: f.field}
	if f.visible || cmd.Flags().Changed("rect") || cmd.Flags().Changed("page") {
		rect, err := parseRect(f.rect)
		if err != nil {
			return usageError{err}
		}
		o.Appearance = &pades.Appearance{Page: f.page, Rect: rect}
	}
	pdf, err := os.ReadFile(in)
	if err != nil {
		return usageError{err}
	}
	if !strings.HasPrefix(string(pdf[:min(len(pdf), 5)]), "%PDF-") {
		return usageError{fmt.Errorf("sign pades: %s is not a PDF (no %%PDF- header)", in)}
	}
	id, err := f.identity()
	if err != nil {
		return err
	}
	o.Signer, o.Certificate, o.Chain = id.signer, id.cert, id.chain
	if level >= cades.LevelT {
		o.Timestamper = tsaTimestamper(f.tsa)
	}
	if level >= cades.LevelLT {
		o.Validation = cades.OnlineValidation{Fetcher: revocation.NewHTTPFetcher()}
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	signed, err := pades.Sign(ctx, pdf, o)
	if err != nil {
		return err
	}
	return writeAtomically(f.out, signed)
}
