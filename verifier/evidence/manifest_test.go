package evidence

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"esig/verifier/report"
)

func TestDifferences(t *testing.T) {
	recorded := Input{Path: "a.p7m", Indication: report.TotalPassed, Signatures: []Verdict{
		{ID: "S1", Format: "CAdES-BASELINE-B", Indication: report.TotalPassed, Qualification: "N/A"}}}
	mk := func(sigs ...*report.Signature) *report.Report {
		r := &report.Report{Signatures: sigs}
		r.Finish()
		return r
	}
	cases := []struct {
		name string
		now  *report.Report
		want []string
	}{
		{"same verdict", mk(&report.Signature{ID: "S1", Format: "CAdES-BASELINE-B", Indication: report.TotalPassed}), nil},
		{"other indication", mk(&report.Signature{ID: "S1", Format: "CAdES-BASELINE-B", Indication: report.Indeterminate, SubIndication: report.TryLater}),
			[]string{"indication INDETERMINATE, recorded TOTAL-PASSED",
				"signature S1: INDETERMINATE/TRY_LATER, qualification N/A, recorded TOTAL-PASSED, qualification N/A"}},
		{"other qualification", mk(&report.Signature{ID: "S1", Format: "CAdES-BASELINE-B", Indication: report.TotalPassed, Qualification: "QESig"}),
			[]string{"signature S1: TOTAL-PASSED, qualification QESig, recorded TOTAL-PASSED, qualification N/A"}},
		{"no signature any more", mk(), []string{"indication NO_SIGNATURE_FOUND, recorded TOTAL-PASSED", "0 signatures, recorded 1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Differences(recorded, tc.now)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("Differences = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestWriterRefuses checks the inputs a bundle cannot hold.
func TestWriterRefuses(t *testing.T) {
	rep := &report.Report{}
	rep.Finish()
	cases := []struct {
		name    string
		add     func(w *Writer) error
		wantErr string
	}{
		{"no report", func(w *Writer) error { return w.AddInput(InputData{Path: "a", Name: "a"}) }, "has no report"},
		{"a path for a name", func(w *Writer) error { return w.AddInput(InputData{Path: "a", Name: "../a", Report: rep}) }, "not a plain file name"},
		{"two inputs of one name", func(w *Writer) error {
			if err := w.AddInput(InputData{Path: "x/a", Name: "a", Report: rep}); err != nil {
				return err
			}
			return w.AddInput(InputData{Path: "y/a", Name: "a", Report: rep})
		}, "two inputs named a"},
		{"unknown revocation kind", func(w *Writer) error { return w.AddRevocation("ARL", "x.arl", []byte{1}) }, `kind "ARL"`},
		{"after Close", func(w *Writer) error {
			if err := w.Close(); err != nil {
				return err
			}
			return w.AddInput(InputData{Path: "a", Name: "a", Data: []byte("x"), Report: rep})
		}, "already closed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := NewWriter(&bytes.Buffer{}, time.Now(), Options{})
			if err := tc.add(w); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
