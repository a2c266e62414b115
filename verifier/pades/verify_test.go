package pades

import (
	"bytes"
	"compress/zlib"
	"context"
	"fmt"
	"strings"
	"testing"

	csigner "esig/signer/cades"
	signer "esig/signer/pades"
	"esig/verifier/pades/padestest"
	"esig/verifier/report"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// TestLevels signs at every baseline level, over a document with a classic
// cross-reference table and one with cross-reference and object streams,
// and verifies. LT and LTA verify offline: the DSS is their revocation
// source; B and T offline have none and stay INDETERMINATE.
func TestLevels(t *testing.T) {
	e := newEnv(t)
	for _, xs := range []bool{false, true} {
		doc := padestest.Document(t, padestest.Spec{Pages: []string{"Umowa najmu", "Strona 2"}, Field: "Anna", XRefStream: xs})
		for _, tc := range []struct {
			level       signer.Level
			online      bool
			format      string
			ind         report.Indication
			timestamps  []string
			revocations bool
		}{
			{signer.LevelB, true, "PAdES-BASELINE-B", report.TotalPassed, nil, false},
			{signer.LevelB, false, "PAdES-BASELINE-B", report.Indeterminate, nil, false},
			{signer.LevelT, true, "PAdES-BASELINE-T", report.TotalPassed, []string{report.SignatureTimestamp}, false},
			{signer.LevelT, false, "PAdES-BASELINE-T", report.Indeterminate, []string{report.SignatureTimestamp}, false},
			{signer.LevelLT, false, "PAdES-BASELINE-LT", report.TotalPassed, []string{report.SignatureTimestamp}, true},
			{signer.LevelLTA, false, "PAdES-BASELINE-LTA", report.TotalPassed, []string{report.ArchiveTimestamp, report.SignatureTimestamp}, true},
		} {
			t.Run(fmt.Sprintf("xrefstream=%v/%s/online=%v", xs, tc.level, tc.online), func(t *testing.T) {
				signed := e.sign(t, doc, signer.Options{Level: tc.level, Reason: "Zgoda na najem"})
				if !bytes.HasPrefix(signed, doc) {
					t.Fatal("the signed document does not keep the original bytes (not an incremental update)")
				}
				s := only(t, e.verify(t, signed, tc.online))
				if s.Format != tc.format || s.Indication != tc.ind {
					t.Fatalf("%s/%s %s, want %s %s; errors %v warnings %v", s.Indication, s.SubIndication, s.Format, tc.ind, tc.format, s.Errors, s.Warnings)
				}
				var types []string
				for _, ts := range s.Timestamps {
					types = append(types, ts.Type)
					if tc.ind == report.TotalPassed && ts.Indication != report.TotalPassed {
						t.Errorf("time stamp %s: %s %v", ts.Type, ts.Indication, ts.Errors)
					}
				}
				if strings.Join(types, ",") != strings.Join(tc.timestamps, ",") {
					t.Errorf("time stamps %v, want %v", types, tc.timestamps)
				}
				if tc.revocations && !hasEmbeddedRevocation(s) {
					t.Errorf("revocation was not decided by data from the document: %+v", s.Revocation)
				}
				if len(s.Warnings) != 0 && tc.ind == report.TotalPassed {
					t.Errorf("warnings on a clean signature: %v", s.Warnings)
				}
			})
		}
	}
}

func hasEmbeddedRevocation(s *report.Signature) bool {
	for _, r := range s.Revocation {
		if strings.Contains(r.Source, "embedded") {
			return true
		}
	}
	return false
}

// TestDocumentTimestampMakesT: a B-B signature followed by a document time
// stamp is B-T (ETSI EN 319 142-1, 6.3), the time stamp giving the
// best-signature-time.
func TestDocumentTimestampMakesT(t *testing.T) {
	e := newEnv(t)
	signed := e.sign(t, padestest.Document(t, padestest.Spec{}), signer.Options{})
	stamped, err := signer.AddDocumentTimestamp(context.Background(), signed, 0, e.timestamper())
	if err != nil {
		t.Fatal(err)
	}
	s := only(t, e.verify(t, stamped, true))
	if s.Indication != report.TotalPassed || s.Format != "PAdES-BASELINE-T" || len(s.Timestamps) != 1 || s.Timestamps[0].Type != report.SignatureTimestamp {
		t.Fatalf("%s %s, time stamps %+v, errors %v", s.Indication, s.Format, s.Timestamps, s.Errors)
	}
	if !s.BestSignatureTime.Equal(*s.Timestamps[0].ProductionTime) {
		t.Errorf("best-signature-time %v is not the document time stamp's %v", s.BestSignatureTime, s.Timestamps[0].ProductionTime)
	}
}

// TestTampered: every way to break a signed PDF, each caught by the check
// named in want.
func TestTampered(t *testing.T) {
	e := newEnv(t)
	doc := padestest.Document(t, padestest.Spec{Pages: []string{"Umowa najmu", "Strona 2"}, Field: "Anna"})
	signed := e.sign(t, doc, signer.Options{})
	// Structural cases sign by hand with Contents the ByteRange lies about.
	dummy := []byte{0xAA, 0xBB}
	for _, tc := range []struct {
		name string
		make func(t *testing.T) []byte
		ind  report.Indication
		sub  report.SubIndication
		want string
	}{
		{"byte changed inside the ByteRange", func(t *testing.T) []byte {
			return flip(t, signed, "/Fields")
		}, report.TotalFailed, report.HashFailure, "do not match the signed message-digest"},
		{"signature value changed", func(t *testing.T) []byte {
			return flipSignatureValue(t, signed)
		}, report.TotalFailed, report.SigCryptoFailure, "does not verify"},
		{"update changes the page after signing", func(t *testing.T) []byte {
			return replacePageContent(t, signed, 1, "Umowa kupna")
		}, report.TotalFailed, report.FormatFailure, "page 1: its content"},
		{"update redefines the page's content stream object", func(t *testing.T) []byte {
			_, page := padestest.PageObject(t, signed, 1)
			n := page["Contents"].(types.IndirectRef).ObjectNumber.Value()
			// The same dictionary as before (FlateDecode), other bytes.
			var z bytes.Buffer
			w := zlib.NewWriter(&z)
			w.Write([]byte(padestest.PageContent("Umowa kupna")))
			w.Close()
			return padestest.Append(t, signed, padestest.Update{n: padestest.Stream("/Filter/FlateDecode", z.String())})
		}, report.TotalFailed, report.FormatFailure, "page 1: its content"},
		{"update redefines a font the page uses", func(t *testing.T) []byte {
			_, page := padestest.PageObject(t, signed, 1)
			font := page["Resources"].(types.Dict)["Font"].(types.Dict)["F1"].(types.IndirectRef).ObjectNumber.Value()
			return padestest.Append(t, signed, padestest.Update{font: "<</Type/Font/Subtype/Type1/BaseFont/Courier>>"})
		}, report.TotalFailed, report.FormatFailure, "page 1: its content"},
		{"update adds a page after signing", func(t *testing.T) []byte {
			return addPage(t, signed, "Aneks")
		}, report.TotalFailed, report.FormatFailure, "had 2 page(s) when signed and has 3"},
		{"ByteRange skips bytes after the Contents", func(t *testing.T) []byte {
			return e.handSign(t, doc, padestest.Sig{ByteRange: func(f []byte, a, b int64) []int64 { return []int64{0, a, b + 5, int64(len(f)) - b - 5} }})
		}, report.TotalFailed, report.FormatFailure, "are not a hexadecimal string"},
		{"ByteRange skips the start of the file", func(t *testing.T) []byte {
			return e.handSign(t, doc, padestest.Sig{ByteRange: func(f []byte, a, b int64) []int64 { return []int64{9, a - 9, b, int64(len(f)) - b} }})
		}, report.TotalFailed, report.FormatFailure, "does not start at the beginning"},
		{"ByteRange stops before the end of the revision", func(t *testing.T) []byte {
			return e.handSign(t, doc, padestest.Sig{ByteRange: func(f []byte, a, b int64) []int64 { return []int64{0, a, b, int64(len(f)) - b - 30} }})
		}, report.TotalFailed, report.FormatFailure, "not the end of a revision"},
		{"ByteRange of three ranges", func(t *testing.T) []byte {
			return e.handSign(t, doc, padestest.Sig{ByteRange: func(f []byte, a, b int64) []int64 { return []int64{0, 100, 100, a - 100, b, int64(len(f)) - b} }})
		}, report.TotalFailed, report.FormatFailure, "exactly 4"},
		{"ByteRange beyond the end of the file", func(t *testing.T) []byte {
			return e.handSign(t, doc, padestest.Sig{Contents: dummy, Reserve: 2,
				ByteRange: func(f []byte, a, b int64) []int64 { return []int64{0, a, b, int64(len(f)) - b + 100} }})
		}, report.TotalFailed, report.FormatFailure, "beyond the end of the file"},
		{"hole is another entry than Contents", func(t *testing.T) []byte {
			return e.handSign(t, doc, padestest.Sig{Contents: dummy, Reserve: 2, Dict: "/Decoy<AABB>",
				ByteRange: func(f []byte, a, b int64) []int64 {
					d := int64(bytes.Index(f, []byte("<AABB>")))
					return []int64{0, d, d + 6, int64(len(f)) - d - 6}
				}})
		}, report.TotalFailed, report.FormatFailure, "not the value of a /Contents entry"},
		{"hole is another dictionary's Contents", func(t *testing.T) []byte {
			return e.handSign(t, doc, padestest.Sig{Contents: dummy, Reserve: 2,
				Catalog: func(int) string { return "/Contents<AABB>" },
				ByteRange: func(f []byte, a, b int64) []int64 {
					d := int64(bytes.Index(f, []byte("<AABB>")))
					return []int64{0, d, d + 6, int64(len(f)) - d - 6}
				}})
		}, report.TotalFailed, report.FormatFailure, "does not hold the Contents"},
		{"ByteRange of strings", func(t *testing.T) []byte {
			return e.handSign(t, doc, padestest.Sig{Contents: dummy, Reserve: 2, ByteRangeText: "[0 (10) 20 30]"})
		}, report.TotalFailed, report.FormatFailure, "other than non-negative integers"},
		{"ByteRange without a hole", func(t *testing.T) []byte {
			return e.handSign(t, doc, padestest.Sig{Contents: dummy, Reserve: 2,
				ByteRange: func(f []byte, a, b int64) []int64 { return []int64{0, a, a, int64(len(f)) - a} }})
		}, report.TotalFailed, report.FormatFailure, "has no hole"},
		{"unknown SubFilter", func(t *testing.T) []byte {
			return e.handSign(t, doc, padestest.Sig{SubFilter: "x.unknown"})
		}, report.TotalFailed, report.FormatFailure, "not a signature format esig knows"},
		{"deprecated SubFilter", func(t *testing.T) []byte {
			return e.handSign(t, doc, padestest.Sig{SubFilter: "adbe.pkcs7.sha1"})
		}, report.TotalFailed, report.FormatFailure, "adbe.pkcs7.sha1 is not supported"},
		{"CMS that encapsulates content", func(t *testing.T) []byte {
			var attached bytes.Buffer
			err := csigner.Sign(context.Background(), bytes.NewReader([]byte("x")), &attached, csigner.Options{Signer: e.leaf.Key, Certificate: e.leaf.Cert})
			if err != nil {
				t.Fatal(err)
			}
			return e.handSign(t, doc, padestest.Sig{Contents: attached.Bytes()})
		}, report.TotalFailed, report.FormatFailure, "encapsulates content"},
		{"Contents that is not CMS", func(t *testing.T) []byte {
			return e.handSign(t, doc, padestest.Sig{Contents: []byte("not a signature")})
		}, report.TotalFailed, report.FormatFailure, "Contents"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := only(t, e.verify(t, tc.make(t), true))
			if s.Indication != tc.ind || s.SubIndication != tc.sub || !has(s.Errors, tc.want) {
				t.Fatalf("%s/%s, errors %v; want %s/%s with %q", s.Indication, s.SubIndication, s.Errors, tc.ind, tc.sub, tc.want)
			}
		})
	}
}

