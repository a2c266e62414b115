package issuance

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"esig/internal/plid"
)

// Subject is the identity a certificate is issued for, as the registration
// side vouches for it. The subject of a CSR is never used: a CSR proves
// possession of a key, not who holds it.
type Subject struct {
	GivenName        string `json:"givenName,omitempty"`
	Surname          string `json:"surname,omitempty"`
	PESEL            string `json:"pesel,omitempty"`
	IDDocument       string `json:"idDocument,omitempty"` // Polish identity card number
	OrganizationName string `json:"organizationName,omitempty"`
	NIP              string `json:"nip,omitempty"`
	REGON            string `json:"regon,omitempty"`
	Email            string `json:"email,omitempty"`
	// CommonName is only for the CA's own service certificates (OCSP, TSA)
	// and for seals that want a name other than the organization's.
	CommonName string `json:"commonName,omitempty"`
}

// OIDs of subject attributes and ETSI semantics identifiers used below.
var (
	oidCountry          = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidOrganization     = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOrganizationID   = asn1.ObjectIdentifier{2, 5, 4, 97}
	oidGivenName        = asn1.ObjectIdentifier{2, 5, 4, 42}
	oidSurname          = asn1.ObjectIdentifier{2, 5, 4, 4}
	oidSerialNumber     = asn1.ObjectIdentifier{2, 5, 4, 5}
	oidCommonName       = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidSemanticsNatural = asn1.ObjectIdentifier{0, 4, 0, 194121, 1, 1}
	oidSemanticsLegal   = asn1.ObjectIdentifier{0, 4, 0, 194121, 1, 2}
)

// ubName is ub-common-name of RFC 5280 appendix A, the bound zlint checks too.
const ubName = 64

// validName trims s and checks it can stand in a certificate name.
func validName(field, s string, required bool) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "" && required:
		return "", fieldErr(field, "is required")
	case !utf8.ValidString(s):
		return "", fieldErr(field, "is not valid UTF-8")
	case utf8.RuneCountInString(s) > ubName:
		return "", fieldErr(field, "is longer than %d characters", ubName)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", fieldErr(field, "contains a control character")
		}
	}
	return s, nil
}

// subjectRecord is a validated subject ready to be encoded.
type subjectRecord struct {
	rdn       pkix.RDNSequence
	emails    []string
	semantics asn1.ObjectIdentifier // nil: no semantics identifier
}

// build validates s for a profile's subject kind and lays out the subject
// attributes in the order of ETSI EN 319 412-2 (persons) and -3 (legal
// persons): country, organization, organization identifier, names, serial
// number, common name.
func (s Subject) build(kind SubjectKind, country string) (*subjectRecord, error) {
	var rec subjectRecord
	attr := func(oid asn1.ObjectIdentifier, v string, printable bool) {
		tag := asn1.TagUTF8String
		if printable {
			tag = asn1.TagPrintableString
		}
		rec.rdn = append(rec.rdn, []pkix.AttributeTypeAndValue{{Type: oid, Value: asn1.RawValue{Tag: tag, Bytes: []byte(v)}}})
	}
	given, err := validName("subject.givenName", s.GivenName, kind == SubjectPerson)
	if err != nil {
		return nil, err
	}
	surname, err := validName("subject.surname", s.Surname, kind == SubjectPerson)
	if err != nil {
		return nil, err
	}
	org, err := validName("subject.organizationName", s.OrganizationName, kind == SubjectOrganization)
	if err != nil {
		return nil, err
	}
	cn, err := validName("subject.commonName", s.CommonName, kind == SubjectService)
	if err != nil {
		return nil, err
	}
	orgID, err := organizationIdentifier(s, org != "", kind)
	if err != nil {
		return nil, err
	}
	if s.Email != "" {
		addr, err := mail.ParseAddress(s.Email)
		if err != nil || addr.Address != strings.TrimSpace(s.Email) || addr.Name != "" {
			return nil, fieldErr("subject.email", "is not a plain e-mail address (user@domain)")
		}
		rec.emails = []string{addr.Address}
	}

	attr(oidCountry, country, true)
	if org != "" {
		attr(oidOrganization, org, false)
	}
	if orgID != "" {
		attr(oidOrganizationID, orgID, true)
	}
	switch kind {
	case SubjectPerson:
		serial, err := personSerial(s)
		if err != nil {
			return nil, err
		}
		attr(oidGivenName, given, false)
		attr(oidSurname, surname, false)
		attr(oidSerialNumber, serial, true)
		if cn == "" {
			cn = given + " " + surname
		}
		if len([]rune(cn)) > ubName {
			return nil, fieldErr("subject", "given name and surname together are longer than %d characters; set commonName", ubName)
		}
		rec.semantics = oidSemanticsNatural
	case SubjectOrganization:
		if s.PESEL != "" || s.IDDocument != "" || given != "" || surname != "" {
			return nil, fieldErr("subject", "a seal names an organization only: drop givenName, surname, pesel and idDocument")
		}
		if cn == "" {
			cn = org
		}
		rec.semantics = oidSemanticsLegal
	case SubjectService:
		if s.PESEL != "" || s.IDDocument != "" {
			return nil, fieldErr("subject", "a service certificate carries no personal identifier")
		}
	}
	attr(oidCommonName, cn, false)
	return &rec, nil
}

