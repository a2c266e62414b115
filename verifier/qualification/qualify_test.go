package qualification_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"strings"
	"testing"
	"time"

	"esig/internal/xmldsig"
	"esig/verifier/qualification"
	"esig/verifier/report"
	"esig/verifier/tsl"
	"esig/verifier/tsl/tsltest"
)

var (
	jan2024 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	jun2024 = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	jan2025 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	jun2025 = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	// listTime is when the synthetic lists are judged: inside their
	// validity, so staleness does not interfere.
	listTime = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
)

// loadSet loads one signed list from a file through the real Loader,
// pinned to the test operator, as esig verify --tsl does.
func loadSet(t *testing.T, p *tsltest.PKI, data []byte) *tsl.Set {
	t.Helper()
	path := p.Write(t, "tl.xml", data)
	l := tsl.Loader{Now: func() time.Time { return listTime }}
	return l.LoadSet(context.Background(), []tsl.Source{{Location: path, Pinned: []*x509.Certificate{p.Operator.Cert}}}, tsl.LOTLOptions{})
}

// leaves are the certificates the cases sign with.
type leaves struct {
	esigQSCD, esigNoQSCD, esealQSCD, esealNoQSCD, notQC, qcPolicyOnly, preEIDAS, web *tsltest.Cert
}

func makeLeaves(t *testing.T, p *tsltest.PKI) leaves {
	esign := []asn1.ObjectIdentifier{tsltest.OIDQcTypeESign}
	eseal := []asn1.ObjectIdentifier{tsltest.OIDQcTypeESeal}
	return leaves{
		esigQSCD: p.Leaf(t, tsltest.LeafOptions{Name: "esig-qscd", QcCompliance: true, QcSSCD: true, QcTypes: esign,
			Policies: []asn1.ObjectIdentifier{tsltest.OIDQCPnQSCD}, RetentionYears: 20, PDS: [][2]string{{"https://qtsp.example.invalid/pds-en.pdf", "en"}},
			Semantics: tsltest.OIDSemNatural}),
		esigNoQSCD: p.Leaf(t, tsltest.LeafOptions{Name: "esig", QcCompliance: true, QcTypes: esign,
			Policies: []asn1.ObjectIdentifier{tsltest.OIDQCPn}}),
		esealQSCD: p.Leaf(t, tsltest.LeafOptions{Name: "Test Urzad Gminy", Legal: true, QcCompliance: true, QcSSCD: true, QcTypes: eseal,
			Policies: []asn1.ObjectIdentifier{tsltest.OIDQCPlQSCD}, Semantics: tsltest.OIDSemLegal}),
		esealNoQSCD: p.Leaf(t, tsltest.LeafOptions{Name: "Test Spolka", Legal: true, QcCompliance: true, QcTypes: eseal,
			Policies: []asn1.ObjectIdentifier{tsltest.OIDQCPl}}),
		notQC:        p.Leaf(t, tsltest.LeafOptions{Name: "not-qualified", KeyUsage: x509.KeyUsageDigitalSignature}),
		qcPolicyOnly: p.Leaf(t, tsltest.LeafOptions{Name: "policy-only", QcTypes: esign, Policies: []asn1.ObjectIdentifier{tsltest.OIDQCPn}}),
		preEIDAS: p.Leaf(t, tsltest.LeafOptions{Name: "pre-eidas", NotBefore: time.Date(2015, 3, 1, 0, 0, 0, 0, time.UTC),
			NotAfter: time.Date(2017, 3, 1, 0, 0, 0, 0, time.UTC), Policies: []asn1.ObjectIdentifier{tsltest.OIDQCPPlus}}),
		web: p.Leaf(t, tsltest.LeafOptions{Name: "www.example.invalid", Legal: true, QcCompliance: true, KeyUsage: x509.KeyUsageDigitalSignature,
			QcTypes: []asn1.ObjectIdentifier{tsltest.OIDQcTypeWeb}}),
	}
}

// caService is the QTSP's CA/QC service with a given history.
func caService(p *tsltest.PKI, typ string, history ...tsltest.Status) []tsltest.Service {
	return []tsltest.Service{{Type: typ, Name: "Test QTSP Qualified CA", Cert: p.CA.Cert, History: history}}
}

func granted(from time.Time, quals ...tsltest.Qualification) tsltest.Status {
	return tsltest.Status{Status: tsltest.StatusGranted, Start: from,
		AdditionalInfo: []string{tsltest.InfoForESig, tsltest.InfoForESeal}, Qualifications: quals}
}

