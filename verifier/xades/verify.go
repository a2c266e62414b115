package xades

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/beevik/etree"

	"esig/internal/cms"
	"esig/internal/xmldsig"
	"esig/internal/xmldsig/xmlns"
	"esig/verifier"
	"esig/verifier/report"
)

// maxCounterSignatureDepth bounds counter-signatures of counter-signatures.
const maxCounterSignatureDepth = 4

// Options configure Verify.
type Options struct {
	// Detached supplies the content of References to other documents,
	// keyed by URI: only what the caller was given (--detached-content
	// NAME=FILE, parts of an API request). Nothing else is ever read or
	// fetched; a URI it does not know is SIGNED_DATA_NOT_FOUND.
	Detached xmldsig.Resolver
	// Limits bound parsing and processing (zero fields: defaults).
	Limits xmldsig.Limits
}

// Verify validates every XML signature in data and returns the report and,
// per signature, what it signs. A document that cannot be parsed safely
// (DOCTYPE, duplicate identifiers, limits, malformed XML) yields one
// TOTAL-FAILED/FORMAT_FAILURE signature; a document without ds:Signature
// yields none (NO_SIGNATURE_FOUND).
func Verify(ctx context.Context, eng *verifier.Engine, data []byte, opts Options) *Result {
	res := &Result{Report: &report.Report{ValidationTime: eng.ValidationTime().UTC()}}
	defer res.Report.Finish()
	doc, err := xmldsig.Parse(data, opts.Limits)
	var sigs []*xmldsig.Signature
	if err == nil {
		sigs, err = doc.Verify(xmldsig.VerifyOptions{Detached: opts.Detached})
	}
	if err != nil {
		s := &Signature{input: &verifier.Input{ID: "S1", Format: "XML", FormatError: err}}
		validate(ctx, eng, s)
		res.Signatures = append(res.Signatures, s)
		res.Report.Signatures = append(res.Report.Signatures, s.Report)
		return res
	}
	v := &docVerifier{byElement: map[*etree.Element]*xmldsig.Signature{}, consumed: map[*etree.Element]bool{}}
	for _, s := range sigs {
		v.byElement[s.Element()] = s
	}
	// Counter-signatures are reported under the signature they
	// countersign; one whose parent could not take it is reported alone.
	var top []*Signature
	n := 0
	for pass := 0; pass < 2; pass++ {
		for _, s := range sigs {
			if v.consumed[s.Element()] || (pass == 0 && isCounterSignature(s.Element())) {
				continue
			}
			n++
			v.consumed[s.Element()] = true
			out := v.build(s, reportID(s, n), 0)
			if pass == 1 {
				out.input.Warnings = append(out.input.Warnings, "a counter-signature that no signature of this document takes as its own; verified on its own")
			}
			top = append(top, out)
		}
	}
	for _, s := range top {
		validate(ctx, eng, s)
		res.Signatures = append(res.Signatures, s)
		res.Report.Signatures = append(res.Report.Signatures, s.Report)
	}
	return res
}

func reportID(s *xmldsig.Signature, n int) string {
	if s.ID != "" {
		return s.ID
	}
	return fmt.Sprintf("S%d", n)
}

// validate runs the engine on s and its counter-signatures.
func validate(ctx context.Context, eng *verifier.Engine, s *Signature) {
	s.Report, s.SigningCertificate = eng.ValidateSigner(ctx, s.input)
	for _, c := range s.CounterSignatures {
		validate(ctx, eng, c)
		s.Report.CounterSignatures = append(s.Report.CounterSignatures, c.Report)
	}
}

func isCounterSignature(el *etree.Element) bool {
	return isXAdES(el.Parent(), "CounterSignature")
}

// docVerifier turns the processed signatures of one document into engine
// inputs.
type docVerifier struct {
	byElement map[*etree.Element]*xmldsig.Signature
	consumed  map[*etree.Element]bool
}

// sigBuilder holds the state of one signature being turned into an Input.
type sigBuilder struct {
	v     *docVerifier
	s     *xmldsig.Signature
	in    *verifier.Input
	out   *Signature
	depth int

	ns        string
	qp, qpObj *etree.Element
	usp       *etree.Element
	spRef     *xmldsig.Reference
	hashErrs  []error
}

