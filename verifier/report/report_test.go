package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestFinishAndExitCode(t *testing.T) {
	cases := []struct {
		name string
		inds []Indication
		want Indication
		code int
	}{
		{"none", nil, NoSignatureFound, 2},
		{"all passed", []Indication{TotalPassed, TotalPassed}, TotalPassed, 0},
		{"one indeterminate", []Indication{TotalPassed, Indeterminate}, Indeterminate, 2},
		{"one failed", []Indication{Indeterminate, TotalFailed, TotalPassed}, TotalFailed, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &Report{}
			for _, i := range c.inds {
				r.Signatures = append(r.Signatures, &Signature{Indication: i})
			}
			r.Finish()
			if r.Indication != c.want {
				t.Errorf("indication %s, want %s", r.Indication, c.want)
			}
			if got := ExitCode([]*Report{r}); got != c.code {
				t.Errorf("exit code %d, want %d", got, c.code)
			}
		})
	}
}

// TestJSONContract pins the field names DESIGN promises to scripts.
func TestJSONContract(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := &Report{ValidationTime: now, Signatures: []*Signature{{ID: "S1", Format: "CAdES-BASELINE-B", Indication: TotalPassed,
		BestSignatureTime: &now, Signer: &Signer{Subject: "CN=x"}, SignedObjects: []SignedObject{{Reference: "r"}}}}}
	r.Finish()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, []*Report{r}); err != nil {
		t.Fatal(err)
	}
	js := buf.String()
	for _, want := range []string{`"indication": "TOTAL-PASSED"`, `"subIndication": null`, `"signingTime": null`,
		`"bestSignatureTime": "2026-01-02T03:04:05Z"`, `"certificateSha256": ""`, `"qualification": "N/A"`,
		`"trustedProfile": null`, `"digestAlgorithm": ""`, `"timestamps": []`, `"errors": []`, `"warnings": []`} {
		if !strings.Contains(js, want) {
			t.Errorf("JSON lacks %s:\n%s", want, js)
		}
	}
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back.Signatures[0].SubIndication != "" {
		t.Errorf("round trip: %v %+v", err, back)
	}
}

func TestText(t *testing.T) {
	r := &Report{File: "a.p7m", Signatures: []*Signature{{ID: "S1", Indication: TotalFailed, SubIndication: HashFailure,
		Errors: []string{"content changed"}}}}
	r.Finish()
	var buf bytes.Buffer
	WriteText(&buf, []*Report{r})
	for _, want := range []string{"a.p7m", "TOTAL-FAILED / HASH_FAILURE", "content changed"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, buf.String())
		}
	}
}
