package tsl

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"esig/internal/xmldsig"
	"esig/internal/xmldsig/xmlns"
)

// MaxListSize bounds the bytes Parse accepts. The largest national lists
// are a few megabytes; the margin is for growth, not for hostile input.
const MaxListSize = 32 << 20

// ParseError is a trusted list that does not have the structure of TS 119
// 612 Annex C where this package needs it. Path names the element at fault
// ("TrustServiceProviderList/TrustServiceProvider[3]/TSPServices/
// TSPService[2]/ServiceInformation/StatusStartingTime").
type ParseError struct {
	Path string
	Msg  string
}

// Error implements error: the element path, then what is wrong with it.
func (e *ParseError) Error() string {
	if e.Path == "" {
		return "trusted list: " + e.Msg
	}
	return "trusted list: " + e.Path + ": " + e.Msg
}

// ErrNotTrustedList is wrapped by the error Parse returns for XML whose root
// is not a TrustServiceStatusList.
var ErrNotTrustedList = errors.New("not a trusted list (TS 119 612 TrustServiceStatusList)")

// Parse reads a trusted list with the safe parser of internal/xmldsig (no
// DTD, bounded size, depth and node count) and builds its model. It does
// not judge the signature: call CheckSignature before trusting anything in
// the list. Certificates that cannot be parsed are recorded on the identity
// that carries them rather than failing the whole list, because one odd
// certificate of one provider must not hide every other service.
func Parse(data []byte) (*List, error) {
	doc, err := xmldsig.Parse(data, xmldsig.Limits{MaxBytes: MaxListSize})
	if err != nil {
		return nil, fmt.Errorf("trusted list: %w", err)
	}
	root := doc.Root()
	if root == nil || !xmlns.Is(root, NamespaceTSL, "TrustServiceStatusList") {
		name := ""
		if root != nil {
			name = "{" + xmlns.ElementURI(root) + "}" + root.Tag
		}
		return nil, fmt.Errorf("trusted list: root element %s: %w", name, ErrNotTrustedList)
	}
	p := parser{}
	l := p.list(root)
	if p.err != nil {
		return nil, p.err
	}
	l.doc = doc
	for _, c := range root.ChildElements() {
		if xmlns.Is(c, xmldsig.NamespaceDSig, "Signature") {
			l.sigCount++
			if l.sigEl == nil {
				l.sigEl = c
				l.sig = doc.VerifyElement(c, xmldsig.VerifyOptions{})
				l.Signature = &SignatureInfo{Certificates: l.sig.Certificates}
			}
		}
	}
	return l, nil
}

// parser keeps the first structural error; later calls become no-ops so
// that the building code reads straight through.
type parser struct {
	err error
}

