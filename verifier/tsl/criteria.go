package tsl

import (
	"crypto/x509"
	"encoding/asn1"
	"slices"
)

// Qualification is one QualificationElement of the Qualifications
// extension (TS 119 612 clause 5.5.9.2.1): qualifiers that apply to the
// certificates its criteria select.
type Qualification struct {
	// Qualifiers are the Qualifier URIs (clause 5.5.9.2.3), e.g.
	// QualifierQCWithQSCD.
	Qualifiers []string
	Criteria   CriteriaList
}

// HasQualifier reports whether the element carries the qualifier URI.
func (q Qualification) HasQualifier(uri string) bool { return slices.Contains(q.Qualifiers, uri) }

// Assertions of a CriteriaList (clause 5.5.9.2.2).
const (
	AssertAll        = "all"
	AssertAtLeastOne = "atLeastOne"
	AssertNone       = "none"
)

// CriteriaList selects certificates (TS 119 612 clause 5.5.9.2.2): every
// criterion is evaluated against the certificate and Assert combines them.
type CriteriaList struct {
	// Assert is AssertAll (the default), AssertAtLeastOne or AssertNone.
	Assert string
	// KeyUsages: each is satisfied when every bit it names has the given
	// value in the certificate (clause 5.5.9.2.2.1).
	KeyUsages []KeyUsageCriterion
	// PolicySets: each is satisfied when the certificate asserts every
	// policy of the set (clause 5.5.9.2.2.2).
	PolicySets [][]asn1.ObjectIdentifier
	// ExtendedKeyUsages (otherCriteriaList, clause 5.5.9.2.2.3): each is
	// satisfied when the certificate has every purpose of the set.
	ExtendedKeyUsages [][]asn1.ObjectIdentifier
	// SubjectDNAttributes (otherCriteriaList, clause 5.5.9.2.2.3): each is
	// satisfied when the subject carries every attribute type of the set.
	SubjectDNAttributes [][]asn1.ObjectIdentifier
	// Lists are nested CriteriaLists, each one criterion of this list.
	Lists []CriteriaList
	// Unknown names criteria this package cannot evaluate. They count as
	// not satisfied, so an unknown criterion never widens an "all" or
	// "atLeastOne" list; the qualification step reports them.
	Unknown []string
}

// KeyUsageCriterion maps KeyUsageBit names (digitalSignature,
// nonRepudiation, ...) to the value the bit must have.
type KeyUsageCriterion map[string]bool

// keyUsageBits maps the names of TS 119 612's KeyUsageBit to Go's flags
// (RFC 5280 clause 4.2.1.3 order).
var keyUsageBits = map[string]x509.KeyUsage{
	"digitalSignature": x509.KeyUsageDigitalSignature,
	"nonRepudiation":   x509.KeyUsageContentCommitment,
	"keyEncipherment":  x509.KeyUsageKeyEncipherment,
	"dataEncipherment": x509.KeyUsageDataEncipherment,
	"keyAgreement":     x509.KeyUsageKeyAgreement,
	"keyCertSign":      x509.KeyUsageCertSign,
	"crlSign":          x509.KeyUsageCRLSign,
	"encipherOnly":     x509.KeyUsageEncipherOnly,
	"decipherOnly":     x509.KeyUsageDecipherOnly,
}

// Matches evaluates the list against c.
func (cl CriteriaList) Matches(c *x509.Certificate) bool {
	var results []bool
	for _, ku := range cl.KeyUsages {
		results = append(results, ku.matches(c))
	}
	for _, ps := range cl.PolicySets {
		results = append(results, hasAllPolicies(c, ps))
	}
	for _, eku := range cl.ExtendedKeyUsages {
		results = append(results, hasAllEKUs(c, eku))
	}
	for _, attrs := range cl.SubjectDNAttributes {
		results = append(results, hasAllSubjectAttrs(c, attrs))
	}
	for _, sub := range cl.Lists {
		results = append(results, sub.Matches(c))
	}
	for range cl.Unknown {
		results = append(results, false)
	}
	switch cl.Assert {
	case AssertAtLeastOne:
		return slices.Contains(results, true)
	case AssertNone:
		return !slices.Contains(results, true)
	default: // "all", and absent (the schema's only other possibility)
		return !slices.Contains(results, false)
	}
}

func (k KeyUsageCriterion) matches(c *x509.Certificate) bool {
	for name, want := range k {
		bit, ok := keyUsageBits[name]
		if !ok {
			return false
		}
		if (c.KeyUsage&bit != 0) != want {
			return false
		}
	}
	return true
}

func hasAllPolicies(c *x509.Certificate, set []asn1.ObjectIdentifier) bool {
	for _, want := range set {
		found := false
		for _, p := range c.Policies {
			if p.String() == want.String() {
				found = true
				break
			}
		}
		if !found {
			for _, p := range c.PolicyIdentifiers {
				if p.Equal(want) {
					found = true
					break
				}
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// ekuOIDs are the OIDs of the extended key usages Go decodes into
// x509.ExtKeyUsage values (RFC 5280 clause 4.2.1.12 and common practice).
var ekuOIDs = map[x509.ExtKeyUsage]asn1.ObjectIdentifier{
	x509.ExtKeyUsageAny:             {2, 5, 29, 37, 0},
	x509.ExtKeyUsageServerAuth:      {1, 3, 6, 1, 5, 5, 7, 3, 1},
	x509.ExtKeyUsageClientAuth:      {1, 3, 6, 1, 5, 5, 7, 3, 2},
	x509.ExtKeyUsageCodeSigning:     {1, 3, 6, 1, 5, 5, 7, 3, 3},
	x509.ExtKeyUsageEmailProtection: {1, 3, 6, 1, 5, 5, 7, 3, 4},
	x509.ExtKeyUsageTimeStamping:    {1, 3, 6, 1, 5, 5, 7, 3, 8},
	x509.ExtKeyUsageOCSPSigning:     {1, 3, 6, 1, 5, 5, 7, 3, 9},
}

func hasAllEKUs(c *x509.Certificate, set []asn1.ObjectIdentifier) bool {
	for _, want := range set {
		found := slices.ContainsFunc(c.UnknownExtKeyUsage, want.Equal)
		for _, u := range c.ExtKeyUsage {
			if oid, ok := ekuOIDs[u]; ok && oid.Equal(want) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func hasAllSubjectAttrs(c *x509.Certificate, set []asn1.ObjectIdentifier) bool {
	for _, want := range set {
		found := false
		for _, a := range c.Subject.Names {
			if a.Type.Equal(want) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
