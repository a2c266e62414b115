package issuance

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"sort"
	"time"
)

// SubjectKind says whose name a profile's certificates carry.
type SubjectKind int

// The subject kinds.
const (
	SubjectPerson       SubjectKind = iota // a natural person (ETSI EN 319 412-2)
	SubjectOrganization                    // a legal person's seal (ETSI EN 319 412-3)
	SubjectService                         // the CA's own services: OCSP responder, TSA
)

// Profile is what one kind of certificate looks like. Profiles are data:
// the issuer builds every certificate from one, so adding a kind of
// certificate needs no new code.
type Profile struct {
	Name     string
	Subject  SubjectKind
	Validity time.Duration
	KeyUsage x509.KeyUsage
	// ExtKeyUsage lists key purposes by OID. Every end-entity profile names
	// at least one: a certificate without extendedKeyUsage is good for any
	// purpose, TLS server authentication included.
	ExtKeyUsage []asn1.ObjectIdentifier
	// CriticalEKU marks extendedKeyUsage critical, as RFC 3161 requires of
	// a time-stamping certificate.
	CriticalEKU bool
	// OCSPNoCheck adds id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1): clients
	// need not check a delegated responder's own revocation.
	OCSPNoCheck bool
	// Policies are the certificate policy OIDs written in the certificate.
	Policies []asn1.ObjectIdentifier
	// RevocationInfo writes the CRL distribution point and the OCSP URL;
	// false for the OCSP responder itself, whose status is not checked.
	RevocationInfo bool
}

// Policy OIDs of ETSI EN 319 411-1 used by default: NCP (normalized
// certificate policy) for certificates of persons and seals that are not
// qualified. Operators configure their own policy OIDs besides.
var PolicyNCP = asn1.ObjectIdentifier{0, 4, 0, 2042, 1, 1}

// Key purpose OIDs used by the built-in profiles.
var (
	// EKUDocumentSigning is id-kp-documentSigning of RFC 9336: signing
	// documents, as opposed to e-mail, code or TLS.
	EKUDocumentSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}
	EKUClientAuth      = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 2}
	EKUTimeStamping    = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
	EKUOCSPSigning     = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 9}
)

// Names of the built-in profiles.
const (
	ProfilePersonSigning    = "person-signing"
	ProfilePersonAuth       = "person-auth"
	ProfileOrganizationSeal = "organization-seal"
	ProfileOCSP             = "ocsp"
	ProfileTSA              = "tsa"
	ProfileReceiptSeal      = "receipt-seal"
)

// DefaultProfiles returns the built-in profiles, fresh on each call so a
// caller may adjust them from configuration.
func DefaultProfiles() map[string]*Profile {
	year := 365 * 24 * time.Hour
	return map[string]*Profile{
		ProfilePersonSigning: {
			Name: ProfilePersonSigning, Subject: SubjectPerson, Validity: 2 * year,
			KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
			ExtKeyUsage: []asn1.ObjectIdentifier{EKUDocumentSigning},
			Policies:    []asn1.ObjectIdentifier{PolicyNCP}, RevocationInfo: true,
		},
		ProfilePersonAuth: {
			Name: ProfilePersonAuth, Subject: SubjectPerson, Validity: 2 * year,
			KeyUsage:    x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []asn1.ObjectIdentifier{EKUClientAuth},
			Policies:    []asn1.ObjectIdentifier{PolicyNCP}, RevocationInfo: true,
		},
		ProfileOrganizationSeal: {
			Name: ProfileOrganizationSeal, Subject: SubjectOrganization, Validity: 3 * year,
			KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
			ExtKeyUsage: []asn1.ObjectIdentifier{EKUDocumentSigning},
			Policies:    []asn1.ObjectIdentifier{PolicyNCP}, RevocationInfo: true,
		},
		ProfileOCSP: {
			Name: ProfileOCSP, Subject: SubjectService, Validity: year,
			KeyUsage:    x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []asn1.ObjectIdentifier{EKUOCSPSigning},
			OCSPNoCheck: true,
		},
		ProfileReceiptSeal: {
			Name: ProfileReceiptSeal, Subject: SubjectService, Validity: 3 * year,
			KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
			ExtKeyUsage: []asn1.ObjectIdentifier{EKUDocumentSigning}, RevocationInfo: true,
		},
		ProfileTSA: {
			Name: ProfileTSA, Subject: SubjectService, Validity: 5 * year,
			KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
			ExtKeyUsage: []asn1.ObjectIdentifier{EKUTimeStamping},
			CriticalEKU: true, RevocationInfo: true,
		},
	}
}

// forbiddenEKUs are purposes esig never certifies: they belong to TLS
// servers, code signing and e-mail (S/MIME), each with its own
// requirements and root programs.
var forbiddenEKUs = map[string]string{
	"1.3.6.1.5.5.7.3.1": "serverAuth", "1.3.6.1.5.5.7.3.3": "codeSigning",
	"1.3.6.1.5.5.7.3.4": "emailProtection", "2.5.29.37.0": "anyExtendedKeyUsage",
}

// Validate reports a profile that cannot produce a sound certificate.
func (p *Profile) Validate() error {
	for _, oid := range p.ExtKeyUsage {
		if name, bad := forbiddenEKUs[oid.String()]; bad {
			return fmt.Errorf("profile %s: esig does not issue certificates for %s", p.Name, name)
		}
	}
	for _, list := range []struct {
		field string
		oids  []asn1.ObjectIdentifier
	}{{"policies", p.Policies}, {"extKeyUsage", p.ExtKeyUsage}} {
		for _, oid := range list.oids {
			if !encodableOID(oid) {
				return fmt.Errorf("profile %s: %s: %v is not an object identifier DER can encode", p.Name, list.field, oid)
			}
		}
	}
	switch {
	case p.Name == "":
		return fmt.Errorf("profile: name is empty")
	case p.Validity < time.Hour:
		return fmt.Errorf("profile %s: validity %v is shorter than an hour", p.Name, p.Validity)
	case p.KeyUsage == 0:
		return fmt.Errorf("profile %s: no key usage", p.Name)
	case len(p.ExtKeyUsage) == 0:
		return fmt.Errorf("profile %s: no extended key usage (it would allow any purpose)", p.Name)
	case p.KeyUsage&(x509.KeyUsageCertSign|x509.KeyUsageCRLSign) != 0:
		return fmt.Errorf("profile %s: end-entity profiles cannot sign certificates or CRLs", p.Name)
	}
	return nil
}

// encodableOID reports whether oid has the form X.690 8.19 can encode: at
// least two arcs, the first 0, 1 or 2, the second below 40 unless the first
// is 2, and no negative arc.
func encodableOID(oid asn1.ObjectIdentifier) bool {
	if len(oid) < 2 || oid[0] < 0 || oid[0] > 2 || (oid[0] < 2 && oid[1] >= 40) {
		return false
	}
	for _, arc := range oid {
		if arc < 0 {
			return false
		}
	}
	return true
}

// Names lists profile names in order, for error messages.
func Names(profiles map[string]*Profile) []string {
	out := make([]string, 0, len(profiles))
	for n := range profiles {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
