package cms

import "encoding/asn1"

// Object identifiers of CMS, ESS, CAdES and RFC 3161 that signatures use.
var (
	OIDData       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	OIDSignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	OIDTSTInfo    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}

	OIDAttrContentType      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	OIDAttrMessageDigest    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	OIDAttrSigningTime      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	OIDAttrCounterSignature = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 6}
	// OIDAttrSigningCertificate is ESS signing-certificate (RFC 2634), SHA-1 only.
	OIDAttrSigningCertificate = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12}
	// OIDAttrSigningCertificateV2 is ESS signing-certificate-v2 (RFC 5035).
	OIDAttrSigningCertificateV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	OIDAttrSignaturePolicy      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 15}
	OIDAttrContentTimestamp     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 20}
	OIDAttrSignatureTimestamp   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	OIDAttrCertificateRefs      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 21}
	OIDAttrRevocationRefs       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 22}
	OIDAttrCertValues           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 23}
	OIDAttrRevocationValues     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 24}
	OIDAttrEscTimestamp         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 25}
	OIDAttrCertCRLTimestamp     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 26}
	OIDAttrArchiveTimestampV2   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 48}
	// OIDAttrArchiveTimestampV3 is archive-time-stamp-v3 (ETSI EN 319 122-1, 5.5.3).
	OIDAttrArchiveTimestampV3 = asn1.ObjectIdentifier{0, 4, 0, 1733, 2, 4}
	// OIDAttrATSHashIndex is the ats-hash-index of ETSI TS 101 733 v2.2.1.
	OIDAttrATSHashIndex = asn1.ObjectIdentifier{0, 4, 0, 1733, 2, 5}
	// OIDAttrATSHashIndexV2 is ats-hash-index-v2 (ETSI EN 319 122-1 v1.0.0).
	OIDAttrATSHashIndexV2 = asn1.ObjectIdentifier{0, 4, 0, 19122, 1, 4}
	// OIDAttrATSHashIndexV3 is ats-hash-index-v3 (ETSI EN 319 122-1 v1.1.1).
	OIDAttrATSHashIndexV3 = asn1.ObjectIdentifier{0, 4, 0, 19122, 1, 5}

	// OIDRevocationInfoOCSP marks an OCSPResponse in SignedData.crls
	// (RFC 5940, id-ri-ocsp-response).
	OIDRevocationInfoOCSP = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 16, 2}
	// OIDOCSPBasic is id-pkix-ocsp-basic.
	OIDOCSPBasic = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
)
