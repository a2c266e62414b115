package tsl

import (
	"bytes"
	"crypto/x509"
	"sort"
	"strings"
	"time"

	"github.com/beevik/etree"

	"esig/internal/xmldsig"
)

// List is one trusted list (TS 119 612 clause 5): its scheme information,
// the pointers to other lists and the trust service providers with their
// services. A List returned by Parse has not had its signature judged; see
// CheckSignature.
type List struct {
	// ID is the Id attribute of the root element (what a signature
	// reference "#id" names).
	ID string
	// Version is TSLVersionIdentifier (clause 5.3.1): 5 for lists under
	// eIDAS, 6 since TS 119 612 v2.3.
	Version int
	// SequenceNumber is TSLSequenceNumber (clause 5.3.2). It only grows, so
	// a refresh that brings a lower one is a rollback.
	SequenceNumber int64
	// Type is TSLType (clause 5.3.3), TypeEUGeneric or TypeEUListOfLists for
	// the EU lists.
	Type string
	// OperatorName is SchemeOperatorName (clause 5.3.4).
	OperatorName Names
	// SchemeName is SchemeName (clause 5.3.6).
	SchemeName Names
	// StatusDeterminationApproach is clause 5.3.8.
	StatusDeterminationApproach string
	// CommunityRules are the SchemeTypeCommunityRules URIs (clause 5.3.9).
	CommunityRules []string
	// Territory is SchemeTerritory (clause 5.3.10): "PL", or "EU" for the
	// LOTL.
	Territory string
	// HistoricalInformationPeriod is in days (clause 5.3.12); 65535 means
	// the history is kept forever.
	HistoricalInformationPeriod int
	// Pointers are PointersToOtherTSL (clause 5.3.13).
	Pointers []Pointer
	// IssueDate is ListIssueDateTime (clause 5.3.14).
	IssueDate time.Time
	// NextUpdate is clause 5.3.15; zero when the list is closed (the
	// scheme has ended and no update will come).
	NextUpdate time.Time
	// DistributionPoints are where the list is published (clause 5.3.16).
	DistributionPoints []string
	// Providers is TrustServiceProviderList (clause 5.3.18).
	Providers []*Provider

	// Signature is what the enveloped ds:Signature carries before any
	// judgement: nil when the list is not signed.
	Signature *SignatureInfo

	doc      *xmldsig.Document
	sigEl    *etree.Element
	sig      *xmldsig.Signature
	sigCount int
}

// SignatureInfo describes the list's enveloped signature as found, for
// display and to choose which pinned certificate to try first.
type SignatureInfo struct {
	// Certificates are the certificates of KeyInfo/X509Data (the operator's
	// certificate, TS 119 612 clause 5.7.1).
	Certificates []*x509.Certificate
}

// Names is a multilingual name (TS 119 612 clause 5.1.4): one value per
// language, in document order.
type Names []Name

// Name is one language's form of a name.
type Name struct {
	Lang  string
	Value string
}

// String returns the English form if there is one, else the first.
func (n Names) String() string { return n.In("en") }

// In returns the form in the given language, else the English one, else
// the first; "" when there is none.
func (n Names) In(lang string) string {
	for _, want := range []string{lang, "en"} {
		for _, x := range n {
			if strings.EqualFold(x.Lang, want) {
				return x.Value
			}
		}
	}
	if len(n) > 0 {
		return n[0].Value
	}
	return ""
}

// Has reports whether any language form equals s (ignoring case and
// surrounding space), which is how a user or a test names a provider.
func (n Names) Has(s string) bool {
	s = strings.TrimSpace(s)
	for _, x := range n {
		if strings.EqualFold(strings.TrimSpace(x.Value), s) {
			return true
		}
	}
	return false
}

