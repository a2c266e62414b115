package tsl

import (
	"bytes"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"esig/internal/xmldsig"
	"esig/internal/xmldsig/c14n"
	"esig/verifier/tsl/tsltest"
)

func TestCheckSignature(t *testing.T) {
	p := newPKI(t)
	good := p.SignedList(t, tsltest.ListOptions{})
	operator := []*x509.Certificate{p.Operator.Cert}

	// A signature by the operator's key whose KeyInfo names another
	// certificate: the value verifies, the claim in KeyInfo is false.
	mislabelled := tsltest.Sign(t, tsltest.BuildList(p, tsltest.ListOptions{}), &tsltest.Cert{Cert: p.LOTLOperator.Cert, Key: p.Operator.Key})

	// A signature over SchemeInformation only: valid, but the services are
	// not signed.
	partial := func() []byte {
		doc := tsltest.BuildList(p, tsltest.ListOptions{})
		doc.Root().SelectElement("SchemeInformation").CreateAttr("Id", "si")
		b, err := xmldsig.NewBuilder(xmldsig.SignOptions{Signer: p.Operator.Key, Certificates: operator})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.AddReference(xmldsig.ReferenceSpec{URI: "#si", Transforms: []xmldsig.TransformSpec{{Algorithm: c14n.ExcC14N}}}); err != nil {
			t.Fatal(err)
		}
		doc.Root().AddChild(b.Element())
		if _, err := b.Sign(doc); err != nil {
			t.Fatal(err)
		}
		out, err := xmldsig.Serialize(doc)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}()

	// Two enveloped signatures: TS 119 612 allows one.
	twice := func() []byte {
		doc := tsltest.BuildList(p, tsltest.ListOptions{})
		tsltest.Sign(t, doc, p.Operator)
		return tsltest.Sign(t, doc, p.Operator)
	}()

	unsigned, err := xmldsig.Serialize(tsltest.BuildList(p, tsltest.ListOptions{}))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		data    []byte
		pinned  []*x509.Certificate
		wantErr error
	}{
		{"signed by the pinned operator", good, operator, nil},
		{"pinned among others", good, []*x509.Certificate{p.LOTLOperator.Cert, p.CA.Cert, p.Operator.Cert}, nil},
		{"provider name changed", replace(t, good, "Test QTSP S.A.", "Test QTSP S.B."), operator, xmldsig.ErrHash},
		{"status starting time changed", replace(t, good, "<StatusStartingTime>2020", "<StatusStartingTime>2010"), operator, xmldsig.ErrHash},
		{"signed by another key", good, []*x509.Certificate{p.LOTLOperator.Cert}, ErrNoPinnedKey},
		{"nothing pinned", good, nil, ErrNoPins},
		{"KeyInfo names another certificate", mislabelled, operator, ErrKeyInfoMismatch},
		{"not signed", unsigned, operator, ErrUnsigned},
		{"signature over part of the list", partial, operator, ErrNotCovered},
		{"two signatures", twice, operator, ErrNotCovered},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := mustParse(t, tc.data)
			res := l.CheckSignature(tc.pinned, at)
			switch {
			case tc.wantErr == nil && res.Err != nil:
				t.Fatalf("refused: %v", res.Err)
			case tc.wantErr == nil && res.Signer != p.Operator.Cert:
				t.Fatalf("signer %v, want the operator", res.Signer)
			case tc.wantErr != nil && !errors.Is(res.Err, tc.wantErr):
				t.Fatalf("error %v, want %v", res.Err, tc.wantErr)
			}
		})
	}
}

func TestCheckSignatureReportsOperatorValidity(t *testing.T) {
	p := newPKI(t)
	l := mustParse(t, p.SignedList(t, tsltest.ListOptions{IssueDate: time.Date(2046, 1, 1, 0, 0, 0, 0, time.UTC),
		NextUpdate: time.Date(2046, 6, 1, 0, 0, 0, 0, time.UTC)}))
	res := l.CheckSignature([]*x509.Certificate{p.Operator.Cert}, time.Date(2046, 2, 1, 0, 0, 0, 0, time.UTC))
	if res.Err != nil {
		t.Fatalf("an expired pinned operator certificate must be reported, not refused: %v", res.Err)
	}
	joined := strings.Join(res.Warnings, "\n")
	for _, want := range []string{"was not valid at the list's issue date", "expired on 2045-01-01"} {
		if !strings.Contains(joined, want) {
			t.Errorf("warnings %q lack %q", joined, want)
		}
	}
	if res := mustParse(t, p.SignedList(t, tsltest.ListOptions{})).CheckSignature([]*x509.Certificate{p.Operator.Cert}, at); len(res.Warnings) != 0 {
		t.Errorf("warnings for a list inside its operator's validity: %q", res.Warnings)
	}
}

