// Package trustedprofile recognises trusted-profile signatures (podpis
// zaufany): XAdES seals made by the minister's system on behalf of a person
// whose identity (names, PESEL) the seal carries in its signed properties.
//
// Two generations are known, both inside
// xades:SignedSignatureProperties/xades:SignerRole/xades:ClaimedRoles/
// xades:ClaimedRole:
//
//   - ppZP:PodpisZP (http://crd.gov.pl/xml/schematy/ppzp/): DaneZP/
//     DaneZPOsobyFizycznej with os:Imie, os:Nazwisko, os:PESEL
//     (http://crd.gov.pl/xml/schematy/osoba/2009/03/06/), and the ePUAP
//     account in IdKontaUzytkownikaEpuap (found under DaneZPOsobyFizycznej
//     or DanePodpisu, as the service has written both);
//   - pz:EPSignature (http://crd.gov.pl/xml/schematy/podpis_zaufany/):
//     NaturalPerson with FirstName, CurrentFamilyName, DateOfBirth,
//     PersonalIdentifier; SignatureData with IdentityIssuer and
//     IdentityIssueTimestamp.
//
// An identity is read only from the signed properties the caller hands in,
// never from unsigned ones; and it counts only when the seal itself is
// valid and made by the configured sealer (Evaluate). The same payload
// anywhere else is reported as such and never trusted.
package trustedprofile

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/beevik/etree"

	"esig/internal/plid"
	"esig/internal/xmldsig/xmlns"
	"esig/verifier/policy"
	"esig/verifier/report"
)

// Namespaces of the payloads and of XAdES.
const (
	NSPodpisZP      = "http://crd.gov.pl/xml/schematy/ppzp/"
	NSOsoba         = "http://crd.gov.pl/xml/schematy/osoba/2009/03/06/"
	NSPodpisZaufany = "http://crd.gov.pl/xml/schematy/podpis_zaufany/"
	nsXAdES132      = "http://uri.etsi.org/01903/v1.3.2#"
	nsXAdES141      = "http://uri.etsi.org/01903/v1.4.1#"
)

// Generations of the payload.
const (
	GenerationPodpisZP    = "PodpisZP"
	GenerationEPSignature = "EPSignature"
)

// Claim is the identity a payload asserts.
type Claim struct {
	Generation  string
	GivenNames  []string
	Surname     string
	PESEL       string
	AccountID   string
	DateOfBirth string
	// IdentityIssuer and IdentityIssued (second generation) say who
	// confirmed the identity and when.
	IdentityIssuer string
	IdentityIssued string
}

// ErrMalformed reports a payload that is present but unusable.
var ErrMalformed = errors.New("trusted-profile payload is malformed")

// Extract reads the trusted-profile payload of a signed
// xades:SignedProperties element. It returns nil, nil when there is none.
func Extract(signedProperties *etree.Element) (*Claim, error) {
	if signedProperties == nil {
		return nil, nil
	}
	for _, role := range claimedRoles(signedProperties) {
		for _, p := range role.ChildElements() {
			switch {
			case xmlns.Is(p, NSPodpisZP, "PodpisZP"):
				return podpisZP(p)
			case xmlns.Is(p, NSPodpisZaufany, "EPSignature"):
				return epSignature(p)
			}
		}
	}
	return nil, nil
}

// claimedRoles finds SignedSignatureProperties/SignerRole(V2)/ClaimedRoles/
// ClaimedRole, in XAdES 1.3.2 or 1.4.1 (SignerRoleV2).
func claimedRoles(sp *etree.Element) []*etree.Element {
	var out []*etree.Element
	for _, ssp := range sp.ChildElements() {
		if !isXAdES(ssp, "SignedSignatureProperties") {
			continue
		}
		for _, sr := range ssp.ChildElements() {
			if !isXAdES(sr, "SignerRole") && !isXAdES(sr, "SignerRoleV2") {
				continue
			}
			for _, crs := range sr.ChildElements() {
				if !isXAdES(crs, "ClaimedRoles") {
					continue
				}
				for _, cr := range crs.ChildElements() {
					if isXAdES(cr, "ClaimedRole") {
						out = append(out, cr)
					}
				}
			}
		}
	}
	return out
}

func isXAdES(e *etree.Element, local string) bool {
	return xmlns.Is(e, nsXAdES132, local) || xmlns.Is(e, nsXAdES141, local)
}

// child returns the text of the first child with this namespace and name.
func child(e *etree.Element, ns, local string) string {
	if e == nil {
		return ""
	}
	for _, c := range e.ChildElements() {
		if xmlns.Is(c, ns, local) {
			return strings.TrimSpace(c.Text())
		}
	}
	return ""
}

func childElement(e *etree.Element, ns, local string) *etree.Element {
	if e == nil {
		return nil
	}
	for _, c := range e.ChildElements() {
		if xmlns.Is(c, ns, local) {
			return c
		}
	}
	return nil
}

func podpisZP(p *etree.Element) (*Claim, error) {
	dane := childElement(p, NSPodpisZP, "DaneZP")
	osoba := childElement(dane, NSPodpisZP, "DaneZPOsobyFizycznej")
	if osoba == nil {
		return nil, fmt.Errorf("%w: PodpisZP without DaneZP/DaneZPOsobyFizycznej", ErrMalformed)
	}
	c := &Claim{Generation: GenerationPodpisZP, Surname: child(osoba, NSOsoba, "Nazwisko"), PESEL: child(osoba, NSOsoba, "PESEL")}
	for _, el := range osoba.ChildElements() {
		if xmlns.Is(el, NSOsoba, "Imie") || xmlns.Is(el, NSOsoba, "ImieDrugie") {
			c.GivenNames = append(c.GivenNames, strings.Fields(el.Text())...)
		}
	}
	c.AccountID = child(osoba, NSPodpisZP, "IdKontaUzytkownikaEpuap")
	if c.AccountID == "" {
		c.AccountID = child(childElement(p, NSPodpisZP, "DanePodpisu"), NSPodpisZP, "IdKontaUzytkownikaEpuap")
	}
	return c, c.check()
}