// Pointer is one OtherTSLPointer (TS 119 612 clause 5.3.13): where another
// list is published and which certificates may sign it. The LOTL names
// every national list this way; a national list names the LOTL.
type Pointer struct {
	// Location is TSLLocation.
	Location string
	// Certificates are the X509Certificate digital identities: the keys
	// the pointed-to list must be signed with.
	Certificates []*x509.Certificate
	// CertificateErrors are digital identities that could not be parsed.
	CertificateErrors []error
	// Type, Territory, MimeType, OperatorName and CommunityRules come from
	// AdditionalInformation/OtherInformation.
	Type           string
	Territory      string
	MimeType       string
	OperatorName   Names
	CommunityRules []string
}

// IsXML reports whether the pointer names a machine-processable list
// rather than its human-readable PDF form (the LOTL points at both).
func (p Pointer) IsXML() bool {
	if p.MimeType != "" {
		return strings.EqualFold(p.MimeType, MimeTypeTSL)
	}
	l := strings.ToLower(p.Location)
	return strings.HasSuffix(l, ".xml") || strings.HasSuffix(l, ".xtsl")
}

// Provider is one TrustServiceProvider (TS 119 612 clause 5.4).
type Provider struct {
	// Name is TSPName (clause 5.4.1).
	Name Names
	// TradeName is TSPTradeName (clause 5.4.2): trade names and
	// registration identifiers such as "VATPL-5170359458".
	TradeName Names
	// InformationURIs is TSPInformationURI (clause 5.4.4).
	InformationURIs []string
	// Services are TSPServices.
	Services []*Service
}

// Service is one TSPService (TS 119 612 clauses 5.5 and 5.6): the current
// ServiceInformation and the ServiceHistory, which together give the status
// in force at any time since the service was first listed.
type Service struct {
	// Current is ServiceInformation: the state since Current.StatusStart.
	Current *ServiceInfo
	// History are the ServiceHistoryInstances as the list orders them
	// (newest first, clause 5.6).
	History []*ServiceInfo
}

// ServiceInfo is one state of a service: its ServiceInformation, or one
// ServiceHistoryInstance, in force from StatusStart until the next state's
// StatusStart.
type ServiceInfo struct {
	// Type is ServiceTypeIdentifier (clause 5.5.1), e.g. ServiceCAQC.
	Type string
	// Name is ServiceName (clause 5.5.2).
	Name Names
	// Identity is ServiceDigitalIdentity (clause 5.5.3).
	Identity DigitalIdentity
	// Status is ServiceStatus (clause 5.5.4), e.g. StatusGranted.
	Status string
	// StatusStart is StatusStartingTime (clause 5.5.5).
	StatusStart time.Time
	// SupplyPoints are ServiceSupplyPoints (clause 5.5.7).
	SupplyPoints []string
	// Qualifications is the Qualifications extension (clause 5.5.9.2).
	Qualifications []Qualification
	// AdditionalInfo are the AdditionalServiceInformation URIs (clause
	// 5.5.9.4), e.g. InfoForESignatures.
	AdditionalInfo []string
	// ExpiredCertsRevocationInfo is clause 5.5.9.1: from this time on the
	// CA keeps revocation information for expired certificates.
	ExpiredCertsRevocationInfo time.Time
	// TakenOverBy names the provider that took the service over (clause
	// 5.5.9.3), "" if none.
	TakenOverBy string
	// UnknownCritical names extensions marked critical that this package
	// does not understand. TS 119 612 clause 5.5.9 requires a relying party
	// that cannot process a critical extension not to use the entry: the
	// qualification step refuses the state.
	UnknownCritical []string
}

// DigitalIdentity identifies a service (TS 119 612 clause 5.5.3): by
// certificate, and sometimes by subject name and subject key identifier
// (history instances often carry only those two).
type DigitalIdentity struct {
	Certificates []*x509.Certificate
	SubjectNames []string
	SKIs         [][]byte
	// Errors are X509Certificate values that could not be parsed; the
	// service can then not be matched by that certificate.
	Errors []error
}

