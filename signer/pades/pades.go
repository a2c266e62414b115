// Package pades signs PDF documents as PAdES baseline signatures (ETSI EN
// 319 142-1) at levels B-B, B-T, B-LT and B-LTA, each step an incremental
// update (ISO 32000-1, 7.5.6) so that the original bytes, and any earlier
// signature, stay as they were.
//
// PDF parsing and writing is github.com/pdfcpu/pdfcpu (Apache-2.0): it
// reads the document into an object model, writes an incremental update of
// the objects we add or change, with a classic cross-reference table or a
// cross-reference stream as the file already uses, and it reports where it
// wrote a signature dictionary's ByteRange and Contents so that they can be
// filled in afterwards. github.com/digitorus/pdfsign, the other candidate,
// is not served by our module proxy; pdfcpu is maintained, has no cgo, and
// is hardened against hostile input (resource limits, recursion bounds),
// which the verifier needs from the same library.
//
// The CMS signature is our own (SignCMS), over the bytes the ByteRange
// covers: B-B has content-type, message-digest and signing-certificate-v2
// and no signing-time (the M entry carries the claimed time, EN 319 142-1
// 5.2.3); B-T adds a signature-time-stamp; B-LT adds a DSS dictionary with
// the certificates and revocation data in a second update (EN 319 142-1,
// 5.4.2); B-LTA adds a document time stamp in a third (5.4.3).
package pades

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"esig/signer"
	"esig/signer/cades"
)

// Level is a PAdES baseline level; the names and values are those of the
// CAdES signer, since PAdES levels build on the same CMS.
type Level = cades.Level

// The baseline levels of ETSI EN 319 142-1, clause 6.
const (
	LevelB   = cades.LevelB
	LevelT   = cades.LevelT
	LevelLT  = cades.LevelLT
	LevelLTA = cades.LevelLTA
)

// Timestamper obtains RFC 3161 time-stamp tokens.
type Timestamper = cades.Timestamper

// ValidationData supplies revocation data for B-LT.
type ValidationData = cades.ValidationData

// Appearance places a visible signature: a rectangle on a page showing who
// signed and when. Without one the signature field is invisible (a zero
// rectangle), which ISO 32000-1 (12.7.4.5) allows.
type Appearance struct {
	// Page is 1-based.
	Page int
	// Rect is llx, lly, urx, ury in the page's default user space (points).
	Rect [4]float64
	// Lines replace the default text (signer and date). Characters the
	// standard Helvetica font cannot show are shown without diacritics.
	Lines []string
}

// Options configure one signature.
type Options struct {
	Signer      crypto.Signer
	Certificate *x509.Certificate
	// Chain holds the CA certificates to include (issuer first is usual).
	Chain []*x509.Certificate
	// Hash defaults to SHA-256; SHA-1 and MD5 are refused.
	Hash crypto.Hash
	PSS  bool
	// Level defaults to B-B.
	Level Level
	// SigningTime is the claimed signing time written to M; defaults to now.
	SigningTime time.Time
	// Timestamper is required from B-T up.
	Timestamper Timestamper
	// Validation is required from B-LT up.
	Validation ValidationData
	// Name, Reason, Location and ContactInfo go into the signature
	// dictionary (ISO 32000-1, Table 252); the ByteRange covers them, so
	// they are signed.
	Name, Reason, Location, ContactInfo string
	// FieldName names the new signature field; by default the first free
	// of Signature1, Signature2, ...
	FieldName string
	// Appearance makes the signature visible; nil leaves it invisible.
	Appearance *Appearance
	// Reserve is the room for the CMS signature in bytes; zero estimates
	// it, and a signature that does not fit is made again with more.
	Reserve int
}

