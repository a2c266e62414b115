package policy

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Validation is a validation policy: what a portal accepts beyond a
// cryptographically sound signature. It is loaded from YAML (LoadValidation)
// and defaults to the acceptance profile of the Polish Ministry of Finance's
// e-Deklaracje: XAdES enveloped or enveloping with the usual transforms,
// CAdES and PKCS#7 attached or detached, the TS 119 312 algorithms.
//
// A violation makes a signature INDETERMINATE with SIG_CONSTRAINTS_FAILURE
// (ETSI EN 319 102-1, 5.2.8, signature acceptance validation): the
// signature may be sound, but this policy does not accept it.
type Validation struct {
	// Algorithms are the cryptographic constraints.
	Algorithms *Policy `yaml:"-"`
	// Formats lists the accepted format families: XAdES, CAdES, PKCS7, PAdES.
	Formats []string `yaml:"formats"`
	// XAdES constrains XML signatures.
	XAdES XAdESRules `yaml:"xades"`
	// TrustedLists: whether a trusted list past its NextUpdate fails
	// closed (its services are not used) or is used with a warning.
	TrustedLists TrustedListRules `yaml:"trustedLists"`
	// TrustedProfile is the sealer identity of trusted-profile signatures.
	TrustedProfile SealerIdentity `yaml:"trustedProfile"`
}

// XAdESRules constrain XAdES signatures.
type XAdESRules struct {
	// Packagings: enveloped, enveloping, detached.
	Packagings []string `yaml:"packagings"`
	// Transforms are the accepted transform algorithm URIs; the names
	// "enveloped-signature", "c14n", "c14n-comments", "c14n11",
	// "c14n11-comments", "exc-c14n", "exc-c14n-comments", "xpath",
	// "xpath-filter2" and "base64" stand for their URIs.
	Transforms []string `yaml:"transforms"`
}

// TrustedListRules say how stale trusted lists are treated.
type TrustedListRules struct {
	StaleFailsClosed bool `yaml:"staleFailsClosed"`
}

// SealerIdentity identifies the system that seals trusted-profile
// signatures: a seal counts as a trusted-profile signature only when its
// certificate's subject matches all of these.
type SealerIdentity struct {
	OrganizationName       string `yaml:"organizationName"`
	OrganizationIdentifier string `yaml:"organizationIdentifier"`
	CommonNamePrefix       string `yaml:"commonNamePrefix"`
}

// TransformURIs maps the short names of XAdESRules.Transforms to URIs.
var TransformURIs = map[string]string{
	"enveloped-signature": "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
	"c14n":                "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
	"c14n-comments":       "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
	"c14n11":              "http://www.w3.org/2006/12/xml-c14n11",
	"c14n11-comments":     "http://www.w3.org/2006/12/xml-c14n11#WithComments",
	"exc-c14n":            "http://www.w3.org/2001/10/xml-exc-c14n#",
	"exc-c14n-comments":   "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
	"xpath":               "http://www.w3.org/TR/1999/REC-xpath-19991116",
	"xpath-filter2":       "http://www.w3.org/2002/06/xmldsig-filter2",
	"base64":              "http://www.w3.org/2000/09/xmldsig#base64",
}

// DefaultValidation is the built-in policy (see Validation).
func DefaultValidation() *Validation {
	return &Validation{
		Algorithms: Default(),
		Formats:    []string{"XAdES", "CAdES", "PKCS7", "PAdES"},
		XAdES: XAdESRules{
			Packagings: []string{"enveloped", "enveloping"},
			Transforms: []string{"enveloped-signature", "c14n", "c14n-comments", "c14n11", "c14n11-comments", "exc-c14n", "exc-c14n-comments", "xpath", "xpath-filter2", "base64"},
		},
		TrustedProfile: SealerIdentity{
			OrganizationName:       "Ministerstwo Cyfryzacji",
			OrganizationIdentifier: "VATPL-5252955037",
			CommonNamePrefix:       "Minister do spraw informatyzacji",
		},
	}
}

// validationFile is the YAML shape. Settings left out keep their defaults,
// except the trusted-profile sealer: an identity given is taken whole, since
// one mixed from the file and the default would match nobody.
type validationFile struct {
	Formats        []string          `yaml:"formats"`
	XAdES          *XAdESRules       `yaml:"xades"`
	TrustedLists   *TrustedListRules `yaml:"trustedLists"`
	TrustedProfile *SealerIdentity   `yaml:"trustedProfile"`
	Algorithms     *Policy           `yaml:"algorithms"`
}

