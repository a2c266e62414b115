package pades

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// changeKind classifies a difference between the revision a signature
// signed and the document as a reader now shows it, in the categories of
// ISO 32000-1 (12.8.2.2, DocMDP) and of ETSI TS 119 102-1's PDF checks.
type changeKind int

const (
	changeDSS          changeKind = iota // the DSS (validation data)
	changeDocTimestamp                   // a document time stamp field
	changeSignature                      // a new or newly signed signature field
	changeFormFill                       // a form field's value
	changeAnnotation                     // an annotation added, removed or changed
	changePage                           // a page added, removed, or its content or resources changed
	changeOther                          // anything else a reader may act on (catalog, form definitions)
	changeUnknown                        // the comparison itself failed: nothing can be vouched for
)

// change is one difference, described for the report.
type change struct {
	kind  changeKind
	field string // the form field concerned, for FieldMDP
	what  string
}

// maxCompare bounds the objects one comparison may visit.
const maxCompare = 200000

// comparer compares objects of two revisions of one file. Objects that
// both revisions take from the same bytes are equal without looking
// further; others are compared by value, refs resolved on each side.
type comparer struct {
	a, b    *model.Context
	pairs   map[[2]int]bool
	visited int
	// incomplete is set when the bound was reached: the comparison then
	// reports a difference, since it cannot vouch for equality.
	incomplete bool
}

func newComparer(a, b *model.Context) *comparer {
	return &comparer{a: a, b: b, pairs: map[[2]int]bool{}}
}

// sameBytes tells whether object n is read from the same place in both
// revisions (the later one then holds the earlier one's bytes).
func (c *comparer) sameBytes(n int) bool {
	ea, okA := c.a.FindTableEntryLight(n)
	eb, okB := c.b.FindTableEntryLight(n)
	if !okA || !okB || ea.Free || eb.Free || ea.Generation == nil || eb.Generation == nil || *ea.Generation != *eb.Generation {
		return false
	}
	if ea.Compressed || eb.Compressed {
		if !ea.Compressed || !eb.Compressed || ea.ObjectStream == nil || eb.ObjectStream == nil ||
			*ea.ObjectStream != *eb.ObjectStream || ea.ObjectStreamInd == nil || eb.ObjectStreamInd == nil ||
			*ea.ObjectStreamInd != *eb.ObjectStreamInd {
			return false
		}
		return c.sameBytes(*ea.ObjectStream)
	}
	if ea.Offset == nil || eb.Offset == nil || *ea.Offset != *eb.Offset {
		return false
	}
	// A stream's length may be an object of its own that a later update
	// redefines: then the bytes read differ after all.
	sa, okA := ea.Object.(types.StreamDict)
	sb, okB := eb.Object.(types.StreamDict)
	if okA != okB {
		return false
	}
	if okA && (sa.StreamLength == nil) != (sb.StreamLength == nil) ||
		okA && sa.StreamLength != nil && *sa.StreamLength != *sb.StreamLength {
		return false
	}
	return true
}

// equal compares x (in revision a) with y (in revision b), leaving out the
// top-level keys in skip.
func (c *comparer) equal(x, y types.Object, skip ...string) bool {
	c.visited++
	if c.visited > maxCompare {
		c.incomplete = true
		return false
	}
	rx, xRef := x.(types.IndirectRef)
	ry, yRef := y.(types.IndirectRef)
	if xRef && yRef && len(skip) == 0 {
		na, nb := rx.ObjectNumber.Value(), ry.ObjectNumber.Value()
		if na == nb && c.sameBytes(na) {
			return true
		}
		key := [2]int{na, nb}
		if v, ok := c.pairs[key]; ok {
			return v
		}
		c.pairs[key] = true // assumed while comparing, for cycles
		xv, _ := c.a.Dereference(rx)
		yv, _ := c.b.Dereference(ry)
		eq := c.equalValues(xv, yv)
		c.pairs[key] = eq
		return eq
	}
	if xRef {
		x, _ = c.a.Dereference(rx)
	}
	if yRef {
		y, _ = c.b.Dereference(ry)
	}
	return c.equalValues(x, y, skip...)
}