// eidasIdentifier is the eIDAS form of a person identifier: CC/CC/value.
var eidasIdentifier = regexp.MustCompile(`^[A-Z]{2}/[A-Z]{2}/(.+)$`)

func epSignature(p *etree.Element) (*Claim, error) {
	person := childElement(p, NSPodpisZaufany, "NaturalPerson")
	if person == nil {
		return nil, fmt.Errorf("%w: EPSignature without NaturalPerson", ErrMalformed)
	}
	c := &Claim{
		Generation: GenerationEPSignature, Surname: child(person, NSPodpisZaufany, "CurrentFamilyName"),
		GivenNames:  strings.Fields(child(person, NSPodpisZaufany, "FirstName")),
		DateOfBirth: child(person, NSPodpisZaufany, "DateOfBirth"),
	}
	id := child(person, NSPodpisZaufany, "PersonalIdentifier")
	if m := eidasIdentifier.FindStringSubmatch(id); m != nil {
		id = m[1]
	}
	c.PESEL = strings.TrimPrefix(id, "PNOPL-")
	data := childElement(p, NSPodpisZaufany, "SignatureData")
	c.IdentityIssuer = child(data, NSPodpisZaufany, "IdentityIssuer")
	c.IdentityIssued = child(data, NSPodpisZaufany, "IdentityIssueTimestamp")
	return c, c.check()
}

// check makes sure the claim names a person with a sound PESEL.
func (c *Claim) check() error {
	switch {
	case len(c.GivenNames) == 0 || c.Surname == "":
		return fmt.Errorf("%w: %s lacks the person's names", ErrMalformed, c.Generation)
	case c.PESEL == "":
		return fmt.Errorf("%w: %s lacks the PESEL", ErrMalformed, c.Generation)
	}
	birth, err := plid.PESEL(c.PESEL)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if c.DateOfBirth != "" {
		if d, err := time.Parse("2006-01-02", c.DateOfBirth); err == nil && !d.Equal(birth) {
			return fmt.Errorf("%w: the date of birth %s disagrees with the PESEL", ErrMalformed, c.DateOfBirth)
		}
	}
	return nil
}

// ContainsPayload reports whether any element under e (unsigned properties,
// an Object, anything not signed) carries a trusted-profile payload, so it
// can be reported as present but not trusted.
func ContainsPayload(e *etree.Element) bool {
	if e == nil {
		return false
	}
	if xmlns.Is(e, NSPodpisZP, "PodpisZP") || xmlns.Is(e, NSPodpisZaufany, "EPSignature") {
		return true
	}
	for _, c := range e.ChildElements() {
		if ContainsPayload(c) {
			return true
		}
	}
	return false
}

var oidOrganizationIdentifier = asn1.ObjectIdentifier{2, 5, 4, 97}

// IsSealer reports whether cert is the configured sealer's.
func IsSealer(cert *x509.Certificate, id policy.SealerIdentity) bool {
	if cert == nil {
		return false
	}
	org := ""
	if len(cert.Subject.Organization) > 0 {
		org = cert.Subject.Organization[0]
	}
	orgID := ""
	for _, n := range cert.Subject.Names {
		if n.Type.Equal(oidOrganizationIdentifier) {
			orgID = fmt.Sprint(n.Value)
		}
	}
	return id.IsSealer(org, orgID, cert.Subject.CommonName)
}

// Outcome is what Evaluate concludes about one signature.
type Outcome struct {
	// Identity is set only for a genuine trusted-profile signature.
	Identity *report.TrustedProfile
	// Warnings explain a payload that was found but is not trusted.
	Warnings []string
}

// Evaluate decides whether a verified XAdES signature is a trusted-profile
// signature: the seal must be TOTAL-PASSED, its signing certificate must be
// the configured sealer's, and the payload must sit in the signed
// properties and name a person with a sound PESEL. unsigned is everything
// of the signature that is not signed (the unsigned properties, say), only
// to report a payload placed there.
func Evaluate(sig *report.Signature, signingCert *x509.Certificate, signedProperties, unsigned *etree.Element, sealer policy.SealerIdentity) Outcome {
	var out Outcome
	claim, err := Extract(signedProperties)
	if err != nil {
		out.Warnings = append(out.Warnings, err.Error()+"; not a trusted-profile signature")
		return out
	}
	if claim == nil {
		if ContainsPayload(unsigned) {
			out.Warnings = append(out.Warnings, "a trusted-profile payload sits outside the signed properties; it is not trusted")
		}
		return out
	}
	switch {
	case !IsSealer(signingCert, sealer):
		out.Warnings = append(out.Warnings, "the signature carries a trusted-profile payload but is not sealed by the trusted-profile sealer; it is not a trusted-profile signature")
		return out
	case sig.Indication != report.TotalPassed:
		out.Warnings = append(out.Warnings, "the trusted-profile seal is not valid, so the identity it carries is not confirmed")
		return out
	}
	tp := &report.TrustedProfile{
		GivenNames: claim.GivenNames, Surname: claim.Surname, PESEL: claim.PESEL, AccountID: claim.AccountID,
		SealedBy: signingCert.Subject.String(),
	}
	if sig.SigningTime != nil {
		tp.SigningTime = sig.SigningTime.UTC().Format(time.RFC3339)
	}
	out.Identity = tp
	return out
}
