package tsl

import (
	"crypto/x509"
	"encoding/asn1"
	"testing"

	"esig/verifier/tsl/tsltest"
)

func TestCriteriaListMatches(t *testing.T) {
	p := newPKI(t)
	qcpn := asn1.ObjectIdentifier{0, 4, 0, 194112, 1, 0}
	qcpnqscd := asn1.ObjectIdentifier{0, 4, 0, 194112, 1, 2}
	sign := p.Leaf(t, tsltest.LeafOptions{Name: "sign", Policies: []asn1.ObjectIdentifier{qcpnqscd}}).Cert
	auth := p.Leaf(t, tsltest.LeafOptions{Name: "auth", KeyUsage: x509.KeyUsageDigitalSignature, Policies: []asn1.ObjectIdentifier{qcpn}}).Cert
	tsa := p.TSA.Cert

	nonRep := KeyUsageCriterion{"nonRepudiation": true}
	digSigOnly := KeyUsageCriterion{"digitalSignature": true, "nonRepudiation": false}
	timeStamping := []asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}}
	cn := []asn1.ObjectIdentifier{{2, 5, 4, 3}}
	org := []asn1.ObjectIdentifier{{2, 5, 4, 10}}

	tests := []struct {
		name string
		cl   CriteriaList
		cert *x509.Certificate
		want bool
	}{
		{"key usage met", CriteriaList{Assert: AssertAll, KeyUsages: []KeyUsageCriterion{nonRep}}, sign, true},
		{"key usage not met", CriteriaList{Assert: AssertAll, KeyUsages: []KeyUsageCriterion{nonRep}}, auth, false},
		{"a bit required false", CriteriaList{Assert: AssertAll, KeyUsages: []KeyUsageCriterion{digSigOnly}}, auth, true},
		{"policy set met", CriteriaList{Assert: AssertAll, PolicySets: [][]asn1.ObjectIdentifier{{qcpnqscd}}}, sign, true},
		{"policy set needs every policy", CriteriaList{Assert: AssertAll, PolicySets: [][]asn1.ObjectIdentifier{{qcpnqscd, qcpn}}}, sign, false},
		{"all: one of two fails", CriteriaList{Assert: AssertAll, KeyUsages: []KeyUsageCriterion{nonRep}, PolicySets: [][]asn1.ObjectIdentifier{{qcpn}}}, sign, false},
		{"atLeastOne: one of two", CriteriaList{Assert: AssertAtLeastOne, KeyUsages: []KeyUsageCriterion{nonRep}, PolicySets: [][]asn1.ObjectIdentifier{{qcpn}}}, sign, true},
		{"atLeastOne: none", CriteriaList{Assert: AssertAtLeastOne, KeyUsages: []KeyUsageCriterion{nonRep}}, auth, false},
		{"none: none met", CriteriaList{Assert: AssertNone, PolicySets: [][]asn1.ObjectIdentifier{{qcpn}}}, sign, true},
		{"none: one met", CriteriaList{Assert: AssertNone, PolicySets: [][]asn1.ObjectIdentifier{{qcpn}}}, auth, false},
		{"nested lists", CriteriaList{Assert: AssertAll, Lists: []CriteriaList{
			{Assert: AssertAtLeastOne, PolicySets: [][]asn1.ObjectIdentifier{{qcpn}, {qcpnqscd}}},
			{Assert: AssertNone, KeyUsages: []KeyUsageCriterion{digSigOnly}},
		}}, sign, true},
		{"extended key usage", CriteriaList{Assert: AssertAll, ExtendedKeyUsages: [][]asn1.ObjectIdentifier{timeStamping}}, tsa, true},
		{"extended key usage absent", CriteriaList{Assert: AssertAll, ExtendedKeyUsages: [][]asn1.ObjectIdentifier{timeStamping}}, sign, false},
		{"subject attribute present", CriteriaList{Assert: AssertAll, SubjectDNAttributes: [][]asn1.ObjectIdentifier{cn}}, sign, true},
		{"subject attribute absent", CriteriaList{Assert: AssertAll, SubjectDNAttributes: [][]asn1.ObjectIdentifier{org}}, sign, false},
		{"unknown criterion never widens all", CriteriaList{Assert: AssertAll, KeyUsages: []KeyUsageCriterion{nonRep}, Unknown: []string{"{urn:x}y"}}, sign, false},
		{"empty all", CriteriaList{Assert: AssertAll}, sign, true},
		{"empty atLeastOne", CriteriaList{Assert: AssertAtLeastOne}, sign, false},
	}
	for _, tc := range tests {
		if got := tc.cl.Matches(tc.cert); got != tc.want {
			t.Errorf("%s: Matches = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNames(t *testing.T) {
	n := Names{{"pl", "Narodowy Bank Polski"}, {"en", "National Bank of Poland"}}
	for _, tc := range []struct{ got, want string }{
		{n.String(), "National Bank of Poland"},
		{n.In("pl"), "Narodowy Bank Polski"},
		{n.In("de"), "National Bank of Poland"},
		{Names{{"pl", "Tylko po polsku"}}.String(), "Tylko po polsku"},
		{Names{}.String(), ""},
		{ShortName(StatusGranted), "granted"},
		{ShortName(ServiceCAQC), "CA/QC"},
		{ShortName("urn:other"), "urn:other"},
	} {
		if tc.got != tc.want {
			t.Errorf("%q, want %q", tc.got, tc.want)
		}
	}
	if !n.Has(" national bank of poland ") || n.Has("NBP") {
		t.Error("Has matches wrongly")
	}
}
