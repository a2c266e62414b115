// Package padestest makes PDF documents for tests of PAdES signing and
// verification: plain documents generated with pdfcpu (pages of text, an
// optional form field), and incremental updates written by hand, the way an
// attacker or a careless tool would append them after a signature. Nothing
// here comes from a third-party PDF.
package padestest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"esig/signer/pades"
)

func init() { api.DisableConfigDir() }

// Spec describes a document to generate.
type Spec struct {
	// Pages holds the text of each page; one page "Umowa" when empty.
	Pages []string
	// Field adds a text form field "name" on page 1 with this value.
	Field string
	// XRefStream writes a cross-reference stream and object streams
	// instead of a classic table.
	XRefStream bool
}

// Document generates a PDF with pdfcpu.
func Document(t testing.TB, s Spec) []byte {
	t.Helper()
	b, err := document(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func document(s Spec) ([]byte, error) {
	if len(s.Pages) == 0 {
		s.Pages = []string{"Umowa"}
	}
	x, err := pdfcpu.CreateXRefTableWithRootDict()
	if err != nil {
		return nil, err
	}
	root, err := x.Catalog()
	if err != nil {
		return nil, err
	}
	font, err := x.IndRefForNewObject(types.Dict{"Type": types.Name("Font"), "Subtype": types.Name("Type1"),
		"BaseFont": types.Name("Helvetica"), "Encoding": types.Name("WinAnsiEncoding")})
	if err != nil {
		return nil, err
	}
	pages := types.Dict{"Type": types.Name("Pages"), "Count": types.Integer(len(s.Pages)),
		"MediaBox": types.Array{types.Integer(0), types.Integer(0), types.Integer(595), types.Integer(842)}}
	pagesRef, err := x.IndRefForNewObject(pages)
	if err != nil {
		return nil, err
	}
	var kids types.Array
	var first types.Dict
	var firstRef *types.IndirectRef
	for _, text := range s.Pages {
		content, err := x.NewStreamDictForBuf([]byte(PageContent(text)))
		if err != nil {
			return nil, err
		}
		if err := content.Encode(); err != nil {
			return nil, err
		}
		cRef, err := x.IndRefForNewObject(*content)
		if err != nil {
			return nil, err
		}
		page := types.Dict{"Type": types.Name("Page"), "Parent": *pagesRef, "Contents": *cRef,
			"Resources": types.Dict{"Font": types.Dict{"F1": *font}}}
		ref, err := x.IndRefForNewObject(page)
		if err != nil {
			return nil, err
		}
		if first == nil {
			first, firstRef = page, ref
		}
		kids = append(kids, *ref)
	}
	pages["Kids"] = kids
	root["Pages"] = *pagesRef
	x.PageCount = len(s.Pages)
	if s.Field != "" {
		esc, err := types.Escape(s.Field)
		if err != nil {
			return nil, err
		}
		field := types.Dict{"Type": types.Name("Annot"), "Subtype": types.Name("Widget"), "FT": types.Name("Tx"),
			"T": types.StringLiteral("name"), "V": types.StringLiteral(*esc), "P": *firstRef, "F": types.Integer(4),
			"Rect": types.Array{types.Integer(72), types.Integer(600), types.Integer(300), types.Integer(620)}}
		fRef, err := x.IndRefForNewObject(field)
		if err != nil {
			return nil, err
		}
		first["Annots"] = types.Array{*fRef}
		root["AcroForm"] = types.Dict{"Fields": types.Array{*fRef},
			"DA": types.StringLiteral("/Helv 0 Tf 0 g"),
			"DR": types.Dict{"Font": types.Dict{"Helv": *font}}}
	}
	conf := model.NewDefaultConfiguration()
	conf.WriteXRefStream = s.XRefStream
	conf.WriteObjectStream = s.XRefStream
	ctx := pdfcpu.CreateContext(x, conf)
	var buf bytes.Buffer
	if err := api.WriteContext(ctx, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// PageContent is the content stream Document writes for a page's text.
func PageContent(text string) string {
	return fmt.Sprintf("BT /F1 24 Tf 72 720 Td (%s) Tj ET\n", text)
}

// Update is an incremental update written by hand: objects by number,
// given as the text between "N 0 obj" and "endobj", appended with a
// classic cross-reference section whose trailer points back to the last
// one (ISO 32000-1, 7.5.6).
type Update map[int]string

var startxrefRE = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`)

// Append writes u after pdf. The trailer keeps the document's Root and
// ID; Size grows to cover the new objects.
func Append(t testing.TB, pdf []byte, u Update) []byte {
	t.Helper()
	out, err := appendUpdate(pdf, u)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func appendUpdate(pdf []byte, u Update) ([]byte, error) {
	m := startxrefRE.FindSubmatch(pdf)
	if m == nil {
		return nil, fmt.Errorf("no startxref at the end of the document")
	}
	prev, _ := strconv.Atoi(string(m[1]))
	ctx, err := Read(pdf)
	if err != nil {
		return nil, err
	}
	size := *ctx.Size
	var nums []int
	for n := range u {
		nums = append(nums, n)
		if n >= size {
			size = n + 1
		}
	}
	sort.Ints(nums)
	var b bytes.Buffer
	b.Write(pdf)
	if !bytes.HasSuffix(pdf, []byte("\n")) {
		b.WriteByte('\n')
	}
	offsets := map[int]int{}
	for _, n := range nums {
		offsets[n] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", n, u[n])
	}
	xref := b.Len()
	b.WriteString("xref\n")
	for _, n := range nums {
		fmt.Fprintf(&b, "%d 1\n%010d 00000 n \n", n, offsets[n])
	}
	trailer := fmt.Sprintf("/Size %d /Root %s /Prev %d", size, ctx.Root.PDFString(), prev)
	if ctx.ID != nil {
		trailer += " /ID " + ctx.ID.PDFString()
	}
	fmt.Fprintf(&b, "trailer\n<< %s >>\nstartxref\n%d\n%%%%EOF\n", trailer, xref)
	return b.Bytes(), nil
}

// Read parses a PDF with pdfcpu (for tests that need an object's number
// or its current text).
func Read(pdf []byte) (*model.Context, error) {
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	return api.ReadContext(bytes.NewReader(pdf), conf)
}

// Object returns the text of object n in pdf's newest revision.
func Object(t testing.TB, pdf []byte, n int) string {
	t.Helper()
	ctx, err := Read(pdf)
	if err != nil {
		t.Fatal(err)
	}
	o, err := ctx.FindObject(n)
	if err != nil {
		t.Fatal(err)
	}
	return o.PDFString()
}

// PageObject returns the object number and text of page n (1-based).
func PageObject(t testing.TB, pdf []byte, n int) (int, types.Dict) {
	t.Helper()
	ctx, err := Read(pdf)
	if err != nil {
		t.Fatal(err)
	}
	if err := ctx.EnsurePageCount(); err != nil {
		t.Fatal(err)
	}
	d, ref, _, err := ctx.PageDict(n, false)
	if err != nil {
		t.Fatal(err)
	}
	return ref.ObjectNumber.Value(), d
}

// Stream formats a stream object body with content as it is.
func Stream(dict, content string) string {
	dict = strings.TrimSpace(dict)
	dict = strings.TrimSuffix(strings.TrimPrefix(dict, "<<"), ">>")
	return fmt.Sprintf("<<%s /Length %d>>\nstream\n%s\nendstream", dict, len(content), content)
}

// NextObject is the first unused object number of pdf.
func NextObject(t testing.TB, pdf []byte) int {
	t.Helper()
	ctx, err := Read(pdf)
	if err != nil {
		t.Fatal(err)
	}
	return *ctx.Size
}

// Sig is a signature written by hand, for documents esig's signer would
// never make: certifications, field locks, ByteRanges that lie.
type Sig struct {
	Signer      crypto.Signer
	Certificate *x509.Certificate
	Chain       []*x509.Certificate
	// SubFilter defaults to ETSI.CAdES.detached.
	SubFilter string
	// Dict holds extra entries for the signature dictionary, as PDF text
	// ("/Reason (...) /Reference [...]").
	Dict string
	// Field holds extra entries for the signature field ("/Lock <<...>>").
	Field string
	// Catalog, when set, returns extra catalog entries given the
	// signature dictionary's object number ("/Perms << /DocMDP 12 0 R >>").
	Catalog func(sigObj int) string
	// ByteRange, when set, replaces the correct ByteRange [0 a b n-b],
	// given the signed file (its ByteRange and Contents not yet filled
	// in) and the Contents string at [a, b).
	ByteRange func(file []byte, a, b int64) []int64
	// ByteRangeText, when set, is written as the ByteRange instead of
	// numbers (for ByteRanges that are not even numbers); give Contents.
	ByteRangeText string
	// SignBytes, when set, makes the signature value from the bytes the
	// ByteRange covers, in place of esig's PAdES CMS.
	SignBytes func(signed []byte) ([]byte, error)
	// Contents, when set, is written instead of a signature.
	Contents []byte
	// Reserve is the room for the signature in bytes (default 8192).
	Reserve int
	// Time is the M entry; default now.
	Time time.Time
}

// placeholderBR is wide enough for any ByteRange a test writes.
const placeholderBR = "[0 0000000000 0000000000 0000000000 0000000000 0000000000]"

// HandSign appends an incremental update with a signature field on page 1
// and a signature dictionary written as s says, then signs the ByteRange
// with esig's CMS (signer/pades.SignCMS) unless s.Contents is given.
func HandSign(t testing.TB, pdf []byte, s Sig) []byte {
	t.Helper()
	out, err := handSign(pdf, s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func handSign(pdf []byte, s Sig) ([]byte, error) {
	ctx, err := Read(pdf)
	if err != nil {
		return nil, err
	}
	if s.SubFilter == "" {
		s.SubFilter = "ETSI.CAdES.detached"
	}
	if s.Reserve == 0 {
		s.Reserve = 8192
	}
	if s.Time.IsZero() {
		s.Time = time.Now()
	}
	sigNr, fieldNr := *ctx.Size, *ctx.Size+1
	if err := ctx.EnsurePageCount(); err != nil {
		return nil, err
	}
	page, pageRef, _, err := ctx.PageDict(1, false)
	if err != nil {
		return nil, err
	}
	root, err := ctx.Catalog()
	if err != nil {
		return nil, err
	}
	fieldRef := *types.NewIndirectRef(fieldNr, 0)
	newRoot := root.Clone().(types.Dict)
	form, _ := ctx.DereferenceDict(root["AcroForm"])
	if form == nil {
		form = types.Dict{}
	} else {
		form = form.Clone().(types.Dict)
	}
	fields, _ := ctx.DereferenceArray(form["Fields"])
	form["Fields"] = append(append(types.Array(nil), fields...), fieldRef)
	form["SigFlags"] = types.Integer(3)
	newRoot["AcroForm"] = form
	newPage := page.Clone().(types.Dict)
	annots, _ := ctx.DereferenceArray(page["Annots"])
	newPage["Annots"] = append(append(types.Array(nil), annots...), fieldRef)
	rootText := newRoot.PDFString()
	if s.Catalog != nil {
		rootText = strings.TrimSuffix(rootText, ">>") + s.Catalog(sigNr) + ">>"
	}
	sigText := fmt.Sprintf("<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/%s/M(%s)%s/ByteRange %s/Contents<%s>>>",
		s.SubFilter, types.DateString(s.Time), s.Dict, placeholderBR, strings.Repeat("0", 2*s.Reserve))
	fieldText := fmt.Sprintf("<</Type/Annot/Subtype/Widget/FT/Sig/T(Signature%d)/V %d 0 R/Rect[0 0 0 0]/F 132/P %s%s>>",
		sigNr, sigNr, pageRef.PDFString(), s.Field)
	out, err := appendUpdate(pdf, Update{
		ctx.Root.ObjectNumber.Value(): rootText,
		pageRef.ObjectNumber.Value():  newPage.PDFString(),
		sigNr:                         sigText,
		fieldNr:                       fieldText,
	})
	if err != nil {
		return nil, err
	}
	head := fmt.Sprintf("\n%d 0 obj\n", sigNr)
	obj := bytes.LastIndex(out, []byte(head))
	brAt := bytes.Index(out[obj:], []byte(placeholderBR)) + obj
	a := int64(bytes.Index(out[obj:], []byte("/Contents<")) + obj + len("/Contents"))
	b := a + int64(2*s.Reserve+2)
	n := int64(len(out))
	br := []int64{0, a, b, n - b}
	if s.ByteRange != nil {
		br = s.ByteRange(out, a, b)
	}
	var brText []string
	for _, v := range br {
		brText = append(brText, strconv.FormatInt(v, 10))
	}
	text := "[" + strings.Join(brText, " ") + "]"
	if s.ByteRangeText != "" {
		text = s.ByteRangeText
	}
	if len(text) > len(placeholderBR) {
		return nil, fmt.Errorf("ByteRange %s does not fit", text)
	}
	copy(out[brAt:], fmt.Sprintf("%-*s", len(placeholderBR), text))
	value := s.Contents
	if value == nil {
		var signed []byte
		for i := 0; i+1 < len(br); i += 2 {
			if br[i] < 0 || br[i+1] < 0 || br[i]+br[i+1] > n {
				return nil, fmt.Errorf("ByteRange %v is outside the file; give Contents", br)
			}
			signed = append(signed, out[br[i]:br[i]+br[i+1]]...)
		}
		if s.SignBytes != nil {
			value, err = s.SignBytes(signed)
		} else {
			digest := sha256.Sum256(signed)
			value, err = pades.SignCMS(context.Background(), digest[:], pades.CMSOptions{Signer: s.Signer, Certificate: s.Certificate, Chain: s.Chain})
		}
		if err != nil {
			return nil, err
		}
	}
	enc := strings.ToUpper(hex.EncodeToString(value))
	if len(enc) > 2*s.Reserve {
		return nil, fmt.Errorf("the signature needs %d bytes; reserve more", len(value))
	}
	copy(out[a+1:], enc)
	return out, nil
}
