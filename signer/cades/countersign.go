package cades

import (
	"crypto"
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

	o.NoSigningTime = false
	si, err := signerInfo(o, digest, false)
	if err != nil {
		return nil, err
	}
	out, err := cms.AddUnsignedAttribute(signature, index, cms.EncodeAttribute(cms.OIDAttrCounterSignature, si.encode()))
	if err != nil {
		return nil, err
	}
	certs := [][]byte{o.Certificate.Raw}
	for _, c := range o.Chain {
		certs = append(certs, c.Raw)
	}
	return cms.AddCertificates(out, certs...)
}
