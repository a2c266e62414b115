package pades

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

func init() {
	// pdfcpu otherwise creates a configuration directory under the user's
	// home on first use; a verifier on an auditor's laptop must not.
	// (api.DisableConfigDir does this, but importing pdfcpu's api package
	// links its form support and a text-width library whose start-up costs
	// every esig process about 25 ms.)
	model.ConfigPath = "disable"
}

// Limits on hostile input. A real document has a handful of revisions and
// a few dozen fields; these bound the work a crafted one can cause.
const (
	maxRevisions = 64
	maxFields    = 20000
	maxDepth     = 32
)

// Kind tells a signature from a document time stamp.
type Kind int

// Kinds of signature dictionaries (ISO 32000-2, 12.8.1 and 12.8.5).
const (
	KindSignature    Kind = iota // Type Sig: a CMS signature
	KindDocTimestamp             // Type DocTimeStamp, SubFilter ETSI.RFC3161
)

// Revision is the document as one incremental update left it: the prefix
// of the file up to the end of that update.
type Revision struct {
	// EOF is the offset just after the revision's %%EOF marker and End
	// the offset after the end-of-line that may follow it.
	EOF, End int64

	ctx    *model.Context
	err    error
	parsed bool
}

// Signature is one signature dictionary as the revision it signs holds it.
type Signature struct {
	Kind Kind
	// Field is the fully qualified name of the signature field.
	Field string
	// ObjNr is the object that holds the dictionary (the dictionary
	// itself, or the field when the dictionary is direct).
	ObjNr     int
	SubFilter string
	ByteRange []int64
	// Contents is the signature value: the CMS or time-stamp token, with
	// the zero padding the signer reserved.
	Contents []byte
	// Revision indexes Document.Revisions: the revision the ByteRange
	// ends with, which is what the signature signed. -1 when none.
	Revision int
	// Err says why the ByteRange does not soundly cover that revision;
	// such a signature proves nothing about the document.
	Err error

	// Entries of the dictionary, read from the signed revision, so that
	// they are covered by the signature.
	Name, Reason, Location, ContactInfo string
	M                                   *time.Time
	// DocMDP is the certification permission P (1-3) when this is the
	// document's certification signature (ISO 32000-1, 12.8.2.2), else 0.
	DocMDP int
	// Locks are FieldMDP restrictions from the dictionary's Reference and
	// the field's Lock (12.8.2.4; 12.7.4.5, Table 233).
	Locks []FieldLock
	// Warnings note oddities that do not make the signature unsound.
	Warnings []string
}

// FieldLock is a FieldMDP restriction: after signing, the fields it names
// (Action Include), all but those (Exclude) or all (All) must not change.
type FieldLock struct {
	Action string
	Fields []string
}

// Locks reports whether the lock covers the field with this fully
// qualified name (a lock on a parent covers its descendants).
func (l FieldLock) Locks(field string) bool {
	named := false
	for _, f := range l.Fields {
		if field == f || strings.HasPrefix(field, f+".") {
			named = true
		}
	}
	switch l.Action {
	case "All":
		return true
	case "Include":
		return named
	case "Exclude":
		return !named
	}
	return true // an unknown action locks everything: fail closed
}

// Document is a PDF split into its revisions, with every signature found
// in any of them.
type Document struct {
	data      []byte
	Revisions []*Revision
	// Signatures in the order of the revisions they sign.
	Signatures []*Signature
	// Trailing counts bytes after the last revision that are neither
	// white space nor part of an update.
	Trailing int64
	final    *Revision
}

// startxrefEOF finds the end of each update: "startxref", the offset of
// its cross-reference section, "%%EOF" (ISO 32000-1, 7.5.5).
var startxrefEOF = regexp.MustCompile(`startxref[\x00\t\n\f\r ]+\d+[\x00\t\n\f\r ]*%%EOF`)