func (b *sigBuilder) warn(format string, args ...any) {
	b.in.Warnings = append(b.in.Warnings, fmt.Sprintf(format, args...))
}

// build makes the Input of one signature; a format failure stops it with
// in.FormatError set.
func (v *docVerifier) build(s *xmldsig.Signature, id string, depth int) *Signature {
	in := &verifier.Input{ID: id, Format: "XMLDSig"}
	out := &Signature{ID: s.ID, Element: s.Element(), input: in}
	b := &sigBuilder{v: v, s: s, in: in, out: out, depth: depth}
	if err := b.run(); err != nil {
		in.FormatError = err
	}
	b.summarize()
	return out
}

func (b *sigBuilder) run() error {
	s, in := b.s, b.in
	if s.Err != nil {
		return s.Err
	}
	for _, e := range s.CertificateErrors {
		b.warn("a KeyInfo certificate was ignored: %v", e)
	}
	b.addCertificates(s.Certificates...)
	in.VerifySignature = func(pub crypto.PublicKey) (cms.SignatureAlgorithm, error) {
		if err := s.VerifyValue(pub); err != nil {
			return cms.SignatureAlgorithm{}, err
		}
		return signatureAlgorithm(s.SignatureMethod), nil
	}
	in.DigestAlgorithm = weakestDigest(s.References)

	qp, obj, err := findQualifyingProperties(s)
	if err != nil {
		return err
	}
	if qp == nil {
		for _, r := range s.References {
			if isSignedPropertiesType(r.Type) {
				return fmt.Errorf("Reference %d has Type %s but the signature has no QualifyingProperties", r.Index, r.Type)
			}
		}
		return b.plain()
	}
	b.qp, b.qpObj, b.ns = qp, obj, xmlns.ElementURI(qp)
	b.out.Namespace = b.ns
	in.Format = "XAdES"
	if err := b.checkTarget(); err != nil {
		return err
	}
	sp, err := b.signedPropertiesReference()
	if err != nil {
		return err
	}
	if b.spRef.Status() == xmldsig.DigestMismatch {
		// Altered properties claim nothing: not even a signing time for
		// the report. The data objects are still listed.
		b.hashErrs = append(b.hashErrs, fmt.Errorf("the SignedProperties were altered: %w", b.spRef.Err))
		b.dataObjects(nil)
		in.HashError = errors.Join(b.hashErrs...)
		return nil
	}
	props, warns, err := parseSignedProperties(sp, b.ns)
	if err != nil {
		return err
	}
	b.out.Properties = props
	in.Warnings = append(in.Warnings, warns...)
	in.ClaimedSigningTime = props.SigningTime
	b.bindSigningCertificate(props)
	b.dataObjects(props)
	if len(b.hashErrs) > 0 {
		in.HashError = errors.Join(b.hashErrs...)
	}
	if up := child(qp, b.ns, "UnsignedProperties"); up != nil {
		b.out.UnsignedProperties = up
		b.usp = child(up, b.ns, "UnsignedSignatureProperties")
	}
	b.contentTimestamps(props)
	level := b.unsigned()
	if props.SigningCertificates == nil || props.SigningTime == nil || legacy(b.ns) {
		b.out.Level = LevelNone
		if props.SigningCertificates == nil {
			b.warn("the signed properties hold no SigningCertificate(V2): not a XAdES baseline signature (EN 319 132-1, 6.3)")
		}
	} else {
		b.out.Level = level
		in.Format = "XAdES-BASELINE-" + strings.TrimPrefix(level.String(), "B-")
	}
	return nil
}

// plain handles an XML signature without qualifying properties: the signer
// is whichever KeyInfo certificate verifies, with nothing signed binding
// it.
func (b *sigBuilder) plain() error {
	b.in.SignerID = b.inKeyInfo
	b.in.SignerIDText = "a certificate in KeyInfo"
	b.dataObjects(nil)
	if len(b.hashErrs) > 0 {
		b.in.HashError = errors.Join(b.hashErrs...)
	}
	return nil
}

func (b *sigBuilder) inKeyInfo(c *x509.Certificate) bool {
	for _, k := range b.s.Certificates {
		if k.Equal(c) {
			return true
		}
	}
	return false
}

