// Package report holds the one report model every verification ends in,
// whatever the signature format: the ETSI EN 319 102-1 (5.1.3) indications
// and sub-indications, and the JSON field names that scripts and portals
// parse (a contract: see DESIGN, "Verdicts"). It renders the report as JSON
// and as text for a terminal; it decides nothing.
package report

import (
	"encoding/json"
	"time"
)

// Indication is a main status indication of EN 319 102-1, Table 4.
type Indication string

// The three main indications, and the report-level value used when a file
// holds no signature at all.
const (
	TotalPassed      Indication = "TOTAL-PASSED"
	TotalFailed      Indication = "TOTAL-FAILED"
	Indeterminate    Indication = "INDETERMINATE"
	NoSignatureFound Indication = "NO_SIGNATURE_FOUND"
)

// severity orders indications for "worst over all signatures".
func (i Indication) severity() int {
	switch i {
	case TotalPassed:
		return 0
	case Indeterminate:
		return 1
	case NoSignatureFound:
		return 2
	case TotalFailed:
		return 3
	}
	return 1
}

// Worse reports whether i is a worse outcome than j.
func (i Indication) Worse(j Indication) bool { return i.severity() > j.severity() }

// SubIndication is a sub-indication of EN 319 102-1, Table 5.
type SubIndication string

// Sub-indications that go with TOTAL-FAILED.
const (
	FormatFailure    SubIndication = "FORMAT_FAILURE"
	HashFailure      SubIndication = "HASH_FAILURE"
	SigCryptoFailure SubIndication = "SIG_CRYPTO_FAILURE"
	Revoked          SubIndication = "REVOKED"
	Expired          SubIndication = "EXPIRED"
	NotYetValid      SubIndication = "NOT_YET_VALID"
)

// Sub-indications that go with INDETERMINATE.
const (
	SigConstraintsFailure          SubIndication = "SIG_CONSTRAINTS_FAILURE"
	ChainConstraintsFailure        SubIndication = "CHAIN_CONSTRAINTS_FAILURE"
	CertificateChainGeneralFailure SubIndication = "CERTIFICATE_CHAIN_GENERAL_FAILURE"
	CryptoConstraintsFailure       SubIndication = "CRYPTO_CONSTRAINTS_FAILURE"
	PolicyProcessingError          SubIndication = "POLICY_PROCESSING_ERROR"
	SignaturePolicyNotAvailable    SubIndication = "SIGNATURE_POLICY_NOT_AVAILABLE"
	TimestampOrderFailure          SubIndication = "TIMESTAMP_ORDER_FAILURE"
	NoSigningCertificateFound      SubIndication = "NO_SIGNING_CERTIFICATE_FOUND"
	NoCertificateChainFound        SubIndication = "NO_CERTIFICATE_CHAIN_FOUND"
	RevokedNoPOE                   SubIndication = "REVOKED_NO_POE"
	RevokedCANoPOE                 SubIndication = "REVOKED_CA_NO_POE"
	OutOfBoundsNoPOE               SubIndication = "OUT_OF_BOUNDS_NO_POE"
	OutOfBoundsNotRevoked          SubIndication = "OUT_OF_BOUNDS_NOT_REVOKED"
	CryptoConstraintsFailureNoPOE  SubIndication = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
	NoPOE                          SubIndication = "NO_POE"
	TryLater                       SubIndication = "TRY_LATER"
	SignedDataNotFound             SubIndication = "SIGNED_DATA_NOT_FOUND"
)

// Report is the outcome of verifying one file.
type Report struct {
	// Indication is the worst over all signatures, NO_SIGNATURE_FOUND if none.
	Indication Indication `json:"indication"`
	// ValidationTime is the time the validation was performed for.
	ValidationTime time.Time    `json:"validationTime"`
	File           string       `json:"file,omitempty"`
	Signatures     []*Signature `json:"signatures"`
}

// Signature is the verdict on one signature.
type Signature struct {
	ID                string        `json:"id"`
	Format            string        `json:"format"`
	Indication        Indication    `json:"indication"`
	SubIndication     SubIndication `json:"subIndication"`
	SigningTime       *time.Time    `json:"signingTime"`
	BestSignatureTime *time.Time    `json:"bestSignatureTime"`
	Signer            *Signer       `json:"signer"`
	Qualification     string        `json:"qualification"`
	// QualificationDetails are the steps that led to Qualification (beyond
	// the DESIGN contract, for auditors).
	QualificationDetails []string `json:"qualificationDetails,omitempty"`
	// TrustedProfile is filled by the trusted-profile (podpis zaufany)
	// validation of a later issue; null otherwise.
	TrustedProfile *TrustedProfile `json:"trustedProfile"`
	SignedObjects  []SignedObject  `json:"signedObjects"`
	Timestamps     []*Timestamp    `json:"timestamps"`
	Errors         []string        `json:"errors"`
	Warnings       []string        `json:"warnings"`

	// Fields beyond the DESIGN contract, for auditors.
	SignatureAlgorithm string          `json:"signatureAlgorithm,omitempty"`
	Chain              []Certificate   `json:"certificateChain,omitempty"`
	CounterSignatures  []*Signature    `json:"counterSignatures,omitempty"`
	Revocation         []RevocationUse `json:"revocation,omitempty"`
}