func TestParseModel(t *testing.T) {
	p := newPKI(t)
	withdrawn := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	data := p.SignedList(t, tsltest.ListOptions{Sequence: 42, Services: tsltest.DefaultServices(p, withdrawn),
		Pointers: []tsltest.Pointer{{Location: "https://lotl.example.invalid/lotl.xml", Territory: "EU", Type: tsltest.TSLTypeLOTL,
			Certs: []*x509.Certificate{p.LOTLOperator.Cert}, Operator: "Test Commission"}}})
	l := mustParse(t, data)
	if l.SequenceNumber != 42 || l.Territory != "ZZ" || l.Type != TypeEUGeneric || l.Version != 5 || l.ID != "TL-ZZ" {
		t.Errorf("scheme information: seq %d territory %q type %q version %d id %q", l.SequenceNumber, l.Territory, l.Type, l.Version, l.ID)
	}
	if !l.IssueDate.Equal(tsltest.IssueDate) || !l.NextUpdate.Equal(tsltest.NextUpdate) {
		t.Errorf("dates: issued %v, next update %v", l.IssueDate, l.NextUpdate)
	}
	if l.OperatorName.String() != "Test Supervisory Body" || l.HistoricalInformationPeriod != 65535 {
		t.Errorf("operator %q, history period %d", l.OperatorName, l.HistoricalInformationPeriod)
	}
	if len(l.Pointers) != 1 || l.Pointers[0].Territory != "EU" || !l.Pointers[0].IsXML() || len(l.Pointers[0].Certificates) != 1 ||
		!l.Pointers[0].Certificates[0].Equal(p.LOTLOperator.Cert) {
		t.Fatalf("pointers: %+v", l.Pointers)
	}
	if l.Signature == nil || len(l.Signature.Certificates) != 1 || !l.Signature.Certificates[0].Equal(p.Operator.Cert) {
		t.Errorf("signature's KeyInfo certificates not reported")
	}
	provs := l.FindProvider("Test QTSP S.A.")
	if len(provs) != 1 || len(provs[0].Services) != 2 {
		t.Fatalf("providers %d", len(provs))
	}
	ca := provs[0].Services[0]
	if ca.Current.Type != ServiceCAQC || ca.Current.Status != StatusWithdrawn || !ca.Current.StatusStart.Equal(withdrawn) {
		t.Errorf("current state: %s %s %v", ca.Current.Type, ca.Current.Status, ca.Current.StatusStart)
	}
	if len(ca.History) != 1 || ca.History[0].Status != StatusGranted {
		t.Fatalf("history: %+v", ca.History)
	}
	st := ca.History[0]
	if len(st.Qualifications) != 1 || !st.Qualifications[0].HasQualifier(QualifierQCQSCDStatusAsInCert) ||
		len(st.Qualifications[0].Criteria.KeyUsages) != 1 || !st.Qualifications[0].Criteria.KeyUsages[0]["nonRepudiation"] {
		t.Errorf("qualifications: %+v", st.Qualifications)
	}
	if len(st.AdditionalInfo) != 2 || st.AdditionalInfo[0] != InfoForESignatures || st.AdditionalInfo[1] != InfoForESeals {
		t.Errorf("additional information: %v", st.AdditionalInfo)
	}
	if !ca.MatchesKey(p.CA.Cert) || ca.MatchesKey(p.TSA.Cert) {
		t.Error("service identity does not match by key")
	}
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2019, 12, 31, 0, 0, 0, 0, time.UTC), ""},
		{tsltest.GrantedFrom, StatusGranted},
		{withdrawn.Add(-time.Second), StatusGranted},
		{withdrawn, StatusWithdrawn},
	} {
		got := ""
		if s := ca.At(tc.t); s != nil {
			got = s.Status
		}
		if got != tc.want {
			t.Errorf("status at %v: %q, want %q", tc.t, got, tc.want)
		}
	}
}