func (b *sigBuilder) addCertificates(cs ...*x509.Certificate) {
	for _, c := range cs {
		dup := false
		for _, x := range b.out.Certificates {
			if x.Equal(c) {
				dup = true
				break
			}
		}
		if !dup {
			b.out.Certificates = append(b.out.Certificates, c)
			b.in.Certificates = append(b.in.Certificates, c)
		}
	}
}

// findQualifyingProperties returns the one xades:QualifyingProperties of
// the signature and the ds:Object holding it, nil when there is none. A
// second QualifyingProperties, or one not a child of a ds:Object, or a
// SignedProperties anywhere in the signature's objects outside it, is a
// wrapping attempt (EN 319 132-1, 4.3: one QualifyingProperties, in a
// ds:Object of the signature). Signatures nested in the objects (signed
// documents, counter-signatures) are not looked into.
func findQualifyingProperties(s *xmldsig.Signature) (qp, obj *etree.Element, err error) {
	var sps []*etree.Element
	var walk func(e *etree.Element, o *etree.Element) error
	walk = func(e *etree.Element, o *etree.Element) error {
		for _, c := range e.ChildElements() {
			if isDSig(c, "Signature") {
				continue
			}
			switch {
			case c.Tag == "QualifyingProperties" && qpNamespace(xmlns.ElementURI(c)):
				if e != o {
					return fmt.Errorf("%s: QualifyingProperties must be a child of ds:Object", xmldsig.Where(c))
				}
				if qp != nil {
					return fmt.Errorf("two QualifyingProperties in the signature: %s and %s", xmldsig.Where(qp), xmldsig.Where(c))
				}
				qp, obj = c, o
			case isXAdES(c, "SignedProperties"):
				sps = append(sps, c)
			case isXAdES(c, "QualifyingPropertiesReference"):
				return fmt.Errorf("%s: QualifyingPropertiesReference is not supported", xmldsig.Where(c))
			}
			if err := walk(c, o); err != nil {
				return err
			}
		}
		return nil
	}
	for _, o := range s.Objects {
		if err := walk(o, o); err != nil {
			return nil, nil, err
		}
	}
	for _, sp := range sps {
		if qp == nil || sp.Parent() != qp {
			return nil, nil, fmt.Errorf("%s: SignedProperties outside the signature's QualifyingProperties", xmldsig.Where(sp))
		}
	}
	if len(sps) > 1 {
		return nil, nil, fmt.Errorf("two SignedProperties in %s", xmldsig.Where(qp))
	}
	return qp, obj, nil
}

// checkTarget requires the QualifyingProperties to name this signature
// (EN 319 132-1, 4.3): properties of another signature are not this one's.
func (b *sigBuilder) checkTarget() error {
	t, _ := attr(b.qp, "Target")
	switch {
	case b.s.ID != "" && t == "#"+b.s.ID:
		return nil
	case b.s.ID != "" && t == b.s.ID:
		b.warn("QualifyingProperties Target %q lacks the '#' of a same-document reference", t)
		return nil
	case b.s.ID == "":
		return fmt.Errorf("%s: the ds:Signature has no Id for the Target %q to name", xmldsig.Where(b.qp), t)
	}
	return fmt.Errorf("%s: Target %q does not name this signature (Id %q)", xmldsig.Where(b.qp), t, b.s.ID)
}

// isSignedPropertiesType reports whether t is the SignedProperties Type,
// unversioned (EN 319 132-1) or versioned (TS 101 903 1.1.1 to 1.3.2).
func isSignedPropertiesType(t string) bool {
	return t == SignedPropertiesType ||
		strings.HasPrefix(t, "http://uri.etsi.org/01903/v") && strings.HasSuffix(t, "#SignedProperties")
}