// LoadValidation reads a YAML validation policy. Sections it leaves out keep
// their defaults; unknown settings are errors.
func LoadValidation(path string) (*Validation, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("validation policy: %w", err)
	}
	return ParseValidation(bytes.NewReader(raw))
}

// ParseValidation reads a YAML validation policy from r.
func ParseValidation(r io.Reader) (*Validation, error) {
	def := DefaultValidation()
	f := validationFile{XAdES: &def.XAdES, TrustedLists: &def.TrustedLists}
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && err != io.EOF {
		return nil, fmt.Errorf("validation policy: %w", err)
	}
	v := *def
	if f.Formats != nil {
		v.Formats = f.Formats
	}
	if f.XAdES != nil {
		v.XAdES = *f.XAdES
	}
	if f.TrustedLists != nil {
		v.TrustedLists = *f.TrustedLists
	}
	if f.TrustedProfile != nil {
		v.TrustedProfile = *f.TrustedProfile
	}
	if f.Algorithms != nil {
		if len(f.Algorithms.Digests) > 0 {
			v.Algorithms.Digests = f.Algorithms.Digests
		}
		if len(f.Algorithms.Keys) > 0 {
			v.Algorithms.Keys = f.Algorithms.Keys
		}
		for name, c := range v.Algorithms.Digests {
			if _, err := parseUntil(c.Until); err != nil {
				return nil, fmt.Errorf("validation policy: algorithms.digests.%s: %w", name, err)
			}
		}
	}
	for _, f := range v.Formats {
		if !slices.Contains([]string{"XAdES", "CAdES", "PKCS7", "PAdES"}, f) {
			return nil, fmt.Errorf("validation policy: formats: unknown format %q (XAdES, CAdES, PKCS7, PAdES)", f)
		}
	}
	for _, p := range v.XAdES.Packagings {
		if !slices.Contains([]string{"enveloped", "enveloping", "detached"}, p) {
			return nil, fmt.Errorf("validation policy: xades.packagings: unknown packaging %q (enveloped, enveloping, detached)", p)
		}
	}
	for _, t := range v.XAdES.Transforms {
		if _, ok := TransformURIs[t]; !ok && !strings.Contains(t, ":") {
			return nil, fmt.Errorf("validation policy: xades.transforms: unknown transform %q", t)
		}
	}
	if v.TrustedProfile.OrganizationName == "" && v.TrustedProfile.OrganizationIdentifier == "" && v.TrustedProfile.CommonNamePrefix == "" {
		return nil, fmt.Errorf("validation policy: trustedProfile: give at least one of organizationName, organizationIdentifier, commonNamePrefix")
	}
	return &v, nil
}

// AcceptsFormat reports whether the policy accepts a report format such as
// "XAdES-BASELINE-T", "CAdES-BASELINE-B", "PKCS7" or "PAdES-BASELINE-B".
func (v *Validation) AcceptsFormat(format string) bool {
	family, _, _ := strings.Cut(format, "-")
	return slices.Contains(v.Formats, family)
}

// CheckXAdES returns the policy's objections to an XAdES signature with
// this packaging and these transform URIs (nil when it accepts it).
func (v *Validation) CheckXAdES(packaging string, transforms []string) []string {
	var out []string
	if !slices.Contains(v.XAdES.Packagings, packaging) {
		out = append(out, fmt.Sprintf("the validation policy does not accept %s XAdES (accepted: %s)", packaging, strings.Join(v.XAdES.Packagings, ", ")))
	}
	allowed := map[string]bool{}
	for _, t := range v.XAdES.Transforms {
		if u, ok := TransformURIs[t]; ok {
			t = u
		}
		allowed[t] = true
	}
	for _, t := range transforms {
		if !allowed[t] {
			out = append(out, fmt.Sprintf("the validation policy does not accept the transform %s", t))
		}
	}
	return out
}

// IsSealer reports whether a certificate subject (as its attributes)
// matches the trusted-profile sealer identity.
func (s SealerIdentity) IsSealer(organizationName, organizationIdentifier, commonName string) bool {
	return (s.OrganizationName == "" || organizationName == s.OrganizationName) &&
		(s.OrganizationIdentifier == "" || organizationIdentifier == s.OrganizationIdentifier) &&
		(s.CommonNamePrefix == "" || strings.HasPrefix(commonName, s.CommonNamePrefix))
}
