// Package pades is the PDF format layer of the verifier: PAdES (ETSI EN 319
// 142-1) and the older PDF signatures (SubFilter adbe.pkcs7.detached) that
// the same rules verify, plus document time stamps (ETSI.RFC3161).
//
// A PDF grows by incremental updates (ISO 32000-1, 7.5.6): every signature
// covers the file as it was when it was made, up to the end of that
// revision, except the hole where its own value sits. The layer
//
//   - finds every signature dictionary, in every revision (Locate), and
//     checks its ByteRange: two ranges from the start of the file, the hole
//     exactly the Contents string, the end exactly the end of a revision
//     (EN 319 142-1, 5.1; ISO 32000-1, 12.8.1);
//   - verifies the embedded CMS through the engine like any CAdES
//     signature, with the signed bytes as its detached content; document
//     time stamps after a signature count as its time stamps (level T by a
//     document time stamp, LTA by one over the DSS), and the DSS and VRI
//     dictionaries (EN 319 142-1, 5.4.2) are offline sources of
//     certificates and revocation data;
//   - compares what each signature signed with what a reader now shows:
//     pages, annotations, form fields, the catalog. Additions that PAdES
//     expects (DSS, document time stamps, further signatures) pass; the
//     rest becomes a warning or, where the page content changed or a
//     DocMDP or FieldMDP lock forbids it, a failure (the "shadow attacks"
//     of Mainka, Mladenov and Rohlmann, NDSS 2021, hide and replace
//     content through exactly such updates);
//   - reads what a trusted-profile seal says about the person it was made
//     for from the signed revision only (trustedprofile.go).
//
// Parsing is github.com/pdfcpu/pdfcpu: each revision is the prefix of the
// file up to its %%EOF, parsed on its own, so that what a signature signed
// is read from the bytes it signed and nothing else.
package pades
