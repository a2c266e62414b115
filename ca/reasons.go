package ca

import (
	"fmt"
	"sort"
	"strings"
)

// Reason codes of RFC 5280, section 5.3.1, by the names the API uses.
var reasonCodes = map[string]int{
	"unspecified":          0,
	"keyCompromise":        1,
	"affiliationChanged":   3,
	"superseded":           4,
	"cessationOfOperation": 5,
	"certificateHold":      6,
	"privilegeWithdrawn":   9,
}

// ParseReason turns a reason name into its RFC 5280 code. cACompromise and
// aACompromise do not apply to end-entity certificates and removeFromCRL is
// not a revocation (release a hold instead), so they are refused.
func ParseReason(name string) (int, error) {
	if name == "" {
		return 0, nil
	}
	if code, ok := reasonCodes[name]; ok {
		return code, nil
	}
	names := make([]string, 0, len(reasonCodes))
	for n := range reasonCodes {
		names = append(names, n)
	}
	sort.Strings(names)
	return 0, fmt.Errorf("unknown revocation reason %q (one of: %s)", name, strings.Join(names, ", "))
}

// ReasonName is the API name of an RFC 5280 reason code.
func ReasonName(code int) string {
	for n, c := range reasonCodes {
		if c == code {
			return n
		}
	}
	switch code {
	case 2:
		return "cACompromise"
	case 8:
		return "removeFromCRL"
	case 10:
		return "aACompromise"
	}
	return fmt.Sprintf("reason-%d", code)
}
