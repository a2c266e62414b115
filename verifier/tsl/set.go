package tsl

import (
	"crypto/x509"
	"slices"
	"strconv"
	"time"

	"esig/verifier/trust"
)

// Trusted is a list accepted for use: parsed, its signature checked against
// pinned certificates, with what the check and the loading found.
type Trusted struct {
	List *List
	// Location is the URL or file the list came from.
	Location string
	// Signer is the pinned operator certificate that verified it.
	Signer *x509.Certificate
	// PinnedBy says whose certificates the signature was checked against:
	// PinnedByCaller, PinnedBySelf or a LOTL ("the EU trusted list #248").
	PinnedBy string
	// Origin says where the bytes came from (file, network, cache).
	Origin Origin
	// Stale is set when the list was past its NextUpdate at the time it
	// was accepted (and the policy let it through).
	Stale bool
	// Warnings are what an auditor should see (stale list, expired
	// operator certificate, a refresh that was refused).
	Warnings []string
	// Raw is the exact XML the list was accepted from, so that an
	// evidence bundle can keep the snapshot a verification relied on.
	Raw []byte
}

// Name is a short label for reports: territory and sequence number.
func (t *Trusted) Name() string {
	if t == nil || t.List == nil {
		return ""
	}
	return t.List.Territory + " trusted list #" + strconv.FormatInt(t.List.SequenceNumber, 10)
}

// Set is the collection of accepted lists a verification relies on. Only
// lists whose signature checked may enter it (through a Loader, or Add with
// a Trusted built from a successful CheckSignature), so everything the
// set answers comes from signed data.
type Set struct {
	lists []*Trusted
	// Rejected records lists that were refused, for the report.
	Rejected []Rejection
}

// Rejection is a list that was not accepted, and why.
type Rejection struct {
	Location string
	Err      error
}

// Add puts an accepted list in the set.
func (s *Set) Add(t *Trusted) { s.lists = append(s.lists, t) }

// Lists returns the accepted lists in the order they were added.
func (s *Set) Lists() []*Trusted { return s.lists }

// ServiceRef locates one service in an accepted list.
type ServiceRef struct {
	List     *Trusted
	Provider *Provider
	Service  *Service
}

// ServicesFor returns the services, across all lists of the set, whose
// digital identity certifies c's public key (TS 119 612 clause 5.5.3).
// TS 119 615 looks a certificate's issuing service up this way: by the CA
// certificate found in the certificate's path.
func (s *Set) ServicesFor(c *x509.Certificate) []ServiceRef {
	var out []ServiceRef
	if s == nil || c == nil {
		return nil
	}
	for _, t := range s.lists {
		for _, p := range t.List.Providers {
			for _, svc := range p.Services {
				if svc.MatchesKey(c) {
					out = append(out, ServiceRef{List: t, Provider: p, Service: svc})
				}
			}
		}
	}
	return out
}

// Anchor is a certificate a service of an accepted list is identified by,
// with the service, so that whoever uses it as a trust anchor can ask for
// the status in force at the time that matters (StatusAt, GrantedAt).
type Anchor struct {
	Certificate *x509.Certificate
	ServiceRef
}

// StatusAt returns the service state in force at t, nil if the service
// was not yet listed then.
func (a Anchor) StatusAt(t time.Time) *ServiceInfo { return a.Service.At(t) }

// GrantedAt reports whether the service was granted (or, before eIDAS, in
// an equivalent status) at t.
func (a Anchor) GrantedAt(t time.Time) bool {
	st := a.Service.At(t)
	return st != nil && IsGranted(st.Status)
}

// CAServiceTypes are the service types whose certificates anchor chains of
// signing and seal certificates: CAs issuing qualified certificates and,
// for pre-eIDAS Polish chains, the national root.
var CAServiceTypes = []string{ServiceCAQC, ServiceNationalRootCAQC}

// TimestampServiceTypes are the service types whose certificates anchor
// time-stamp tokens: qualified time stamping and its pre-eIDAS forms, and
// non-qualified time stamping a list may also name.
var TimestampServiceTypes = []string{ServiceQTST, ServiceTSAQC, ServiceTSAQES, ServiceTSA}

// Anchors returns, for every service of the set that has (in any state)
// one of the given types, one Anchor per identifying certificate.
// Withdrawn services are included on purpose: path building is
// time-independent (see verifier/trust) and a certificate issued while the
// service was granted must still chain; the status at the relevant time is
// for the caller to judge with StatusAt or GrantedAt.
func (s *Set) Anchors(types ...string) []Anchor {
	var out []Anchor
	if s == nil {
		return nil
	}
	for _, t := range s.lists {
		for _, p := range t.List.Providers {
			for _, svc := range p.Services {
				if !hasType(svc, types) {
					continue
				}
				for _, c := range svc.Certificates() {
					out = append(out, Anchor{Certificate: c, ServiceRef: ServiceRef{List: t, Provider: p, Service: svc}})
				}
			}
		}
	}
	return out
}

// CAAnchors returns the anchors of CA/QC (and national root CA/QC) services.
func (s *Set) CAAnchors() []Anchor { return s.Anchors(CAServiceTypes...) }

// TimestampAnchors returns the anchors of time-stamping services.
func (s *Set) TimestampAnchors() []Anchor { return s.Anchors(TimestampServiceTypes...) }

// TrustAnchors turns anchors into the engine's anchor set (verifier/trust),
// dropping duplicates.
func TrustAnchors(anchors []Anchor) *trust.Anchors {
	a := trust.NewAnchors()
	for _, x := range anchors {
		if !a.Contains(x.Certificate) {
			a.Add(x.Certificate)
		}
	}
	return a
}

func hasType(s *Service, types []string) bool {
	for _, st := range s.Timeline() {
		if slices.Contains(types, st.Type) {
			return true
		}
	}
	return false
}

// IsGranted reports whether a service status means the service was
// approved at the time it was in force: "granted" under eIDAS, and the
// pre-eIDAS statuses TS 119 615 maps to it (under supervision, in
// cessation of supervision, accredited). Withdrawn, ceased, revoked and
// national-level statuses are not.
func IsGranted(status string) bool {
	switch status {
	case StatusGranted, StatusUnderSupervision, StatusSupervisionInCessation, StatusAccredited:
		return true
	}
	return false
}