// signedPropertiesReference finds the SignedProperties of the
// QualifyingProperties and the one Reference that covers it, and checks
// that Reference's Type (EN 319 132-1, 4.3 and 6.3).
func (b *sigBuilder) signedPropertiesReference() (*etree.Element, error) {
	sp := child(b.qp, b.ns, "SignedProperties")
	if sp == nil {
		return nil, fmt.Errorf("%s: no SignedProperties", xmldsig.Where(b.qp))
	}
	var covering []*xmldsig.Reference
	for _, r := range b.s.References {
		c := covers(r.Content, sp)
		if c {
			covering = append(covering, r)
		}
		if isSignedPropertiesType(r.Type) && !c {
			if r.Content == nil {
				return nil, fmt.Errorf("the Reference of Type SignedProperties (%s) cannot be processed: %w", describeRef(r), r.Err)
			}
			return nil, fmt.Errorf("the Reference of Type SignedProperties (%s) does not cover the SignedProperties of this signature (%s)", describeRef(r), xmldsig.Where(sp))
		}
	}
	if len(covering) == 0 {
		return nil, fmt.Errorf("%s: not covered by any Reference: the properties are not signed", xmldsig.Where(sp))
	}
	var ref *xmldsig.Reference
	for _, r := range covering {
		if isSignedPropertiesType(r.Type) {
			if ref != nil {
				return nil, fmt.Errorf("two References of Type SignedProperties (%s and %s)", describeRef(ref), describeRef(r))
			}
			ref = r
		}
	}
	switch {
	case ref != nil && ref.Type != SignedPropertiesType && legacy(b.ns):
	case ref != nil && ref.Type != SignedPropertiesType:
		b.warn("the Reference to the SignedProperties has the versioned Type %q; EN 319 132-1 (6.3) requires %s", ref.Type, SignedPropertiesType)
	case ref == nil && legacy(b.ns) && covering[0].Type == "":
		ref = covering[0]
		b.warn("the Reference to the SignedProperties (%s) has no Type, which TS 101 903 %s tolerated", describeRef(ref), b.ns)
	case ref == nil:
		r := covering[0]
		return nil, fmt.Errorf("the SignedProperties are covered by Reference %d (%s) whose Type %q is not %s (EN 319 132-1, 6.3)", r.Index, describeRef(r), r.Type, SignedPropertiesType)
	}
	b.spRef = ref
	return sp, nil
}

// covers reports whether every node of the subtree of e (comments aside)
// is in the signed content c.
func covers(c *xmldsig.Content, e *etree.Element) bool {
	if c == nil {
		return false
	}
	if c.Element() == e {
		return true
	}
	top := c.Top()
	if top == nil || !inside(e, top) {
		return false
	}
	var all func(x *etree.Element) bool
	all = func(x *etree.Element) bool {
		if !c.Contains(x) {
			return false
		}
		for _, t := range x.Child {
			switch n := t.(type) {
			case *etree.Element:
				if !all(n) {
					return false
				}
			case *etree.CharData, *etree.ProcInst:
				if !c.Contains(n) {
					return false
				}
			}
		}
		return true
	}
	return all(e)
}

// bindSigningCertificate sets how the engine finds and binds the signing
// certificate: candidates are the certificates a Cert entry's digest names
// and those in KeyInfo; a candidate is bound when some entry's digest
// matches it and that entry's issuer and serial number (if given) name it
// (EN 319 132-1, 5.2.2; EN 319 102-1, 5.2.3.4).
func (b *sigBuilder) bindSigningCertificate(p *SignedProperties) {
	ids := p.SigningCertificates
	if len(ids) == 0 {
		b.in.SignerID = b.inKeyInfo
		b.in.SignerIDText = "a certificate in KeyInfo"
		return
	}
	for _, id := range ids {
		b.in.SigningCertRefs = append(b.in.SigningCertRefs, id.CertRef())
		if id.Hash == 0 {
			b.warn("a SigningCertificate entry uses the unsupported digest algorithm %q", id.DigestAlgorithm)
		}
		if id.Serial != nil && id.issuerRDNs == nil && id.issuerNames == nil {
			b.warn("the SigningCertificate X509IssuerName %q could not be read: only the serial number is compared", id.IssuerName)
		}
	}
	name := "SigningCertificateV2"
	if p.V1 {
		name = "SigningCertificate"
	}
	b.in.SignerIDText = "KeyInfo and " + name
	b.in.SignerID = func(c *x509.Certificate) bool {
		if b.inKeyInfo(c) {
			return true
		}
		for _, id := range ids {
			if id.MatchesDigest(c) {
				return true
			}
		}
		return false
	}
	b.in.BindSigningCertificate = func(c *x509.Certificate) error {
		var errs []string
		for _, id := range ids {
			if !id.MatchesDigest(c) {
				continue
			}
			if _, err := id.CheckIssuerSerial(c); err != nil {
				errs = append(errs, err.Error())
				continue
			}
			return nil
		}
		if len(errs) > 0 {
			return fmt.Errorf("%s names it by digest, but its issuer/serial: %s", name, strings.Join(errs, "; "))
		}
		return fmt.Errorf("its digest matches no Cert entry of %s", name)
	}
}