func (c *comparer) equalValues(x, y types.Object, skip ...string) bool {
	switch xv := x.(type) {
	case nil:
		return y == nil
	case types.Dict:
		yv, ok := y.(types.Dict)
		return ok && c.equalDicts(xv, yv, skip)
	case types.StreamDict:
		yv, ok := y.(types.StreamDict)
		if !ok || !c.equalDicts(xv.Dict, yv.Dict, append(skip, "Length")) {
			return false
		}
		return bytes.Equal(streamBytes(xv), streamBytes(yv))
	case types.Array:
		yv, ok := y.(types.Array)
		if !ok || len(xv) != len(yv) {
			return false
		}
		for i := range xv {
			if !c.equal(xv[i], yv[i]) {
				return false
			}
		}
		return true
	case types.StringLiteral, types.HexLiteral:
		bx, okX := stringBytes(x)
		by, okY := stringBytes(y)
		return okX && okY && bytes.Equal(bx, by)
	case types.Integer:
		if yv, ok := y.(types.Float); ok {
			return float64(xv) == float64(yv)
		}
		yv, ok := y.(types.Integer)
		return ok && xv == yv
	case types.Float:
		if yv, ok := y.(types.Integer); ok {
			return float64(xv) == float64(yv)
		}
		yv, ok := y.(types.Float)
		return ok && xv == yv
	}
	return x.PDFString() == y.PDFString()
}

func (c *comparer) equalDicts(x, y types.Dict, skip []string) bool {
	skipped := func(k string) bool {
		for _, s := range skip {
			if s == k {
				return true
			}
		}
		return false
	}
	for k, v := range x {
		if skipped(k) {
			continue
		}
		w, ok := y[k]
		if !ok || !c.equal(v, w) {
			return false
		}
	}
	for k := range y {
		if _, ok := x[k]; !ok && !skipped(k) {
			return false
		}
	}
	return true
}

func streamBytes(s types.StreamDict) []byte {
	if s.Raw != nil {
		return s.Raw
	}
	return s.Content
}

func stringBytes(o types.Object) ([]byte, bool) {
	switch v := o.(type) {
	case types.StringLiteral:
		b, err := types.Unescape(string(v))
		return b, err == nil
	case types.HexLiteral:
		b, err := hexBytes([]byte(v))
		return b, err == nil
	}
	return nil, false
}

// page is one page with the attributes it inherits from the page tree
// (ISO 32000-1, 7.7.3.4).
type page struct {
	objNr int
	dict  types.Dict
	// effective is the page dictionary with inherited Resources,
	// MediaBox, CropBox and Rotate filled in, without Parent and Annots.
	effective types.Dict
}

// pageList walks the page tree in order, bounded against cycles.
func pageList(ctx *model.Context) []page {
	root, err := ctx.Catalog()
	if err != nil || root == nil {
		return nil
	}
	var out []page
	visited := map[int]bool{}
	var walk func(o types.Object, inherited types.Dict, depth int)
	walk = func(o types.Object, inherited types.Dict, depth int) {
		ref, ok := o.(types.IndirectRef)
		if !ok || depth > maxDepth || len(out) > 100000 || visited[ref.ObjectNumber.Value()] {
			return
		}
		visited[ref.ObjectNumber.Value()] = true
		d, err := ctx.DereferenceDict(ref)
		if err != nil || d == nil {
			return
		}
		inh := types.Dict{}
		for k, v := range inherited {
			inh[k] = v
		}
		for _, k := range []string{"Resources", "MediaBox", "CropBox", "Rotate"} {
			if v, ok := d[k]; ok {
				inh[k] = v
			}
		}
		kids, _ := ctx.DereferenceArray(d["Kids"])
		if t, _ := d["Type"].(types.Name); t == "Pages" || (t != "Page" && kids != nil) {
			for _, k := range kids {
				walk(k, inh, depth+1)
			}
			return
		}
		eff := types.Dict{}
		for k, v := range inh {
			eff[k] = v
		}
		for k, v := range d {
			if k != "Parent" && k != "Annots" {
				eff[k] = v
			}
		}
		out = append(out, page{objNr: ref.ObjectNumber.Value(), dict: d, effective: eff})
	}
	walk(root["Pages"], nil, 0)
	return out
}

// formField is a terminal form field with its fully qualified name.
type formField struct {
	name  string
	ft    string
	dict  types.Dict
	objNr int
	// widgets are the objects of the field's widget annotations: the
	// field itself when merged with its widget, and its widget kids.
	widgets []int
}

