package xmldsig

import (
	"bytes"
	"crypto"
	"errors"
	"net/url"
	"regexp"
	"strings"

	"github.com/beevik/etree"

	"esig/internal/xmldsig/c14n"
	"esig/internal/xmldsig/xmlns"
)

// Status summarizes the outcome of one Reference.
type Status int

// Reference outcomes.
const (
	// Valid: the digest over the covered content matches DigestValue.
	Valid Status = iota + 1
	// DigestMismatch: the content was found but its digest differs
	// (HASH_FAILURE).
	DigestMismatch
	// NotFound: the content is absent: detached content the caller did not
	// supply, or a same-document identifier nothing carries
	// (SIGNED_DATA_NOT_FOUND). Not by itself a failure of the signature.
	NotFound
	// Invalid: the Reference is malformed or uses something unsupported
	// (FORMAT_FAILURE).
	Invalid
)

// String returns a lower-case description of s for reports and logs.
func (s Status) String() string {
	switch s {
	case Valid:
		return "valid"
	case DigestMismatch:
		return "digest mismatch"
	case NotFound:
		return "not found"
	case Invalid:
		return "invalid"
	}
	return "unknown"
}

// Reference is the processed form of one ds:Reference (XMLDSig 1.1 section
// 4.4.3) of a SignedInfo or of a signed ds:Manifest.
type Reference struct {
	Index           int // 1-based position among its siblings
	ID              string
	URI             string
	HasURI          bool // whether the URI attribute is present
	Type            string
	Transforms      []Transform
	DigestAlgorithm string
	Hash            crypto.Hash // 0 when DigestAlgorithm is unknown
	DigestValue     []byte      // as written in the signature
	Digest          []byte      // as computed; nil when not computed
	// Err is nil exactly when Status() is Valid; otherwise an *Error whose
	// Kind says why.
	Err error
	// Content is what was digested; nil when the content was not reached.
	Content *Content
	// Manifest holds the processed References of the ds:Manifest this
	// Reference covers, when it covers exactly one and its digest matched
	// (XMLDSig 1.1 section 5.1: Manifest references are not SignedInfo
	// references; their outcome is the application's to judge).
	Manifest []*Reference

	el *etree.Element
}

// Status returns the outcome of the Reference.
func (r *Reference) Status() Status {
	var e *Error
	switch {
	case r.Err == nil:
		return Valid
	case errors.As(r.Err, &e) && e.Kind == HashFailure:
		return DigestMismatch
	case errors.As(r.Err, &e) && e.Kind == SignedDataNotFound:
		return NotFound
	}
	return Invalid
}

// Element returns the ds:Reference element itself.
func (r *Reference) Element() *etree.Element { return r.el }

// Content is the data a Reference covers. Exactly this, and nothing looked up
// again by Id, is what a relying application may treat as signed (XMLDSig
// 1.1 section 8.1.3, "See What is Signed").
type Content struct {
	// Octets are the exact bytes that were digested.
	Octets []byte
	// Detached holds the caller-supplied bytes a non-fragment URI resolved
	// to, before transforms; nil for same-document references.
	Detached []byte

	set *nodeSet // last node-set of the transform chain; nil for octets
	// implicit is true when the transform chain ended in a node-set that
	// the reference processing model canonicalized implicitly.
	implicit bool
}

// EndsInNodeSet reports whether the reference's transforms (if any) left a
// node-set, which XMLDSig canonicalizes implicitly with Canonical XML 1.0
// before digesting (section 4.4.3.2), rather than octets. XAdES time stamps
// over references canonicalize such a node-set with their own algorithm
// instead (ETSI EN 319 132-1, 5.5.2.2 step 2; see Canonicalize).
func (c *Content) EndsInNodeSet() bool { return c.implicit }

