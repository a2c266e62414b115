package tsltest

import (
	"crypto/x509"
	"encoding/base64"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/beevik/etree"

	"esig/internal/xmldsig"
	"esig/internal/xmldsig/c14n"
)

// Namespaces and URIs written into synthetic lists (TS 119 612 Annex C and
// clause 5), spelled out here rather than imported from verifier/tsl.
const (
	nsTSL     = "http://uri.etsi.org/02231/v2#"
	nsTSLX    = "http://uri.etsi.org/02231/v2/additionaltypes#"
	nsSIE     = "http://uri.etsi.org/TrstSvc/SvcInfoExt/eSigDir-1999-93-EC-TrustedList/#"
	nsXAdES   = "http://uri.etsi.org/01903/v1.3.2#"
	svcType   = "http://uri.etsi.org/TrstSvc/Svctype/"
	svcStatus = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/"
	svcExt    = "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/"
	tslType   = "http://uri.etsi.org/TrstSvc/TrustedList/TSLType/"

	TypeCAQC               = svcType + "CA/QC"
	TypeQTST               = svcType + "TSA/QTST"
	StatusGranted          = svcStatus + "granted"
	StatusWithdrawn        = svcStatus + "withdrawn"
	StatusUnderSupervision = svcStatus + "undersupervision"
	InfoForESig            = svcExt + "ForeSignatures"
	InfoForESeal           = svcExt + "ForeSeals"
	QualQCStatement        = svcExt + "QCStatement"
	QualNotQualified       = svcExt + "NotQualified"
	QualQCWithQSCD         = svcExt + "QCWithQSCD"
	QualQCNoQSCD           = svcExt + "QCNoQSCD"
	QualQSCDAsInCert       = svcExt + "QCQSCDStatusAsInCert"
	QualQCForESig          = svcExt + "QCForESig"
	QualQCForESeal         = svcExt + "QCForESeal"
	TSLTypeGeneric         = tslType + "EUgeneric"
	TSLTypeLOTL            = tslType + "EUlistofthelists"
)

// Times the default service history refers to.
var (
	// GrantedFrom is when the default CA/QC service becomes granted.
	GrantedFrom = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	// IssueDate and NextUpdate of default lists.
	IssueDate  = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	NextUpdate = time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
)

// Qualification is one QualificationElement to write.
type Qualification struct {
	Qualifiers []string
	// Assert defaults to "all".
	Assert string
	// KeyUsage, when set, is one KeyUsage criterion.
	KeyUsage map[string]bool
	// Policies, when set, is one PolicySet criterion.
	Policies []string
}

// Status is one state of a service, in force from Start.
type Status struct {
	Status         string
	Start          time.Time
	AdditionalInfo []string
	Qualifications []Qualification
	// UnknownCritical adds a critical extension no verifier knows.
	UnknownCritical bool
}

// Service is one TSPService; History is oldest first (the builder writes
// the last state as ServiceInformation and the rest, newest first, as
// ServiceHistory, as lists do).
type Service struct {
	Type    string
	Name    string
	Cert    *x509.Certificate
	History []Status
}

// ListOptions describe a synthetic national list.
type ListOptions struct {
	// Territory defaults to "ZZ" (a user-assigned code, never a real one).
	Territory string
	// Sequence defaults to 1.
	Sequence int64
	// IssueDate and NextUpdate default to the package variables; a
	// negative NextUpdate (before IssueDate) is written as given.
	IssueDate, NextUpdate time.Time
	// Provider defaults to "Test QTSP S.A.".
	Provider string
	// Services default to DefaultServices(p, time.Time{}).
	Services []Service
	// Pointers to other lists (a national list points at the LOTL).
	Pointers []Pointer
}

// Pointer is one OtherTSLPointer to write.
type Pointer struct {
	Location  string
	Territory string
	Type      string
	Certs     []*x509.Certificate
	Operator  string
	// MimeType defaults to application/vnd.etsi.tsl+xml.
	MimeType string
}

