package report

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// The ETSI TS 119 102-2 (v1.4.1) validation report: the standard XML form of
// the same verdict, for auditors' tools and archives. It carries the
// indications as the URIs of TS 119 102-1 annex (urn:etsi:019102:...), the
// signing certificate and the chain as validation objects identified by
// their SHA-256, the time stamps with their production times, and, in the
// OtherInformation extension points the schema provides, what esig adds:
// the trusted-profile identity, the signed objects, errors and warnings.

// Namespaces of the report.
const (
	nsVR      = "http://uri.etsi.org/19102/v1.4.1#"
	nsDS      = "http://www.w3.org/2000/09/xmldsig#"
	nsXAdES   = "http://uri.etsi.org/01903/v1.3.2#"
	nsEsig    = "urn:esig:report:1"
	uriSHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
)

// URIs of TS 119 102-1 and the conventions of the EU DSS validator (which
// defines the qualification URIs TS 119 102-2 leaves open).
const (
	uriMainIndication = "urn:etsi:019102:mainindication:"
	uriSubIndication  = "urn:etsi:019102:subindication:"
	uriPOEValidation  = "urn:etsi:019102:poetype:validation"
	uriObjCertificate = "urn:etsi:019102:validationObject:certificate"
	uriObjTimestamp   = "urn:etsi:019102:validationObject:timestamp"
	uriProcessLTA     = "urn:etsi:019102:validationprocess:LTA"
	uriQualification  = "urn:cef:dss:signatureQualification:"
)

type vrReport struct {
	XMLName    xml.Name      `xml:"vr:ValidationReport"`
	NSVR       string        `xml:"xmlns:vr,attr"`
	NSDS       string        `xml:"xmlns:ds,attr"`
	NSXAdES    string        `xml:"xmlns:XAdES,attr"`
	NSEsig     string        `xml:"xmlns:esig,attr"`
	Signatures []vrSigReport `xml:"vr:SignatureValidationReport"`
	Objects    *vrObjects    `xml:"vr:SignatureValidationObjects,omitempty"`
}

type vrSigReport struct {
	Identifier vrIdentifier  `xml:"vr:SignatureIdentifier"`
	Time       vrTimeInfo    `xml:"vr:ValidationTimeInfo"`
	Attributes *vrAttributes `xml:"vr:SignatureAttributes,omitempty"`
	Signer     *vrSignerInfo `xml:"vr:SignerInformation,omitempty"`
	Quality    *vrQuality    `xml:"vr:SignatureQuality,omitempty"`
	Process    vrProcess     `xml:"vr:SignatureValidationProcess"`
	Status     vrStatus      `xml:"vr:SignatureValidationStatus"`
	Other      *vrOther      `xml:"vr:OtherInformation,omitempty"`
}

type vrIdentifier struct {
	ID          string `xml:"id,attr"`
	HashOnly    bool   `xml:"vr:HashOnly"`
	DocHashOnly bool   `xml:"vr:DocHashOnly"`
	DAID        string `xml:"vr:DAIdentifier,omitempty"`
}

type vrTimeInfo struct {
	ValidationTime string `xml:"vr:ValidationTime"`
	Best           vrPOE  `xml:"vr:BestSignatureTime"`
}

type vrPOE struct {
	Time string `xml:"vr:POETime"`
	Type string `xml:"vr:TypeOfProof"`
}

type vrAttributes struct {
	Items []any
}