// formFields lists the terminal fields of the AcroForm (12.7.3.1).
func formFields(ctx *model.Context) map[string]formField {
	out := map[string]formField{}
	root, err := ctx.Catalog()
	if err != nil || root == nil {
		return out
	}
	w := &walker{ctx: ctx, visited: map[int]bool{}}
	form, _ := w.dict(root["AcroForm"])
	fields, _ := w.array(form["Fields"])
	var walk func(o types.Object, parent, ft string, depth int)
	walk = func(o types.Object, parent, ft string, depth int) {
		d, n := w.dict(o)
		if d == nil || depth > maxDepth || len(out) > maxFields || (n != 0 && w.visited[n]) {
			return
		}
		if n != 0 {
			w.visited[n] = true
		}
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
		kids, _ := w.array(d["Kids"])
		hasFieldKids := false
		for _, k := range kids {
			if kd, _ := w.dict(k); kd != nil && kd["T"] != nil {
				hasFieldKids = true
			}
		}
		if hasFieldKids {
			for _, k := range kids {
				walk(k, name, ft, depth+1)
			}
			return
		}
		if _, dup := out[name]; dup {
			name = fmt.Sprintf("%s#%d", name, n)
		}
		f := formField{name: name, ft: ft, dict: d, objNr: n}
		if n != 0 {
			f.widgets = append(f.widgets, n)
		}
		for _, k := range kids {
			if r, ok := k.(types.IndirectRef); ok {
				f.widgets = append(f.widgets, r.ObjectNumber.Value())
			}
		}
		out[name] = f
	}
	for _, f := range fields {
		walk(f, "", "", 0)
	}
	return out
}

// changes lists what differs between the signed revision a and the
// document as it now is, b.
func changes(a, b *model.Context) (out []change) {
	defer func() {
		if r := recover(); r != nil {
			out = append(out, change{kind: changeUnknown, what: fmt.Sprintf("the document cannot be compared with the signed revision (%v)", r)})
		}
	}()
	c := newComparer(a, b)
	add := func(k changeKind, field, format string, args ...any) {
		out = append(out, change{kind: k, field: field, what: fmt.Sprintf(format, args...)})
	}

	// Pages: their number, then each one's content, resources and boxes.
	pa, pb := pageList(a), pageList(b)
	if len(pa) != len(pb) {
		add(changePage, "", "the document had %d page(s) when signed and has %d now", len(pa), len(pb))
	}
	for i := 0; i < len(pa) && i < len(pb); i++ {
		if !c.equalValues(pa[i].effective, pb[i].effective) {
			add(changePage, "", "page %d: its content, resources or size changed after signing", i+1)
		}
	}

	// Form fields: values, definitions, new and removed fields.
	fa, fb := formFields(a), formFields(b)
	for _, name := range sortedKeys(fb) {
		f := fb[name]
		old, ok := fa[name]
		switch {
		case !ok && f.ft == "Sig":
			if v, _ := (&walker{ctx: b}).dict(f.dict["V"]); v != nil {
				if t, _ := v["Type"].(types.Name); t == "DocTimeStamp" {
					add(changeDocTimestamp, name, "document time stamp %q added", name)
					continue
				}
			}
			add(changeSignature, name, "signature field %q added", name)
		case !ok:
			add(changeOther, name, "form field %q added", name)
		default:
			valueSame := c.equal(old.dict["V"], f.dict["V"])
			defSame := c.equalValues(old.dict, f.dict, "V", "AP", "AS", "Kids", "Parent", "P")
			switch {
			case !valueSame && f.ft == "Sig" && old.dict["V"] == nil:
				add(changeSignature, name, "signature field %q signed", name)
			case !valueSame && f.ft == "Sig":
				add(changeOther, name, "the value of signature field %q was replaced", name)
			case !valueSame:
				add(changeFormFill, name, "form field %q filled in or changed", name)
			}
			if !defSame {
				add(changeOther, name, "the definition of form field %q changed", name)
			}
			// Separate widgets may be moved, resized or hidden; their
			// appearance follows the value and is not compared.
			for _, n := range old.widgets {
				if !contains(f.widgets, n) {
					add(changeOther, name, "a widget of form field %q was removed", name)
				}
			}
			for _, n := range f.widgets {
				if !contains(old.widgets, n) {
					add(changeOther, name, "a widget was added to form field %q", name)
					continue
				}
				if n == f.objNr {
					continue
				}
				ref := *types.NewIndirectRef(n, 0)
				if !c.equalValues(deref(a, ref), deref(b, ref), "AP", "AS", "P", "Parent") {
					add(changeOther, name, "a widget of form field %q changed", name)
				}
			}
		}
	}
	for _, name := range sortedKeys(fa) {
		if _, ok := fb[name]; !ok {
			add(changeOther, name, "form field %q removed", name)
		}
	}

	// Annotations, page by page. Widgets of terminal fields were judged
	// above as fields; their appearance follows their value.
	widgets := map[int]string{}
	for _, fs := range []map[string]formField{fa, fb} {
		for name, f := range fs {
			for _, n := range f.widgets {
				widgets[n] = name
			}
		}
	}
	for i := 0; i < len(pa) && i < len(pb); i++ {
		out = append(out, annotationChanges(c, i+1, pa[i].dict, pb[i].dict, widgets)...)
	}

	// The AcroForm and the catalog, but what was judged above and what
	// PAdES adds (DSS, Extensions for the DSS's ESIC declaration).
	ra, _ := a.Catalog()
	rb, _ := b.Catalog()
	wa, wb := &walker{ctx: a}, &walker{ctx: b}
	formA, _ := wa.dict(ra["AcroForm"])
	formB, _ := wb.dict(rb["AcroForm"])
	for _, k := range unionKeys(formA, formB, "Fields", "SigFlags", "DR", "DA", "NeedAppearances") {
		if !c.equal(formA[k], formB[k]) {
			add(changeOther, "", "the form's /%s entry changed", k)
		}
	}
	for _, k := range unionKeys(ra, rb, "Pages", "AcroForm", "DSS", "Extensions") {
		if !c.equal(ra[k], rb[k]) {
			add(changeOther, "", "the document catalog's /%s entry changed", k)
		}
	}
	if ra["DSS"] != nil || rb["DSS"] != nil {
		if !c.equal(ra["DSS"], rb["DSS"]) {
			add(changeDSS, "", "validation data (DSS) added or updated")
		}
	}
	if c.incomplete {
		add(changeOther, "", "the document is too large to compare in full with the signed revision")
	}
	return out
}