// Locate splits data into revisions, parses each with pdfcpu and finds
// every signature dictionary reachable from a signature field (through the
// AcroForm or a page's widget annotations), then checks each one's
// ByteRange against the bytes. It fails only when data is not a PDF at all;
// a signature whose ByteRange is unsound carries the reason in Err.
func Locate(data []byte) (*Document, error) {
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		return nil, errors.New("pades: not a PDF (no %PDF- header)")
	}
	d := &Document{data: data}
	for _, m := range startxrefEOF.FindAllIndex(data, -1) {
		end := int64(m[1])
		if bytes.HasPrefix(data[end:], []byte("\r\n")) {
			end += 2
		} else if end < int64(len(data)) && (data[end] == '\n' || data[end] == '\r') {
			end++
		}
		d.Revisions = append(d.Revisions, &Revision{EOF: int64(m[1]), End: end})
		if len(d.Revisions) > maxRevisions {
			return nil, fmt.Errorf("pades: more than %d revisions", maxRevisions)
		}
	}
	last := int64(0)
	if n := len(d.Revisions); n > 0 {
		last = d.Revisions[n-1].End
	}
	d.Trailing = int64(len(bytes.Trim(data[last:], "\x00\t\n\f\r ")))
	if len(d.Revisions) > 0 && d.Trailing == 0 {
		d.final = d.Revisions[len(d.Revisions)-1]
	} else {
		// What a reader shows is the whole file, whatever follows the
		// last %%EOF.
		d.final = &Revision{EOF: int64(len(data)), End: int64(len(data))}
	}
	if _, err := d.final.context(data); err != nil {
		return nil, fmt.Errorf("pades: the PDF cannot be read: %w", err)
	}
	seen := map[[32]byte]bool{}
	revs := d.Revisions
	if n := len(revs); n == 0 || revs[n-1] != d.final {
		revs = append(append([]*Revision(nil), revs...), d.final)
	}
	for i, r := range revs {
		ctx, err := r.context(data)
		if err != nil {
			continue // not a revision pdfcpu can read; a signature ending here says so
		}
		for _, f := range signatureFields(ctx) {
			key := sha256.Sum256([]byte(fmt.Sprint(f.byteRange, "|", f.contents)))
			if seen[key] {
				continue
			}
			seen[key] = true
			d.Signatures = append(d.Signatures, d.check(f, i))
		}
	}
	sort.SliceStable(d.Signatures, func(i, j int) bool { return d.Signatures[i].end() < d.Signatures[j].end() })
	return d, nil
}

func (s *Signature) end() int64 {
	if len(s.ByteRange) == 4 {
		return s.ByteRange[2] + s.ByteRange[3]
	}
	return 1 << 62
}

// context parses the revision's bytes, once.
func (r *Revision) context(data []byte) (*model.Context, error) {
	if !r.parsed {
		r.parsed = true
		r.ctx, r.err = parsePDF(data[:r.End])
	}
	return r.ctx, r.err
}

// parsePDF reads a PDF with pdfcpu; a panic in the library on hostile
// input becomes an error.
func parsePDF(b []byte) (ctx *model.Context, err error) {
	defer func() {
		if r := recover(); r != nil {
			ctx, err = nil, fmt.Errorf("pdfcpu: %v", r)
		}
	}()
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	ctx, err = pdfcpu.Read(bytes.NewReader(b), conf)
	if err == nil && ctx.Encrypt != nil {
		return nil, errors.New("encrypted PDFs are not supported")
	}
	return ctx, err
}

// foundField is a signature field as a revision holds it.
type foundField struct {
	name      string
	field     types.Dict
	objNr     int // the object holding the signature dictionary
	dict      types.Dict
	byteRange types.Array
	contents  string
}

// signatureFields walks the AcroForm field tree and the pages' widget
// annotations for fields of type Sig whose value is a dictionary.
func signatureFields(ctx *model.Context) (out []foundField) {
	defer func() {
		if r := recover(); r != nil {
			out = nil
		}
	}()
	w := &walker{ctx: ctx, visited: map[int]bool{}}
	root, err := ctx.Catalog()
	if err != nil || root == nil {
		return nil
	}
	if form, _ := w.dict(root["AcroForm"]); form != nil {
		fields, _ := w.array(form["Fields"])
		for _, f := range fields {
			w.field(f, "", "", 0, &out)
		}
	}
	for _, p := range pageList(ctx) {
		annots, _ := w.array(p.dict["Annots"])
		for _, a := range annots {
			w.field(a, "", "", 0, &out)
		}
	}
	return out
}

// walker resolves objects with cycle and size bounds.
type walker struct {
	ctx     *model.Context
	visited map[int]bool
	count   int
}

