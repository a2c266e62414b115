package pades

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	signer "esig/signer/pades"
	"esig/verifier/pades/padestest"
	"esig/verifier/report"
)

// TestModificationRules applies the rules of judge: what a certification
// (DocMDP), a field lock (FieldMDP) or no lock at all make of each kind of
// change after signing.
func TestModificationRules(t *testing.T) {
	e := newEnv(t)
	doc := padestest.Document(t, padestest.Spec{Pages: []string{"Wniosek"}, Field: "Anna"})
	certify := func(p int) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			return e.handSign(t, doc, padestest.Sig{
				Dict:    fmt.Sprintf("/Reference[<</Type/SigRef/TransformMethod/DocMDP/TransformParams<</Type/TransformParams/P %d/V/1.2>>>>]", p),
				Catalog: func(n int) string { return fmt.Sprintf("/Perms<</DocMDP %d 0 R>>", n) },
			})
		}
	}
	fieldMDP := func(action, fields string) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			return e.handSign(t, doc, padestest.Sig{Dict: fmt.Sprintf(
				"/Reference[<</Type/SigRef/TransformMethod/FieldMDP/TransformParams<</Type/TransformParams/Action/%s/Fields[%s]/V/1.2>>>>]", action, fields)})
		}
	}
	approval := func(t *testing.T) []byte { return e.sign(t, doc, signer.Options{}) }
	fieldLock := func(t *testing.T) []byte {
		return e.handSign(t, doc, padestest.Sig{Field: "/Lock<</Type/SigFieldLock/Action/Include/Fields[(name)]>>"})
	}
	mdpWithoutPerms := func(t *testing.T) []byte {
		return e.handSign(t, doc, padestest.Sig{Dict: "/Reference[<</Type/SigRef/TransformMethod/DocMDP/TransformParams<</P 1>>>>]"})
	}
	fill := func(t *testing.T, pdf []byte) []byte { return fillField(t, pdf, "Zofia") }
	annotate := func(t *testing.T, pdf []byte) []byte { return addAnnotation(t, pdf) }
	stamp := func(t *testing.T, pdf []byte) []byte {
		out, err := signer.AddDocumentTimestamp(context.Background(), pdf, 0, e.timestamper())
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	dss := func(t *testing.T, pdf []byte) []byte { return setCatalogEntry(t, pdf, "DSS", "<</Certs[]>>") }
	openAction := func(t *testing.T, pdf []byte) []byte {
		return setCatalogEntry(t, pdf, "OpenAction", "<</S/JavaScript/JS(app.alert\\(1\\))>>")
	}
	addWidget := func(t *testing.T, pdf []byte) []byte {
		ctx, err := padestest.Read(pdf)
		if err != nil {
			t.Fatal(err)
		}
		f := formFields(ctx)["name"]
		n := padestest.NextObject(t, pdf)
		return padestest.Append(t, pdf, padestest.Update{
			f.objNr: withEntry(f.dict, "Kids", fmt.Sprintf("[%d 0 R]", n)),
			n:       fmt.Sprintf("<</Type/Annot/Subtype/Widget/Parent %d 0 R/Rect[300 600 500 620]>>", f.objNr),
		})
	}
	countersign := func(t *testing.T, pdf []byte) []byte { return e.sign(t, pdf, signer.Options{}) }
	// esig's signer refuses to sign over P=1; another signer might not.
	handCountersign := func(t *testing.T, pdf []byte) []byte { return e.handSign(t, pdf, padestest.Sig{}) }
	hideField := func(t *testing.T, pdf []byte) []byte { return setFieldEntry(t, pdf, "F", "2") }
	removeField := func(t *testing.T, pdf []byte) []byte {
		return editForm(t, pdf, "Fields", func(fields []string) string { return "[" + strings.Join(fields[1:], " ") + "]" })
	}
	addXFA := func(t *testing.T, pdf []byte) []byte {
		return editForm(t, pdf, "XFA", func([]string) string { return "(<xdp/>)" })
	}

	for _, tc := range []struct {
		name   string
		sign   func(*testing.T) []byte
		change func(*testing.T, []byte) []byte
		ind    report.Indication
		error  string   // in Errors when failed
		warn   []string // in Warnings
	}{
		{"approval, form filled in", approval, fill, report.TotalPassed, "", []string{`form field "name" filled in`}},
		{"approval, annotation added", approval, annotate, report.TotalPassed, "", []string{"Text annotation was added"}},
		{"approval, catalog action added", approval, openAction, report.TotalPassed, "", []string{"/OpenAction"}},
		{"approval, field widget hidden", approval, hideField, report.TotalPassed, "", []string{`definition of form field "name"`}},
		{"approval, document time stamp", approval, stamp, report.TotalPassed, "", nil},
		{"approval, field removed from the form", approval, removeField, report.TotalPassed, "", []string{`form field "name" removed`}},
		{"approval, XFA added to the form", approval, addXFA, report.TotalPassed, "", []string{"the form's /XFA entry changed"}},
		{"approval, second widget for a field", approval, addWidget, report.TotalPassed, "", []string{`a widget was added to form field "name"`}},
		{"approval, second signature", approval, countersign, report.TotalPassed, "", nil},
		{"P=1, document time stamp", certify(1), stamp, report.TotalPassed, "", nil},
		{"P=1, DSS", certify(1), dss, report.TotalPassed, "", nil},
		{"P=1, form filled in", certify(1), fill, report.TotalFailed, "DocMDP P=1", nil},
		{"P=7 (invalid), form filled in", certify(7), fill, report.TotalFailed, "DocMDP P=1", []string{"treated as 1"}},
		{"P=1, second signature", certify(1), handCountersign, report.TotalFailed, "DocMDP P=1", nil},
		{"P=2, form filled in", certify(2), fill, report.TotalPassed, "", []string{"filled in"}},
		{"P=2, second signature", certify(2), countersign, report.TotalPassed, "", nil},
		{"P=2, annotation added", certify(2), annotate, report.TotalFailed, "DocMDP P=2", nil},
		{"P=3, annotation added", certify(3), annotate, report.TotalPassed, "", []string{"annotation was added"}},
		{"P=3, catalog action added", certify(3), openAction, report.TotalFailed, "DocMDP P=3", nil},
		{"FieldMDP Include name, name filled in", fieldMDP("Include", "(name)"), fill, report.TotalFailed, "locks (FieldMDP)", nil},
		{"FieldMDP All, name filled in", fieldMDP("All", ""), fill, report.TotalFailed, "locks (FieldMDP)", nil},
		{"FieldMDP Include other, name filled in", fieldMDP("Include", "(other)"), fill, report.TotalPassed, "", []string{"filled in"}},
		{"FieldMDP Exclude name, name filled in", fieldMDP("Exclude", "(name)"), fill, report.TotalPassed, "", []string{"filled in"}},
		{"field Lock, name filled in", fieldLock, fill, report.TotalFailed, "locks (FieldMDP)", nil},
		{"DocMDP without Perms, form filled in", mdpWithoutPerms, fill, report.TotalPassed, "", []string{"not a certification signature", "filled in"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.verify(t, tc.change(t, tc.sign(t)), true)
			s := res.Report.Signatures[0]
			if s.Indication != tc.ind {
				t.Fatalf("%s/%s, want %s; errors %v warnings %v", s.Indication, s.SubIndication, tc.ind, s.Errors, s.Warnings)
			}
			if tc.ind == report.TotalFailed && (s.SubIndication != report.FormatFailure || !has(s.Errors, tc.error)) {
				t.Fatalf("%s, errors %v; want FORMAT_FAILURE with %q", s.SubIndication, s.Errors, tc.error)
			}
			for _, w := range tc.warn {
				if !has(s.Warnings, w) {
					t.Errorf("no warning %q in %v", w, s.Warnings)
				}
			}
			if tc.ind == report.TotalPassed && tc.warn == nil && len(s.Warnings) > 0 {
				t.Errorf("permitted extension warned: %v", s.Warnings)
			}
			for _, later := range res.Report.Signatures[1:] {
				if later.Indication != report.TotalPassed {
					t.Errorf("later signature %s: %s %v", later.ID, later.Indication, later.Errors)
				}
			}
		})
	}
}