func nonRepudiation(qualifiers ...string) tsltest.Qualification {
	return tsltest.Qualification{Qualifiers: qualifiers, KeyUsage: map[string]bool{"nonRepudiation": true}}
}

func TestSignatureQualification(t *testing.T) {
	p := tsltest.New(t)
	lv := makeLeaves(t, p)
	withdrawnJun2024 := tsltest.DefaultServices(p, jun2024)
	withdrawnJun2025 := tsltest.DefaultServices(p, jun2025)
	tests := []struct {
		name       string
		services   []tsltest.Service // nil: tsltest.DefaultServices(p, zero)
		leaf       *tsltest.Cert
		signedAt   time.Time
		indication report.Indication
		want       string
		reason     string // a substring one of the reasons must contain
		notReason  string // a substring no reason may contain
	}{
		{name: "signing certificate with QcSSCD", leaf: lv.esigQSCD, want: qualification.QESig,
			reason: "QcSSCD"},
		{name: "signing certificate without QcSSCD", leaf: lv.esigNoQSCD, want: qualification.AdESigQC,
			reason: "does not say its key is in a QSCD"},
		{name: "seal certificate with QcSSCD", leaf: lv.esealQSCD, want: qualification.QESeal,
			reason: "QcType says eSeal"},
		{name: "seal certificate without QcSSCD", leaf: lv.esealNoQSCD, want: qualification.AdESealQC},
		{name: "service withdrawn before the signing time", services: withdrawnJun2024, leaf: lv.esigQSCD, want: qualification.AdESig,
			reason: "status withdrawn since 2024-06-01"},
		{name: "service withdrawn after the signing time", services: withdrawnJun2025, leaf: lv.esigQSCD, want: qualification.QESig,
			reason: "status granted since 2020-01-01"},
		{name: "certificate issued before the service was listed", services: caService(p, tsltest.TypeCAQC, granted(jun2024)),
			leaf: lv.esigQSCD, want: qualification.AdESig, reason: "not yet on the list at 2024-01-01"},
		{name: "list qualifier QCWithQSCD completes the certificate", services: caService(p, tsltest.TypeCAQC, granted(tsltest.GrantedFrom, nonRepudiation(tsltest.QualQCWithQSCD))),
			leaf: lv.esigNoQSCD, want: qualification.QESig, reason: "qualifier says the key is in a QSCD"},
		{name: "list qualifier QCNoQSCD overrides QcSSCD", services: caService(p, tsltest.TypeCAQC, granted(tsltest.GrantedFrom, nonRepudiation(tsltest.QualQCNoQSCD))),
			leaf: lv.esigQSCD, want: qualification.AdESigQC, reason: "qualifier says the key is not in a QSCD"},
		{name: "list qualifier NotQualified by policy", services: caService(p, tsltest.TypeCAQC, granted(tsltest.GrantedFrom,
			tsltest.Qualification{Qualifiers: []string{tsltest.QualNotQualified}, Policies: []string{tsltest.OIDQCPn.String()}})),
			leaf: lv.esigNoQSCD, want: qualification.AdESig, reason: "NotQualified applies"},
		{name: "NotQualified for another policy does not apply", services: caService(p, tsltest.TypeCAQC, granted(tsltest.GrantedFrom,
			tsltest.Qualification{Qualifiers: []string{tsltest.QualNotQualified}, Policies: []string{tsltest.OIDQCPl.String()}})),
			leaf: lv.esigNoQSCD, want: qualification.AdESigQC},
		{name: "list qualifier QCStatement for a certificate without QcCompliance", services: caService(p, tsltest.TypeCAQC, granted(tsltest.GrantedFrom, nonRepudiation(tsltest.QualQCStatement))),
			leaf: lv.qcPolicyOnly, want: qualification.AdESigQC, reason: "QCStatement applies"},
		{name: "qualified policy without QcCompliance is not enough", leaf: lv.qcPolicyOnly, want: qualification.AdESig,
			reason: "has no QcCompliance statement"},
		{name: "list qualifier QCForESeal sets the type", services: caService(p, tsltest.TypeCAQC, granted(tsltest.GrantedFrom, nonRepudiation(tsltest.QualQCForESeal, tsltest.QualQSCDAsInCert))),
			leaf: lv.esigQSCD, want: qualification.QESeal, reason: "sets the type to eSeal"},
		{name: "service granted for signatures only, seal certificate", services: caService(p, tsltest.TypeCAQC, tsltest.Status{
			Status: tsltest.StatusGranted, Start: tsltest.GrantedFrom, AdditionalInfo: []string{tsltest.InfoForESig}}),
			leaf: lv.esealQSCD, want: qualification.AdESeal, reason: "not granted for eSeal certificates"},
		{name: "service of type CA/PKC", services: caService(p, "http://uri.etsi.org/TrstSvc/Svctype/CA/PKC", granted(tsltest.GrantedFrom)),
			leaf: lv.esigQSCD, want: qualification.AdESig, reason: "not CA/QC"},
		{name: "a national root service on the same chain does not interfere", services: append(tsltest.DefaultServices(p, time.Time{}),
			tsltest.Service{Type: "http://uri.etsi.org/TrstSvc/Svctype/NationalRootCA-QC", Name: "Test National Root", Cert: p.CA.Cert,
				History: []tsltest.Status{{Status: "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/recognisedatnationallevel", Start: tsltest.GrantedFrom}}}),
			leaf: lv.esigQSCD, want: qualification.QESig, notReason: "not CA/QC"},
		{name: "state with an unknown critical extension is not used", services: caService(p, tsltest.TypeCAQC, tsltest.Status{
			Status: tsltest.StatusGranted, Start: tsltest.GrantedFrom, UnknownCritical: true}),
			leaf: lv.esigQSCD, want: qualification.AdESig, reason: "critical extension this verifier does not understand"},
		{name: "non-qualified certificate under a listed CA", leaf: lv.notQC, want: qualification.AdES,
			reason: "does not claim to be qualified"},
		{name: "website certificate", leaf: lv.web, want: qualification.NotApplicable, reason: "website authentication"},
		{name: "pre-eIDAS certificate with QCP+ under supervision", services: caService(p, tsltest.TypeCAQC,
			tsltest.Status{Status: tsltest.StatusUnderSupervision, Start: time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)},
			granted(qualification.EIDASDate)),
			leaf: lv.preEIDAS, signedAt: time.Date(2015, 6, 1, 0, 0, 0, 0, time.UTC), want: qualification.QESig,
			reason: "issued before eIDAS"},
		{name: "indeterminate AdES validation", leaf: lv.esigQSCD, indication: report.Indeterminate,
			want: "Indeterminate QESig"},
		{name: "indeterminate seal without QSCD", leaf: lv.esealNoQSCD, indication: report.Indeterminate,
			want: "Indeterminate AdESeal-QC"},
		{name: "failed AdES validation", leaf: lv.esigQSCD, indication: report.TotalFailed,
			want: qualification.NotAdESQCQSCD},
		{name: "failed AdES validation, non-qualified", leaf: lv.notQC, indication: report.TotalFailed,
			want: qualification.NotAdES},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			services := tc.services
			if services == nil {
				services = tsltest.DefaultServices(p, time.Time{})
			}
			set := loadSet(t, p, p.SignedList(t, tsltest.ListOptions{Services: services}))
			if len(set.Rejected) > 0 {
				t.Fatalf("the synthetic list was refused: %v", set.Rejected[0].Err)
			}
			signedAt, ind := tc.signedAt, tc.indication
			if signedAt.IsZero() {
				signedAt = jan2025
			}
			if ind == "" {
				ind = report.TotalPassed
			}
			res := qualification.Signature(qualification.Input{
				Chain: []*x509.Certificate{tc.leaf.Cert, p.CA.Cert}, SigningTime: signedAt, Indication: ind, Lists: set})
			if res.Qualification != tc.want {
				t.Errorf("qualification %q, want %q; reasons:\n  %s", res.Qualification, tc.want, strings.Join(res.Reasons, "\n  "))
			}
			if tc.reason != "" && !containsReason(res.Reasons, tc.reason) {
				t.Errorf("no reason mentions %q; reasons:\n  %s", tc.reason, strings.Join(res.Reasons, "\n  "))
			}
			if tc.notReason != "" && containsReason(res.Reasons, tc.notReason) {
				t.Errorf("a reason mentions %q; reasons:\n  %s", tc.notReason, strings.Join(res.Reasons, "\n  "))
			}
			if last := res.Reasons[len(res.Reasons)-1]; res.Qualification != qualification.NotApplicable && !strings.Contains(last, res.Qualification) {
				t.Errorf("the last reason %q does not state the conclusion", last)
			}
		})
	}
}

