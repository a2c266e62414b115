// Package xmldsig is the XML-Signature core (W3C XMLDSig 1.1) that XAdES
// signing and verification, trusted lists and trusted-profile checks stand
// on: a safe parse of untrusted XML, every ds:Signature found and its
// References dereferenced, transformed and digested, the SignatureValue
// checked against a key the caller chooses, and signatures produced in the
// enveloped, enveloping and detached packagings.
//
// Verification in three steps:
//
//	doc, err := xmldsig.Parse(data, xmldsig.Limits{})       // FORMAT_FAILURE on DOCTYPE, duplicate Id, limits
//	sigs := doc.Verify(xmldsig.VerifyOptions{Detached: xmldsig.DetachedContent{"doc.txt": b}})
//	err = sigs[0].VerifyValue(cert.PublicKey)               // the caller picks the key
//
// Each Signature reports its References with their covered Content: what a
// relying application may use is that content and nothing else; it must never
// look an element up by Id itself (that is how wrapping attacks work).
// Errors are *Error values whose Kind maps onto ETSI EN 319 102-1
// sub-indications.
//
// Signing builds a ds:Signature in place with a Builder: the caller adds
// References and ds:Object content (the XAdES layer adds QualifyingProperties
// and a Reference of Type SignedPropertiesType), places the element, then
// calls Sign.
package xmldsig