// Sign signs pdf and returns the signed document: the input followed by
// one incremental update per level step.
func Sign(ctx context.Context, pdf []byte, o Options) ([]byte, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if o.SigningTime.IsZero() {
		o.SigningTime = time.Now()
	}
	cmsOpts := CMSOptions{Signer: o.Signer, Certificate: o.Certificate, Chain: o.Chain, Hash: o.Hash, PSS: o.PSS}
	if o.Level >= LevelT {
		cmsOpts.Timestamper = o.Timestamper
	}
	reserve := o.Reserve
	if reserve == 0 {
		reserve = estimateReserve(o)
	}
	var (
		out     []byte
		cmsUsed []byte
		err     error
	)
	for attempt := 0; ; attempt++ {
		out, cmsUsed, err = signOnce(ctx, pdf, o, cmsOpts, reserve)
		var re *reserveError
		if errors.As(err, &re) && attempt == 0 && o.Reserve == 0 {
			reserve = re.need + 2048
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	if o.Level >= LevelLT {
		if out, err = addDSS(ctx, out, cmsUsed, reserve, o); err != nil {
			return nil, err
		}
	}
	if o.Level >= LevelLTA {
		if out, err = AddDocumentTimestamp(ctx, out, o.Hash, o.Timestamper); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (o *Options) check() error {
	if o.Signer == nil || o.Certificate == nil {
		return errors.New("pades: a signer and its certificate are required")
	}
	if o.Hash == 0 {
		o.Hash = crypto.SHA256
	}
	if err := signer.CheckNewSignature(o.Signer.Public(), o.Hash); err != nil {
		return fmt.Errorf("pades: %w", err)
	}
	if o.Level < LevelB || o.Level > LevelLTA {
		return fmt.Errorf("pades: unknown level %v", o.Level)
	}
	if o.Level >= LevelT && o.Timestamper == nil {
		return fmt.Errorf("pades: level %s needs a time-stamp authority", o.Level)
	}
	if o.Level >= LevelLT && o.Validation == nil {
		return fmt.Errorf("pades: level %s needs a source of revocation data", o.Level)
	}
	if a := o.Appearance; a != nil {
		if a.Page < 1 {
			return fmt.Errorf("pades: appearance page %d: pages are numbered from 1", a.Page)
		}
		if a.Rect[2] <= a.Rect[0] || a.Rect[3] <= a.Rect[1] {
			return fmt.Errorf("pades: appearance rectangle %v is empty (want llx lly urx ury)", a.Rect)
		}
	}
	return nil
}

// estimateReserve guesses the size of the CMS: the certificates, the
// signature value, the attributes, and a time-stamp token with its chain.
func estimateReserve(o Options) int {
	n := 2048 + len(o.Certificate.Raw) + 1024
	for _, c := range o.Chain {
		n += len(c.Raw)
	}
	if o.Level >= LevelT {
		n += 8192
	}
	return n
}

// signOnce writes the signature field and a placeholder signature
// dictionary as one update, then signs the ByteRange. It returns the signed
// file and the CMS it embedded.
func signOnce(ctx context.Context, pdf []byte, o Options, cmsOpts CMSOptions, reserve int) ([]byte, []byte, error) {
	inc, err := readIncrement(pdf)
	if err != nil {
		return nil, nil, err
	}
	sig := types.Dict{
		"Type":      types.Name("Sig"),
		"Filter":    types.Name("Adobe.PPKLite"),
		"SubFilter": types.Name("ETSI.CAdES.detached"),
		"M":         types.StringLiteral(types.DateString(o.SigningTime)),
		"ByteRange": types.Array{types.Integer(0), types.Integer(0), types.Integer(0), types.Integer(0)},
		"Contents":  types.HexLiteral(zeros(2 * reserve)),
	}
	for k, v := range map[string]string{"Name": o.Name, "Reason": o.Reason, "Location": o.Location, "ContactInfo": o.ContactInfo} {
		if v != "" {
			sig[k] = textString(v)
		}
	}
	if err := addSignatureField(inc, sig, o.FieldName, o.Appearance, appearanceLines(o)); err != nil {
		return nil, nil, err
	}
	out, ph, err := inc.write()
	if err != nil {
		return nil, nil, err
	}
	var used []byte
	err = seal(out, ph, func(signed [][]byte) ([]byte, error) {
		h := o.Hash.New()
		for _, b := range signed {
			h.Write(b)
		}
		v, err := SignCMS(ctx, h.Sum(nil), cmsOpts)
		used = v
		return v, err
	})
	if err != nil {
		return nil, nil, err
	}
	return out, used, nil
}

func zeros(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0'
	}
	return string(b)
}

// textString encodes a PDF text string (ISO 32000-1, 7.9.2.2): as is when
// it is printable ASCII, else UTF-16BE with a byte order mark.
func textString(s string) types.Object {
	ascii := true
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			ascii = false
			break
		}
	}
	if ascii {
		esc, err := types.Escape(s)
		if err == nil {
			return types.StringLiteral(*esc)
		}
	}
	return types.NewHexLiteral([]byte(types.EncodeUTF16String(s)))
}

// appearanceLines is the default text of a visible signature.
func appearanceLines(o Options) []string {
	if o.Appearance == nil {
		return nil
	}
	if len(o.Appearance.Lines) > 0 {
		return o.Appearance.Lines
	}
	name := o.Name
	if name == "" {
		name = o.Certificate.Subject.CommonName
	}
	lines := []string{"Signed electronically by", name, "Date: " + o.SigningTime.Format("2006-01-02 15:04:05 -07:00")}
	if o.Reason != "" {
		lines = append(lines, "Reason: "+o.Reason)
	}
	return lines
}
