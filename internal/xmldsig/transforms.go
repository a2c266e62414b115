package xmldsig

import (
	"encoding/base64"
	"strings"

	"github.com/beevik/etree"

	"esig/internal/xmldsig/c14n"
	"esig/internal/xmldsig/safexml"
	"esig/internal/xmldsig/xmlns"
	"esig/internal/xmldsig/xpath"
)

// Transform is one ds:Transform as written in a Reference.
type Transform struct {
	Algorithm string
	// PrefixList is the InclusiveNamespaces PrefixList of an exclusive
	// canonicalization transform (exc-c14n section 3).
	PrefixList []string
	// XPath is the expression of an XPath transform (XMLDSig 1.1 section
	// 6.6.3).
	XPath string
	// Filters are the XPath elements of an XPath Filter 2.0 transform.
	Filters []Filter

	el *etree.Element
}

// Filter is one XPath element of an XPath Filter 2.0 transform.
type Filter struct {
	Operation string // intersect, subtract or union
	XPath     string

	el *etree.Element
}

// readTransforms reads a ds:Transforms element, refusing unknown algorithms
// and malformed parameters up front, before any content is touched.
func readTransforms(ts *etree.Element, lim Limits) ([]Transform, *Error) {
	var out []Transform
	for _, c := range ts.ChildElements() {
		w := Where(c)
		if !xmlns.Is(c, NamespaceDSig, "Transform") {
			return nil, formatErr(w, "unexpected element in ds:Transforms")
		}
		if len(out) >= lim.MaxTransforms {
			return nil, formatErr(w, "more than %d transforms (limit MaxTransforms)", lim.MaxTransforms)
		}
		t, err := readTransform(c, lim)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if err := onlyElements(ts); err != nil {
		return nil, err
	}
	return out, nil
}

func readTransform(el *etree.Element, lim Limits) (Transform, *Error) {
	w := Where(el)
	alg, ok := xmlns.Attr(el, "Algorithm")
	if !ok {
		return Transform{}, formatErr(w, "missing Algorithm attribute")
	}
	t := Transform{Algorithm: alg, el: el}
	kids := el.ChildElements()
	if m, ok := c14n.ParseMethod(alg); ok {
		if m.Kind != c14n.Exclusive {
			if len(kids) > 0 {
				return t, formatErr(w, "unexpected parameter <%s> for %s", kids[0].FullTag(), alg)
			}
			return t, nil
		}
		pl, err := readPrefixList(el)
		t.PrefixList = pl
		return t, err
	}
	switch alg {
	case TransformEnveloped, TransformBase64:
		if len(kids) > 0 {
			return t, formatErr(w, "unexpected parameter <%s> for %s", kids[0].FullTag(), alg)
		}
	case TransformXPath:
		if len(kids) != 1 || !xmlns.Is(kids[0], NamespaceDSig, "XPath") {
			return t, formatErr(w, "an XPath transform takes exactly one ds:XPath element")
		}
		t.XPath = TextContent(kids[0])
		t.el = kids[0]
		if _, err := xpath.ParseExclusion(t.XPath, kids[0]); err != nil {
			return t, &Error{Kind: FormatFailure, Unsupported: true, Where: Where(kids[0]), Msg: "XPath transform refused", Err: err}
		}
	case TransformFilter2:
		if len(kids) == 0 {
			return t, formatErr(w, "an XPath Filter 2.0 transform needs at least one XPath element")
		}
		if len(kids) > lim.MaxTransforms {
			return t, formatErr(w, "more than %d XPath filters (limit MaxTransforms)", lim.MaxTransforms)
		}
		for _, k := range kids {
			kw := Where(k)
			if !xmlns.Is(k, NamespaceFilter2, "XPath") {
				return t, formatErr(kw, "unexpected element in an XPath Filter 2.0 transform")
			}
			op, _ := xmlns.Attr(k, "Filter")
			if op != "intersect" && op != "subtract" && op != "union" {
				return t, formatErr(kw+"/@Filter", "Filter must be intersect, subtract or union, not %q", op)
			}
			expr := TextContent(k)
			if _, err := xpath.Parse(expr); err != nil {
				return t, &Error{Kind: FormatFailure, Unsupported: true, Where: kw, Msg: "XPath filter refused", Err: err}
			}
			t.Filters = append(t.Filters, Filter{Operation: op, XPath: expr, el: k})
		}
	default:
		return t, unsupportedErr(w+"/@Algorithm", "transform %q is not supported", alg)
	}
	return t, nil
}

// readPrefixList reads the optional ec:InclusiveNamespaces parameter of an
// exclusive canonicalization (exc-c14n section 3).
func readPrefixList(el *etree.Element) ([]string, *Error) {
	kids := el.ChildElements()
	if len(kids) == 0 {
		return nil, nil
	}
	if len(kids) > 1 || !xmlns.Is(kids[0], NamespaceExcC14N, "InclusiveNamespaces") {
		return nil, formatErr(Where(kids[0]), "exclusive canonicalization takes only ec:InclusiveNamespaces")
	}
	pl, _ := xmlns.Attr(kids[0], "PrefixList")
	return strings.Fields(pl), nil
}

// TextContent concatenates all text under e, ignoring comments, as the
// canonical form of SignedInfo (which is what is signed) presents it.
func TextContent(e *etree.Element) string {
	var b strings.Builder
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		for _, c := range e.Child {
			switch n := c.(type) {
			case *etree.CharData:
				b.WriteString(n.Data)
			case *etree.Element:
				walk(n)
			}
		}
	}
	walk(e)
	return b.String()
}

