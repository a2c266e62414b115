package report

// Verdict explains an indication and sub-indication in a sentence for a
// person, as the HTML report prints it.
func Verdict(ind Indication, sub SubIndication) string {
	switch ind {
	case TotalPassed:
		return "The signature is valid: it was made with the signer's certificate over exactly the content shown, and the certificate was valid when the signature was made."
	case NoSignatureFound:
		return "The file holds no signature."
	}
	if why, ok := subIndicationWords[sub]; ok {
		if ind == TotalFailed {
			return "The signature is invalid: " + why
		}
		return "The signature could not be confirmed valid: " + why
	}
	if ind == TotalFailed {
		return "The signature is invalid."
	}
	return "The signature could not be confirmed valid."
}

var subIndicationWords = map[SubIndication]string{
	FormatFailure:                  "the signature is malformed or does not follow its format.",
	HashFailure:                    "the signed content was changed after signing.",
	SigCryptoFailure:               "the signature value does not match the signer's key.",
	Revoked:                        "the signer's certificate was revoked before the signature was made.",
	Expired:                        "the signer's certificate had expired when the signature was made.",
	NotYetValid:                    "the signature claims a time before the signer's certificate was valid.",
	SigConstraintsFailure:          "the signature does not meet the constraints of the validation policy.",
	ChainConstraintsFailure:        "the certificate chain does not meet the constraints of the validation policy.",
	CertificateChainGeneralFailure: "the certificate chain could not be checked.",
	CryptoConstraintsFailure:       "an algorithm or key size used is no longer considered secure.",
	CryptoConstraintsFailureNoPOE:  "an algorithm or key size is no longer secure and nothing proves the signature existed while it was.",
	PolicyProcessingError:          "the signature policy could not be processed.",
	SignaturePolicyNotAvailable:    "the signature policy is not available.",
	TimestampOrderFailure:          "the time stamps are not in a consistent order.",
	NoSigningCertificateFound:      "the signer's certificate is missing or is not the one the signature names.",
	NoCertificateChainFound:        "the signer's certificate does not lead to a trusted authority.",
	RevokedNoPOE:                   "the signer's certificate is revoked and nothing proves the signature was made before that.",
	RevokedCANoPOE:                 "a certificate authority in the chain is revoked and nothing proves the signature was made before that.",
	OutOfBoundsNoPOE:               "the signer's certificate has expired or is not yet valid and nothing proves when the signature was made.",
	OutOfBoundsNotRevoked:          "the signer's certificate has expired, though it was not revoked.",
	NoPOE:                          "nothing proves the signed data existed at the time required.",
	TryLater:                       "the revocation status of a certificate is not yet available; try again later.",
	SignedDataNotFound:             "the signed content was not supplied with the signature.",
}

// QualificationWords explains a qualification label.
func QualificationWords(q string) string {
	switch q {
	case "QESig":
		return "Qualified electronic signature (eIDAS art. 3(12)): equivalent to a handwritten signature."
	case "QESeal":
		return "Qualified electronic seal (eIDAS art. 3(27))."
	case "AdESig-QC":
		return "Advanced electronic signature with a qualified certificate (no qualified signature creation device)."
	case "AdESeal-QC":
		return "Advanced electronic seal with a qualified certificate (no qualified seal creation device)."
	case "AdESig":
		return "Advanced electronic signature (the certificate is not qualified)."
	case "AdESeal":
		return "Advanced electronic seal (the certificate is not qualified)."
	case "", "N/A":
		return "Qualification not determined."
	}
	return q
}