// attributeNames are the short names DNString uses, as OpenSSL prints them.
var attributeNames = []struct {
	oid  asn1.ObjectIdentifier
	name string
}{
	{oidCountry, "C"}, {oidOrganization, "O"}, {oidOrganizationID, "organizationIdentifier"},
	{oidGivenName, "GN"}, {oidSurname, "SN"}, {oidSerialNumber, "serialNumber"}, {oidCommonName, "CN"},
	{asn1.ObjectIdentifier{2, 5, 4, 11}, "OU"}, {asn1.ObjectIdentifier{2, 5, 4, 7}, "L"}, {asn1.ObjectIdentifier{2, 5, 4, 8}, "ST"},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}, "emailAddress"},
}

// DNString renders a DER Name for people: RFC 4514 escaping, attributes in
// the certificate's order, with the names OpenSSL prints (GN, SN,
// serialNumber, organizationIdentifier) instead of dotted OIDs.
func DNString(raw []byte) (string, error) {
	var rdns pkix.RDNSequence
	if rest, err := asn1.Unmarshal(raw, &rdns); err != nil || len(rest) != 0 {
		return "", fmt.Errorf("not a DER Name: %v", err)
	}
	var parts []string
	for _, rdn := range rdns {
		for _, atv := range rdn {
			name := atv.Type.String()
			for _, n := range attributeNames {
				if n.oid.Equal(atv.Type) {
					name = n.name
				}
			}
			parts = append(parts, name+"="+escapeDN(fmt.Sprint(atv.Value)))
		}
	}
	return strings.Join(parts, ", "), nil
}

func escapeDN(v string) string {
	var b strings.Builder
	for i, r := range v {
		switch {
		case strings.ContainsRune(`,+"\<>;=`, r), (r == '#' || r == ' ') && i == 0, r == ' ' && i == len(v)-1:
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// personSerial gives the ETSI EN 319 412-1 semantics identifier of a
// natural person: PNOPL-<PESEL> or IDCPL-<identity card number>.
func personSerial(s Subject) (string, error) {
	switch {
	case s.PESEL != "" && s.IDDocument != "":
		return "", fieldErr("subject", "give either pesel or idDocument, not both")
	case s.PESEL != "":
		if _, err := plid.PESEL(s.PESEL); err != nil {
			return "", fieldErr("subject.pesel", "%v", err)
		}
		return "PNOPL-" + s.PESEL, nil
	case s.IDDocument != "":
		if err := plid.IdentityCard(s.IDDocument); err != nil {
			return "", fieldErr("subject.idDocument", "%v", err)
		}
		return "IDCPL-" + s.IDDocument, nil
	default:
		return "", fieldErr("subject.pesel", "is required (or idDocument for a person without PESEL)")
	}
}

// organizationIdentifier gives VATPL-<NIP> or NTRPL-<REGON> (EN 319 412-1).
// The CA's own service certificates may name their organization alone.
func organizationIdentifier(s Subject, hasOrg bool, kind SubjectKind) (string, error) {
	switch {
	case s.NIP != "" && s.REGON != "":
		return "", fieldErr("subject", "give either nip or regon, not both")
	case (s.NIP != "" || s.REGON != "") && !hasOrg:
		return "", fieldErr("subject.organizationName", "is required with nip or regon")
	case s.NIP != "":
		if err := plid.NIP(s.NIP); err != nil {
			return "", fieldErr("subject.nip", "%v", err)
		}
		return "VATPL-" + s.NIP, nil
	case s.REGON != "":
		if err := plid.REGON(s.REGON); err != nil {
			return "", fieldErr("subject.regon", "%v", err)
		}
		return "NTRPL-" + s.REGON, nil
	case kind == SubjectOrganization:
		return "", fieldErr("subject.nip", "is required for an organization (or regon)")
	case hasOrg && kind == SubjectPerson:
		return "", fieldErr("subject.nip", "is required with organizationName (or regon)")
	}
	return "", nil
}

// Validate checks s exactly as Prepare will for profile p, so a
// registration authority can refuse a bad application before it is stored.
func (s Subject) Validate(p *Profile, country string) error {
	_, err := s.build(p.Subject, country)
	return err
}

// IdentityKey is the ETSI EN 319 412-1 identifier the subject is known by:
// PNOPL-/IDCPL- for persons, VATPL-/NTRPL- for organizations' seals. It is
// empty for a subject without one.
func (s Subject) IdentityKey(p *Profile) string {
	switch p.Subject {
	case SubjectPerson:
		if v, err := personSerial(s); err == nil {
			return v
		}
	case SubjectOrganization:
		if v, err := organizationIdentifier(s, true, SubjectOrganization); err == nil {
			return v
		}
	}
	return ""
}
