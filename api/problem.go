package api

import (
	"encoding/json"
	"net/http"
)

// Problem is an RFC 9457 problem document. Every error the API returns is
// one, with Content-Type application/problem+json.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Field names the request field at fault, in its JSON path form.
	Field string `json:"field,omitempty"`
	// Lints lists the lints that refused a certificate.
	Lints []string `json:"lints,omitempty"`
}

// Problem types. The URIs identify the kind of problem; they are names,
// not pages to fetch.
const (
	ProblemInvalidRequest = "urn:esig:problem:invalid-request"
	ProblemUnauthorized   = "urn:esig:problem:unauthorized"
	ProblemForbidden      = "urn:esig:problem:forbidden"
	ProblemNotFound       = "urn:esig:problem:not-found"
	ProblemMethod         = "urn:esig:problem:method-not-allowed"
	ProblemTooLarge       = "urn:esig:problem:request-too-large"
	ProblemConflict       = "urn:esig:problem:conflict"
	ProblemLint           = "urn:esig:problem:lint-failed"
	ProblemUnsupported    = "urn:esig:problem:unsupported-media-type"
	ProblemInternal       = "urn:esig:problem:internal"
	ProblemUnavailable    = "urn:esig:problem:unavailable"
	ProblemGone           = "urn:esig:problem:gone"
	ProblemRateLimited    = "urn:esig:problem:rate-limited"
	// ProblemDocumentRejected carries the verification report in "report".
	ProblemDocumentRejected = "urn:esig:problem:document-rejected"
	ProblemProofRefused     = "urn:esig:problem:proof-refused"
)

var problemTitles = map[string]string{
	ProblemInvalidRequest:   "The request is invalid",
	ProblemUnauthorized:     "Authentication required",
	ProblemForbidden:        "The API key lacks the scope this needs",
	ProblemNotFound:         "Not found",
	ProblemMethod:           "Method not allowed",
	ProblemTooLarge:         "Request body too large",
	ProblemConflict:         "The request conflicts with the current state",
	ProblemLint:             "The certificate failed lint checks; nothing was issued",
	ProblemUnsupported:      "Unsupported media type",
	ProblemInternal:         "Internal error",
	ProblemUnavailable:      "Service unavailable",
	ProblemGone:             "The link is unknown, expired or already used",
	ProblemRateLimited:      "Too many requests",
	ProblemDocumentRejected: "The document's signatures do not hold; no receipt was issued",
	ProblemProofRefused:     "The proof of identity was refused",
}

// writeProblem sends p (its title filled from its type when empty).
func writeProblem(w http.ResponseWriter, p Problem) {
	if p.Title == "" {
		p.Title = problemTitles[p.Type]
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