// TestCAdESInPDF: a CMS made by esig's CAdES signer (detached, with a
// signing-time attribute) inside a PDF verifies, warned that PAdES
// baseline signatures carry their time in M instead.
func TestCAdESInPDF(t *testing.T) {
	e := newEnv(t)
	signed := e.handSign(t, padestest.Document(t, padestest.Spec{}), padestest.Sig{SignBytes: func(b []byte) ([]byte, error) {
		var out bytes.Buffer
		err := csigner.Sign(context.Background(), bytes.NewReader(b), &out, csigner.Options{Signer: e.leaf.Key, Certificate: e.leaf.Cert, Chain: e.chain(), Detached: true})
		return out.Bytes(), err
	}})
	s := only(t, e.verify(t, signed, true))
	if s.Indication != report.TotalPassed || s.Format != "PAdES-BASELINE-B" || !has(s.Warnings, "signing-time attribute") {
		t.Fatalf("%s/%s %s, warnings %v, errors %v", s.Indication, s.SubIndication, s.Format, s.Warnings, s.Errors)
	}
}

// TestUnsoundDocumentTimestamp: a document time stamp whose ByteRange
// lies is reported and proves nothing for the signature before it.
func TestUnsoundDocumentTimestamp(t *testing.T) {
	e := newEnv(t)
	signed := e.sign(t, padestest.Document(t, padestest.Spec{}), signer.Options{})
	stamped := e.handSign(t, signed, padestest.Sig{SubFilter: "ETSI.RFC3161", Contents: []byte{0x30, 0x00}, Reserve: 2,
		ByteRange: func(f []byte, a, b int64) []int64 { return []int64{0, a, b + 2, int64(len(f)) - b - 2} }})
	s := only(t, e.verify(t, stamped, true))
	if !has(s.Warnings, "unsound and proves nothing") || len(s.Timestamps) != 1 || s.Timestamps[0].Indication == report.TotalPassed {
		t.Fatalf("warnings %v, time stamps %+v", s.Warnings, s.Timestamps)
	}
	if s.Format != "PAdES-BASELINE-T" || s.BestSignatureTime == nil || s.BestSignatureTime.Before(*s.SigningTime) {
		t.Fatalf("%s, best-signature-time %v: the unsound time stamp counted", s.Format, s.BestSignatureTime)
	}
}