// MarshalXML writes the attributes as the schema's choice list.
func (a *vrAttributes) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for _, it := range a.Items {
		if err := e.Encode(it); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

type vrSigningTime struct {
	XMLName xml.Name `xml:"vr:SigningTime"`
	Signed  bool     `xml:"Signed,attr"`
	Time    string   `xml:"vr:Time"`
}

type vrTimestampAttr struct {
	XMLName xml.Name `xml:""`
	Object  *vrVORef `xml:"vr:AttributeObject,omitempty"`
	Value   string   `xml:"vr:TimeStampValue"`
}

type vrVORef struct {
	Ref string `xml:"VOReference,attr"`
}

type vrSignerInfo struct {
	Certificate vrVORef `xml:"vr:SignerCertificate"`
	Signer      string  `xml:"vr:Signer,omitempty"`
}

type vrQuality struct {
	Info []string `xml:"vr:SignatureQualityInformation"`
}

type vrProcess struct {
	ID string `xml:"vr:SignatureValidationProcessID"`
}

type vrStatus struct {
	Main string        `xml:"vr:MainIndication"`
	Sub  []string      `xml:"vr:SubIndication,omitempty"`
	Data *vrReportData `xml:"vr:AssociatedValidationReportData,omitempty"`
}

type vrReportData struct {
	Chain *vrChain `xml:"vr:CertificateChain,omitempty"`
}

type vrChain struct {
	Signing       vrVORef   `xml:"vr:SigningCertificate"`
	Intermediates []vrVORef `xml:"vr:IntermediateCertificate,omitempty"`
	Anchor        *vrVORef  `xml:"vr:TrustAnchor,omitempty"`
}

type vrOther struct {
	TrustedProfile *esigTrustedProfile `xml:"esig:TrustedProfile,omitempty"`
	SignedObjects  []esigSignedObject  `xml:"esig:SignedObject,omitempty"`
	Format         string              `xml:"esig:Format,omitempty"`
	Errors         []string            `xml:"esig:Error,omitempty"`
	Warnings       []string            `xml:"esig:Warning,omitempty"`
}

type esigTrustedProfile struct {
	GivenNames  []string `xml:"esig:GivenName"`
	Surname     string   `xml:"esig:Surname"`
	PESEL       string   `xml:"esig:PESEL"`
	AccountID   string   `xml:"esig:AccountId,omitempty"`
	SealedBy    string   `xml:"esig:SealedBy"`
	SigningTime string   `xml:"esig:SigningTime,omitempty"`
}

type esigSignedObject struct {
	Reference       string `xml:"Reference,attr,omitempty"`
	URI             string `xml:"URI,attr"`
	DigestAlgorithm string `xml:"DigestAlgorithm,attr,omitempty"`
}

type vrObjects struct {
	Objects []vrObject `xml:"vr:ValidationObject"`
}

type vrObject struct {
	ID   string `xml:"id,attr"`
	Type string `xml:"vr:ObjectType"`
	Repr vrRepr `xml:"vr:ValidationObjectRepresentation"`
	POE  *vrPOE `xml:"vr:POE,omitempty"`
}

type vrRepr struct {
	Direct *vrDirect `xml:"vr:direct,omitempty"`
	Digest *vrDigest `xml:"vr:DigestAlgAndValue,omitempty"`
}

// vrDirect describes an object directly where no digest of it is at hand.
type vrDirect struct {
	Token esigToken `xml:"esig:TimeStampToken"`
}

type esigToken struct {
	TSA          string `xml:"TSA,attr,omitempty"`
	SerialNumber string `xml:"SerialNumber,attr,omitempty"`
}

type vrDigest struct {
	Method vrMethod `xml:"ds:DigestMethod"`
	Value  string   `xml:"ds:DigestValue"`
}

type vrMethod struct {
	Algorithm string `xml:"Algorithm,attr"`
}

func xmlTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// etsiBuilder collects validation objects shared by the signatures.
type etsiBuilder struct {
	objects []vrObject
	seen    map[string]bool
}

// certObject registers a certificate by its SHA-256 (hex) and returns its
// validation-object ID.
func (b *etsiBuilder) certObject(sha256Hex string) string {
	id := "C-" + sha256Hex
	if !b.seen[id] {
		b.seen[id] = true
		raw, err := hex.DecodeString(sha256Hex)
		if err != nil {
			raw = []byte(sha256Hex)
		}
		b.objects = append(b.objects, vrObject{ID: id, Type: uriObjCertificate,
			Repr: vrRepr{Digest: &vrDigest{Method: vrMethod{uriSHA256}, Value: base64.StdEncoding.EncodeToString(raw)}}})
	}
	return id
}

// WriteETSI writes reports as ETSI TS 119 102-2 validation reports, one
// ValidationReport element per file (a single report is a plain document;
// several are wrapped in esig:ValidationReports).
func WriteETSI(w io.Writer, reports []*Report) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if len(reports) != 1 {
		start := xml.StartElement{Name: xml.Name{Local: "esig:ValidationReports"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns:esig"}, Value: nsEsig}}}
		if err := enc.EncodeToken(start); err != nil {
			return err
		}
		for _, r := range reports {
			if err := enc.Encode(etsiReport(r)); err != nil {
				return err
			}
		}
		if err := enc.EncodeToken(start.End()); err != nil {
			return err
		}
	} else if err := enc.Encode(etsiReport(reports[0])); err != nil {
		return err
	}
	if err := enc.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func etsiReport(r *Report) *vrReport {
	b := &etsiBuilder{seen: map[string]bool{}}
	out := &vrReport{NSVR: nsVR, NSDS: nsDS, NSXAdES: nsXAdES, NSEsig: nsEsig}
	for i, s := range r.Signatures {
		out.Signatures = append(out.Signatures, b.signature(r, s, i))
	}
	if len(out.Signatures) == 0 {
		// The schema wants at least one signature report: a file without a
		// signature is reported as such, with no identifier to hang on.
		out.Signatures = append(out.Signatures, vrSigReport{
			Identifier: vrIdentifier{ID: "S-none"},
			Time:       vrTimeInfo{ValidationTime: xmlTime(r.ValidationTime), Best: vrPOE{xmlTime(r.ValidationTime), uriPOEValidation}},
			Process:    vrProcess{ID: uriProcessLTA},
			Status:     vrStatus{Main: uriMainIndication + "indeterminate", Sub: []string{uriSubIndication + "SIGNED_DATA_NOT_FOUND"}},
			Other:      &vrOther{Errors: []string{"no signature found"}},
		})
	}
	if len(b.objects) > 0 {
		out.Objects = &vrObjects{Objects: b.objects}
	}
	return out
}

func (b *etsiBuilder) signature(r *Report, s *Signature, i int) vrSigReport {
	best := r.ValidationTime
	if s.BestSignatureTime != nil {
		best = *s.BestSignatureTime
	}
	v := vrSigReport{
		Identifier: vrIdentifier{ID: fmt.Sprintf("S-%d", i+1), DAID: s.ID},
		Time:       vrTimeInfo{ValidationTime: xmlTime(r.ValidationTime), Best: vrPOE{xmlTime(best), uriPOEValidation}},
		Process:    vrProcess{ID: uriProcessLTA},
		Status:     vrStatus{Main: uriMainIndication + strings.ToLower(string(s.Indication))},
		Other:      &vrOther{Format: s.Format, Errors: s.Errors, Warnings: s.Warnings},
	}
	if s.SubIndication != "" {
		v.Status.Sub = []string{uriSubIndication + string(s.SubIndication)}
	}
	var attrs []any
	if s.SigningTime != nil {
		attrs = append(attrs, vrSigningTime{Signed: true, Time: xmlTime(*s.SigningTime)})
	}
	for j, ts := range s.Timestamps {
		if ts.ProductionTime == nil {
			continue
		}
		name := map[string]string{SignatureTimestamp: "vr:SignatureTimeStamp", ArchiveTimestamp: "vr:ArchiveTimeStamp", ContentTimestamp: "vr:AllDataObjectsTimeStamp"}[ts.Type]
		if name == "" {
			continue
		}
		id := fmt.Sprintf("T-%d-%d", i+1, j+1)
		b.objects = append(b.objects, vrObject{ID: id, Type: uriObjTimestamp,
			Repr: vrRepr{Direct: &vrDirect{esigToken{TSA: ts.TSA, SerialNumber: ts.SerialNumber}}},
			POE:  &vrPOE{Time: xmlTime(*ts.ProductionTime), Type: uriPOEValidation}})
		attrs = append(attrs, vrTimestampAttr{XMLName: xml.Name{Local: name}, Object: &vrVORef{id}, Value: xmlTime(*ts.ProductionTime)})
	}
	if len(attrs) > 0 {
		v.Attributes = &vrAttributes{Items: attrs}
	}
	if s.Signer != nil && s.Signer.CertificateSHA256 != "" {
		signing := b.certObject(s.Signer.CertificateSHA256)
		v.Signer = &vrSignerInfo{Certificate: vrVORef{signing}, Signer: s.Signer.Subject}
		chain := &vrChain{Signing: vrVORef{signing}}
		for _, c := range s.Chain {
			if c.CertificateSHA256 == "" || c.CertificateSHA256 == s.Signer.CertificateSHA256 {
				continue
			}
			ref := vrVORef{b.certObject(c.CertificateSHA256)}
			if c.TrustAnchor {
				chain.Anchor = &ref
			} else {
				chain.Intermediates = append(chain.Intermediates, ref)
			}
		}
		v.Status.Data = &vrReportData{Chain: chain}
	}
	if s.Qualification != "" && s.Qualification != "N/A" {
		v.Quality = &vrQuality{Info: []string{uriQualification + strings.ReplaceAll(s.Qualification, " ", "_")}}
	}
	if tp := s.TrustedProfile; tp != nil {
		v.Other.TrustedProfile = &esigTrustedProfile{GivenNames: tp.GivenNames, Surname: tp.Surname, PESEL: tp.PESEL, AccountID: tp.AccountID, SealedBy: tp.SealedBy, SigningTime: tp.SigningTime}
	}
	for _, o := range s.SignedObjects {
		v.Other.SignedObjects = append(v.Other.SignedObjects, esigSignedObject{Reference: o.Reference, URI: o.URI, DigestAlgorithm: o.DigestAlgorithm})
	}
	return v
}
