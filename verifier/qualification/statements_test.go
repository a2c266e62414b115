package qualification_test

import (
	"encoding/asn1"
	"reflect"
	"strings"
	"testing"

	"esig/verifier/qualification"
	"esig/verifier/tsl/tsltest"
)

func TestParseStatements(t *testing.T) {
	p := tsltest.New(t)
	// A QcLimitValue statement (EN 319 412-5 clause 4.3.2): EUR 5 000.
	type monetary struct {
		Currency string `asn1:"printable"`
		Amount   int
		Exponent int
	}
	type stmt struct {
		ID   asn1.ObjectIdentifier
		Info asn1.RawValue `asn1:"optional"`
	}
	raw := func(v any) asn1.RawValue {
		b, err := asn1.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return asn1.RawValue{FullBytes: b}
	}
	limit, err := asn1.Marshal([]stmt{{ID: tsltest.OIDQcCompliance}, {ID: tsltest.OIDQcLimitValue, Info: raw(monetary{"EUR", 5, 3})}})
	if err != nil {
		t.Fatal(err)
	}
	badType, err := asn1.Marshal([]stmt{{ID: tsltest.OIDQcCompliance}, {ID: tsltest.OIDQcType, Info: raw(7)}})
	if err != nil {
		t.Fatal(err)
	}
	noInfo, err := asn1.Marshal([]stmt{{ID: tsltest.OIDQcRetention}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    tsltest.LeafOptions
		want    qualification.Statements
		wantErr string
	}{
		{name: "none", opts: tsltest.LeafOptions{}, want: qualification.Statements{}},
		{name: "qualified signing certificate on a QSCD", opts: tsltest.LeafOptions{QcCompliance: true, QcSSCD: true,
			QcTypes: []asn1.ObjectIdentifier{tsltest.OIDQcTypeESign}, RetentionYears: 20,
			PDS:       [][2]string{{"https://qtsp.example.invalid/pds-en.pdf", "en"}, {"https://qtsp.example.invalid/pds-pl.pdf", "pl"}},
			Semantics: tsltest.OIDSemNatural, Legislation: []string{"ZZ"}},
			want: qualification.Statements{Present: true, Compliance: true, SSCD: true, Types: []qualification.Type{qualification.TypeESig},
				RetentionYears: 20, PDS: []qualification.PDSLocation{{"https://qtsp.example.invalid/pds-en.pdf", "en"}, {"https://qtsp.example.invalid/pds-pl.pdf", "pl"}},
				Semantics: []asn1.ObjectIdentifier{qualification.OIDSemanticsNatural}, Legislation: []string{"ZZ"}}},
		{name: "seal and an unknown type", opts: tsltest.LeafOptions{QcCompliance: true,
			QcTypes: []asn1.ObjectIdentifier{tsltest.OIDQcTypeESeal, {1, 2, 3, 4}}, Semantics: tsltest.OIDSemLegal},
			want: qualification.Statements{Present: true, Compliance: true, Types: []qualification.Type{qualification.TypeESeal},
				OtherTypes: []asn1.ObjectIdentifier{{1, 2, 3, 4}}, Semantics: []asn1.ObjectIdentifier{qualification.OIDSemanticsLegal}}},
		{name: "limit value", opts: tsltest.LeafOptions{RawStatements: limit},
			want: qualification.Statements{Present: true, Compliance: true, Limit: &qualification.LimitValue{Currency: "EUR", Amount: 5, Exponent: 3}}},
		{name: "QcType that is not a sequence of OIDs", opts: tsltest.LeafOptions{RawStatements: badType}, wantErr: "qcStatements[2] (0.4.0.1862.1.6)"},
		{name: "QcRetentionPeriod without its value", opts: tsltest.LeafOptions{RawStatements: noInfo}, wantErr: "statementInfo is missing"},
		{name: "not DER", opts: tsltest.LeafOptions{RawStatements: []byte{0x30, 0x05, 0x06}}, wantErr: "qcStatements:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			leaf := p.Leaf(t, tc.opts)
			got, err := qualification.ParseStatements(leaf.Cert)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestPoliciesOf(t *testing.T) {
	p := tsltest.New(t)
	tests := []struct {
		policies []asn1.ObjectIdentifier
		want     qualification.Policies
	}{
		{nil, qualification.Policies{}},
		{[]asn1.ObjectIdentifier{tsltest.OIDQCPn}, qualification.Policies{Names: []string{"QCP-n"}, Qualified: true, Type: qualification.TypeESig}},
		{[]asn1.ObjectIdentifier{tsltest.OIDQCPlQSCD}, qualification.Policies{Names: []string{"QCP-l-qscd"}, Qualified: true, QSCD: true, Type: qualification.TypeESeal}},
		{[]asn1.ObjectIdentifier{tsltest.OIDQCPPlus}, qualification.Policies{Names: []string{"QCP+ (TS 101 456)"}, Qualified: true, SSCD: true, PreEIDAS: true, Type: qualification.TypeESig}},
		{[]asn1.ObjectIdentifier{tsltest.OIDQCPn, tsltest.OIDQCPl, tsltest.OIDQCPnQSCD}, qualification.Policies{Names: []string{"QCP-n", "QCP-l", "QCP-n-qscd"}, Qualified: true, QSCD: true, Type: qualification.TypeUnknown}},
		{[]asn1.ObjectIdentifier{{1, 2, 616, 1, 113527, 2, 4, 1, 1}}, qualification.Policies{}},
	}
	for _, tc := range tests {
		leaf := p.Leaf(t, tsltest.LeafOptions{Name: "policies", Policies: tc.policies})
		if got := qualification.PoliciesOf(leaf.Cert); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v: got %+v, want %+v", tc.policies, got, tc.want)
		}
	}
}

func TestStatementsSummary(t *testing.T) {
	for _, tc := range []struct {
		s    qualification.Statements
		want string
	}{
		{qualification.Statements{}, "no qcStatements"},
		{qualification.Statements{Present: true, Compliance: true, SSCD: true, Types: []qualification.Type{qualification.TypeESig}, RetentionYears: 20},
			"QcCompliance, QcSSCD, QcType eSig, QcRetentionPeriod 20 years"},
		{qualification.Statements{Present: true, Other: []asn1.ObjectIdentifier{{0, 4, 0, 19495, 2}}}, "qcStatements with no statement this package interprets"},
	} {
		if got := tc.s.Summary(); got != tc.want {
			t.Errorf("Summary() = %q, want %q", got, tc.want)
		}
	}
}