func (p *parser) fail(path, format string, args ...any) {
	if p.err == nil {
		p.err = &ParseError{Path: path, Msg: fmt.Sprintf(format, args...)}
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "/" + name
}

func indexed(path, name string, i, n int) string {
	if n <= 1 {
		return join(path, name)
	}
	return join(path, fmt.Sprintf("%s[%d]", name, i+1))
}

// children returns the child elements {ns}local of e.
func children(e *etree.Element, ns, local string) []*etree.Element {
	var out []*etree.Element
	if e == nil {
		return nil
	}
	for _, c := range e.ChildElements() {
		if xmlns.Is(c, ns, local) {
			out = append(out, c)
		}
	}
	return out
}

// child returns the first child element {ns}local of e, nil if none.
func child(e *etree.Element, ns, local string) *etree.Element {
	if cs := children(e, ns, local); len(cs) > 0 {
		return cs[0]
	}
	return nil
}

// text returns the character content of e with surrounding space trimmed.
func text(e *etree.Element) string {
	if e == nil {
		return ""
	}
	return strings.TrimSpace(e.Text())
}

// required returns the child {TSL}local of e, failing when it is missing.
func (p *parser) required(e *etree.Element, path, local string) *etree.Element {
	c := child(e, NamespaceTSL, local)
	if c == nil {
		p.fail(path, "missing %s", local)
	}
	return c
}

func (p *parser) list(root *etree.Element) *List {
	l := &List{}
	l.ID, _ = xmlns.Attr(root, "Id")
	if tag, _ := xmlns.Attr(root, "TSLTag"); tag != TSLTag {
		p.fail("TrustServiceStatusList/@TSLTag", "is %q, want %q", tag, TSLTag)
	}
	const si = "SchemeInformation"
	info := p.required(root, "", si)
	if info == nil {
		return l
	}
	l.Version = p.integer(p.required(info, si, "TSLVersionIdentifier"), join(si, "TSLVersionIdentifier"))
	l.SequenceNumber = int64(p.integer(p.required(info, si, "TSLSequenceNumber"), join(si, "TSLSequenceNumber")))
	if l.SequenceNumber < 1 && p.err == nil {
		p.fail(join(si, "TSLSequenceNumber"), "must be positive, is %d", l.SequenceNumber)
	}
	l.Type = text(p.required(info, si, "TSLType"))
	l.OperatorName = names(p.required(info, si, "SchemeOperatorName"))
	l.SchemeName = names(child(info, NamespaceTSL, "SchemeName"))
	l.StatusDeterminationApproach = text(child(info, NamespaceTSL, "StatusDeterminationApproach"))
	l.CommunityRules = uris(child(info, NamespaceTSL, "SchemeTypeCommunityRules"))
	l.Territory = text(child(info, NamespaceTSL, "SchemeTerritory"))
	if h := child(info, NamespaceTSL, "HistoricalInformationPeriod"); h != nil {
		l.HistoricalInformationPeriod = p.integer(h, join(si, "HistoricalInformationPeriod"))
	}
	if ptrs := child(info, NamespaceTSL, "PointersToOtherTSL"); ptrs != nil {
		pp := join(si, "PointersToOtherTSL")
		list := children(ptrs, NamespaceTSL, "OtherTSLPointer")
		for i, e := range list {
			l.Pointers = append(l.Pointers, p.pointer(e, indexed(pp, "OtherTSLPointer", i, len(list))))
		}
	}
	l.IssueDate = p.dateTime(p.required(info, si, "ListIssueDateTime"), join(si, "ListIssueDateTime"))
	if nu := p.required(info, si, "NextUpdate"); nu != nil {
		if dt := child(nu, NamespaceTSL, "dateTime"); dt != nil {
			l.NextUpdate = p.dateTime(dt, join(si, "NextUpdate/dateTime"))
		}
	}
	if dp := child(info, NamespaceTSL, "DistributionPoints"); dp != nil {
		for _, u := range children(dp, NamespaceTSL, "URI") {
			l.DistributionPoints = append(l.DistributionPoints, text(u))
		}
	}
	if tl := child(root, NamespaceTSL, "TrustServiceProviderList"); tl != nil {
		const tp = "TrustServiceProviderList"
		list := children(tl, NamespaceTSL, "TrustServiceProvider")
		for i, e := range list {
			l.Providers = append(l.Providers, p.provider(e, indexed(tp, "TrustServiceProvider", i, len(list))))
		}
	}
	return l
}

func (p *parser) pointer(e *etree.Element, path string) Pointer {
	var ptr Pointer
	ptr.Location = text(p.required(e, path, "TSLLocation"))
	if ids := child(e, NamespaceTSL, "ServiceDigitalIdentities"); ids != nil {
		for _, sdi := range children(ids, NamespaceTSL, "ServiceDigitalIdentity") {
			id := p.identity(sdi, join(path, "ServiceDigitalIdentities/ServiceDigitalIdentity"))
			ptr.Certificates = append(ptr.Certificates, id.Certificates...)
			ptr.CertificateErrors = append(ptr.CertificateErrors, id.Errors...)
		}
	}
	if ai := child(e, NamespaceTSL, "AdditionalInformation"); ai != nil {
		for _, oi := range children(ai, NamespaceTSL, "OtherInformation") {
			for _, c := range oi.ChildElements() {
				switch {
				case xmlns.Is(c, NamespaceTSL, "TSLType"):
					ptr.Type = text(c)
				case xmlns.Is(c, NamespaceTSL, "SchemeTerritory"):
					ptr.Territory = text(c)
				case xmlns.Is(c, NamespaceAdditionalTypes, "MimeType"):
					ptr.MimeType = text(c)
				case xmlns.Is(c, NamespaceTSL, "SchemeOperatorName"):
					ptr.OperatorName = names(c)
				case xmlns.Is(c, NamespaceTSL, "SchemeTypeCommunityRules"):
					ptr.CommunityRules = uris(c)
				}
			}
		}
	}
	return ptr
}

func (p *parser) provider(e *etree.Element, path string) *Provider {
	prov := &Provider{}
	ip := join(path, "TSPInformation")
	info := p.required(e, path, "TSPInformation")
	if info != nil {
		prov.Name = names(p.required(info, ip, "TSPName"))
		if len(prov.Name) == 0 && p.err == nil {
			p.fail(join(ip, "TSPName"), "has no Name")
		}
		prov.TradeName = names(child(info, NamespaceTSL, "TSPTradeName"))
		prov.InformationURIs = uris(child(info, NamespaceTSL, "TSPInformationURI"))
	}
	sp := join(path, "TSPServices")
	if svcs := p.required(e, path, "TSPServices"); svcs != nil {
		list := children(svcs, NamespaceTSL, "TSPService")
		for i, s := range list {
			prov.Services = append(prov.Services, p.service(s, indexed(sp, "TSPService", i, len(list))))
		}
	}
	return prov
}

func (p *parser) service(e *etree.Element, path string) *Service {
	s := &Service{}
	if si := p.required(e, path, "ServiceInformation"); si != nil {
		s.Current = p.serviceInfo(si, join(path, "ServiceInformation"))
	}
	if h := child(e, NamespaceTSL, "ServiceHistory"); h != nil {
		hp := join(path, "ServiceHistory")
		list := children(h, NamespaceTSL, "ServiceHistoryInstance")
		for i, hi := range list {
			s.History = append(s.History, p.serviceInfo(hi, indexed(hp, "ServiceHistoryInstance", i, len(list))))
		}
	}
	return s
}

func (p *parser) serviceInfo(e *etree.Element, path string) *ServiceInfo {
	si := &ServiceInfo{}
	si.Type = text(p.required(e, path, "ServiceTypeIdentifier"))
	si.Name = names(child(e, NamespaceTSL, "ServiceName"))
	if id := p.required(e, path, "ServiceDigitalIdentity"); id != nil {
		si.Identity = p.identity(id, join(path, "ServiceDigitalIdentity"))
	}
	si.Status = text(p.required(e, path, "ServiceStatus"))
	si.StatusStart = p.dateTime(p.required(e, path, "StatusStartingTime"), join(path, "StatusStartingTime"))
	if sp := child(e, NamespaceTSL, "ServiceSupplyPoints"); sp != nil {
		for _, x := range children(sp, NamespaceTSL, "ServiceSupplyPoint") {
			si.SupplyPoints = append(si.SupplyPoints, text(x))
		}
	}
	if ext := child(e, NamespaceTSL, "ServiceInformationExtensions"); ext != nil {
		ep := join(path, "ServiceInformationExtensions")
		list := children(ext, NamespaceTSL, "Extension")
		for i, x := range list {
			p.extension(si, x, indexed(ep, "Extension", i, len(list)))
		}
	}
	return si
}

// extension reads one service information extension (TS 119 612 clause
// 5.5.9). The Extension element's child says which extension it is.
func (p *parser) extension(si *ServiceInfo, e *etree.Element, path string) {
	critical := false
	if v, ok := xmlns.Attr(e, "Critical"); ok {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			p.fail(join(path, "@Critical"), "%q is not a boolean", v)
			return
		}
		critical = b
	}
	for _, c := range e.ChildElements() {
		switch {
		case xmlns.Is(c, NamespaceSIE, "Qualifications"):
			qp := join(path, "Qualifications")
			list := children(c, NamespaceSIE, "QualificationElement")
			for i, q := range list {
				si.Qualifications = append(si.Qualifications, p.qualification(q, indexed(qp, "QualificationElement", i, len(list))))
			}
		case xmlns.Is(c, NamespaceTSL, additionalInfoTitle):
			if u := child(c, NamespaceTSL, "URI"); u != nil {
				si.AdditionalInfo = append(si.AdditionalInfo, text(u))
			} else {
				p.fail(join(path, additionalInfoTitle), "missing URI")
			}
		case xmlns.Is(c, NamespaceTSL, "ExpiredCertsRevocationInfo"):
			si.ExpiredCertsRevocationInfo = p.dateTime(c, join(path, "ExpiredCertsRevocationInfo"))
		case xmlns.Is(c, NamespaceAdditionalTypes, "TakenOverBy"):
			si.TakenOverBy = names(child(c, NamespaceAdditionalTypes, "TSPName")).String()
		default:
			if critical {
				si.UnknownCritical = append(si.UnknownCritical, "{"+xmlns.ElementURI(c)+"}"+c.Tag)
			}
		}
	}
}

