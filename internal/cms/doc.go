// Package cms reads and writes the parts of Cryptographic Message Syntax
// (RFC 5652) that signatures need: SignedData, SignerInfo and attributes,
// the ESS signing-certificate attributes (RFC 2634, RFC 5035), RFC 3161
// TSTInfo, and the CAdES archive-time-stamp-v3 hash index (ETSI EN 319 122-1).
//
// Why our own code rather than github.com/digitorus/pkcs7, which go.mod pins:
// that package has no RSA-PSS, cannot find a signer named by subject key
// identifier, knows no signing-certificate-v2, verifies with crypto/x509 (so
// a SHA-1 signature is rejected as a Go error instead of being judged by the
// algorithm policy), keeps the whole content in memory, and keeps no raw
// encodings of the fields the archive time stamp hashes. A verifier must also
// read BER (indefinite lengths, constructed OCTET STRINGs: real CAdES files
// use them) while checking the signature over the exact bytes that were
// signed. So the reader here works on the original bytes, records every
// field's encoding, and bounds nesting depth and element counts so that
// hostile input yields an error, never a panic or an unbounded allocation.
//
// Writing is plain DER through encoding/asn1; content is never held by this
// package: the signer hashes it as a stream and passes the digest.
//
// This package sits in internal/ because the signer, the verifier and the
// time-stamp authority all need it and must not import one another.
package cms