// dataObjects records the data References (all but the one to the
// SignedProperties) and their outcome: digest mismatches are HASH_FAILURE,
// missing content SIGNED_DATA_NOT_FOUND naming the object, anything else
// wrong FORMAT_FAILURE.
func (b *sigBuilder) dataObjects(p *SignedProperties) {
	formats := map[string]*DataObjectFormat{}
	if p != nil {
		for i := range p.DataObjectFormats {
			f := &p.DataObjectFormats[i]
			formats[f.ObjectReference] = f
		}
	}
	var formatErr error
	for _, r := range b.s.References {
		if r == b.spRef {
			continue
		}
		obj := b.signedObject(r, false, formats)
		b.out.SignedObjects = append(b.out.SignedObjects, obj)
		b.in.SignedObjects = append(b.in.SignedObjects, reportObject(r, ""))
		switch r.Status() {
		case xmldsig.DigestMismatch:
			b.hashErrs = append(b.hashErrs, r.Err)
		case xmldsig.NotFound:
			b.in.MissingData = append(b.in.MissingData, missingName(r))
		case xmldsig.Invalid:
			if r.HasURI && r.URI == "#" {
				// URI="#" is no same-document reference XMLDSig defines:
				// neither the whole document nor its root reproduces such
				// digests, and Apache Santuario (EU DSS) cannot resolve it
				// either. What it signs cannot be identified, so it is
				// reported as signed data not found rather than as a
				// malformed signature.
				b.in.MissingData = append(b.in.MissingData, fmt.Sprintf("Reference %d: URI \"#\" names no element, so the data it signs cannot be identified", r.Index))
				continue
			}
			if formatErr == nil {
				formatErr = r.Err
			}
		}
		for _, m := range r.Manifest {
			e := b.signedObject(m, true, formats)
			obj.Entries = append(obj.Entries, e)
			b.in.SignedObjects = append(b.in.SignedObjects, reportObject(m, "Manifest entry "))
			switch m.Status() {
			case xmldsig.DigestMismatch:
				// Content supplied for a manifest entry must be what the
				// signer's manifest states.
				b.hashErrs = append(b.hashErrs, m.Err)
			case xmldsig.NotFound:
				b.warn("manifest entry %d (%s) not checked: its content was not supplied", m.Index, describeRef(m))
			case xmldsig.Invalid:
				b.warn("manifest entry %d (%s) could not be processed: %v", m.Index, describeRef(m), m.Err)
			}
		}
	}
	if p != nil {
		for ref := range formats {
			if !b.namesReference(ref) {
				b.warn("DataObjectFormat ObjectReference %q names no Reference of this signature", ref)
			}
		}
	}
	if formatErr != nil && b.in.FormatError == nil {
		b.in.FormatError = formatErr
	}
}

func (b *sigBuilder) namesReference(ref string) bool {
	for _, r := range b.s.References {
		if r.ID != "" && ref == "#"+r.ID {
			return true
		}
		for _, m := range r.Manifest {
			if m.ID != "" && ref == "#"+m.ID {
				return true
			}
		}
	}
	return false
}

func (b *sigBuilder) signedObject(r *xmldsig.Reference, manifest bool, formats map[string]*DataObjectFormat) *SignedObject {
	o := &SignedObject{Index: r.Index, ID: r.ID, URI: r.URI, Type: r.Type, Manifest: manifest,
		Status: r.Status(), Err: r.Err, Content: r.Content, Packaging: b.packagingOf(r)}
	for _, t := range r.Transforms {
		o.Transforms = append(o.Transforms, t.Algorithm)
	}
	if r.ID != "" {
		o.Format = formats["#"+r.ID]
	}
	return o
}