func (p *parser) qualification(e *etree.Element, path string) Qualification {
	var q Qualification
	qs := child(e, NamespaceSIE, "Qualifiers")
	if qs == nil {
		p.fail(path, "missing Qualifiers")
		return q
	}
	for _, x := range children(qs, NamespaceSIE, "Qualifier") {
		if u, ok := xmlns.Attr(x, "uri"); ok {
			q.Qualifiers = append(q.Qualifiers, strings.TrimSpace(u))
		}
	}
	cl := child(e, NamespaceSIE, "CriteriaList")
	if cl == nil {
		p.fail(path, "missing CriteriaList")
		return q
	}
	q.Criteria = p.criteria(cl, join(path, "CriteriaList"), 0)
	return q
}

// maxCriteriaDepth bounds nested CriteriaLists; real lists nest one level.
const maxCriteriaDepth = 8

func (p *parser) criteria(e *etree.Element, path string, depth int) CriteriaList {
	var cl CriteriaList
	if depth > maxCriteriaDepth {
		p.fail(path, "CriteriaList nested deeper than %d", maxCriteriaDepth)
		return cl
	}
	cl.Assert = AssertAll
	if a, ok := xmlns.Attr(e, "assert"); ok {
		switch a = strings.TrimSpace(a); a {
		case AssertAll, AssertAtLeastOne, AssertNone:
			cl.Assert = a
		default:
			p.fail(join(path, "@assert"), "unknown assertion %q (want all, atLeastOne or none)", a)
			return cl
		}
	}
	for _, c := range e.ChildElements() {
		switch {
		case xmlns.Is(c, NamespaceSIE, "KeyUsage"):
			ku := KeyUsageCriterion{}
			for _, b := range children(c, NamespaceSIE, "KeyUsageBit") {
				name, _ := xmlns.Attr(b, "name")
				v, err := strconv.ParseBool(text(b))
				if err != nil {
					p.fail(join(path, "KeyUsage/KeyUsageBit"), "%q is not a boolean", text(b))
					return cl
				}
				if _, known := keyUsageBits[name]; !known {
					p.fail(join(path, "KeyUsage/KeyUsageBit/@name"), "unknown key usage %q", name)
					return cl
				}
				ku[name] = v
			}
			cl.KeyUsages = append(cl.KeyUsages, ku)
		case xmlns.Is(c, NamespaceSIE, "PolicySet"):
			var set []asn1.ObjectIdentifier
			for _, pi := range children(c, NamespaceSIE, "PolicyIdentifier") {
				set = append(set, p.oid(child(pi, NamespaceXAdES132, "Identifier"), join(path, "PolicySet/PolicyIdentifier/Identifier")))
			}
			cl.PolicySets = append(cl.PolicySets, set)
		case xmlns.Is(c, NamespaceSIE, "CriteriaList"):
			cl.Lists = append(cl.Lists, p.criteria(c, join(path, "CriteriaList"), depth+1))
		case xmlns.Is(c, NamespaceSIE, "Description"):
		case xmlns.Is(c, NamespaceSIE, "otherCriteriaList"):
			for _, oc := range c.ChildElements() {
				switch {
				case xmlns.Is(oc, NamespaceAdditionalTypes, "ExtendedKeyUsage"):
					var set []asn1.ObjectIdentifier
					for _, k := range children(oc, NamespaceAdditionalTypes, "KeyPurposeId") {
						set = append(set, p.oid(child(k, NamespaceXAdES132, "Identifier"), join(path, "otherCriteriaList/ExtendedKeyUsage/KeyPurposeId/Identifier")))
					}
					cl.ExtendedKeyUsages = append(cl.ExtendedKeyUsages, set)
				case xmlns.Is(oc, NamespaceAdditionalTypes, "CertSubjectDNAttribute"):
					var set []asn1.ObjectIdentifier
					for _, k := range children(oc, NamespaceAdditionalTypes, "AttributeOID") {
						set = append(set, p.oid(child(k, NamespaceXAdES132, "Identifier"), join(path, "otherCriteriaList/CertSubjectDNAttribute/AttributeOID/Identifier")))
					}
					cl.SubjectDNAttributes = append(cl.SubjectDNAttributes, set)
				default:
					cl.Unknown = append(cl.Unknown, "{"+xmlns.ElementURI(oc)+"}"+oc.Tag)
				}
			}
		default:
			cl.Unknown = append(cl.Unknown, "{"+xmlns.ElementURI(c)+"}"+c.Tag)
		}
	}
	return cl
}

