package qualification

import (
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	"esig/verifier/report"
	"esig/verifier/tsl"
)

// EIDASDate is when Regulation (EU) No 910/2014 began to apply to trust
// services (1 July 2016). Certificates issued before it are judged as
// qualified certificates of Directive 1999/93/EC, whose policies (TS 101
// 456) and SSCD qualifiers the lists kept in their histories; an SSCD of
// that time counts as a QSCD (Regulation Article 51(1)).
var EIDASDate = time.Date(2016, 7, 1, 0, 0, 0, 0, time.UTC)

// Qualification results (the "qualification" field of the report, as DSS
// names them).
const (
	QESig     = "QESig"
	QESeal    = "QESeal"
	QES       = "QES?" // qualified, QSCD, type unknown
	AdESigQC  = "AdESig-QC"
	AdESealQC = "AdESeal-QC"
	AdESQC    = "AdES?-QC"
	AdESig    = "AdESig"
	AdESeal   = "AdESeal"
	AdES      = "AdES?"
	// NotApplicable: no trusted list says anything about the chain.
	NotApplicable = "N/A"
	// Prefix of the forms for an INDETERMINATE AdES validation.
	IndeterminatePrefix = "Indeterminate "
	// Forms for a TOTAL-FAILED AdES validation.
	NotAdESQCQSCD = "Not AdES but QC with QSCD"
	NotAdESQC     = "Not AdES but QC"
	NotAdES       = "Not AdES"
)

// CertQualification is a certificate's qualification at one time.
type CertQualification struct {
	Time time.Time
	// Listed: some service of an accepted list identifies a CA of the
	// chain. When false nothing else here means anything.
	Listed bool
	// QC: the certificate is a qualified certificate at Time.
	QC bool
	// Type is what the certificate is for.
	Type Type
	// QSCD: the private key is in a qualified signature or seal creation
	// device.
	QSCD bool
	// Service is the CA/QC service whose granted state decided, nil if
	// none.
	Service *tsl.ServiceRef
	// Reasons explain each step.
	Reasons []string
}

// String names the qualification as DSS's certificate qualification does
// ("QC for eSig with QSCD", "QC for eSeal", "not qualified").
func (q CertQualification) String() string {
	switch {
	case !q.Listed:
		return "N/A (not under a trusted list)"
	case !q.QC:
		return "not qualified"
	}
	s := "QC"
	if q.Type != TypeUnknown {
		s += " for " + string(q.Type)
	}
	if q.QSCD {
		s += " with QSCD"
	}
	return s
}

