package pades

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
	"golang.org/x/text/unicode/norm"
)

// addSignatureField adds a signature field whose value is sig, merged with
// its widget annotation (ISO 32000-1, 12.7.4.5 and 12.7.3.1), to the
// AcroForm and to the page's annotations. The widget is invisible unless
// app places it; SigFlags 3 tells readers that the document holds
// signatures and must only be appended to (12.7.2, Table 219).
func addSignatureField(inc *increment, sig types.Dict, name string, app *Appearance, lines []string) error {
	root, rootNr, err := inc.root()
	if err != nil {
		return err
	}
	if p := certificationLevel(inc, root); p == 1 && sig["Type"] != types.Name("DocTimeStamp") {
		// Another signature would break the certification: its author
		// permitted no change but DSS and document time stamps.
		return errors.New("pades: the document is certified with no changes permitted (DocMDP P=1); signing it would invalidate the certification")
	}
	if err := inc.ctx.EnsurePageCount(); err != nil {
		return fmt.Errorf("pades: page tree: %w", err)
	}
	pageNr := 1
	if app != nil {
		pageNr = app.Page
	}
	if pageNr > inc.ctx.PageCount {
		return fmt.Errorf("pades: page %d does not exist (the document has %d)", pageNr, inc.ctx.PageCount)
	}
	page, pageRef, _, err := inc.ctx.PageDict(pageNr, false)
	if err != nil {
		return fmt.Errorf("pades: page %d: %w", pageNr, err)
	}
	form, err := inc.dictIn(root, rootNr, "AcroForm")
	if err != nil {
		return err
	}
	if name == "" {
		name = freeFieldName(inc, form)
	} else if fieldExists(inc, form, name) {
		return fmt.Errorf("pades: the document already has a field named %q", name)
	}
	sigRef := inc.add(sig)
	widget := types.Dict{
		"Type":    types.Name("Annot"),
		"Subtype": types.Name("Widget"),
		"FT":      types.Name("Sig"),
		"T":       textString(name),
		"V":       sigRef,
		// Print and Locked (ISO 32000-1, 12.5.3): the signature's
		// appearance prints, and readers do not let it be moved.
		"F": types.Integer(4 | 128),
		"P": *pageRef,
	}
	rect := types.Array{types.Float(0), types.Float(0), types.Float(0), types.Float(0)}
	if app != nil {
		rect = types.Array{types.Float(app.Rect[0]), types.Float(app.Rect[1]), types.Float(app.Rect[2]), types.Float(app.Rect[3])}
		ap, err := appearanceStream(inc, app.Rect[2]-app.Rect[0], app.Rect[3]-app.Rect[1], lines)
		if err != nil {
			return err
		}
		widget["AP"] = types.Dict{"N": ap}
	}
	widget["Rect"] = rect
	widgetRef := inc.add(widget)
	formNr := rootNr
	if r, ok := root["AcroForm"].(types.IndirectRef); ok {
		formNr = r.ObjectNumber.Value()
	}
	if err := inc.appendTo(form, formNr, "Fields", widgetRef); err != nil {
		return err
	}
	form["SigFlags"] = types.Integer(3)
	inc.touch(formNr)
	return inc.appendTo(page, pageRef.ObjectNumber.Value(), "Annots", widgetRef)
}

// fieldNames lists the partial names of the AcroForm's top-level fields.
func fieldNames(inc *increment, form types.Dict) []string {
	fields, err := inc.ctx.DereferenceArray(form["Fields"])
	if err != nil {
		return nil
	}
	var out []string
	for _, f := range fields {
		d, err := inc.ctx.DereferenceDict(f)
		if err != nil || d == nil {
			continue
		}
		if s, err := types.StringOrHexLiteral(d["T"]); err == nil && s != nil {
			out = append(out, *s)
		}
	}
	return out
}

func fieldExists(inc *increment, form types.Dict, name string) bool {
	for _, n := range fieldNames(inc, form) {
		if n == name {
			return true
		}
	}
	return false
}

func freeFieldName(inc *increment, form types.Dict) string {
	for i := 1; ; i++ {
		n := fmt.Sprintf("Signature%d", i)
		if !fieldExists(inc, form, n) {
			return n
		}
	}
}