// TestCraftedDictionaries: signature dictionaries no signer writes, added
// by hand in later updates.
func TestCraftedDictionaries(t *testing.T) {
	e := newEnv(t)
	signed := e.sign(t, padestest.Document(t, padestest.Spec{Field: "Anna"}), signer.Options{})
	doc, err := Locate(signed)
	if err != nil {
		t.Fatal(err)
	}
	orig := doc.Signatures[0]
	for _, tc := range []struct {
		name  string
		make  func(t *testing.T) []byte
		index int // of the signature that fails
		want  string
	}{
		{"no Contents", func(t *testing.T) []byte {
			n := padestest.NextObject(t, signed)
			return editForm(t, signed, "Fields", func(f []string) string { return fmt.Sprintf("[%s %d 0 R]", strings.Join(f, " "), n+1) },
				padestest.Update{n: "<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.CAdES.detached/ByteRange[0 1 2 3]>>",
					n + 1: fmt.Sprintf("<</FT/Sig/T(Pusty)/V %d 0 R>>", n)})
		}, 1, "/Contents: missing"},
		{"the signed dictionary redefined to claim a later revision", func(t *testing.T) []byte {
			filled := fillField(t, signed, "Zofia")
			d, err := Locate(filled)
			if err != nil {
				t.Fatal(err)
			}
			end := d.Revisions[len(d.Revisions)-1].End
			br := orig.ByteRange
			return rewriteSignatureEntry(t, filled, "ByteRange", fmt.Sprintf("[0 %d %d %d]", br[1], br[2], end-br[2]))
		}, 1, "different ByteRange"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.verify(t, tc.make(t), true)
			if len(r.Report.Signatures) <= tc.index {
				t.Fatalf("%d signatures", len(r.Report.Signatures))
			}
			if s := r.Report.Signatures[0]; tc.index > 0 && s.Indication != report.TotalPassed {
				t.Errorf("the genuine signature: %s %v", s.Indication, s.Errors)
			}
			s := r.Report.Signatures[tc.index]
			if s.Indication != report.TotalFailed || s.SubIndication != report.FormatFailure || !has(s.Errors, tc.want) {
				t.Fatalf("%s/%s %v, want FORMAT_FAILURE with %q", s.Indication, s.SubIndication, s.Errors, tc.want)
			}
		})
	}
}