// annotationChanges compares the annotations of one page.
func annotationChanges(c *comparer, pageNr int, a, b types.Dict, widgets map[int]string) []change {
	list := func(ctx *model.Context, d types.Dict) ([]types.Object, map[int]types.Object) {
		arr, _ := ctx.DereferenceArray(d["Annots"])
		byNr := map[int]types.Object{}
		var direct []types.Object
		for _, o := range arr {
			if r, ok := o.(types.IndirectRef); ok {
				byNr[r.ObjectNumber.Value()] = o
			} else {
				direct = append(direct, o)
			}
		}
		return direct, byNr
	}
	da, na := list(c.a, a)
	db, nb := list(c.b, b)
	var out []change
	subtype := func(ctx *model.Context, o types.Object) string {
		d, _ := (&walker{ctx: ctx}).dict(o)
		if s, ok := d["Subtype"].(types.Name); ok {
			return string(s)
		}
		return "unknown"
	}
	for _, n := range sortedIntKeys(nb) {
		if _, isField := widgets[n]; isField {
			continue
		}
		o := nb[n]
		old, ok := na[n]
		switch {
		case !ok && isSignatureWidget(c.b, o):
			// A signature field only a page lists (some signers, poppler's
			// pdfsig among them, leave the form's Fields as they were).
			out = append(out, change{kind: changeSignature, what: fmt.Sprintf("page %d: a signature widget was added", pageNr)})
		case !ok:
			out = append(out, change{kind: changeAnnotation, what: fmt.Sprintf("page %d: a %s annotation was added", pageNr, subtype(c.b, o))})
		case !c.equal(old, o):
			out = append(out, change{kind: changeAnnotation, what: fmt.Sprintf("page %d: a %s annotation was changed", pageNr, subtype(c.b, o))})
		}
	}
	for _, n := range sortedIntKeys(na) {
		if _, ok := nb[n]; !ok {
			if name, isField := widgets[n]; isField {
				out = append(out, change{kind: changeOther, field: name, what: fmt.Sprintf("page %d: the widget of field %q was removed", pageNr, name)})
				continue
			}
			out = append(out, change{kind: changeAnnotation, what: fmt.Sprintf("page %d: a %s annotation was removed", pageNr, subtype(c.a, na[n]))})
		}
	}
	if len(da) != len(db) {
		out = append(out, change{kind: changeAnnotation, what: fmt.Sprintf("page %d: annotations written inline were added or removed", pageNr)})
	} else {
		for i := range da {
			if !c.equal(da[i], db[i]) {
				out = append(out, change{kind: changeAnnotation, what: fmt.Sprintf("page %d: an inline annotation was changed", pageNr)})
			}
		}
	}
	return out
}