// Signer describes the signing certificate.
type Signer struct {
	Subject           string `json:"subject"`
	SerialNumber      string `json:"serialNumber"`
	Issuer            string `json:"issuer"`
	CertificateSHA256 string `json:"certificateSha256"`
}

// Certificate is one link of the chain that was built.
type Certificate struct {
	Subject           string    `json:"subject"`
	SerialNumber      string    `json:"serialNumber"`
	NotBefore         time.Time `json:"notBefore"`
	NotAfter          time.Time `json:"notAfter"`
	CertificateSHA256 string    `json:"certificateSha256"`
	TrustAnchor       bool      `json:"trustAnchor,omitempty"`
}

// RevocationUse records which revocation data decided a certificate's status.
type RevocationUse struct {
	Certificate string     `json:"certificate"`
	Status      string     `json:"status"` // good, revoked, unknown
	Source      string     `json:"source"` // e.g. "OCSP (embedded)", "CRL (file)"
	ThisUpdate  *time.Time `json:"thisUpdate,omitempty"`
	Revoked     *time.Time `json:"revocationTime,omitempty"`
	Reason      string     `json:"reason,omitempty"`
}

// TrustedProfile is the identity a Polish trusted-profile seal asserts.
type TrustedProfile struct {
	GivenNames  []string `json:"givenNames"`
	Surname     string   `json:"surname"`
	PESEL       string   `json:"pesel"`
	AccountID   string   `json:"accountId"`
	SealedBy    string   `json:"sealedBy"`
	SigningTime string   `json:"signingTime"`
}

// SignedObject is one piece of data the signature covers.
type SignedObject struct {
	Reference       string `json:"reference"`
	URI             string `json:"uri"`
	DigestAlgorithm string `json:"digestAlgorithm"`
}

// QualificationNotApplicable is the qualification of a signature that was
// not judged against trusted lists (no path, or no list).
const QualificationNotApplicable = "N/A"

// Timestamp type names, after ETSI TS 119 102-2.
const (
	ContentTimestamp   = "CONTENT_TIMESTAMP"
	SignatureTimestamp = "SIGNATURE_TIMESTAMP"
	ArchiveTimestamp   = "ARCHIVE_TIMESTAMP"
)

// Timestamp is the verdict on one time-stamp token.
type Timestamp struct {
	Type            string        `json:"type"`
	ProductionTime  *time.Time    `json:"productionTime"`
	Indication      Indication    `json:"indication"`
	SubIndication   SubIndication `json:"subIndication"`
	TSA             string        `json:"tsa"`
	SerialNumber    string        `json:"serialNumber,omitempty"`
	DigestAlgorithm string        `json:"digestAlgorithm"`
	Errors          []string      `json:"errors"`
	Warnings        []string      `json:"warnings"`
}

// Finish computes the report indication from the signatures and makes
// every list non-null, so that JSON readers always see arrays.
func (r *Report) Finish() {
	if r.Signatures == nil {
		r.Signatures = []*Signature{}
	}
	if len(r.Signatures) == 0 {
		r.Indication = NoSignatureFound
		return
	}
	r.Indication = TotalPassed
	for _, s := range r.Signatures {
		s.normalise()
		if s.Indication.Worse(r.Indication) {
			r.Indication = s.Indication
		}
	}
}

func (s *Signature) normalise() {
	if s.SignedObjects == nil {
		s.SignedObjects = []SignedObject{}
	}
	if s.Timestamps == nil {
		s.Timestamps = []*Timestamp{}
	}
	if s.Errors == nil {
		s.Errors = []string{}
	}
	if s.Warnings == nil {
		s.Warnings = []string{}
	}
	if s.Qualification == "" {
		s.Qualification = "N/A"
	}
	for _, t := range s.Timestamps {
		if t.Errors == nil {
			t.Errors = []string{}
		}
		if t.Warnings == nil {
			t.Warnings = []string{}
		}
	}
	for _, c := range s.CounterSignatures {
		c.normalise()
	}
}

// MarshalJSON for SubIndication writes null for "none", so that readers
// test for a value rather than for an empty string.
func (s SubIndication) MarshalJSON() ([]byte, error) {
	if s == "" {
		return []byte("null"), nil
	}
	return json.Marshal(string(s))
}

// UnmarshalJSON accepts null.
func (s *SubIndication) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = ""
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = SubIndication(v)
	return nil
}

// ExitCode is the exit status of esig verify for a set of reports: 0 when
// every signature is TOTAL-PASSED, 1 when any is TOTAL-FAILED, 2 otherwise
// (INDETERMINATE, or a file without signatures).
func ExitCode(reports []*Report) int {
	code := 0
	for _, r := range reports {
		switch r.Indication {
		case TotalFailed:
			return 1
		case TotalPassed:
		default:
			code = 2
		}
	}
	return code
}