// TestHandSignedIsSound makes sure the hand signer the structural cases
// rely on makes good signatures when it does not lie.
func TestHandSignedIsSound(t *testing.T) {
	e := newEnv(t)
	s := only(t, e.verify(t, e.handSign(t, padestest.Document(t, padestest.Spec{}), padestest.Sig{}), true))
	if s.Indication != report.TotalPassed || s.Format != "PAdES-BASELINE-B" {
		t.Fatalf("%s/%s %s %v", s.Indication, s.SubIndication, s.Format, s.Errors)
	}
}

// TestAppendedBytes: bytes after the last %%EOF that are not an update are
// reported; a signature is not failed for them, since readers ignore them
// and the comparison of what is shown still runs.
func TestAppendedBytes(t *testing.T) {
	e := newEnv(t)
	signed := e.sign(t, padestest.Document(t, padestest.Spec{}), signer.Options{})
	s := only(t, e.verify(t, append(append([]byte(nil), signed...), "% a comment nobody signed\n"...), true))
	if s.Indication != report.TotalPassed || !has(s.Warnings, "not part of any revision") {
		t.Fatalf("%s, warnings %v", s.Indication, s.Warnings)
	}
	s = only(t, e.verify(t, append(append([]byte(nil), signed...), "\r\n\n"...), true))
	if len(s.Warnings) != 0 {
		t.Fatalf("white space after %%%%EOF warned: %v", s.Warnings)
	}
}

