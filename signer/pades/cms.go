package pades

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"

	"esig/internal/cms"
)

// CMSOptions configure the CMS signature a PAdES signature embeds.
type CMSOptions struct {
	Signer      crypto.Signer
	Certificate *x509.Certificate
	// Chain holds the CA certificates to include.
	Chain []*x509.Certificate
	// Hash defaults to SHA-256.
	Hash crypto.Hash
	// PSS signs with RSASSA-PSS (RSA keys only).
	PSS bool
	// Timestamper, when set, adds a signature-time-stamp (level B-T).
	Timestamper Timestamper
}

// SignCMS makes the detached CMS SignedData of a PAdES baseline signature
// over the digest of the bytes the ByteRange covers (ETSI EN 319 142-1,
// 5.1 and 6.3): signed attributes content-type, message-digest and
// signing-certificate-v2, and no signing-time, because PAdES carries the
// claimed signing time in the signature dictionary's M entry instead (EN
// 319 142-1, 5.2.3 and Table 1). With a Timestamper it adds the
// signature-time-stamp unsigned attribute over the signature value (EN 319
// 142-1, 5.3; EN 319 122-1, 5.3), which makes the signature B-T.
//
// It is exported so that tests building PDFs by other means sign them the
// way esig does.
func SignCMS(ctx context.Context, digest []byte, o CMSOptions) ([]byte, error) {
	if o.Signer == nil || o.Certificate == nil {
		return nil, errors.New("pades: a signer and its certificate are required")
	}
	pub, err := x509.MarshalPKIXPublicKey(o.Signer.Public())
	if err != nil || !bytes.Equal(pub, o.Certificate.RawSubjectPublicKeyInfo) {
		return nil, errors.New("pades: the key does not match the certificate")
	}
	if o.Hash == 0 {
		o.Hash = crypto.SHA256
	}
	if len(digest) != o.Hash.Size() {
		return nil, fmt.Errorf("pades: the digest is %d bytes, %v makes %d", len(digest), o.Hash, o.Hash.Size())
	}
	digestAlg, err := cms.DigestAlgorithm(o.Hash)
	if err != nil {
		return nil, err
	}
	sigAlg, err := cms.SignatureAlgorithmFor(o.Signer.Public(), o.Hash, o.PSS)
	if err != nil {
		return nil, err
	}
	ctOID, _ := asn1.Marshal(cms.OIDData)
	scv2, err := cms.SigningCertificateV2(o.Certificate, crypto.SHA256)
	if err != nil {
		return nil, err
	}
	set := cms.SetOf(
		cms.EncodeAttribute(cms.OIDAttrContentType, ctOID),
		cms.EncodeAttribute(cms.OIDAttrMessageDigest, cms.Encode(cms.ClassUniversal, cms.TagOctetString, false, digest)),
		cms.EncodeAttribute(cms.OIDAttrSigningCertificateV2, scv2),
	)
	value, err := signAttributes(o, set)
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
	siParts := [][]byte{
		{2, 1, 1},
		cms.Sequence(o.Certificate.RawIssuer, serial),
		digestAlg.Raw,
		signed,
		sigAlg.Raw,
		cms.Encode(cms.ClassUniversal, cms.TagOctetString, false, value),
	}
	if o.Timestamper != nil {
		h := o.Hash.New()
		h.Write(value)
		tok, err := o.Timestamper.Timestamp(ctx, h.Sum(nil), o.Hash)
		if err != nil {
			return nil, fmt.Errorf("pades: signature time stamp: %w", err)
		}
		if _, err := cms.ParseToken(tok); err != nil {
			return nil, fmt.Errorf("pades: the time-stamp authority returned an unusable token: %w", err)
		}
		attrs := cms.SetOf(cms.EncodeAttribute(cms.OIDAttrSignatureTimestamp, tok))
		e, err := cms.ParseOne(attrs)
		if err != nil {
			return nil, err
		}
		siParts = append(siParts, cms.Encode(cms.ClassContext, 1, true, e.Body))
	}
	certs := [][]byte{o.Certificate.Raw}
	for _, c := range o.Chain {
		if !bytes.Equal(c.Raw, o.Certificate.Raw) {
			certs = append(certs, c.Raw)
		}
	}
	ct, _ := asn1.Marshal(cms.OIDData)
	sd := cms.Sequence(
		[]byte{2, 1, 1},
		cms.SetOf(digestAlg.Raw),
		cms.Sequence(ct),
		cms.Encode(cms.ClassContext, 0, true, bytes.Join(certs, nil)),
		cms.SetOf(cms.Sequence(siParts...)),
	)
	sdOID, _ := asn1.Marshal(cms.OIDSignedData)
	return cms.Sequence(sdOID, cms.Explicit(0, sd)), nil
}

// signAttributes signs the DER SET OF signed attributes.
func signAttributes(o CMSOptions, msg []byte) ([]byte, error) {
	if _, ok := o.Signer.Public().(ed25519.PublicKey); ok {
		return o.Signer.Sign(rand.Reader, msg, crypto.Hash(0))
	}
	h := o.Hash.New()
	h.Write(msg)
	var opts crypto.SignerOpts = o.Hash
	if o.PSS {
		if _, ok := o.Signer.Public().(*rsa.PublicKey); !ok {
			return nil, errors.New("pades: RSA-PSS needs an RSA key")
		}
		opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: o.Hash}
	}
	v, err := o.Signer.Sign(rand.Reader, h.Sum(nil), opts)
	if err != nil {
		return nil, fmt.Errorf("pades: signing: %w", err)
	}
	return v, nil
}
