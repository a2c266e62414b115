// Package tsl reads trusted lists (ETSI TS 119 612 v2): the EU list of
// trusted lists (LOTL) and the national lists it points at, such as the
// Polish list the National Bank of Poland publishes.
//
// A list is only as good as its signature, so the package keeps the two
// steps apart and makes the second one hard to skip:
//
//	l, err := tsl.Parse(data)                  // the model, with the signature not yet judged
//	res := l.CheckSignature(pinned, time.Now()) // enveloped XMLDSig, under a pinned operator key
//	if res.Err != nil { ... }                  // never use the list then
//
// Parse reads the XML through the hardened parser of internal/xmldsig (no DTD,
// bounded size and depth) and builds the model from the very tree whose
// nodes CheckSignature then proves are covered by the signature: there is no
// second lookup by Id that a wrapping attack could redirect.
//
// The model keeps what qualification needs (TS 119 615): each service with
// its type, digital identity, current status and status history, and the
// Qualifications extension with its criteria, so that a certificate can be
// judged by the status in force at the time that matters (issuance, signing).
//
// Loader fetches lists from files or URLs through a local cache with
// conditional refresh, and follows the pointers of a LOTL to the national
// lists, pinning each one to the operator certificates the LOTL names for it.
// Set holds the lists that passed, looks up the services that identify a
// certificate and yields trust anchors for the validation engine.
package tsl
