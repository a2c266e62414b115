// Package xades is the XML format layer of the verifier: XAdES signatures
// (ETSI EN 319 132-1; namespaces 1.3.2 and 1.4.1, and 1.1.1 and 1.2.2 when
// verifying) and plain XML signatures, enveloped, enveloping or detached.
//
// The XMLDSig core (internal/xmldsig) parses the document with the defences
// of XMLDSig 1.1 section 8 and processes every Reference; this package adds
// what XAdES means by them:
//
//   - the qualifying properties are only those of the one
//     xades:QualifyingProperties of the signature, targeting it, whose
//     xades:SignedProperties is covered by a Reference of Type
//     http://uri.etsi.org/01903#SignedProperties (EN 319 132-1, 4.3 and
//     6.3); a second QualifyingProperties or SignedProperties anywhere in the
//     signature's objects is a wrapping attempt and a FORMAT_FAILURE;
//   - the signed properties are read from the element the Reference
//     digested and from nothing looked up again: SigningTime,
//     SigningCertificate(V2) (bound to the certificate that verifies, by
//     digest and issuer/serial), SignaturePolicyIdentifier, SignerRole(V2)
//     with its ClaimedRole elements kept whole, DataObjectFormat and the
//     content time stamps;
//   - the unsigned properties give the time stamps, whose message imprints
//     are computed over the canonicalized inputs of EN 319 132-1 5.3
//     (SignatureTimeStamp), 5.5.2 (ArchiveTimeStamp, and TS 101 903 for the
//     1.3.2 form) and 5.2.8 (content time stamps), the validation data
//     (CertificateValues, RevocationValues, TimeStampValidationData) and the
//     counter-signatures;
//   - the baseline level (B-B, B-T, B-LT, B-LTA) is detected for the report.
//
// Each signature becomes a verifier.Input for the engine, and the outcome a
// Signature that carries, beside the report, exactly what was signed. Later
// layers take their facts from there and from nowhere else:
//
//	res := xades.Verify(ctx, eng, data, xades.Options{Detached: parts})
//	for _, s := range res.Signatures {
//		s.Report                          // the EN 319 102-1 verdict
//		s.SigningCertificate              // bound to SigningCertificate(V2)
//		s.Properties.Element              // the signed xades:SignedProperties
//		s.Properties.ClaimedRoles         // its signed ClaimedRole elements
//		s.UnsignedProperties              // nothing in it is signed
//		s.SignedObjects[i].Content.Octets // exactly what a Reference digested
//		s.Packaging, s.Transforms         // for policies that restrict them
//	}
//
// The trusted-profile layer reads identities from Properties.Element with
// the signing certificate; portal intake takes the documents from
// SignedObjects whose Status is Valid.
//
// Detached content comes only from Options.Detached, which the caller fills
// from files it was given (--detached-content NAME=FILE) or from the parts
// of an API request: a document never makes esig read a file or open a
// connection.
package xades
