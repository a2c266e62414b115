package cms

import (
	"bytes"
	"crypto"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"
)

// ErrMessageDigest reports that the message-digest attribute does not
// match the content: the content was changed after signing.
var ErrMessageDigest = errors.New("cms: message-digest attribute does not match the content")

// Hash returns the SignerInfo's digest algorithm as a hash, 0 if unknown.
func (si *SignerInfo) Hash() crypto.Hash {
	return HashForOID(si.DigestAlgorithm.Algorithm)
}

// CheckAttributes checks the signed attributes RFC 5652 (5.3, 11.1, 11.2)
// requires against the content: content-type equal to eContentType (absent
// for a countersignature, whose contentType is nil), and message-digest
// equal to digest, the content's hash under the SignerInfo's digest
// algorithm. A mismatched digest returns an error wrapping ErrMessageDigest;
// anything else is a format error.
func (si *SignerInfo) CheckAttributes(contentType asn1.ObjectIdentifier, digest []byte) error {
	if si.SignedAttrs == nil {
		return nil
	}
	ct, found, err := si.SignedAttrs.Single(OIDAttrContentType)
	if err != nil {
		return err
	}
	switch {
	case contentType == nil && found:
		return errors.New("cms: a countersignature must not carry a content-type attribute (RFC 5652, 11.1)")
	case contentType != nil && !found:
		return errors.New("cms: signed attributes lack content-type (RFC 5652, 11.1)")
	case contentType != nil:
		oid, err := ParseOID(ct)
		if err != nil {
			return fmt.Errorf("cms: content-type attribute: %w", err)
		}
		if !oid.Equal(contentType) {
			return fmt.Errorf("cms: content-type attribute %v differs from eContentType %v", oid, contentType)
		}
	}
	md, found, err := si.SignedAttrs.Single(OIDAttrMessageDigest)
	if err != nil {
		return err
	}
	if !found {
		return errors.New("cms: signed attributes lack message-digest (RFC 5652, 11.2)")
	}
	if !md.IsUniversal(TagOctetString) {
		return errors.New("cms: message-digest attribute is not an OCTET STRING")
	}
	v, err := md.OctetString()
	if err != nil {
		return fmt.Errorf("cms: message-digest attribute: %w", err)
	}
	if !bytes.Equal(v, digest) {
		return ErrMessageDigest
	}
	return nil
}

// VerifySignature checks the signature value with a public key. With signed
// attributes the signature covers their DER SET encoding (RFC 5652, 5.4);
// without, it covers the content, whose digest is passed in.
func (si *SignerInfo) VerifySignature(pub crypto.PublicKey, contentDigest []byte) (SignatureAlgorithm, error) {
	alg, err := ParseSignatureAlgorithm(si.SignatureAlgorithm, si.Hash())
	if err != nil {
		return SignatureAlgorithm{}, err
	}
	if si.SignedAttrs != nil {
		err := alg.Verify(pub, si.SignedAttrsSigned, si.Signature)
		if err != nil && si.SignedAttrsDER != nil {
			if alg.Verify(pub, si.SignedAttrsDER, si.Signature) == nil {
				return alg, nil
			}
		}
		return alg, err
	}
	if alg.Key == KeyEd25519 {
		return alg, errors.New("cms: Ed25519 without signed attributes is not supported")
	}
	if alg.Hash != si.Hash() {
		return alg, errors.New("cms: signature hash differs from digestAlgorithm and there are no signed attributes")
	}
	return alg, alg.VerifyDigest(pub, contentDigest, si.Signature)
}

// SigningTime returns the signing-time attribute, nil when absent.
func (si *SignerInfo) SigningTime() (*time.Time, error) {
	v, found, err := si.SignedAttrs.Single(OIDAttrSigningTime)
	if err != nil || !found {
		return nil, err
	}
	tm, err := ParseTime(v)
	if err != nil {
		return nil, fmt.Errorf("cms: signing-time attribute: %w", err)
	}
	return &tm, nil
}

// SigningCertificateRefs returns the references of the ESS
// signing-certificate-v2 attribute or, failing that, of the older
// signing-certificate; nil when the signer bound no certificate.
func (si *SignerInfo) SigningCertificateRefs() ([]CertRef, error) {
	if v, found, err := si.SignedAttrs.Single(OIDAttrSigningCertificateV2); err != nil {
		return nil, err
	} else if found {
		return ParseSigningCertificateV2(v)
	}
	if v, found, err := si.SignedAttrs.Single(OIDAttrSigningCertificate); err != nil {
		return nil, err
	} else if found {
		return ParseSigningCertificate(v)
	}
	return nil, nil
}