func (w *walker) resolve(o types.Object) (types.Object, int) {
	ref, ok := o.(types.IndirectRef)
	if !ok {
		return o, 0
	}
	v, err := w.ctx.Dereference(ref)
	if err != nil {
		return nil, 0
	}
	return v, ref.ObjectNumber.Value()
}

func (w *walker) dict(o types.Object) (types.Dict, int) {
	v, n := w.resolve(o)
	switch d := v.(type) {
	case types.Dict:
		return d, n
	case types.StreamDict:
		return d.Dict, n
	}
	return nil, n
}

func (w *walker) array(o types.Object) (types.Array, int) {
	v, n := w.resolve(o)
	a, _ := v.(types.Array)
	return a, n
}

// field visits one node of the field tree, inheriting FT and building the
// fully qualified name (ISO 32000-1, 12.7.3.1 and 12.7.3.2).
func (w *walker) field(o types.Object, parent, ft string, depth int, out *[]foundField) {
	d, n := w.dict(o)
	if d == nil || depth > maxDepth || w.count > maxFields {
		return
	}
	if n != 0 {
		if w.visited[n] {
			return
		}
		w.visited[n] = true
	}
	w.count++
	name := parent
	if t, ok := textOf(d["T"]); ok {
		if name != "" {
			name += "."
		}
		name += t
	}
	if v, ok := d["FT"].(types.Name); ok {
		ft = string(v)
	}
	if kids, _ := w.array(d["Kids"]); len(kids) > 0 {
		for _, k := range kids {
			w.field(k, name, ft, depth+1, out)
		}
	}
	if ft != "Sig" {
		return
	}
	v, vn := w.dict(d["V"])
	if v == nil {
		return
	}
	if vn == 0 {
		vn = n
	}
	br, _ := w.array(v["ByteRange"])
	contents := ""
	if c, ok := v["Contents"].(types.HexLiteral); ok {
		contents = string(c)
	} else if c, ok := v["Contents"].(types.StringLiteral); ok {
		contents = string(c)
	}
	*out = append(*out, foundField{name: name, field: d, objNr: vn, dict: v, byteRange: br, contents: contents})
}

