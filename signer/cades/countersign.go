package cades

import (
	"crypto"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	"esig/internal/cms"
)

// CounterSign adds a countersignature (RFC 5652, 11.4) to the SignerInfo
// at index of a DER signature: a SignerInfo over that signer's signature
// value, with message-digest, signing-time and signing-certificate-v2 and
// no content-type, as an unsigned attribute of the countersigned signer.
// The countersigner's certificate and chain join SignedData.certificates.
// Only Signer, Certificate, Chain, Hash, PSS and SigningTime of o are used.
func CounterSign(signature []byte, index int, o Options) ([]byte, error) {
	if o.Signer == nil || o.Certificate == nil {
		return nil, errors.New("cades: a signer and its certificate are required")
	}
	if o.Hash == 0 {
		o.Hash = crypto.SHA256
	}
	if o.SigningTime.IsZero() {
		o.SigningTime = time.Now()
	}
	sd, err := cms.ParseContentInfo(signature)
	if err != nil {
		return nil, err
	}
	if index < 0 || index >= len(sd.SignerInfos) {
		return nil, fmt.Errorf("cades: no signer %d to countersign", index)
	}
	h := o.Hash.New()
	h.Write(sd.SignerInfos[index].Signature)
	digest := h.Sum(nil)

	digestAlg, err := cms.DigestAlgorithm(o.Hash)
	if err != nil {
		return nil, err
	}
	sigAlg, err := cms.SignatureAlgorithmFor(o.Signer.Public(), o.Hash, o.PSS)
	if err != nil {
		return nil, err
	}
	scv2, err := cms.SigningCertificateV2(o.Certificate, crypto.SHA256)
	if err != nil {
		return nil, err
	}
	set := cms.SetOf(
		cms.EncodeAttribute(cms.OIDAttrSigningTime, cms.EncodeTime(o.SigningTime)),
		cms.EncodeAttribute(cms.OIDAttrMessageDigest, cms.Encode(cms.ClassUniversal, cms.TagOctetString, false, digest)),
		cms.EncodeAttribute(cms.OIDAttrSigningCertificateV2, scv2),
	)
	value, err := signBytes(o, set)
	if err != nil {
		return nil, err
	}
	signed, err := cms.Implicit(0, set)
	if err != nil {
		return nil, err
	}
	serial, err := asn1.Marshal(o.Certificate.SerialNumber)
	if err != nil {
		return nil, err
	}
	si := cms.Sequence([]byte{2, 1, 1}, cms.Sequence(o.Certificate.RawIssuer, serial), digestAlg.Raw, signed, sigAlg.Raw,
		cms.Encode(cms.ClassUniversal, cms.TagOctetString, false, value))
	out, err := cms.AddUnsignedAttribute(signature, index, cms.EncodeAttribute(cms.OIDAttrCounterSignature, si))
	if err != nil {
		return nil, err
	}
	certs := [][]byte{o.Certificate.Raw}
	for _, c := range o.Chain {
		certs = append(certs, c.Raw)
	}
	return cms.AddCertificates(out, certs...)
}