// Canonicalize renders the signed node-set with the canonicalization
// algorithm given (an exclusive PrefixList if any). It fails for octet
// content. Only the nodes that were signed are rendered.
func (c *Content) Canonicalize(algorithm string, prefixList []string) ([]byte, error) {
	if c.set == nil {
		return nil, formatErr("", "the signed content is octets, not a node-set")
	}
	m, ok := c14n.ParseMethod(algorithm)
	if !ok {
		return nil, unsupportedErr("", "canonicalization method %q is not supported", algorithm)
	}
	m.InclusivePrefixes = prefixList
	var b bytes.Buffer
	if err := c14n.Canonicalize(&b, c.set.top, c.set, m); err != nil {
		return nil, wrapFormat(Where(c.set.top), err)
	}
	return b.Bytes(), nil
}

// IsNodeSet reports whether the signed data was a node-set of this
// document (or of parsed detached XML) before its final canonicalization,
// rather than octets (detached binary data or a base64 transform).
func (c *Content) IsNodeSet() bool { return c.set != nil }

// Top returns the apex of the signed node-set: the element a #id reference
// named, or the document node for "" and #xpointer(/). It is nil for octet
// content. Not every node under Top need be signed (see Contains and Whole).
func (c *Content) Top() *etree.Element {
	if c.set == nil {
		return nil
	}
	return c.set.top
}

// Element returns the element the Reference covers when the signed node-set
// is that element's entire subtree (comments aside), as for a #id reference
// without subsetting transforms; otherwise nil. This is how the XAdES layer
// gets the SignedProperties that were actually digested.
func (c *Content) Element() *etree.Element {
	if c.set == nil || !c.set.whole() || c14n.IsDocument(c.set.top) {
		return nil
	}
	return c.set.top
}

// Whole reports whether every node under Top (comments aside) is signed.
func (c *Content) Whole() bool { return c.set != nil && c.set.whole() }

// Contains reports whether node t is in the signed node-set. For an element
// this covers its attributes and namespace declarations.
func (c *Content) Contains(t etree.Token) bool {
	return c.set != nil && c.set.Contains(t)
}

// Resolver supplies detached content for Reference URIs that are not
// same-document references. The core never fetches anything: a URI the
// resolver does not know is reported as NotFound.
type Resolver interface {
	Resolve(uri string) (data []byte, ok bool)
}

// DetachedContent is a Resolver over a map from URI (as written in the
// Reference, or percent-decoded) to bytes, e.g. built from
// --detached-content NAME=FILE options or from parts of an API request.
type DetachedContent map[string][]byte

// Resolve implements Resolver: an exact match first, then a match of the
// percent-decoded URI.
func (d DetachedContent) Resolve(uri string) ([]byte, bool) {
	if b, ok := d[uri]; ok {
		return b, true
	}
	if u, err := url.PathUnescape(uri); err == nil && u != uri {
		b, ok := d[u]
		return b, ok
	}
	return nil, false
}

// processor processes the References of one signature.
type processor struct {
	doc      *Document
	sig      *etree.Element // the ds:Signature holding the references
	resolver Resolver
	limits   Limits
	depth    int    // Manifest nesting
	budget   *int64 // remaining MaxWork, shared by the signatures of one Verify
}

// charge takes n bytes of work from the budget, failing once it is spent.
func (p *processor) charge(n int64, w string) *Error {
	*p.budget -= n
	if *p.budget < 0 {
		return formatErr(w, "verification work exceeds %d bytes (limit MaxWork)", p.limits.MaxWork)
	}
	return nil
}

// budgetWriter collects canonical output while charging it to the budget,
// so an over-budget canonicalization stops early.
type budgetWriter struct {
	bytes.Buffer
	p *processor
}

func (b *budgetWriter) Write(q []byte) (int, error) {
	if err := b.p.charge(int64(len(q)), ""); err != nil {
		return 0, err
	}
	return b.Buffer.Write(q)
}

var xpointerID = regexp.MustCompile(`^xpointer\(\s*id\(\s*(?:'([^']*)'|"([^"]*)")\s*\)\s*\)$`)

