package xades

import (
	"crypto/x509"

	"github.com/beevik/etree"

	"esig/internal/xmldsig"
	"esig/verifier"
	"esig/verifier/report"
)

// Level is the XAdES baseline level a signature reaches (ETSI EN 319
// 132-1, clause 6).
type Level int

// The baseline levels; LevelNone for XML signatures that are not XAdES
// baseline signatures (no signed SigningCertificate(V2) or SigningTime).
const (
	LevelNone Level = iota
	LevelB
	LevelT
	LevelLT
	LevelLTA
)

// String names the level as EN 319 132-1 does ("B-B", "B-T", ...).
func (l Level) String() string {
	switch l {
	case LevelB:
		return "B-B"
	case LevelT:
		return "B-T"
	case LevelLT:
		return "B-LT"
	case LevelLTA:
		return "B-LTA"
	}
	return "none"
}

// Result is the outcome of verifying one XML document.
type Result struct {
	// Report is the ETSI EN 319 102-1 report of every signature.
	Report *report.Report
	// Signatures are the document's signatures in document order, parallel
	// to Report.Signatures; counter-signatures hang under their parents.
	Signatures []*Signature
}

// Signature is the outcome for one ds:Signature together with exactly what
// it signs. Callers that act on a signed document (the trusted-profile
// layer, portal intake) take every fact from here and never look anything
// up in the document again by Id: that is how wrapping attacks work. What
// is here is only as good as Report says: act on it when Report.Indication
// is what the caller requires (usually TOTAL-PASSED).
type Signature struct {
	// Report is the engine's verdict.
	Report *report.Signature
	// ID is the ds:Signature Id attribute ("" when absent).
	ID string
	// Element is the ds:Signature element, part of the verified document:
	// read it, never change it.
	Element *etree.Element
	// Namespace is the XAdES namespace of the QualifyingProperties, ""
	// for a plain XML signature.
	Namespace string
	// Level is the baseline level detected.
	Level Level
	// Packaging is "enveloped", "enveloping" or "detached" when every data
	// object is signed that way (EN 319 132-1, 4.2), "mixed" otherwise, ""
	// when it cannot be told; SignedObjects give each object's.
	Packaging string
	// Transforms are the distinct Transform algorithm URIs of all
	// References (SignedInfo and signed Manifests), for policies that
	// restrict them.
	Transforms []string
	// SignedObjects are the data objects the SignedInfo References cover
	// (all but the SignedProperties), in order, with their outcome and
	// content.
	SignedObjects []*SignedObject
	// Properties are the signed qualifying properties, read from the
	// SignedProperties element the Reference covered; nil for a plain XML
	// signature or when they could not be established (see Report).
	// Properties.Element is that signed element, and
	// Properties.ClaimedRoles its signed ClaimedRole elements.
	Properties *SignedProperties
	// UnsignedProperties is the xades:UnsignedProperties element, nil when
	// absent: nothing in it is signed (a trusted-profile payload found
	// there is reported, never trusted).
	UnsignedProperties *etree.Element
	// SigningCertificate is the certificate the engine identified as the
	// signer's and bound to the signed SigningCertificate(V2); nil when
	// none was.
	SigningCertificate *x509.Certificate
	// Certificates are the certificates the signature carries (KeyInfo,
	// CertificateValues, TimeStampValidationData).
	Certificates []*x509.Certificate
	// CounterSignatures are the XAdES counter-signatures of this
	// signature (EN 319 132-1, 5.2.7).
	CounterSignatures []*Signature

	input *verifier.Input
}

// SignedObject is one data object a Reference covers.
type SignedObject struct {
	// Index is the 1-based position of the Reference (in SignedInfo, or in
	// its Manifest for a manifest entry).
	Index    int
	ID       string // Reference Id
	URI      string
	Type     string
	Manifest bool // an entry of a signed ds:Manifest
	// Packaging is how the object is signed: "enveloped" (the signature
	// is inside it), "enveloping" (it is inside the signature), "detached"
	// (elsewhere in the document or outside it); "" when unknown.
	Packaging string
	// Transforms are the Reference's Transform algorithm URIs, in order.
	Transforms []string
	// Status is the outcome: only Valid objects are signed content.
	Status xmldsig.Status
	Err    error
	// Content is exactly what was digested (nil when the content was not
	// reached): Content.Octets, Content.Element() for a whole element,
	// Content.Detached for caller-supplied bytes.
	Content *xmldsig.Content
	// Format is the DataObjectFormat the signer gave for it, if any.
	Format *DataObjectFormat
	// Entries are the processed entries of a signed ds:Manifest this
	// Reference covers.
	Entries []*SignedObject
}