// oid reads a XAdES ObjectIdentifierType Identifier: a dotted OID, or the
// URN form "urn:oid:1.2.3" that the OIDAsURN qualifier announces.
func (p *parser) oid(e *etree.Element, path string) asn1.ObjectIdentifier {
	if e == nil {
		p.fail(path, "missing")
		return nil
	}
	s := text(e)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "urn:oid:"), "URN:OID:")
	var oid asn1.ObjectIdentifier
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		p.fail(path, "%q is not an object identifier", text(e))
		return nil
	}
	for _, part := range parts {
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 {
			p.fail(path, "%q is not an object identifier", text(e))
			return nil
		}
		oid = append(oid, n)
	}
	return oid
}

// identity reads a ServiceDigitalIdentity (TS 119 612 clause 5.5.3).
func (p *parser) identity(e *etree.Element, path string) DigitalIdentity {
	var id DigitalIdentity
	for i, d := range children(e, NamespaceTSL, "DigitalId") {
		for _, c := range d.ChildElements() {
			switch {
			case xmlns.Is(c, NamespaceTSL, "X509Certificate"):
				der, err := decodeBase64(text(c))
				if err != nil {
					id.Errors = append(id.Errors, fmt.Errorf("%s: DigitalId[%d]/X509Certificate: %w", path, i+1, err))
					continue
				}
				cert, err := x509.ParseCertificate(der)
				if err != nil {
					id.Errors = append(id.Errors, fmt.Errorf("%s: DigitalId[%d]/X509Certificate: %w", path, i+1, err))
					continue
				}
				id.Certificates = append(id.Certificates, cert)
			case xmlns.Is(c, NamespaceTSL, "X509SubjectName"):
				id.SubjectNames = append(id.SubjectNames, text(c))
			case xmlns.Is(c, NamespaceTSL, "X509SKI"):
				ski, err := decodeBase64(text(c))
				if err != nil {
					p.fail(fmt.Sprintf("%s/DigitalId[%d]/X509SKI", path, i+1), "not base64: %v", err)
					continue
				}
				id.SKIs = append(id.SKIs, ski)
			}
		}
	}
	return id
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
	return base64.StdEncoding.DecodeString(s)
}

