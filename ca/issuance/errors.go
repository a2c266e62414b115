package issuance

import (
	"fmt"
	"strings"
)

// FieldError reports a request field that cannot be accepted. Field uses the
// JSON name the HTTP API shows to its callers ("subject.pesel", "csr").
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// LintError reports that the certificate esig was about to issue failed
// zlint: issuance was refused and nothing was signed by the CA key.
type LintError struct {
	Lints []string // "name (status): details"
}

func (e *LintError) Error() string {
	return "certificate failed lint checks: " + strings.Join(e.Lints, "; ")
}