func TestParseErrorsNameTheElement(t *testing.T) {
	p := newPKI(t)
	good := p.SignedList(t, tsltest.ListOptions{})
	tests := []struct {
		name     string
		from, to string
		want     string
	}{
		{"sequence number not a number", "<TSLSequenceNumber>1<", "<TSLSequenceNumber>one<", "SchemeInformation/TSLSequenceNumber"},
		{"status starting time not a date", "<StatusStartingTime>2020-01-01T00:00:00Z<", "<StatusStartingTime>yesterday<",
			"TrustServiceProviderList/TrustServiceProvider/TSPServices/TSPService[1]/ServiceInformation/StatusStartingTime"},
		{"missing NextUpdate", "<NextUpdate>", "<NextUpdat>", "missing NextUpdate"},
		{"unknown assertion", `assert="all"`, `assert="most"`, "CriteriaList/@assert"},
		{"wrong tag", `TSLTag="http://uri.etsi.org/19612/TSLTag"`, `TSLTag="urn:x"`, "@TSLTag"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := bytes.Replace(good, []byte(tc.from), []byte(tc.to), 1)
			if tc.name == "missing NextUpdate" {
				bad = bytes.Replace(bad, []byte("</NextUpdate>"), []byte("</NextUpdat>"), 1)
			}
			if bytes.Equal(bad, good) {
				t.Fatalf("%q not found", tc.from)
			}
			_, err := Parse(bad)
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want a ParseError naming %q", err, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name string
		data string
		want error
	}{
		{"DOCTYPE", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><TrustServiceStatusList xmlns="` + NamespaceTSL + `"/>`, xmldsig.ErrFormat},
		{"other root", `<Dokument xmlns="urn:x"/>`, ErrNotTrustedList},
	} {
		if _, err := Parse([]byte(tc.data)); !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestUnknownCriticalExtensionIsRecorded(t *testing.T) {
	p := newPKI(t)
	svc := tsltest.Service{Type: tsltest.TypeCAQC, Name: "CA", Cert: p.CA.Cert, History: []tsltest.Status{
		{Status: tsltest.StatusGranted, Start: tsltest.GrantedFrom, UnknownCritical: true}}}
	l := mustParse(t, p.SignedList(t, tsltest.ListOptions{Services: []tsltest.Service{svc}}))
	got := l.Providers[0].Services[0].Current.UnknownCritical
	if len(got) != 1 || got[0] != "{urn:esig:test:future-extension}FutureExtension" {
		t.Errorf("UnknownCritical = %q", got)
	}
}

// TestWrappingAttempts adds providers where a careless reader might find
// them: inside the signature (which the enveloped transform leaves out of
// the digest, so the signature still verifies) and after it.
func TestWrappingAttempts(t *testing.T) {
	p := newPKI(t)
	good := p.SignedList(t, tsltest.ListOptions{})
	operator := []*x509.Certificate{p.Operator.Cert}
	evil := `<TrustServiceProviderList xmlns="` + NamespaceTSL + `"><TrustServiceProvider><TSPInformation><TSPName><Name xml:lang="en">Evil QTSP</Name></TSPName>` +
		`</TSPInformation><TSPServices/></TrustServiceProvider></TrustServiceProviderList>`

	inside := replace(t, good, "</ds:Signature>", "<ds:Object>"+evil+"</ds:Object></ds:Signature>")
	l := mustParse(t, inside)
	if res := l.CheckSignature(operator, at); res.Err != nil {
		t.Fatalf("content added inside the signature breaks nothing signed, yet: %v", res.Err)
	}
	if len(l.FindProvider("Evil QTSP")) != 0 || len(l.Providers) != 1 {
		t.Errorf("the model read a provider from inside the signature")
	}

	after := replace(t, good, "</ds:Signature>", "</ds:Signature>"+evil)
	if res := mustParse(t, after).CheckSignature(operator, at); !errors.Is(res.Err, xmldsig.ErrHash) {
		t.Errorf("a provider list appended after the signature: %v, want %v", res.Err, xmldsig.ErrHash)
	}
}