// DefaultServices is the QTSP's CA/QC service, granted from GrantedFrom for
// signatures and seals with the QSCD status as in the certificate (and
// withdrawn from withdrawn, unless zero), and its TSA/QTST service.
func DefaultServices(p *PKI, withdrawn time.Time) []Service {
	granted := Status{
		Status: StatusGranted, Start: GrantedFrom,
		AdditionalInfo: []string{InfoForESig, InfoForESeal},
		Qualifications: []Qualification{{
			Qualifiers: []string{QualQSCDAsInCert},
			KeyUsage:   map[string]bool{"nonRepudiation": true},
		}},
	}
	ca := Service{Type: TypeCAQC, Name: "Test QTSP Qualified CA", Cert: p.CA.Cert, History: []Status{granted}}
	if !withdrawn.IsZero() {
		w := granted
		w.Status, w.Start = StatusWithdrawn, withdrawn
		ca.History = append(ca.History, w)
	}
	tsa := Service{Type: TypeQTST, Name: "Test QTSP Qualified Time Stamping", Cert: p.TSA.Cert,
		History: []Status{{Status: StatusGranted, Start: GrantedFrom}}}
	return []Service{ca, tsa}
}

// el creates a child element; tags without a prefix are in the TS 119 612
// namespace (the document's default one), extension elements use the
// prefixes newRoot declares.
func el(parent *etree.Element, tag string, text ...string) *etree.Element {
	e := parent.CreateElement(tag)
	if len(text) > 0 {
		e.SetText(text[0])
	}
	return e
}

func names(parent *etree.Element, tag string, values ...string) {
	n := el(parent, tag)
	for _, v := range values {
		el(n, "Name", v).CreateAttr("xml:lang", "en")
	}
}

func uriList(parent *etree.Element, tag string, uris ...string) {
	n := el(parent, tag)
	for _, u := range uris {
		el(n, "URI", u).CreateAttr("xml:lang", "en")
	}
}

func address(parent *etree.Element, tag string) {
	a := el(parent, tag)
	pa := el(el(a, "PostalAddresses"), "PostalAddress")
	pa.CreateAttr("xml:lang", "en")
	el(pa, "StreetAddress", "1 Test Street")
	el(pa, "Locality", "Testville")
	el(pa, "CountryName", "ZZ")
	uriList(a, "ElectronicAddress", "mailto:tl@example.invalid")
}

func xsdTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func b64(c *x509.Certificate) string { return base64.StdEncoding.EncodeToString(c.Raw) }

// BuildList builds an unsigned national list.
func BuildList(p *PKI, o ListOptions) *etree.Document {
	if o.Territory == "" {
		o.Territory = "ZZ"
	}
	if o.Sequence == 0 {
		o.Sequence = 1
	}
	if o.IssueDate.IsZero() {
		o.IssueDate = IssueDate
	}
	if o.NextUpdate.IsZero() {
		o.NextUpdate = NextUpdate
	}
	if o.Provider == "" {
		o.Provider = "Test QTSP S.A."
	}
	if o.Services == nil {
		o.Services = DefaultServices(p, time.Time{})
	}
	doc, root := newRoot("TL-" + o.Territory)
	si := schemeInfo(root, o.Sequence, TSLTypeGeneric, "Test Supervisory Body", o.Territory)
	pointers(si, o.Pointers)
	el(si, "ListIssueDateTime", xsdTime(o.IssueDate))
	el(el(si, "NextUpdate"), "dateTime", xsdTime(o.NextUpdate))
	dp := el(si, "DistributionPoints")
	el(dp, "URI", "https://tl.example.invalid/"+o.Territory+".xml")

	tsp := el(el(root, "TrustServiceProviderList"), "TrustServiceProvider")
	info := el(tsp, "TSPInformation")
	names(info, "TSPName", o.Provider)
	names(info, "TSPTradeName", "VATZZ-0000000000")
	address(info, "TSPAddress")
	uriList(info, "TSPInformationURI", "https://qtsp.example.invalid/repository")
	svcs := el(tsp, "TSPServices")
	for _, s := range o.Services {
		service(svcs, s)
	}
	return doc
}

