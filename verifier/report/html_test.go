package report

import (
	"bytes"
	"strings"
	"testing"
)

func TestHTMLReport(t *testing.T) {
	var buf bytes.Buffer
	reports := sampleReports()
	reports[0].Signatures[0].Signer.Subject = `CN=<script>alert(1)</script>`
	if err := WriteHTML(&buf, reports); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"The signature is valid",
		"The signature is invalid: the signed content was changed after signing.",
		"Qualified electronic seal",
		"02270803624", "Anna Maria", "Nowak",
		"(trust anchor)",
		"SIGNATURE_TIMESTAMP",
		`class="signature"`,
		"&lt;script&gt;",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML report lacks %q", want)
		}
	}
	if strings.Contains(out, "<script>") || strings.Contains(out, "http://") || strings.Contains(out, "https://") {
		t.Error("the HTML report runs script or loads something from the network")
	}
	if n := strings.Count(out, `<section class="signature">`); n != 2 {
		t.Errorf("%d signature pages, want 2", n)
	}
}

func TestVerdictWords(t *testing.T) {
	for sub := range subIndicationWords {
		if v := Verdict(Indeterminate, sub); !strings.HasPrefix(v, "The signature could not be confirmed valid: ") {
			t.Errorf("%s: %q", sub, v)
		}
	}
	if Verdict(TotalFailed, "") != "The signature is invalid." || !strings.Contains(Verdict(NoSignatureFound, ""), "no signature") {
		t.Error("plain verdicts")
	}
}