// MatchesKey reports whether one of the identity's certificates certifies
// the same public key as c. A service is its key (clause 5.5.3: "the
// public key ... identifies the service"): a CA re-certified under the same
// key is still the same service.
func (d DigitalIdentity) MatchesKey(c *x509.Certificate) bool {
	for _, x := range d.Certificates {
		if bytes.Equal(x.RawSubjectPublicKeyInfo, c.RawSubjectPublicKeyInfo) {
			return true
		}
	}
	return false
}

// Timeline returns the service's states oldest first, each in force from
// its StatusStart until the next one's. Lists order history newest first,
// but nothing forces them to, so the order is established here.
func (s *Service) Timeline() []*ServiceInfo {
	out := make([]*ServiceInfo, 0, 1+len(s.History))
	out = append(out, s.History...)
	if s.Current != nil {
		out = append(out, s.Current)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StatusStart.Before(out[j].StatusStart) })
	return out
}

// At returns the state in force at t: the one with the latest StatusStart
// not after t. It returns nil when t precedes the first state (the service
// was not on the list then), which TS 119 615 treats as "no status".
func (s *Service) At(t time.Time) *ServiceInfo {
	var in *ServiceInfo
	for _, st := range s.Timeline() {
		if st.StatusStart.After(t) {
			break
		}
		in = st
	}
	return in
}

// MatchesKey reports whether any state of the service identifies c's key.
// History instances may name the service only by subject and SKI; they
// belong to the same service, so a match on the current identity covers
// them.
func (s *Service) MatchesKey(c *x509.Certificate) bool {
	if s.Current != nil && s.Current.Identity.MatchesKey(c) {
		return true
	}
	for _, h := range s.History {
		if h.Identity.MatchesKey(c) {
			return true
		}
	}
	return false
}

// Certificates returns the distinct certificates that identify the service
// in any of its states, current first.
func (s *Service) Certificates() []*x509.Certificate {
	var out []*x509.Certificate
	seen := map[string]bool{}
	add := func(cs []*x509.Certificate) {
		for _, c := range cs {
			if !seen[string(c.Raw)] {
				seen[string(c.Raw)] = true
				out = append(out, c)
			}
		}
	}
	if s.Current != nil {
		add(s.Current.Identity.Certificates)
	}
	for _, h := range s.History {
		add(h.Identity.Certificates)
	}
	return out
}

// IsLOTL reports whether the list is a list of lists (TS 119 612 clause
// 5.3.3), whose pointers lead to the national lists.
func (l *List) IsLOTL() bool {
	return l.Type == TypeEUListOfLists || strings.HasSuffix(l.Type, "/EUlistofthelists") ||
		strings.HasSuffix(l.Type, "/schemes")
}

// Stale reports whether the list is past its NextUpdate at t, or closed
// (no NextUpdate). A stale list may no longer say the truth: TS 119 612
// clause 5.3.15 makes NextUpdate the latest time a new list is issued.
func (l *List) Stale(t time.Time) bool {
	return l.NextUpdate.IsZero() || t.After(l.NextUpdate)
}

// PointersTo returns the XML pointers for a territory ("PL"), in document
// order; the pointer to the list itself is included when it matches.
func (l *List) PointersTo(territory string) []Pointer {
	var out []Pointer
	for _, p := range l.Pointers {
		if strings.EqualFold(p.Territory, territory) && p.IsXML() {
			out = append(out, p)
		}
	}
	return out
}

// SelfPointer returns the list's pointer to itself, if any: the LOTL names
// its own location and signing certificates among its pointers (as a list
// of type EUlistofthelists).
func (l *List) SelfPointer() (Pointer, bool) {
	for _, p := range l.Pointers {
		if p.IsXML() && p.Type == l.Type && strings.EqualFold(p.Territory, l.Territory) {
			return p, true
		}
	}
	return Pointer{}, false
}

// FindProvider returns the providers one of whose names or trade names is
// name (any language).
func (l *List) FindProvider(name string) []*Provider {
	var out []*Provider
	for _, p := range l.Providers {
		if p.Name.Has(name) || p.TradeName.Has(name) {
			out = append(out, p)
		}
	}
	return out
}