func containsReason(reasons []string, s string) bool {
	for _, r := range reasons {
		if strings.Contains(r, s) {
			return true
		}
	}
	return false
}

// TestBrokenListIsNotUsed flips bytes of a signed list: the list must be
// refused, the signature not qualified on its word, and the reason must say
// why.
func TestBrokenListIsNotUsed(t *testing.T) {
	p := tsltest.New(t)
	leaf := p.Leaf(t, tsltest.LeafOptions{Name: "esig-qscd", QcCompliance: true, QcSSCD: true,
		QcTypes: []asn1.ObjectIdentifier{tsltest.OIDQcTypeESign}})
	good := p.SignedList(t, tsltest.ListOptions{Services: tsltest.DefaultServices(p, jun2024)})
	tests := []struct {
		name     string
		from, to string
		wantErr  error
		reason   string
	}{
		// Back-dating the withdrawal would make the signature qualified.
		{"withdrawal date changed", "<StatusStartingTime>2024-06-01", "<StatusStartingTime>2026-06-01", xmldsig.ErrHash, "digest"},
		{"status changed", ">" + tsltest.StatusWithdrawn + "<", ">" + tsltest.StatusGranted + "<", xmldsig.ErrHash, "digest"},
		{"signature value changed", "<ds:SignatureValue>", "<ds:SignatureValue>AAAA", tsl.ErrNoPinnedKey, "pinned"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := bytes.Replace(good, []byte(tc.from), []byte(tc.to), 1)
			if bytes.Equal(bad, good) {
				t.Fatalf("%q is not in the list", tc.from)
			}
			set := loadSet(t, p, bad)
			if len(set.Lists()) != 0 || len(set.Rejected) != 1 {
				t.Fatalf("lists %d, rejected %d: the altered list must be refused", len(set.Lists()), len(set.Rejected))
			}
			if !errors.Is(set.Rejected[0].Err, tc.wantErr) {
				t.Errorf("refused with %v, want %v", set.Rejected[0].Err, tc.wantErr)
			}
			res := qualification.Signature(qualification.Input{Chain: []*x509.Certificate{leaf.Cert, p.CA.Cert},
				SigningTime: jan2025, Indication: report.TotalPassed, Lists: set})
			if res.Qualification != qualification.NotApplicable {
				t.Errorf("qualification %q on the word of a refused list, want N/A", res.Qualification)
			}
			if !containsReason(res.Reasons, "not used") || !containsReason(res.Reasons, tc.reason) {
				t.Errorf("the reasons do not say the list was refused and why (%q):\n  %s", tc.reason, strings.Join(res.Reasons, "\n  "))
			}
		})
	}
}