// TestBrokenDocumentTimestamp: a document time stamp whose revision was
// altered proves nothing; the signature under it keeps its own time stamp.
func TestBrokenDocumentTimestamp(t *testing.T) {
	e := newEnv(t)
	signed := e.sign(t, padestest.Document(t, padestest.Spec{}), signer.Options{Level: signer.LevelLTA})
	// The time stamp field's name is in the last revision only.
	i := bytes.LastIndex(signed, []byte("(Signature2)"))
	if i < 0 {
		t.Fatal("no document time stamp field")
	}
	broken := append([]byte(nil), signed...)
	broken[i+9] = 'X'
	s := only(t, e.verify(t, broken, false))
	var archive *report.Timestamp
	for _, ts := range s.Timestamps {
		if ts.Type == report.ArchiveTimestamp {
			archive = ts
		}
	}
	if archive == nil || archive.Indication != report.TotalFailed || archive.SubIndication != report.HashFailure {
		t.Fatalf("archive time stamp %+v", archive)
	}
	if s.Indication != report.TotalPassed || !has(s.Warnings, "archive time stamp is not valid") {
		t.Fatalf("%s/%s, warnings %v", s.Indication, s.SubIndication, s.Warnings)
	}
}

// TestNotPDF: a file that claims to be a PDF and is not one fails.
func TestNotPDF(t *testing.T) {
	e := newEnv(t)
	for _, data := range [][]byte{[]byte("%PDF-1.7\nnothing else"), []byte("PDF? no")} {
		r := e.verify(t, data, false)
		s := only(t, r)
		if s.Indication != report.TotalFailed || s.SubIndication != report.FormatFailure {
			t.Errorf("%q: %s/%s", data, s.Indication, s.SubIndication)
		}
	}
	r := e.verify(t, padestest.Document(t, padestest.Spec{}), false)
	if r.Report.Indication != report.NoSignatureFound || len(r.Report.Signatures) != 0 {
		t.Fatalf("unsigned PDF: %s with %d signatures", r.Report.Indication, len(r.Report.Signatures))
	}
}

// flipSignatureValue changes a hexadecimal digit near the end of the
// signature's CMS, inside the signature value (the last field of the
// SignerInfo when there are no unsigned attributes).
func flipSignatureValue(t *testing.T, signed []byte) []byte {
	t.Helper()
	doc, err := Locate(signed)
	if err != nil || len(doc.Signatures) != 1 {
		t.Fatalf("locate: %v", err)
	}
	s := doc.Signatures[0]
	used := len(trimDER(s.Contents))
	at := s.ByteRange[1] + 1 + int64(2*used) - 10
	out := append([]byte(nil), signed...)
	if out[at] == '0' {
		out[at] = '1'
	} else {
		out[at] = '0'
	}
	return out
}

// replacePageContent appends an update giving page n new text, the way a
// shadow attack replaces what was signed.
func replacePageContent(t *testing.T, pdf []byte, n int, text string) []byte {
	t.Helper()
	pageNr, page := padestest.PageObject(t, pdf, n)
	next := padestest.NextObject(t, pdf)
	np := page.Clone().(types.Dict)
	np["Contents"] = *types.NewIndirectRef(next, 0)
	return padestest.Append(t, pdf, padestest.Update{
		next:   padestest.Stream("", padestest.PageContent(text)),
		pageNr: np.PDFString(),
	})
}

// addPage appends an update with one more page at the end.
func addPage(t *testing.T, pdf []byte, text string) []byte {
	t.Helper()
	ctx, err := padestest.Read(pdf)
	if err != nil {
		t.Fatal(err)
	}
	root, err := ctx.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	pagesRef := root["Pages"].(types.IndirectRef)
	pages, err := ctx.DereferenceDict(pagesRef)
	if err != nil {
		t.Fatal(err)
	}
	_, first := padestest.PageObject(t, pdf, 1)
	next := padestest.NextObject(t, pdf)
	np := pages.Clone().(types.Dict)
	np["Kids"] = append(pages.ArrayEntry("Kids").Clone().(types.Array), *types.NewIndirectRef(next+1, 0))
	np["Count"] = types.Integer(*pages.IntEntry("Count") + 1)
	page := types.Dict{"Type": types.Name("Page"), "Parent": pagesRef, "Contents": *types.NewIndirectRef(next, 0), "Resources": first["Resources"]}
	return padestest.Append(t, pdf, padestest.Update{
		next:                          padestest.Stream("", padestest.PageContent(text)),
		next + 1:                      page.PDFString(),
		pagesRef.ObjectNumber.Value(): np.PDFString(),
	})
}
