// Package evidence writes and reads evidence bundles: the zip an auditor
// files beside a verification (esig verify --evidence), holding what was
// verified, the reports, and the trust material the verdicts rested on, so
// that esig verify --offline --evidence-in reproduces the same verdicts
// later, at the same validation time, with no network.
//
// A bundle holds:
//
//	manifest.json             what, when, with which options; the SHA-256 of every other entry
//	inputs/NAME               each signed file as verified
//	detached/NAME             detached content supplied with the signatures
//	reports/NAME.json         each file's report (the JSON of esig verify)
//	reports/NAME.xml          each file's ETSI TS 119 102-2 report
//	trust/anchors.pem         the trust anchors supplied (--trust)
//	trust/intermediates.pem   the untrusted certificates supplied (--cert)
//	revocation/SHA256.crl     CRLs supplied (--crl) or fetched online
//	revocation/SHA256.ocsp    OCSP responses supplied or fetched online
//	tsl/N-TERRITORY.xml       each trusted list used, byte for byte
//	tsl/N-TERRITORY.pem       the operator certificate it was verified with
//	options/policy.yaml       the validation policy, when one was given
//	options/crypto-policy.json the algorithm policy, when one was given
//
// Certificates and revocation data carried inside the signatures travel
// with the inputs. Online revocation data is recorded per input: replaying
// a file gives it exactly what its own verification fetched, so a CRL one
// file needed cannot change another file's verdict.
//
// A bundle is refused when any entry is missing, unlisted or does not
// match the SHA-256 the manifest gives for it. The manifest itself is not
// signed: whoever can rewrite the bundle can rewrite its manifest, so an
// auditor who needs that should sign the bundle (esig sign cades
// --detached) or keep its hash in the file.
package evidence

import (
	"time"

	"esig/verifier/report"
)

// FormatV1 names the bundle layout this package writes and reads.
const FormatV1 = "esig-evidence/1"

// ManifestName is the manifest's entry in the zip.
const ManifestName = "manifest.json"

// Manifest describes a bundle.
type Manifest struct {
	// Format is FormatV1.
	Format string `json:"format"`
	// Created is when the bundle was written.
	Created time.Time `json:"created"`
	// ValidationTime is the time the verification was performed for, and
	// the time a replay validates at.
	ValidationTime time.Time `json:"validationTime"`
	Options        Options   `json:"options"`
	Inputs         []Input   `json:"inputs"`
	// Detached is the detached content supplied with every input.
	Detached []Detached `json:"detached,omitempty"`
	// Anchors and Intermediates name the PEM entries of the certificates
	// supplied; "" when none were.
	Anchors       string `json:"anchors,omitempty"`
	Intermediates string `json:"intermediates,omitempty"`
	// Revocation is the revocation data supplied for every input (files
	// named on the command line).
	Revocation []Revocation `json:"revocation,omitempty"`
	// TrustedLists are the lists accepted for the run.
	TrustedLists []List `json:"trustedLists,omitempty"`
	// Files lists every entry but the manifest, with its digest.
	Files []File `json:"files"`
}

// Options are the settings of the run that bear on its verdicts.
type Options struct {
	// Arguments is the command line, for the auditor's information.
	Arguments []string `json:"arguments,omitempty"`
	// Offline is set when the run fetched nothing.
	Offline bool `json:"offline"`
	// ValidationPolicy and CryptoPolicy name the entries holding the
	// policies given; "" means the defaults.
	ValidationPolicy string `json:"validationPolicy,omitempty"`
	CryptoPolicy     string `json:"cryptoPolicy,omitempty"`
	// RejectedLists are the trusted lists that were named but not used,
	// and why.
	RejectedLists []string `json:"rejectedLists,omitempty"`
}

// Input is one verified file.
type Input struct {
	// Path is the file as named for the verification.
	Path string `json:"path"`
	// Entry is the file's copy in the bundle.
	Entry  string `json:"entry"`
	SHA256 string `json:"sha256"`
	// ReportJSON and ReportETSI name the report entries.
	ReportJSON string `json:"reportJson"`
	ReportETSI string `json:"reportEtsi"`
	// Indication and Signatures are the verdicts a replay must reproduce.
	Indication report.Indication `json:"indication"`
	Signatures []Verdict         `json:"signatures"`
	// Fetched is the revocation data this file's verification fetched.
	Fetched []Revocation `json:"fetched,omitempty"`
}

// Verdict is the outcome for one signature.
type Verdict struct {
	ID            string               `json:"id"`
	Format        string               `json:"format"`
	Indication    report.Indication    `json:"indication"`
	SubIndication report.SubIndication `json:"subIndication"`
	Qualification string               `json:"qualification"`
}

// Detached is detached content and its entry.
type Detached struct {
	// Name is how the signatures refer to the content.
	Name  string `json:"name"`
	Entry string `json:"entry"`
}

// Revocation is one CRL or OCSP response in the bundle.
type Revocation struct {
	// Kind is "CRL" or "OCSP".
	Kind string `json:"kind"`
	// Source is the file it was read from or the URL it was fetched from.
	Source string `json:"source"`
	Entry  string `json:"entry"`
}

// List is one trusted list used.
type List struct {
	Entry string `json:"entry"`
	// Signer names the entry of the operator certificate that verified it.
	Signer    string `json:"signer"`
	Location  string `json:"location"`
	Territory string `json:"territory"`
	Sequence  int64  `json:"sequence"`
	PinnedBy  string `json:"pinnedBy"`
	Origin    string `json:"origin"`
	Stale     bool   `json:"stale,omitempty"`
	// Warnings are what the loading found, as the reports quote them.
	Warnings []string `json:"warnings,omitempty"`
}

// File is one entry of the bundle.
type File struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// verdicts extracts what a replay must reproduce from a report.
func verdicts(r *report.Report) []Verdict {
	out := make([]Verdict, 0, len(r.Signatures))
	for _, s := range r.Signatures {
		out = append(out, Verdict{ID: s.ID, Format: s.Format, Indication: s.Indication, SubIndication: s.SubIndication, Qualification: s.Qualification})
	}
	return out
}