// fillField appends an update giving the text field "name" a new value.
func fillField(t *testing.T, pdf []byte, value string) []byte {
	return setFieldEntry(t, pdf, "V", "("+value+")")
}

// setFieldEntry appends an update setting an entry of the text field
// "name" (merged with its widget).
func setFieldEntry(t *testing.T, pdf []byte, key, value string) []byte {
	t.Helper()
	ctx, err := padestest.Read(pdf)
	if err != nil {
		t.Fatal(err)
	}
	for n, f := range formFields(ctx) {
		if n != "name" {
			continue
		}
		return padestest.Append(t, pdf, padestest.Update{f.objNr: withEntry(f.dict, key, value)})
	}
	t.Fatal("no field \"name\"")
	return nil
}

// setCatalogEntry appends an update setting a catalog entry.
func setCatalogEntry(t *testing.T, pdf []byte, key, value string) []byte {
	t.Helper()
	ctx, err := padestest.Read(pdf)
	if err != nil {
		t.Fatal(err)
	}
	root, err := ctx.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	return padestest.Append(t, pdf, padestest.Update{ctx.Root.ObjectNumber.Value(): withEntry(root, key, value)})
}

// editForm appends an update setting an entry of the AcroForm (a direct
// dictionary in the catalog of these documents) to value, which is given
// the references of the form's fields.
func editForm(t *testing.T, pdf []byte, key string, value func(fields []string) string, objects ...padestest.Update) []byte {
	t.Helper()
	ctx, err := padestest.Read(pdf)
	if err != nil {
		t.Fatal(err)
	}
	root, err := ctx.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	form := root["AcroForm"].(types.Dict)
	var fields []string
	for _, f := range form.ArrayEntry("Fields") {
		fields = append(fields, f.PDFString())
	}
	nf := withEntry(form, key, value(fields))
	c := root.Clone().(types.Dict)
	delete(c, "AcroForm")
	u := padestest.Update{ctx.Root.ObjectNumber.Value(): strings.TrimSuffix(c.PDFString(), ">>") + "/AcroForm " + nf + ">>"}
	for _, o := range objects {
		for n, text := range o {
			u[n] = text
		}
	}
	return padestest.Append(t, pdf, u)
}

// addAnnotation appends an update with a sticky note on page 1.
func addAnnotation(t *testing.T, pdf []byte) []byte {
	t.Helper()
	pageNr, page := padestest.PageObject(t, pdf, 1)
	next := padestest.NextObject(t, pdf)
	np := page.Clone().(types.Dict)
	ctx, err := padestest.Read(pdf)
	if err != nil {
		t.Fatal(err)
	}
	annots, _ := ctx.DereferenceArray(page["Annots"])
	np["Annots"] = append(append(types.Array(nil), annots...), *types.NewIndirectRef(next, 0))
	return padestest.Append(t, pdf, padestest.Update{
		next:   "<</Type/Annot/Subtype/Text/Rect[100 100 120 120]/Contents(Zmieniono kwote)>>",
		pageNr: np.PDFString(),
	})
}

// withEntry writes d with key set to value, given as PDF text.
func withEntry(d types.Dict, key, value string) string {
	c := d.Clone().(types.Dict)
	delete(c, key)
	return strings.TrimSuffix(c.PDFString(), ">>") + "/" + key + " " + value + ">>"
}
