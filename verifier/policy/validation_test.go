package policy

import (
	"strings"
	"testing"
)

func TestParseValidation(t *testing.T) {
	v, err := ParseValidation(strings.NewReader(`
formats: [XAdES]
xades:
  packagings: [enveloped]
  transforms: [enveloped-signature, exc-c14n]
trustedLists:
  staleFailsClosed: true
trustedProfile:
  organizationName: Test Ministry
  organizationIdentifier: VATPL-1234563218
algorithms:
  digests:
    SHA-256: {until: ""}
`))
	if err != nil {
		t.Fatal(err)
	}
	if !v.AcceptsFormat("XAdES-BASELINE-B") || v.AcceptsFormat("CAdES-BASELINE-B") || !v.TrustedLists.StaleFailsClosed {
		t.Fatalf("parsed policy: %+v", v)
	}
	if got := v.CheckXAdES("enveloping", []string{TransformURIs["base64"]}); len(got) != 2 {
		t.Fatalf("objections %v, want packaging and transform", got)
	}
	if got := v.CheckXAdES("enveloped", []string{TransformURIs["exc-c14n"]}); got != nil {
		t.Fatalf("objections to an accepted signature: %v", got)
	}
	if _, ok := v.Algorithms.Digests["SHA-1"]; ok {
		t.Error("the algorithms section did not replace the digests")
	}
	if !v.TrustedProfile.IsSealer("Test Ministry", "VATPL-1234563218", "anything") || v.TrustedProfile.IsSealer("Other", "VATPL-1234563218", "x") {
		t.Error("IsSealer")
	}
}

func TestParseValidationErrors(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"formatz: [XAdES]", "formatz"},
		{"formats: [ODF]", "formats"},
		{"xades: {packagings: [inline]}", "xades.packagings"},
		{"xades: {transforms: [magic]}", "xades.transforms"},
		{"trustedProfile: {organizationName: '', organizationIdentifier: '', commonNamePrefix: ''}", "trustedProfile"},
		{"algorithms: {digests: {SHA-256: {until: soon}}}", "algorithms.digests.SHA-256"},
	}
	for _, tt := range tests {
		if _, err := ParseValidation(strings.NewReader(tt.yaml)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want one naming %s", tt.yaml, err, tt.want)
		}
	}
}

func TestPartialSectionsKeepDefaults(t *testing.T) {
	v, err := ParseValidation(strings.NewReader("xades:\n  packagings: [enveloped, enveloping, detached]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := v.CheckXAdES("detached", []string{TransformURIs["exc-c14n"]}); got != nil {
		t.Fatalf("giving packagings dropped the default transforms: %v", got)
	}
	v, err = ParseValidation(strings.NewReader("trustedProfile:\n  organizationName: Test\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v.TrustedProfile.CommonNamePrefix != "" || v.TrustedProfile.OrganizationIdentifier != "" {
		t.Fatalf("a sealer identity must be taken whole: %+v", v.TrustedProfile)
	}
}

func TestDefaultValidationIsTheMFProfile(t *testing.T) {
	v := DefaultValidation()
	if v.CheckXAdES("detached", nil) == nil || v.CheckXAdES("enveloped", []string{TransformURIs["enveloped-signature"], TransformURIs["c14n"]}) != nil {
		t.Error("the default must accept enveloped and refuse detached XAdES")
	}
	if !v.TrustedProfile.IsSealer("Ministerstwo Cyfryzacji", "VATPL-5252955037", "Minister do spraw informatyzacji (seal)") {
		t.Error("the default sealer is the ministry")
	}
}
