package pades

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"esig/internal/testpki"
	signer "esig/signer/pades"
	"esig/verifier/pades/padestest"
	"esig/verifier/policy"
	"esig/verifier/report"
)

// sealer issues a seal certificate with the trusted-profile sealer's
// subject, or another organisation's.
func sealer(t *testing.T, e *env, org, orgID string) *testpki.Cert {
	return e.pki.Leaf(t, testpki.LeafOptions{Subject: &pkix.Name{Country: []string{"PL"}, Organization: []string{org},
		CommonName: "Minister do spraw informatyzacji - pieczęć podpisu zaufanego",
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 97}, Value: orgID}}}})
}

const statement = "Opatrzono pieczęcią ministra właściwego do spraw informatyzacji w imieniu: ANNA MARIA NOWAK, PESEL: 02270803624, PZ ID: anowak"

// TestTrustedProfileSeals: a PDF sealed the way the gov.pl service seals
// (the person in the signature dictionary's Name and Reason) yields the
// person's identity only when the seal is valid, made by the sealer, and
// says it in the revision it signed.
func TestTrustedProfileSeals(t *testing.T) {
	e := newEnv(t)
	ministry := sealer(t, e, "Ministerstwo Cyfryzacji", "VATPL-5252955037")
	other := sealer(t, e, "Urząd Podrabiania Pieczęci", "VATPL-1234563218")
	doc := padestest.Document(t, padestest.Spec{Pages: []string{"Wniosek o dowod"}})
	seal := func(t *testing.T, c *testpki.Cert, name, reason string) []byte {
		return e.sign(t, doc, signer.Options{Signer: c.Key, Certificate: c.Cert, Name: name, Reason: reason})
	}
	sealerID := policy.DefaultValidation().TrustedProfile
	for _, tc := range []struct {
		name     string
		make     func(t *testing.T) []byte
		identity bool
		ind      report.Indication
		warn     string
	}{
		{"genuine", func(t *testing.T) []byte { return seal(t, ministry, "ANNA MARIA NOWAK", statement) }, true, report.TotalPassed, ""},
		{"genuine without Name", func(t *testing.T) []byte { return seal(t, ministry, "", statement) }, true, report.TotalPassed, ""},
		{"sealed by someone else", func(t *testing.T) []byte { return seal(t, other, "ANNA MARIA NOWAK", statement) },
			false, report.TotalPassed, "not sealed by the trusted-profile sealer"},
		{"Name disagrees with Reason", func(t *testing.T) []byte { return seal(t, ministry, "JAN NOWAK", statement) },
			false, report.TotalPassed, "name different people"},
		{"PESEL with a wrong check digit", func(t *testing.T) []byte {
			return seal(t, ministry, "", strings.Replace(statement, "02270803624", "02270803625", 1))
		}, false, report.TotalPassed, "trusted-profile payload is malformed"},
		{"statement in another form", func(t *testing.T) []byte {
			return seal(t, ministry, "", "w imieniu: ANNA MARIA NOWAK")
		}, false, report.TotalPassed, "not in the form"},
		{"no statement", func(t *testing.T) []byte { return seal(t, ministry, "", "Zatwierdzam") }, false, report.TotalPassed, ""},
		{"Reason changed inside the signed revision", func(t *testing.T) []byte {
			signed := seal(t, ministry, "", statement)
			at := bytes.Index(signed, []byte("/Reason<")) + len("/Reason<") + 40
			out := append([]byte(nil), signed...)
			if out[at] == '0' {
				out[at] = '1'
			} else {
				out[at] = '0'
			}
			return out
		}, false, report.TotalFailed, "seal is not valid"},
		{"Reason rewritten by a later update", func(t *testing.T) []byte {
			return rewriteSignatureEntry(t, seal(t, ministry, "", statement), "Reason",
				strings.Replace(statement, "ANNA MARIA NOWAK, PESEL: 02270803624", "JAN KOWALSKI, PESEL: 44051401359", 1))
		}, true, report.TotalPassed, "the value of signature field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.verify(t, tc.make(t), true)
			v := res.Signatures[0]
			out := TrustedProfile(v, sealerID)
			if v.Report.Indication != tc.ind {
				t.Fatalf("%s/%s, want %s; errors %v", v.Report.Indication, v.Report.SubIndication, tc.ind, v.Report.Errors)
			}
			if (out.Identity != nil) != tc.identity {
				t.Fatalf("identity %+v, want one: %v; warnings %v", out.Identity, tc.identity, out.Warnings)
			}
			if tc.identity {
				id := out.Identity
				if strings.Join(id.GivenNames, " ") != "ANNA MARIA" || id.Surname != "NOWAK" || id.PESEL != "02270803624" || id.AccountID != "anowak" ||
					!strings.Contains(id.SealedBy, "Ministerstwo Cyfryzacji") || id.SigningTime == "" {
					t.Fatalf("identity %+v", id)
				}
			}
			all := append(append([]string(nil), out.Warnings...), v.Report.Warnings...)
			if tc.warn != "" && !has(all, tc.warn) {
				t.Fatalf("no warning %q in %v", tc.warn, all)
			}
			if tc.warn == "" && len(all) > 0 {
				t.Fatalf("unexpected warnings %v", all)
			}
		})
	}
}

// rewriteSignatureEntry appends an update that redefines the signature
// dictionary with one entry changed, leaving ByteRange and Contents as
// they were: what a reader shows changes, what was signed does not.
func rewriteSignatureEntry(t *testing.T, pdf []byte, key, text string) []byte {
	return rewriteSignatureDict(t, pdf, func(d types.Dict) string {
		if key == "ByteRange" {
			return withEntry(d, key, text)
		}
		c := d.Clone().(types.Dict)
		c[key] = types.NewHexLiteral([]byte(types.EncodeUTF16String(text)))
		return c.PDFString()
	})
}

// rewriteSignatureDict appends an update replacing the first signature's
// dictionary by what edit writes.
func rewriteSignatureDict(t *testing.T, pdf []byte, edit func(types.Dict) string) []byte {
	t.Helper()
	doc, err := Locate(pdf)
	if err != nil || len(doc.Signatures) != 1 {
		t.Fatalf("locate: %v", err)
	}
	ctx, err := padestest.Read(pdf)
	if err != nil {
		t.Fatal(err)
	}
	n := doc.Signatures[0].ObjNr
	d, err := ctx.DereferenceDict(*types.NewIndirectRef(n, 0))
	if err != nil {
		t.Fatal(err)
	}
	return padestest.Append(t, pdf, padestest.Update{n: edit(d)})
}