func TestCertificateNotUnderAnyList(t *testing.T) {
	p := tsltest.New(t)
	other := tsltest.New(t) // another QTSP, not on the list
	leaf := other.Leaf(t, tsltest.LeafOptions{Name: "elsewhere", QcCompliance: true, QcSSCD: true})
	set := loadSet(t, p, p.SignedList(t, tsltest.ListOptions{}))
	res := qualification.Signature(qualification.Input{Chain: []*x509.Certificate{leaf.Cert, other.CA.Cert},
		SigningTime: jan2025, Indication: report.TotalPassed, Lists: set})
	if res.Qualification != qualification.NotApplicable || !containsReason(res.Reasons, "not under any trusted list") {
		t.Errorf("qualification %q, want N/A because no list names the CA; reasons:\n  %s", res.Qualification, strings.Join(res.Reasons, "\n  "))
	}
	if none := qualification.Signature(qualification.Input{Chain: []*x509.Certificate{leaf.Cert}, Indication: report.TotalPassed}); none.Qualification != qualification.NotApplicable {
		t.Errorf("without lists: %q, want N/A", none.Qualification)
	}
}

func TestCertificateAtFollowsHistory(t *testing.T) {
	p := tsltest.New(t)
	leaf := p.Leaf(t, tsltest.LeafOptions{Name: "esig-qscd", QcCompliance: true, QcSSCD: true,
		QcTypes: []asn1.ObjectIdentifier{tsltest.OIDQcTypeESign}})
	set := loadSet(t, p, p.SignedList(t, tsltest.ListOptions{Services: tsltest.DefaultServices(p, jun2024)}))
	chain := []*x509.Certificate{leaf.Cert, p.CA.Cert}
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), "not qualified"},
		{jan2024, "QC for eSig with QSCD"},
		{jun2024.Add(-time.Second), "QC for eSig with QSCD"},
		{jun2024, "not qualified"},
	} {
		q := qualification.CertificateAt(chain, set, tc.at)
		if q.String() != tc.want {
			t.Errorf("at %s: %q, want %q; reasons: %v", tc.at, q.String(), tc.want, q.Reasons)
		}
		if q.QC && (q.Service == nil || q.Service.Provider.Name.String() != "Test QTSP S.A.") {
			t.Errorf("at %s: the deciding service is not reported", tc.at)
		}
	}
}