func names(e *etree.Element) Names {
	var out Names
	for _, n := range children(e, NamespaceTSL, "Name") {
		out = append(out, Name{Lang: lang(n), Value: text(n)})
	}
	return out
}

func uris(e *etree.Element) []string {
	var out []string
	for _, u := range children(e, NamespaceTSL, "URI") {
		out = append(out, text(u))
	}
	return out
}

// lang returns the xml:lang attribute of e.
func lang(e *etree.Element) string {
	for i := range e.Attr {
		a := &e.Attr[i]
		if a.Key == "lang" && xmlns.AttrURI(e, a) == xmlns.XML {
			return a.Value
		}
	}
	return ""
}

func (p *parser) integer(e *etree.Element, path string) int {
	if e == nil {
		return 0
	}
	n, err := strconv.Atoi(text(e))
	if err != nil {
		p.fail(path, "%q is not an integer", text(e))
	}
	return n
}

// dateTime parses an xsd:dateTime. TS 119 612 clause 5.1.4 requires UTC
// ("Z"); offsets and a missing zone (taken as UTC) are accepted because
// they are unambiguous or nearly so and lists carry them.
func (p *parser) dateTime(e *etree.Element, path string) time.Time {
	if e == nil {
		return time.Time{}
	}
	s := text(e)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	p.fail(path, "%q is not an xsd:dateTime", s)
	return time.Time{}
}