// judgement is what the changes after one signature mean for it. The
// extensions PAdES expects (DSS, document time stamps, further signatures)
// are neither failures nor warnings.
type judgement struct {
	failures, warnings []string
}

// judge applies the modification rules to the changes after a signature:
//
//   - a page added or removed, or a page's content, resources or size
//     changed, fails: what is shown is no longer what was signed;
//   - a certification signature's DocMDP permission P (ISO 32000-1,
//     12.8.2.2) fails every change it does not allow: P=1 none, P=2 form
//     filling and signing, P=3 also annotations; the DSS and document time
//     stamps are always allowed (ETSI EN 319 142-1, 5.4);
//   - a FieldMDP lock (12.8.2.4) fails any change to a field it covers;
//   - without such locks, annotations, form values and other changes are
//     warnings: they are legitimate in many workflows (a second signer's
//     comment) and also the means of a shadow attack, so a person must look.
func judge(s *Signature, cs []change) judgement {
	var j judgement
	for _, ch := range cs {
		locked := false
		if ch.field != "" && (ch.kind == changeFormFill || ch.kind == changeOther) {
			for _, l := range s.Locks {
				if l.Locks(ch.field) {
					locked = true
				}
			}
		}
		switch {
		case ch.kind == changePage || ch.kind == changeUnknown:
			j.failures = append(j.failures, "modified after signing: "+ch.what)
		case locked:
			j.failures = append(j.failures, fmt.Sprintf("modified after signing: %s, which the signature locks (FieldMDP)", ch.what))
		case s.DocMDP > 0 && !docMDPAllows(s.DocMDP, ch.kind):
			j.failures = append(j.failures, fmt.Sprintf("modified after signing: %s, which the certification (DocMDP P=%d) does not permit", ch.what, s.DocMDP))
		case ch.kind == changeDSS || ch.kind == changeDocTimestamp || ch.kind == changeSignature:
			// An extension PAdES expects; the report lists the new signatures.
		default:
			j.warnings = append(j.warnings, "modified after signing: "+ch.what)
		}
	}
	return j
}

func docMDPAllows(p int, k changeKind) bool {
	switch k {
	case changeDSS, changeDocTimestamp:
		return true
	case changeSignature, changeFormFill:
		return p >= 2
	case changeAnnotation:
		return p >= 3
	}
	return false
}

func sortedKeys(m map[string]formField) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedIntKeys(m map[int]types.Object) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

// unionKeys lists the keys of a and b but those in skip, sorted.
func unionKeys(a, b types.Dict, skip ...string) []string {
	set := map[string]bool{}
	for k := range a {
		set[k] = true
	}
	for k := range b {
		set[k] = true
	}
	for _, s := range skip {
		delete(set, s)
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func contains(list []int, n int) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}

func deref(ctx *model.Context, o types.Object) types.Object {
	v, err := ctx.Dereference(o)
	if err != nil {
		return nil
	}
	return v
}

// isSignatureWidget tells whether an annotation is the widget of a
// signature field (FT Sig on it or on its parent field).
func isSignatureWidget(ctx *model.Context, o types.Object) bool {
	w := &walker{ctx: ctx, visited: map[int]bool{}}
	d, _ := w.dict(o)
	if st, _ := d["Subtype"].(types.Name); st != "Widget" {
		return false
	}
	for i := 0; d != nil && i < maxDepth; i++ {
		if ft, ok := d["FT"].(types.Name); ok {
			return ft == "Sig"
		}
		d, _ = w.dict(d["Parent"])
	}
	return false
}