// appearanceStream draws the visible signature: a thin frame and the lines
// of text in Helvetica, sized to fit the rectangle (ISO 32000-1, 12.5.5).
func appearanceStream(inc *increment, w, h float64, lines []string) (types.IndirectRef, error) {
	if len(lines) == 0 {
		return types.IndirectRef{}, errors.New("pades: a visible signature needs text")
	}
	size := h / (float64(len(lines))*1.25 + 0.5)
	longest := 0
	for _, l := range lines {
		if n := len([]rune(l)); n > longest {
			longest = n
		}
	}
	// Helvetica averages about half an em per character.
	if fit := (w - 8) / (0.52 * float64(longest)); fit < size {
		size = fit
	}
	if size > 12 {
		size = 12
	}
	var b strings.Builder
	fmt.Fprintf(&b, "q 0.2 0.2 0.5 RG 0.75 w 0.5 0.5 %.2f %.2f re S Q\n", w-1, h-1)
	fmt.Fprintf(&b, "BT /Helv %.2f Tf 0 0 0.3 rg %.2f TL 4 %.2f Td\n", size, size*1.25, h-size*1.1-2)
	for i, l := range lines {
		if i > 0 {
			b.WriteString("T* ")
		}
		fmt.Fprintf(&b, "(%s) Tj\n", pdfLiteral(winAnsi(l)))
	}
	b.WriteString("ET\n")
	sd, err := inc.ctx.NewStreamDictForBuf([]byte(b.String()))
	if err != nil {
		return types.IndirectRef{}, err
	}
	sd.InsertName("Type", "XObject")
	sd.InsertName("Subtype", "Form")
	sd.Insert("BBox", types.Array{types.Float(0), types.Float(0), types.Float(w), types.Float(h)})
	sd.Insert("Resources", types.Dict{"Font": types.Dict{"Helv": types.Dict{
		"Type": types.Name("Font"), "Subtype": types.Name("Type1"),
		"BaseFont": types.Name("Helvetica"), "Encoding": types.Name("WinAnsiEncoding"),
	}}})
	if err := sd.Encode(); err != nil {
		return types.IndirectRef{}, err
	}
	return inc.add(*sd), nil
}

// winAnsi maps text to what WinAnsiEncoding can show: Latin-1 stays,
// other letters lose their diacritics (ł becomes l), the rest becomes '?'.
// The appearance is a picture for people; the signed identity is the
// certificate's.
func winAnsi(s string) []byte {
	var out []byte
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'ł':
			r = 'l'
		case r == 'Ł':
			r = 'L'
		}
		if r < 0x20 || r > 0xff || (r >= 0x7f && r < 0xa0) {
			r = '?'
		}
		out = append(out, byte(r))
	}
	return out
}

// pdfLiteral escapes bytes for a PDF literal string.
func pdfLiteral(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		switch c {
		case '(', ')', '\\':
			s.WriteByte('\\')
			s.WriteByte(c)
		default:
			s.WriteByte(c)
		}
	}
	return s.String()
}

// certificationLevel returns the DocMDP permission P of the document's
// certification signature (ISO 32000-1, 12.8.2.2), 0 when it has none.
func certificationLevel(inc *increment, root types.Dict) int {
	perms, err := inc.ctx.DereferenceDict(root["Perms"])
	if err != nil || perms == nil {
		return 0
	}
	sig, err := inc.ctx.DereferenceDict(perms["DocMDP"])
	if err != nil || sig == nil {
		return 0
	}
	refs, _ := inc.ctx.DereferenceArray(sig["Reference"])
	for _, r := range refs {
		ref, err := inc.ctx.DereferenceDict(r)
		if err != nil || ref == nil || ref.NameEntry("TransformMethod") == nil || *ref.NameEntry("TransformMethod") != "DocMDP" {
			continue
		}
		params, _ := inc.ctx.DereferenceDict(ref["TransformParams"])
		if p, err := inc.ctx.DereferenceInteger(params["P"]); err == nil && p != nil {
			return p.Value()
		}
		return 2
	}
	return 0
}