// packagingOf tells how the data a Reference covers sits relative to the
// signature (EN 319 132-1, 4.2).
func (b *sigBuilder) packagingOf(r *xmldsig.Reference) string {
	sig := b.s.Element()
	if !r.HasURI || (r.URI != "" && !strings.HasPrefix(r.URI, "#")) {
		return "detached"
	}
	if r.Content != nil && r.Content.Top() != nil {
		top := r.Content.Top()
		switch {
		case inside(sig, top):
			return "enveloped"
		case inside(top, sig):
			return "enveloping"
		}
		return "detached"
	}
	if frag := strings.TrimPrefix(r.URI, "#"); frag != "" {
		// Octet content (a base64 transform): the Object it came from.
		// Identifiers are unique in the document, so this is the element
		// the Reference dereferenced.
		for _, o := range b.s.Objects {
			if id, ok := attr(o, "Id"); ok && id == frag {
				return "enveloping"
			}
		}
	}
	return ""
}

// summarize sets the signature's packaging and transforms from its
// References.
func (b *sigBuilder) summarize() {
	seen := map[string]bool{}
	add := func(r *xmldsig.Reference) {
		for _, t := range r.Transforms {
			if !seen[t.Algorithm] {
				seen[t.Algorithm] = true
				b.out.Transforms = append(b.out.Transforms, t.Algorithm)
			}
		}
	}
	for _, r := range b.s.References {
		add(r)
		for _, m := range r.Manifest {
			add(m)
		}
	}
	for i, o := range b.out.SignedObjects {
		switch {
		case i == 0:
			b.out.Packaging = o.Packaging
		case o.Packaging != b.out.Packaging:
			b.out.Packaging = "mixed"
		}
	}
}

func reportObject(r *xmldsig.Reference, prefix string) report.SignedObject {
	name := r.ID
	if name == "" {
		name = fmt.Sprintf("Reference %d", r.Index)
	}
	return report.SignedObject{Reference: prefix + name, URI: r.URI, DigestAlgorithm: cms.HashName(r.Hash)}
}

func missingName(r *xmldsig.Reference) string {
	switch {
	case !r.HasURI:
		return fmt.Sprintf("Reference %d has no URI and no content was supplied for it", r.Index)
	case strings.HasPrefix(r.URI, "#"):
		return fmt.Sprintf("Reference %d: no element has the identifier %q", r.Index, r.URI[1:])
	}
	return fmt.Sprintf("Reference %d: %q was not supplied (--detached-content %s=FILE)", r.Index, r.URI, r.URI)
}

func signatureAlgorithm(m xmldsig.SignatureAlgorithm) cms.SignatureAlgorithm {
	switch m.Key {
	case xmldsig.KeyECDSA:
		return cms.SignatureAlgorithm{Key: cms.KeyECDSA, Hash: m.Hash}
	case xmldsig.KeyRSAPSS:
		return cms.SignatureAlgorithm{Key: cms.KeyRSA, Hash: m.Hash, PSS: &rsa.PSSOptions{SaltLength: m.SaltLen, Hash: m.Hash}}
	}
	return cms.SignatureAlgorithm{Key: cms.KeyRSA, Hash: m.Hash}
}

// weakestDigest is the weakest digest algorithm of the references, the one
// the algorithm policy must judge (SHA-1 below the SHA-2 family).
func weakestDigest(refs []*xmldsig.Reference) crypto.Hash {
	var w crypto.Hash
	for _, r := range refs {
		if r.Hash != 0 && (w == 0 || r.Hash < w) {
			w = r.Hash
		}
	}
	return w
}

// contentTimestamps adds the AllDataObjectsTimeStamp and
// IndividualDataObjectsTimeStamp properties (EN 319 132-1, 5.2.8).
func (b *sigBuilder) contentTimestamps(p *SignedProperties) {
	s, spRef := b.s, b.spRef
	for _, el := range p.contentTimestamps {
		t, err := readTimestampProperty(el)
		if err != nil {
			b.warn("content time stamp ignored: %v", err)
			continue
		}
		b.xmlTimestamps(t)
		for _, tok := range t.tokens {
			b.in.Timestamps = append(b.in.Timestamps, verifier.TimestampInput{Type: report.ContentTimestamp, Token: tok,
				Imprint: imprint(func(w io.Writer) error { return contentTimestampData(w, s, spRef, t) })})
		}
	}
}

func (b *sigBuilder) xmlTimestamps(t *timestampProperty) {
	if t.xmlTokens > 0 {
		b.warn("%s: %d XMLTimeStamp(s) not evaluated (only RFC 3161 tokens are)", xmldsig.Where(t.el), t.xmlTokens)
	}
}