// check examines one signature dictionary against the bytes: the ByteRange
// must be [0 a b c] with the hole [a, b) exactly the Contents string of the
// dictionary and b+c the end of a revision (ISO 32000-1, 12.8.1; ETSI EN
// 319 142-1, 5.1 requires the whole file but the Contents value to be
// covered). found is the index of the revision the field was found in.
func (d *Document) check(f foundField, found int) *Signature {
	s := &Signature{Field: f.name, ObjNr: f.objNr, Revision: -1}
	if t, ok := f.dict["Type"].(types.Name); ok && t == "DocTimeStamp" {
		s.Kind = KindDocTimestamp
	}
	if sf, ok := f.dict["SubFilter"].(types.Name); ok {
		s.SubFilter = string(sf)
	}
	if s.SubFilter == "ETSI.RFC3161" {
		s.Kind = KindDocTimestamp
	}
	fail := func(format string, args ...any) *Signature {
		s.Err = fmt.Errorf(format, args...)
		return s
	}
	contents, err := decodeContents(f.dict["Contents"])
	if err != nil {
		return fail("signature dictionary /Contents: %v", err)
	}
	s.Contents = contents
	if len(f.byteRange) != 4 {
		return fail("ByteRange has %d numbers; PAdES needs exactly 4: the file before and after the signature value", len(f.byteRange))
	}
	for _, o := range f.byteRange {
		i, ok := o.(types.Integer)
		if !ok || i < 0 {
			return fail("ByteRange %s holds something other than non-negative integers", f.byteRange.PDFString())
		}
		s.ByteRange = append(s.ByteRange, int64(i))
	}
	a, b, c := s.ByteRange[1], s.ByteRange[2], s.ByteRange[3]
	n := int64(len(d.data))
	switch {
	case s.ByteRange[0] != 0:
		return fail("ByteRange %v does not start at the beginning of the file: bytes 0-%d are not signed", s.ByteRange, s.ByteRange[0]-1)
	case a <= 0 || b <= a:
		return fail("ByteRange %v has no hole for the signature value", s.ByteRange)
	case b > n || c > n-b:
		return fail("ByteRange %v reaches beyond the end of the file (%d bytes)", s.ByteRange, n)
	}
	hole := d.data[a:b]
	if len(hole) < 2 || hole[0] != '<' || hole[len(hole)-1] != '>' || !isHex(hole[1:len(hole)-1]) {
		return fail("ByteRange %v leaves bytes %d-%d unsigned, and they are not a hexadecimal string: the signature does not cover them", s.ByteRange, a, b-1)
	}
	if got, err := hexBytes(hole[1 : len(hole)-1]); err != nil || !bytes.Equal(got, contents) {
		return fail("ByteRange %v leaves bytes %d-%d unsigned, and they are not this signature's Contents", s.ByteRange, a, b-1)
	}
	if !bytes.HasSuffix(bytes.TrimRight(d.data[:a], "\x00\t\n\f\r "), []byte("/Contents")) {
		return fail("ByteRange %v leaves bytes %d-%d unsigned, and they are not the value of a /Contents entry", s.ByteRange, a, b-1)
	}
	end := b + c
	for i, r := range d.Revisions {
		if end >= r.EOF && end <= r.End {
			s.Revision = i
		}
	}
	if s.Revision < 0 {
		return fail("ByteRange %v ends at byte %d, which is not the end of a revision (%%%%EOF): the signature covers part of an update", s.ByteRange, end)
	}
	rev := d.Revisions[s.Revision]
	ctx, err := rev.context(d.data)
	if err != nil {
		return fail("the revision this signature signs (ending at byte %d) cannot be read: %v", end, err)
	}
	entry, ok := ctx.FindTableEntryLight(f.objNr)
	if !ok || entry.Free {
		return fail("the signed revision (ending at byte %d) has no object %d holding this signature dictionary", end, f.objNr)
	}
	if entry.Compressed || entry.Offset == nil {
		return fail("the signature dictionary (object %d) is inside an object stream, so its Contents cannot be left out of the ByteRange", f.objNr)
	}
	if *entry.Offset >= a {
		return fail("the signature dictionary (object %d at byte %d) does not hold the Contents the ByteRange leaves out (bytes %d-%d)", f.objNr, *entry.Offset, a, b-1)
	}
	// Read everything else from the revision the signature signed: every
	// byte of it but the hole is covered, so nothing read there is
	// unsigned, whatever later updates say.
	w := &walker{ctx: ctx, visited: map[int]bool{}}
	var signed types.Dict
	var field types.Dict
	for _, g := range signatureFields(ctx) {
		if g.objNr == f.objNr && g.contents == f.contents {
			signed, field = g.dict, g.field
			if g.name != "" {
				s.Field = g.name
			}
		}
	}
	if signed == nil {
		return fail("the signed revision (ending at byte %d) does not reach this signature dictionary from a signature field", end)
	}
	if br, _ := w.array(signed["ByteRange"]); br.PDFString() != f.byteRange.PDFString() {
		return fail("the signature dictionary in the signed revision has a different ByteRange (%s) than the one found (%s)", br.PDFString(), f.byteRange.PDFString())
	}
	s.readEntries(w, signed, field, ctx, f.objNr)
	if found != s.Revision && found < len(d.Revisions) && d.Revisions[found].End < end {
		s.Warnings = append(s.Warnings, "the signature dictionary was found in an earlier revision than the one it signs")
	}
	return s
}

// readEntries reads the descriptive entries and the modification
// permissions of a signature dictionary from the signed revision.
func (s *Signature) readEntries(w *walker, sig, field types.Dict, ctx *model.Context, objNr int) {
	for key, dst := range map[string]*string{"Name": &s.Name, "Reason": &s.Reason, "Location": &s.Location, "ContactInfo": &s.ContactInfo} {
		v, _ := w.resolve(sig[key])
		if t, ok := textOf(v); ok {
			*dst = t
		}
	}
	if v, _ := w.resolve(sig["M"]); v != nil {
		if t, ok := textOf(v); ok {
			if tm, ok := parseDate(t); ok {
				s.M = &tm
			} else {
				s.Warnings = append(s.Warnings, fmt.Sprintf("the signing time M %q is not a PDF date", t))
			}
		}
	}
	refs, _ := w.array(sig["Reference"])
	for _, r := range refs {
		ref, _ := w.dict(r)
		if ref == nil {
			continue
		}
		params, _ := w.dict(ref["TransformParams"])
		switch method, _ := ref["TransformMethod"].(types.Name); method {
		case "DocMDP":
			p := 2
			if v, _ := w.resolve(params["P"]); v != nil {
				if i, ok := v.(types.Integer); ok {
					p = int(i)
				}
			}
			if p < 1 || p > 3 {
				s.Warnings = append(s.Warnings, fmt.Sprintf("DocMDP permission P %d is not 1, 2 or 3; treated as 1", p))
				p = 1
			}
			if isCertification(w, ctx, objNr) {
				s.DocMDP = p
			} else {
				s.Warnings = append(s.Warnings, "the signature asks for DocMDP but the catalog's Perms does not name it: it is not a certification signature")
			}
		case "FieldMDP":
			s.Locks = append(s.Locks, lockOf(w, params))
		}
	}
	if lock, _ := w.dict(field["Lock"]); lock != nil {
		s.Locks = append(s.Locks, lockOf(w, lock))
	}
}