func newRoot(id string) (*etree.Document, *etree.Element) {
	doc := etree.NewDocument()
	root := doc.CreateElement("TrustServiceStatusList")
	root.CreateAttr("xmlns", nsTSL)
	root.CreateAttr("xmlns:tslx", nsTSLX)
	root.CreateAttr("xmlns:ecc", nsSIE)
	root.CreateAttr("xmlns:xades", nsXAdES)
	root.CreateAttr("Id", id)
	root.CreateAttr("TSLTag", "http://uri.etsi.org/19612/TSLTag")
	return doc, root
}

func schemeInfo(root *etree.Element, seq int64, typ, operator, territory string) *etree.Element {
	si := el(root, "SchemeInformation")
	el(si, "TSLVersionIdentifier", "5")
	el(si, "TSLSequenceNumber", strconv.FormatInt(seq, 10))
	el(si, "TSLType", typ)
	names(si, "SchemeOperatorName", operator)
	address(si, "SchemeOperatorAddress")
	names(si, "SchemeName", territory+":Synthetic trusted list for tests")
	uriList(si, "SchemeInformationURI", "https://tl.example.invalid/")
	el(si, "StatusDeterminationApproach", "http://uri.etsi.org/TrstSvc/TrustedList/StatusDetn/EUappropriate")
	uriList(si, "SchemeTypeCommunityRules", "http://uri.etsi.org/TrstSvc/TrustedList/schemerules/EUcommon")
	el(si, "SchemeTerritory", territory)
	pol := el(si, "PolicyOrLegalNotice")
	el(pol, "TSLLegalNotice", "Synthetic list generated by a test; it has no legal effect.").CreateAttr("xml:lang", "en")
	el(si, "HistoricalInformationPeriod", "65535")
	return si
}

func pointers(si *etree.Element, ps []Pointer) {
	if len(ps) == 0 {
		return
	}
	list := el(si, "PointersToOtherTSL")
	for _, p := range ps {
		ptr := el(list, "OtherTSLPointer")
		if len(p.Certs) > 0 {
			ids := el(ptr, "ServiceDigitalIdentities")
			for _, c := range p.Certs {
				el(el(el(ids, "ServiceDigitalIdentity"), "DigitalId"), "X509Certificate", b64(c))
			}
		}
		el(ptr, "TSLLocation", p.Location)
		ai := el(ptr, "AdditionalInformation")
		el(el(ai, "OtherInformation"), "TSLType", p.Type)
		el(el(ai, "OtherInformation"), "SchemeTerritory", p.Territory)
		mt := p.MimeType
		if mt == "" {
			mt = "application/vnd.etsi.tsl+xml"
		}
		el(el(ai, "OtherInformation"), "tslx:MimeType", mt)
		names(el(ai, "OtherInformation"), "SchemeOperatorName", p.Operator)
	}
}

func service(parent *etree.Element, s Service) {
	svc := el(parent, "TSPService")
	n := len(s.History)
	if n == 0 {
		return
	}
	serviceInfo(el(svc, "ServiceInformation"), s, s.History[n-1], true)
	if n > 1 {
		h := el(svc, "ServiceHistory")
		for i := n - 2; i >= 0; i-- {
			serviceInfo(el(h, "ServiceHistoryInstance"), s, s.History[i], false)
		}
	}
}

