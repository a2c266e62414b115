package pades

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"io"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"esig/internal/cms"
	"esig/verifier/pades/padestest"
	"esig/verifier/report"
)

func TestParseDate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // RFC 3339, "" for no date
	}{
		{"D:20240924130440+02'00'", "2024-09-24T11:04:40Z"},
		{"D:20261123014245Z", "2026-11-23T01:42:45Z"},
		{"D:20261123014245Z00'00'", "2026-11-23T01:42:45Z"},
		{"D:19991231235959-05'30", "2000-01-01T05:29:59Z"},
		{"D:2024", "2024-01-01T00:00:00Z"},
		{"D:202409", "2024-09-01T00:00:00Z"},
		{"20240924", "2024-09-24T00:00:00Z"},
		{"D:20241", ""},
		{"D:20240924130440+25'00'", ""},
		{"D:20240924130440X", ""},
		{"D:20241324", ""},
		{"yesterday", ""},
	} {
		got, ok := parseDate(tc.in)
		if tc.want == "" {
			if ok {
				t.Errorf("%q: %v, want no date", tc.in, got)
			}
			continue
		}
		if !ok || got.UTC().Format(time.RFC3339) != tc.want {
			t.Errorf("%q: %v %v, want %s", tc.in, got, ok, tc.want)
		}
	}
}

func TestFieldLock(t *testing.T) {
	for _, tc := range []struct {
		lock  FieldLock
		field string
		want  bool
	}{
		{FieldLock{Action: "All"}, "any", true},
		{FieldLock{Action: "Include", Fields: []string{"kwota"}}, "kwota", true},
		{FieldLock{Action: "Include", Fields: []string{"kwota"}}, "data", false},
		{FieldLock{Action: "Include", Fields: []string{"strona1"}}, "strona1.kwota", true},
		{FieldLock{Action: "Include", Fields: []string{"strona1"}}, "strona10", false},
		{FieldLock{Action: "Exclude", Fields: []string{"uwagi"}}, "uwagi", false},
		{FieldLock{Action: "Exclude", Fields: []string{"uwagi"}}, "kwota", true},
		{FieldLock{Action: "Unheard"}, "kwota", true},
	} {
		if got := tc.lock.Locks(tc.field); got != tc.want {
			t.Errorf("%+v locks %q: %v, want %v", tc.lock, tc.field, got, tc.want)
		}
	}
}

func TestTextStrings(t *testing.T) {
	for _, tc := range []struct {
		in   types.Object
		want string
		ok   bool
	}{
		{types.StringLiteral(`Ma\(l\)y`), "Ma(l)y", true},
		{types.NewHexLiteral([]byte("\xfe\xff\x00\xd3\x01\x42")), "Ół", true},
		{types.NewHexLiteral([]byte("\xef\xbb\xbfZa\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87")), "Zażółć", true},
		{types.StringLiteral(`\225\233`), "Łł", true}, // PDFDocEncoding
		{types.StringLiteral(`\240`), "€", true},
		{types.HexLiteral("4G"), "", false},
		{types.Name("Reason"), "", false},
	} {
		got, ok := textOf(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: %q %v, want %q %v", tc.in.PDFString(), got, ok, tc.want, tc.ok)
		}
	}
}

func TestHexBytes(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"4142", "AB", true},
		{"41 4\n2", "AB", true},
		{"414", "A@", true},
		{"41x2", "", false},
	} {
		got, err := hexBytes([]byte(tc.in))
		if (err == nil) != tc.ok || string(got) != tc.want {
			t.Errorf("%q: %q %v", tc.in, got, err)
		}
	}
}

// noNullSigner signs like the gov.pl seal: RSASSA-PKCS1-v1_5 with a
// DigestInfo whose AlgorithmIdentifier has no NULL parameters.
type noNullSigner struct{ *rsa.PrivateKey }

func (s noNullSigner) Sign(_ io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	return rsa.SignPKCS1v15(rand.Reader, s.PrivateKey, 0, digestInfoWithoutNull(digest))
}

func digestInfoWithoutNull(digest []byte) []byte {
	oid, _ := asn1.Marshal(cms.OIDForHash(crypto.SHA256))
	return cms.Sequence(cms.Sequence(oid), cms.Encode(cms.ClassUniversal, cms.TagOctetString, false, digest))
}

// TestSealWithoutNull: a PAdES signature made like the gov.pl seal passes,
// and the same signature over other bytes still fails.
func TestSealWithoutNull(t *testing.T) {
	e := newEnv(t)
	key := e.leaf.Key.(*rsa.PrivateKey)
	signed := e.handSign(t, padestest.Document(t, padestest.Spec{}), padestest.Sig{Signer: noNullSigner{key}, Certificate: e.leaf.Cert, Chain: e.chain()})
	s := only(t, e.verify(t, signed, true))
	if s.Indication != report.TotalPassed {
		t.Fatalf("%s/%s %v", s.Indication, s.SubIndication, s.Errors)
	}
	s = only(t, e.verify(t, flipSignatureValue(t, signed), true))
	if s.SubIndication != report.SigCryptoFailure {
		t.Fatalf("forged value: %s/%s", s.Indication, s.SubIndication)
	}
}