// isCertification tells whether the catalog's Perms DocMDP entry names the
// signature dictionary (ISO 32000-1, 12.8.4).
func isCertification(w *walker, ctx *model.Context, objNr int) bool {
	root, err := ctx.Catalog()
	if err != nil || root == nil {
		return false
	}
	perms, _ := w.dict(root["Perms"])
	ref, ok := perms["DocMDP"].(types.IndirectRef)
	return ok && ref.ObjectNumber.Value() == objNr
}

func lockOf(w *walker, d types.Dict) FieldLock {
	l := FieldLock{Action: "All"}
	if a, ok := d["Action"].(types.Name); ok {
		l.Action = string(a)
	}
	fields, _ := w.array(d["Fields"])
	for _, f := range fields {
		v, _ := w.resolve(f)
		if t, ok := textOf(v); ok {
			l.Fields = append(l.Fields, t)
		}
	}
	return l
}

// decodeContents returns the bytes of the Contents string.
func decodeContents(o types.Object) ([]byte, error) {
	switch v := o.(type) {
	case types.HexLiteral:
		return hexBytes([]byte(v))
	case types.StringLiteral:
		return types.Unescape(string(v))
	case nil:
		return nil, errors.New("missing")
	}
	return nil, fmt.Errorf("is a %T, not a string", o)
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// hexBytes decodes a PDF hexadecimal string body: white space is ignored
// and an odd final digit is followed by 0 (ISO 32000-1, 7.3.4.3).
func hexBytes(b []byte) ([]byte, error) {
	digits := make([]byte, 0, len(b)+1)
	for _, c := range b {
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0:
		case isHex([]byte{c}):
			digits = append(digits, c)
		default:
			return nil, fmt.Errorf("%q is not a hexadecimal digit", c)
		}
	}
	if len(digits)%2 == 1 {
		digits = append(digits, '0')
	}
	out := make([]byte, len(digits)/2)
	for i := range out {
		v, err := strconv.ParseUint(string(digits[2*i:2*i+2]), 16, 8)
		if err != nil {
			return nil, err
		}
		out[i] = byte(v)
	}
	return out, nil
}

// parseDate reads a PDF date, D:YYYYMMDDHHmmSSOHH'mm' with every part
// after the year optional (ISO 32000-1, 7.9.4).
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "D:")
	digits := 0
	for digits < len(s) && digits < 14 && s[digits] >= '0' && s[digits] <= '9' {
		digits++
	}
	if digits < 4 || digits%2 != 0 {
		return time.Time{}, false
	}
	num := s[:digits] + "0101000000"[digits-4:]
	rest := s[digits:]
	loc := time.UTC
	if rest != "" && rest != "Z" && !strings.HasPrefix(rest, "Z") {
		sign := 1
		switch rest[0] {
		case '+':
		case '-':
			sign = -1
		default:
			return time.Time{}, false
		}
		tz := strings.NewReplacer("'", "").Replace(rest[1:])
		if len(tz) < 2 {
			return time.Time{}, false
		}
		h, err1 := strconv.Atoi(tz[:2])
		m := 0
		var err2 error
		if len(tz) >= 4 {
			m, err2 = strconv.Atoi(tz[2:4])
		}
		if err1 != nil || err2 != nil || h > 23 || m > 59 {
			return time.Time{}, false
		}
		loc = time.FixedZone("", sign*(h*3600+m*60))
	}
	t, err := time.ParseInLocation("20060102150405", num, loc)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}