func serviceInfo(e *etree.Element, s Service, st Status, current bool) {
	el(e, "ServiceTypeIdentifier", s.Type)
	names(e, "ServiceName", s.Name)
	el(el(el(e, "ServiceDigitalIdentity"), "DigitalId"), "X509Certificate", b64(s.Cert))
	el(e, "ServiceStatus", st.Status)
	el(e, "StatusStartingTime", xsdTime(st.Start))
	if current {
		sp := el(e, "ServiceSupplyPoints")
		el(sp, "ServiceSupplyPoint", "https://qtsp.example.invalid/ca.crl")
	}
	if len(st.Qualifications) == 0 && len(st.AdditionalInfo) == 0 && !st.UnknownCritical {
		return
	}
	exts := el(e, "ServiceInformationExtensions")
	if len(st.Qualifications) > 0 {
		q := el(el(exts, "Extension"), "ecc:Qualifications")
		q.Parent().CreateAttr("Critical", "true")
		for _, qs := range st.Qualifications {
			qe := el(q, "ecc:QualificationElement")
			qq := el(qe, "ecc:Qualifiers")
			for _, u := range qs.Qualifiers {
				el(qq, "ecc:Qualifier").CreateAttr("uri", u)
			}
			cl := el(qe, "ecc:CriteriaList")
			a := qs.Assert
			if a == "" {
				a = "all"
			}
			cl.CreateAttr("assert", a)
			if qs.KeyUsage != nil {
				ku := el(cl, "ecc:KeyUsage")
				for _, name := range []string{"digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment", "keyAgreement", "keyCertSign", "crlSign", "encipherOnly", "decipherOnly"} {
					if v, ok := qs.KeyUsage[name]; ok {
						el(ku, "ecc:KeyUsageBit", strconv.FormatBool(v)).CreateAttr("name", name)
					}
				}
			}
			if qs.Policies != nil {
				ps := el(cl, "ecc:PolicySet")
				for _, oid := range qs.Policies {
					el(el(ps, "ecc:PolicyIdentifier"), "xades:Identifier", oid)
				}
			}
		}
	}
	if st.UnknownCritical {
		x := el(exts, "Extension")
		x.CreateAttr("Critical", "true")
		u := el(x, "unknown:FutureExtension", "something new")
		u.CreateAttr("xmlns:unknown", "urn:esig:test:future-extension")
	}
	for _, u := range st.AdditionalInfo {
		x := el(exts, "Extension")
		x.CreateAttr("Critical", "true")
		el(el(x, "AdditionalServiceInformation"), "URI", u).CreateAttr("xml:lang", "en")
	}
}

// LOTLOptions describe a synthetic list of trusted lists.
type LOTLOptions struct {
	Sequence              int64
	IssueDate, NextUpdate time.Time
	// Location is where the LOTL says it is published (its self pointer).
	Location string
	Pointers []Pointer
}

// BuildLOTL builds an unsigned list of lists that points at itself (signed
// by LOTLOperator) and at the given lists.
func BuildLOTL(p *PKI, o LOTLOptions) *etree.Document {
	if o.Sequence == 0 {
		o.Sequence = 1
	}
	if o.IssueDate.IsZero() {
		o.IssueDate = IssueDate
	}
	if o.NextUpdate.IsZero() {
		o.NextUpdate = NextUpdate
	}
	if o.Location == "" {
		o.Location = "https://lotl.example.invalid/lotl.xml"
	}
	doc, root := newRoot("LOTL")
	si := schemeInfo(root, o.Sequence, TSLTypeLOTL, "Test Commission", "EU")
	self := Pointer{Location: o.Location, Territory: "EU", Type: TSLTypeLOTL, Certs: []*x509.Certificate{p.LOTLOperator.Cert}, Operator: "Test Commission"}
	pointers(si, append([]Pointer{self}, o.Pointers...))
	el(si, "ListIssueDateTime", xsdTime(o.IssueDate))
	el(el(si, "NextUpdate"), "dateTime", xsdTime(o.NextUpdate))
	return doc
}

// Sign signs doc in place with an enveloped signature (exclusive C14N, the
// signer's certificate in KeyInfo) and returns the serialized list.
func Sign(t testing.TB, doc *etree.Document, signer *Cert) []byte {
	t.Helper()
	opts := xmldsig.SignOptions{Signer: signer.Key, Certificates: []*x509.Certificate{signer.Cert}}
	if _, err := xmldsig.SignEnveloped(doc, opts, c14n.ExcC14N); err != nil {
		t.Fatal(err)
	}
	b, err := xmldsig.Serialize(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// SignedList builds and signs a national list with the test operator.
func (p *PKI) SignedList(t testing.TB, o ListOptions) []byte {
	t.Helper()
	return Sign(t, BuildList(p, o), p.Operator)
}

// SignedLOTL builds and signs a list of lists with the test LOTL operator.
func (p *PKI) SignedLOTL(t testing.TB, o LOTLOptions) []byte {
	t.Helper()
	return Sign(t, BuildLOTL(p, o), p.LOTLOperator)
}

// Write writes data to a file in the PKI's directory and returns its path.
func (p *PKI) Write(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(p.Dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
