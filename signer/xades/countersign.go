package xades

import (
	"crypto/x509"
	"errors"
	"fmt"

	"esig/internal/xmldsig"
	"esig/internal/xmldsig/c14n"
	"esig/internal/xmldsig/xmlns"
	vxades "esig/verifier/xades"
)

// CounterSign adds a XAdES counter-signature (EN 319 132-1, 5.2.7) to the
// signature with Id parentID (the first signature of the document when
// parentID is empty): a B-B XAdES signature whose data Reference, of Type
// CountersignedSignature, covers the parent's ds:SignatureValue, placed in
// the parent's UnsignedSignatureProperties/CounterSignature. The parent's
// SignatureValue must carry an Id (esig's signatures do): giving it one now
// would change what its time stamps cover. Packaging and Level of o are
// ignored.
func CounterSign(doc []byte, parentID string, o Options) ([]byte, error) {
	o.Packaging, o.Level = Detached, LevelB
	if err := check(&o); err != nil {
		return nil, err
	}
	d, err := xmldsig.Parse(doc, xmldsig.Limits{})
	if err != nil {
		return nil, err
	}
	sigs, err := d.Verify(xmldsig.VerifyOptions{})
	if err != nil {
		return nil, err
	}
	var parent *xmldsig.Signature
	for _, s := range sigs {
		if parentID == "" || s.ID == parentID {
			parent = s
			break
		}
	}
	if parent == nil {
		return nil, fmt.Errorf("xades: no signature with Id %q", parentID)
	}
	sv := parent.SignatureValueElement()
	if sv == nil {
		return nil, errors.New("xades: the signature to countersign is malformed")
	}
	svID, ok := xmlns.Attr(sv, "Id")
	if !ok || svID == "" {
		return nil, errors.New("xades: the SignatureValue to countersign has no Id to reference")
	}
	usp, err := unsignedSignatureProperties(parent)
	if err != nil {
		return nil, err
	}
	b, err := xmldsig.NewBuilder(xmldsig.SignOptions{Signer: o.Signer, Certificates: certChain(&o), Hash: o.Hash, PSS: o.PSS,
		ID: o.ID, SignatureValueID: "value-" + o.ID, Rand: o.Rand})
	if err != nil {
		return nil, err
	}
	refID := "r-" + o.ID + "-1"
	if _, err := b.AddReference(xmldsig.ReferenceSpec{URI: "#" + svID, ID: refID, Type: vxades.CountersignedSignatureType,
		Digest: o.Hash, Transforms: []xmldsig.TransformSpec{{Algorithm: c14n.ExcC14N}}}); err != nil {
		return nil, err
	}
	if err := addQualifyingProperties(b, refID, "text/xml", &o); err != nil {
		return nil, err
	}
	cs := usp.CreateElement("xades:CounterSignature")
	cs.AddChild(b.Element())
	if _, err := b.Sign(d.Tree()); err != nil {
		return nil, err
	}
	return xmldsig.Serialize(d.Tree())
}

// certChain is the signer's certificate followed by the chain, once each.
func certChain(o *Options) []*x509.Certificate {
	out := []*x509.Certificate{o.Certificate}
	for _, c := range o.Chain {
		if !c.Equal(o.Certificate) {
			out = append(out, c)
		}
	}
	return out
}

// addQualifyingProperties adds the ds:Object with the QualifyingProperties
// and the Reference of Type SignedProperties to b.
func addQualifyingProperties(b *xmldsig.Builder, refID, mime string, o *Options) error {
	spID := "xades-" + o.ID
	qp := b.AddObject("").CreateElement("xades:QualifyingProperties")
	qp.CreateAttr("xmlns:xades", vxades.Namespace132)
	qp.CreateAttr("Target", "#"+o.ID)
	if err := signedProperties(qp, spID, refID, mime, o); err != nil {
		return err
	}
	_, err := b.AddReference(xmldsig.ReferenceSpec{URI: "#" + spID, Type: vxades.SignedPropertiesType, Digest: o.Hash,
		Transforms: []xmldsig.TransformSpec{{Algorithm: c14n.ExcC14N}}})
	return err
}