// onlyElements refuses character data other than white space in
// element-only content (the XMLDSig schema has no mixed content).
func onlyElements(e *etree.Element) *Error {
	for _, c := range e.Child {
		if cd, ok := c.(*etree.CharData); ok && strings.TrimSpace(cd.Data) != "" {
			return formatErr(Where(e), "unexpected text %q", truncate(cd.Data, 40))
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// data is what flows through a transform chain: a node-set or octets.
type data struct {
	set    *nodeSet
	octets []byte
}

// applyTransform applies t to in (XMLDSig 1.1 section 4.4.3.2); sig is the
// ds:Signature element holding the Reference (for enveloped-signature).
func (p *processor) applyTransform(t Transform, in data) (data, *Error) {
	w := Where(t.el)
	if m, ok := c14n.ParseMethod(t.Algorithm); ok {
		set, err := p.needSet(in, w)
		if err != nil {
			return data{}, err
		}
		m.InclusivePrefixes = t.PrefixList
		b := &budgetWriter{p: p}
		if err := c14n.Canonicalize(b, set.top, set, m); err != nil {
			return data{}, wrapFormat(w, err)
		}
		return data{octets: b.Bytes()}, nil
	}
	switch t.Algorithm {
	case TransformEnveloped:
		set, err := p.needSet(in, w)
		if err != nil {
			return data{}, err
		}
		out := set.clone()
		if sameTree(p.sig, set.doc) {
			out.removed = append(out.removed, p.sig)
		}
		return data{set: out}, nil
	case TransformXPath:
		set, err := p.needSet(in, w)
		if err != nil {
			return data{}, err
		}
		x, xerr := xpath.ParseExclusion(t.XPath, t.el)
		if xerr != nil {
			return data{}, &Error{Kind: FormatFailure, Unsupported: true, Where: w, Msg: "XPath transform refused", Err: xerr}
		}
		out := set.clone()
		out.exclusions = append(out.exclusions, x)
		return data{set: out}, nil
	case TransformFilter2:
		set, err := p.needSet(in, w)
		if err != nil {
			return data{}, err
		}
		var ops []filterOp
		for _, f := range t.Filters {
			expr, xerr := xpath.Parse(f.XPath)
			if xerr != nil {
				return data{}, &Error{Kind: FormatFailure, Unsupported: true, Where: Where(f.el), Msg: "XPath filter refused", Err: xerr}
			}
			if err := p.charge(p.doc.size, Where(f.el)); err != nil {
				return data{}, err
			}
			nodes, xerr := expr.Eval(xpath.Context{Document: set.doc, Here: f.el, ID: set.lookupID})
			if xerr != nil {
				return data{}, &Error{Kind: FormatFailure, Where: Where(f.el), Msg: "XPath filter failed", Err: xerr}
			}
			m := make(map[etree.Token]bool, len(nodes))
			for _, n := range nodes {
				m[n] = true
			}
			ops = append(ops, filterOp{op: f.Operation, set: m})
		}
		out := set.clone()
		out.filters = append(out.filters, ops)
		return data{set: out}, nil
	case TransformBase64:
		var raw []byte
		if in.set != nil {
			raw = in.set.textValue()
		} else {
			raw = in.octets
		}
		if err := p.charge(int64(len(raw)), w); err != nil {
			return data{}, err
		}
		dec, err := decodeBase64(raw)
		if err != nil {
			return data{}, &Error{Kind: FormatFailure, Where: w, Msg: "base64 transform input is not base64", Err: err}
		}
		return data{octets: dec}, nil
	}
	return data{}, unsupportedErr(w+"/@Algorithm", "transform %q is not supported", t.Algorithm)
}

// needSet returns in as a node-set, parsing octets with the document's
// limits and defences when a transform that needs a node-set receives octets
// (XMLDSig 1.1 section 4.4.3.2).
func (p *processor) needSet(in data, w string) (*nodeSet, *Error) {
	if in.set != nil {
		return in.set, nil
	}
	tree, err := safexml.Parse(in.octets, p.limits.parser())
	if err != nil {
		return nil, &Error{Kind: FormatFailure, Where: w, Msg: "transform input is not acceptable XML", Err: err}
	}
	ids, err := safexml.IndexIDs(&tree.Element)
	if err != nil {
		return nil, &Error{Kind: FormatFailure, Where: w, Msg: "transform input has a duplicate identifier", Err: err}
	}
	return &nodeSet{doc: &tree.Element, top: &tree.Element, comments: true, lookupID: ids.Lookup}, nil
}

func sameTree(e *etree.Element, doc *etree.Element) bool {
	for n := e; n != nil; n = n.Parent() {
		if n == doc {
			return true
		}
	}
	return false
}

// decodeBase64 decodes base64 text, ignoring white space anywhere in it as
// XML Schema's base64Binary allows.
func decodeBase64(b []byte) ([]byte, error) {
	clean := make([]byte, 0, len(b))
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			clean = append(clean, c)
		}
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
	n, err := base64.StdEncoding.Decode(out, clean)
	return out[:n], err
}