// readReference reads the syntax of a ds:Reference (XMLDSig 1.1 section
// 4.4.3): optional Transforms, then DigestMethod, then DigestValue.
func readReference(el *etree.Element, index int, lim Limits) (*Reference, *Error) {
	r := &Reference{Index: index, el: el}
	r.ID, _ = xmlns.Attr(el, "Id")
	r.URI, r.HasURI = xmlns.Attr(el, "URI")
	r.Type, _ = xmlns.Attr(el, "Type")
	w := Where(el)
	kids := el.ChildElements()
	i := 0
	if i < len(kids) && xmlns.Is(kids[i], NamespaceDSig, "Transforms") {
		ts, err := readTransforms(kids[i], lim)
		if err != nil {
			return r, err
		}
		r.Transforms = ts
		i++
	}
	if i >= len(kids) || !xmlns.Is(kids[i], NamespaceDSig, "DigestMethod") {
		return r, formatErr(w, "missing ds:DigestMethod")
	}
	r.DigestAlgorithm, _ = xmlns.Attr(kids[i], "Algorithm")
	r.Hash = DigestHash(r.DigestAlgorithm)
	i++
	if i >= len(kids) || !xmlns.Is(kids[i], NamespaceDSig, "DigestValue") {
		return r, formatErr(w, "missing ds:DigestValue")
	}
	dv, err := decodeBase64([]byte(TextContent(kids[i])))
	if err != nil {
		return r, &Error{Kind: FormatFailure, Where: Where(kids[i]), Msg: "DigestValue is not base64", Err: err}
	}
	r.DigestValue = dv
	i++
	if i < len(kids) {
		return r, formatErr(Where(kids[i]), "unexpected element in ds:Reference")
	}
	if err := onlyElements(el); err != nil {
		return r, err
	}
	if r.Hash == 0 {
		return r, unsupportedErr(Where(kids[i-2])+"/@Algorithm", "digest algorithm %q is not supported", r.DigestAlgorithm)
	}
	return r, nil
}

// process dereferences, transforms and digests r, filling Digest, Content
// and Err.
func (p *processor) process(r *Reference) {
	w := Where(r.el)
	in, err := p.dereference(r, w)
	if err != nil {
		r.Err = err
		return
	}
	content := &Content{}
	if in.set == nil {
		content.Detached = in.octets
	}
	for _, t := range r.Transforms {
		out, err := p.applyTransform(t, in)
		if err != nil {
			r.Err = err
			return
		}
		if out.set == nil {
			// A node-set turned into octets by canonicalization is what
			// the octets stand for; octets produced any other way (base64,
			// or canonicalization of parsed octets) stand for themselves.
			content.set = nil
			if in.set != nil && isC14N(t.Algorithm) {
				content.set = in.set
			}
		}
		in = out
	}
	if in.set != nil {
		// XMLDSig 1.1 section 4.4.3.2: a node-set left at the end is
		// canonicalized with Canonical XML 1.0; which comments survive was
		// decided by the dereference (they are in the set or not).
		content.set, content.implicit = in.set, true
		b := &budgetWriter{p: p}
		if err := c14n.Canonicalize(b, in.set.top, in.set, c14n.Method{Kind: c14n.Inclusive10, Comments: true}); err != nil {
			r.Err = wrapFormat(w, err)
			return
		}
		in = data{octets: b.Bytes()}
	}
	if in.set == nil && content.Detached != nil && len(r.Transforms) == 0 {
		if err := p.charge(int64(len(in.octets)), w); err != nil {
			r.Err = err
			return
		}
	}
	content.Octets = in.octets
	r.Content = content
	h := r.Hash.New()
	h.Write(in.octets)
	r.Digest = h.Sum(nil)
	if !bytes.Equal(r.Digest, r.DigestValue) {
		r.Err = &Error{Kind: HashFailure, Where: w, Msg: "digest of " + describeURI(r) + " does not match DigestValue"}
		return
	}
	if p.depth < 2 {
		p.manifest(r)
	}
}