func (q *CertQualification) reason(format string, args ...any) {
	q.Reasons = append(q.Reasons, fmt.Sprintf(format, args...))
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// describe names a service for a reason.
func describe(r tsl.ServiceRef, st *tsl.ServiceInfo) string {
	name := ""
	if st != nil {
		name = st.Name.String()
	} else if r.Service.Current != nil {
		name = r.Service.Current.Name.String()
	}
	return fmt.Sprintf("service %q of %q in the %s", name, r.Provider.Name.String(), r.List.Name())
}

// CertificateAt judges the qualification of chain[0] at time t (TS 119
// 615): the services of lists that identify a CA of the chain, their
// state in force at t, and the certificate's own statements and policies
// as the state's qualifiers complete or override them. chain is the path
// the validation engine built, the certificate first.
func CertificateAt(chain []*x509.Certificate, lists *tsl.Set, t time.Time) CertQualification {
	q := CertQualification{Time: t}
	if len(chain) == 0 || chain[0] == nil {
		q.reason("no certificate to judge")
		return q
	}
	cert := chain[0]
	var refs []tsl.ServiceRef
	for _, c := range chain[1:] {
		for _, r := range lists.ServicesFor(c) {
			if !slices.ContainsFunc(refs, func(x tsl.ServiceRef) bool { return x.Service == r.Service }) {
				refs = append(refs, r)
			}
		}
	}
	if len(refs) == 0 {
		q.reason("no service of the trusted lists identifies a CA of the certificate's chain")
		return q
	}
	q.Listed = true

	stmts, err := ParseStatements(cert)
	if err != nil {
		q.reason("the certificate's QC statements cannot be read, so none is taken into account: %v", err)
	}
	pol := PoliciesOf(cert)

	type verdict struct {
		ref  tsl.ServiceRef
		qc   bool
		typ  Type
		qscd bool
	}
	// A chain may meet services of other types too (a national root CA
	// above the qualified CA): they are mentioned only when no CA/QC
	// service is there to decide.
	anyCAQC := slices.ContainsFunc(refs, func(r tsl.ServiceRef) bool {
		st := r.Service.At(t)
		return st != nil && st.Type == tsl.ServiceCAQC
	})
	var granted []verdict
	for _, r := range refs {
		st := r.Service.At(t)
		switch {
		case st == nil:
			q.reason("%s was not yet on the list at %s", describe(r, nil), ts(t))
			continue
		case st.Type != tsl.ServiceCAQC:
			if !anyCAQC {
				q.reason("%s is of type %s at %s, not CA/QC: it does not issue qualified certificates", describe(r, st), tsl.ShortName(st.Type), ts(t))
			}
			continue
		case len(st.UnknownCritical) > 0:
			q.reason("%s has a critical extension this verifier does not understand (%s): the entry is not used (TS 119 612 clause 5.5.9)",
				describe(r, st), strings.Join(st.UnknownCritical, ", "))
			continue
		case !tsl.IsGranted(st.Status):
			q.reason("%s has status %s since %s, in force at %s: certificates are not qualified under it",
				describe(r, st), tsl.ShortName(st.Status), ts(st.StatusStart), ts(t))
			continue
		}
		q.reason("%s is CA/QC with status %s since %s, in force at %s", describe(r, st), tsl.ShortName(st.Status), ts(st.StatusStart), ts(t))
		v := verdict{ref: r}
		v.qc, v.typ, v.qscd = judge(&q, cert, stmts, pol, st)
		granted = append(granted, v)
	}
	if len(granted) == 0 {
		q.reason("no granted CA/QC service at %s: the certificate is not qualified then", ts(t))
		q.Type = fallbackType(stmts, pol)
		return q
	}
	first := granted[0]
	q.QC, q.Type, q.QSCD = first.qc, first.typ, first.qscd
	q.Service = &first.ref
	for _, v := range granted[1:] {
		if v.qc != q.QC || v.typ != q.Type || v.qscd != q.QSCD {
			q.reason("the granted services disagree about the certificate; the most cautious reading is kept")
			q.QC = q.QC && v.qc
			q.QSCD = q.QSCD && v.qscd
			if v.typ != q.Type {
				q.Type = TypeUnknown
			}
		}
	}
	if !q.QC && q.Type == TypeUnknown {
		q.Type = fallbackType(stmts, pol)
	}
	return q
}

// fallbackType is the type a non-qualified certificate states, for the
// AdESig / AdESeal distinction.
func fallbackType(s Statements, p Policies) Type {
	if t := s.Type(); t != TypeUnknown {
		return t
	}
	return p.Type
}

// judge applies one granted CA/QC state to the certificate: the
// qualifiers of the Qualifications elements whose criteria select it
// (TS 119 612 clause 5.5.9.2) over the certificate's own statements.
func judge(q *CertQualification, cert *x509.Certificate, stmts Statements, pol Policies, st *tsl.ServiceInfo) (qc bool, typ Type, qscd bool) {
	preEIDAS := cert.NotBefore.Before(EIDASDate)
	var quals []string
	for i, qe := range st.Qualifications {
		if len(qe.Criteria.Unknown) > 0 {
			q.reason("qualification element %d uses criteria this verifier cannot evaluate (%s); they count as not met",
				i+1, strings.Join(qe.Criteria.Unknown, ", "))
		}
		if qe.Criteria.Matches(cert) {
			var short []string
			for _, u := range qe.Qualifiers {
				short = append(short, tsl.ShortName(u))
			}
			q.reason("qualification element %d selects the certificate: %s", i+1, strings.Join(short, ", "))
			quals = append(quals, qe.Qualifiers...)
		}
	}
	has := func(u string) bool { return slices.Contains(quals, u) }

	// Qualified status: the certificate's claim, then the list's word.
	switch {
	case stmts.Compliance:
		qc = true
		q.reason("the certificate claims to be qualified (QcCompliance, EN 319 412-5 clause 4.2.1)")
	case preEIDAS && pol.PreEIDAS:
		qc = true
		q.reason("the certificate, issued before eIDAS, asserts the qualified policy %s (TS 101 456)", strings.Join(pol.Names, ", "))
	case pol.Qualified:
		q.reason("the certificate asserts %s but has no QcCompliance statement: the policy alone does not make it qualified", strings.Join(pol.Names, ", "))
	default:
		q.reason("the certificate does not claim to be qualified (no QcCompliance)")
	}
	switch {
	case has(tsl.QualifierNotQualified) && has(tsl.QualifierQCStatement):
		qc = false
		q.reason("the list says both QCStatement and NotQualified for the certificate: not qualified")
	case has(tsl.QualifierNotQualified):
		qc = false
		q.reason("the list's qualifier NotQualified applies: not qualified")
	case has(tsl.QualifierQCStatement):
		if !qc {
			q.reason("the list's qualifier QCStatement applies: qualified although the certificate does not say so")
		}
		qc = true
	}

	// Type: QcType, else eSig for a qualified certificate without one,
	// then the list's QCFor* qualifiers.
	switch {
	case len(stmts.Types) == 1:
		typ = stmts.Types[0]
		q.reason("QcType says %s (EN 319 412-5 clause 4.2.3)", typ)
	case len(stmts.Types) > 1:
		q.reason("QcType names %d types; EN 319 412-5 clause 4.2.3 allows one: type unknown", len(stmts.Types))
	case preEIDAS && qc:
		typ = TypeESig
		q.reason("a qualified certificate issued under Directive 1999/93/EC is for electronic signatures")
	case qc:
		typ = TypeESig
		q.reason("no QcType: a qualified certificate without one is for electronic signatures")
	default:
		typ = pol.Type
	}
	var tlTypes []Type
	for _, x := range []struct {
		uri string
		t   Type
	}{{tsl.QualifierQCForESig, TypeESig}, {tsl.QualifierQCForESeal, TypeESeal}, {tsl.QualifierQCForWSA, TypeWSA}} {
		if has(x.uri) {
			tlTypes = append(tlTypes, x.t)
		}
	}
	switch {
	case len(tlTypes) == 1:
		if typ != tlTypes[0] {
			q.reason("the list's qualifier QCFor%s sets the type to %s", tlTypes[0], tlTypes[0])
		}
		typ = tlTypes[0]
	case len(tlTypes) > 1:
		typ = TypeUnknown
		q.reason("the list's qualifiers name several types: type unknown")
	}

	// The service must be granted for that type (additional service
	// information, TS 119 612 clause 5.5.9.4), where the list says.
	var allowed []Type
	for _, u := range st.AdditionalInfo {
		switch u {
		case tsl.InfoForESignatures:
			allowed = append(allowed, TypeESig)
		case tsl.InfoForESeals:
			allowed = append(allowed, TypeESeal)
		case tsl.InfoForWebSiteAuthentication:
			allowed = append(allowed, TypeWSA)
		}
	}
	if len(allowed) > 0 {
		switch {
		case typ == TypeUnknown && len(allowed) == 1:
			typ = allowed[0]
			q.reason("the service is granted for %s only: type %s", typ, typ)
		case typ != TypeUnknown && !slices.Contains(allowed, typ) && qc:
			qc = false
			q.reason("the service is not granted for %s certificates (granted for %s): not qualified", typ, joinTypes(allowed))
		}
	}

	// QSCD: the certificate's QcSSCD or -qscd policy, unless the list
	// says otherwise.
	certQSCD := stmts.SSCD || pol.QSCD || (preEIDAS && pol.SSCD)
	switch {
	case stmts.SSCD:
		q.reason("the certificate says its key is in a QSCD (QcSSCD, EN 319 412-5 clause 4.2.2)")
	case certQSCD:
		q.reason("the certificate's policy %s requires a QSCD", strings.Join(pol.Names, ", "))
	default:
		q.reason("the certificate does not say its key is in a QSCD")
	}
	qscd = certQSCD
	with := has(tsl.QualifierQCWithQSCD) || has(tsl.QualifierQCQSCDManagedOnBehalf) || (preEIDAS && has(tsl.QualifierQCWithSSCD))
	without := has(tsl.QualifierQCNoQSCD) || (preEIDAS && has(tsl.QualifierQCNoSSCD))
	switch {
	case with && without:
		qscd = false
		q.reason("the list's qualifiers say both with and without QSCD: no QSCD")
	case with:
		if !qscd {
			q.reason("the list's qualifier says the key is in a QSCD")
		}
		qscd = true
	case without:
		if qscd {
			q.reason("the list's qualifier says the key is not in a QSCD")
		}
		qscd = false
	}
	return qc, typ, qscd
}

func joinTypes(ts []Type) string {
	var s []string
	for _, t := range ts {
		s = append(s, string(t))
	}
	return strings.Join(s, ", ")
}

// Input is what Signature needs from the validation of one signature.
type Input struct {
	// Chain is the path the engine built: signing certificate first.
	Chain []*x509.Certificate
	// SigningTime is the best-signature-time (EN 319 102-1 clause 5.6.2):
	// the time the signature is proven to have existed, or the validation
	// time without proof.
	SigningTime time.Time
	// Indication is the outcome of the AdES validation.
	Indication report.Indication
	// Lists are the trusted lists that passed their checks.
	Lists *tsl.Set
}

// Result is a signature's qualification with the reasons for it.
type Result struct {
	// Qualification is the report string (QESig ... N/A).
	Qualification string
	// AtIssuance and AtSigning are the certificate's qualification at its
	// notBefore and at the signing time.
	AtIssuance, AtSigning CertQualification
	// Reasons are every step, issuance first, then signing time, then the
	// conclusion.
	Reasons []string
}

// Signature qualifies one signature (TS 119 172-4 via TS 119 615): the
// certificate's qualification at issuance and at signing time, combined
// with the AdES validation outcome.
func Signature(in Input) Result {
	var r Result
	add := func(format string, args ...any) { r.Reasons = append(r.Reasons, fmt.Sprintf(format, args...)) }
	if in.Lists == nil || len(in.Lists.Lists()) == 0 {
		add("no trusted list is available")
		for _, rj := range listRejections(in.Lists) {
			add("%s", rj)
		}
		r.Qualification = NotApplicable
		return r
	}
	for _, t := range in.Lists.Lists() {
		add("using the %s (issued %s, next update %s, signed by %q)", t.Name(), ts(t.List.IssueDate), ts(t.List.NextUpdate), signerName(t))
		for _, w := range t.Warnings {
			add("%s: %s", t.Name(), w)
		}
	}
	for _, rj := range listRejections(in.Lists) {
		add("%s", rj)
	}
	if len(in.Chain) == 0 || in.Chain[0] == nil {
		add("no signing certificate")
		r.Qualification = NotApplicable
		return r
	}
	cert := in.Chain[0]
	r.AtIssuance = CertificateAt(in.Chain, in.Lists, cert.NotBefore)
	r.AtSigning = CertificateAt(in.Chain, in.Lists, in.SigningTime)
	for _, s := range r.AtIssuance.Reasons {
		add("at issuance (%s): %s", ts(cert.NotBefore), s)
	}
	for _, s := range r.AtSigning.Reasons {
		add("at signing time (%s): %s", ts(in.SigningTime), s)
	}
	if !r.AtIssuance.Listed && !r.AtSigning.Listed {
		add("the certificate is not under any trusted list: qualification not applicable")
		r.Qualification = NotApplicable
		return r
	}
	qc := r.AtIssuance.QC && r.AtSigning.QC
	switch {
	case r.AtIssuance.QC && !r.AtSigning.QC:
		add("qualified when issued but not at signing time: not qualified")
	case !r.AtIssuance.QC && r.AtSigning.QC:
		add("not qualified when issued: a later status does not make it qualified")
	}
	typ := r.AtIssuance.Type
	if typ == TypeUnknown {
		typ = r.AtSigning.Type
	}
	qscd := qc && r.AtSigning.QSCD
	if typ == TypeWSA {
		add("the certificate is for website authentication, not for signatures or seals")
		r.Qualification = NotApplicable
		return r
	}
	base := name(qc, qscd, typ)
	switch in.Indication {
	case report.TotalPassed:
		r.Qualification = base
	case report.Indeterminate:
		r.Qualification = IndeterminatePrefix + base
		add("the AdES validation is INDETERMINATE, so is the qualification")
	case report.TotalFailed:
		switch {
		case qc && qscd:
			r.Qualification = NotAdESQCQSCD
		case qc:
			r.Qualification = NotAdESQC
		default:
			r.Qualification = NotAdES
		}
		add("the AdES validation failed: the signature is not an AdES")
	default:
		r.Qualification = NotApplicable
		add("no AdES validation outcome (%q)", in.Indication)
		return r
	}
	add("qualification: %s", r.Qualification)
	return r
}

func name(qc, qscd bool, t Type) string {
	switch {
	case qc && qscd:
		return pick(t, QESig, QESeal, QES)
	case qc:
		return pick(t, AdESigQC, AdESealQC, AdESQC)
	}
	return pick(t, AdESig, AdESeal, AdES)
}

func pick(t Type, sig, seal, unknown string) string {
	switch t {
	case TypeESig:
		return sig
	case TypeESeal:
		return seal
	}
	return unknown
}

func signerName(t *tsl.Trusted) string {
	if t.Signer == nil {
		return ""
	}
	return t.Signer.Subject.String()
}

func listRejections(s *tsl.Set) []string {
	if s == nil {
		return nil
	}
	var out []string
	for _, r := range s.Rejected {
		out = append(out, fmt.Sprintf("trusted list %s not used: %v", r.Location, r.Err))
	}
	return out
}