func isC14N(alg string) bool { _, ok := c14n.ParseMethod(alg); return ok }

func describeURI(r *Reference) string {
	if !r.HasURI {
		return "the reference without URI"
	}
	return `URI "` + r.URI + `"`
}

// dereference resolves the URI (XMLDSig 1.1 section 4.4.3.3). Same-document
// forms: "" (the document without comments), #xpointer(/) (with comments),
// #id (the element, without comments), #xpointer(id('id')) (with comments).
// Anything else that is not a fragment is detached content from the
// Resolver; nothing is ever fetched.
func (p *processor) dereference(r *Reference, w string) (data, *Error) {
	uw := w + "/@URI"
	if !r.HasURI {
		return data{}, &Error{Kind: SignedDataNotFound, Where: w, Msg: "Reference has no URI and no content was supplied for it"}
	}
	docNode := &p.doc.tree.Element
	whole := func(top *etree.Element, comments bool) data {
		return data{set: &nodeSet{doc: docNode, top: top, comments: comments, lookupID: p.doc.lookupID}}
	}
	uri := r.URI
	switch {
	case uri == "":
		return whole(docNode, false), nil
	case strings.HasPrefix(uri, "#"):
		frag := uri[1:]
		comments := false
		switch {
		case frag == "xpointer(/)":
			return whole(docNode, true), nil
		case strings.HasPrefix(frag, "xpointer("):
			m := xpointerID.FindStringSubmatch(frag)
			if m == nil {
				return data{}, unsupportedErr(uw, "XPointer %q is not supported (only #xpointer(/) and #xpointer(id('...')))", uri)
			}
			frag, comments = m[1]+m[2], true
		case frag == "":
			return data{}, formatErr(uw, `URI "#" names no element`)
		}
		el, err := p.doc.lookupID(frag)
		if err != nil {
			return data{}, &Error{Kind: FormatFailure, Where: uw, Msg: "identifier " + frag + " is ambiguous", Err: err}
		}
		if el == nil {
			return data{}, &Error{Kind: SignedDataNotFound, Where: uw, Msg: "no element has identifier " + frag}
		}
		return whole(el, comments), nil
	}
	if p.resolver != nil {
		if b, ok := p.resolver.Resolve(uri); ok {
			return data{octets: b}, nil
		}
	}
	return data{}, &Error{Kind: SignedDataNotFound, Where: uw, Msg: `detached content for URI "` + uri + `" was not supplied`}
}

// manifest processes the References of the ds:Manifest that r covers, if r
// covers exactly one whole ds:Manifest element.
func (p *processor) manifest(r *Reference) {
	m := r.Content.Element()
	if m == nil || !xmlns.Is(m, NamespaceDSig, "Manifest") {
		return
	}
	sub := *p
	sub.depth++
	els := m.ChildElements()
	for _, c := range els {
		if !xmlns.Is(c, NamespaceDSig, "Reference") {
			r.Err = formatErr(Where(c), "unexpected element in the signed ds:Manifest")
			return
		}
	}
	if len(els) == 0 {
		r.Err = formatErr(Where(m), "signed ds:Manifest has no ds:Reference")
		return
	}
	refs, err := sub.readAndProcess(els)
	if err != nil {
		r.Err = err
		return
	}
	r.Manifest = refs
}

// readAndProcess reads and processes the ds:Reference elements els (of a
// SignedInfo or a Manifest).
func (p *processor) readAndProcess(els []*etree.Element) ([]*Reference, *Error) {
	if len(els) > p.limits.MaxReferences {
		return nil, formatErr(Where(els[p.limits.MaxReferences]), "more than %d references (limit MaxReferences)", p.limits.MaxReferences)
	}
	refs := make([]*Reference, 0, len(els))
	for i, c := range els {
		r, err := readReference(c, i+1, p.limits)
		if err != nil {
			r.Err = err
		}
		refs = append(refs, r)
	}
	for _, r := range refs {
		if r.Err == nil {
			p.process(r)
		}
	}
	return refs, nil
}
