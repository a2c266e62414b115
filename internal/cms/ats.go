package cms

import (
	"bytes"
	"crypto"
	"encoding/asn1"
	"errors"
	"fmt"
)

// ATSHashIndex is the ats-hash-index carried in the unsigned attributes of
// an archive-time-stamp-v3 token (ETSI EN 319 122-1, 5.5.2; ETSI TS 101 733
// v2.2.1 for the first version). It lists hashes of the certificates,
// revocation values and unsigned attributes present when the archive time
// stamp was taken, so that the time stamp covers them without covering
// the SET encodings, which later additions change.
type ATSHashIndex struct {
	// Type is the attribute type: ats-hash-index, -v2 or -v3. For v3 the
	// unsigned attributes are hashed value by value (attrType || value);
	// for the older ones whole Attribute encodings are hashed.
	Type          asn1.ObjectIdentifier
	Hash          crypto.Hash
	Certificates  [][]byte
	CRLs          [][]byte
	UnsignedAttrs [][]byte
	// Value is the DER of the index value, which the imprint includes.
	Value []byte
}

// FindATSHashIndex reads the ats-hash-index of any version from an archive
// time stamp's unsigned attributes.
func FindATSHashIndex(attrs Attributes) (*ATSHashIndex, error) {
	var found []Attribute
	for _, t := range []asn1.ObjectIdentifier{OIDAttrATSHashIndexV3, OIDAttrATSHashIndexV2, OIDAttrATSHashIndex} {
		found = append(found, attrs.All(t)...)
	}
	if len(found) != 1 || len(found[0].Values) != 1 {
		return nil, fmt.Errorf("cms: archive time stamp has %d ats-hash-index attributes, want exactly one with one value", len(found))
	}
	v := found[0].Values[0]
	der, err := v.ToDER()
	if err != nil {
		return nil, fmt.Errorf("cms: ats-hash-index: %w", err)
	}
	x := &ATSHashIndex{Type: found[0].Type, Hash: crypto.SHA256, Value: der}
	f, err := v.Children()
	if err != nil {
		return nil, fmt.Errorf("cms: ats-hash-index: %w", err)
	}
	if len(f) == 4 {
		a, err := ParseAlgorithmIdentifier(f[0])
		if err != nil {
			return nil, fmt.Errorf("cms: ats-hash-index.hashIndAlgorithm: %w", err)
		}
		if x.Hash = HashForOID(a.Algorithm); x.Hash == 0 {
			return nil, fmt.Errorf("cms: ats-hash-index.hashIndAlgorithm %v unknown", a.Algorithm)
		}
		f = f[1:]
	}
	if len(f) != 3 {
		return nil, errors.New("cms: ats-hash-index is malformed")
	}
	lists := []*[][]byte{&x.Certificates, &x.CRLs, &x.UnsignedAttrs}
	for i, l := range lists {
		items, err := f[i].Children()
		if err != nil {
			return nil, fmt.Errorf("cms: ats-hash-index list %d: %w", i+1, err)
		}
		for _, it := range items {
			if !it.IsUniversal(TagOctetString) {
				return nil, errors.New("cms: ats-hash-index entry is not an OCTET STRING")
			}
			b, err := it.OctetString()
			if err != nil {
				return nil, err
			}
			*l = append(*l, b)
		}
	}
	return x, nil
}

// attrHashes returns the hashes the index version uses for one attribute.
func attrHashes(t asn1.ObjectIdentifier, h crypto.Hash, a Attribute) ([][]byte, error) {
	sum := func(parts ...[]byte) []byte {
		d := h.New()
		for _, p := range parts {
			d.Write(p)
		}
		return d.Sum(nil)
	}
	if t.Equal(OIDAttrATSHashIndexV3) {
		typ := Encode(ClassUniversal, TagOID, false, mustBody(a.TypeRaw))
		var out [][]byte
		for _, v := range a.Values {
			der, err := v.ToDER()
			if err != nil {
				return nil, err
			}
			out = append(out, sum(typ, der))
		}
		return out, nil
	}
	e, err := ParseOne(a.Raw)
	if err != nil {
		return nil, err
	}
	der, err := e.ToDER()
	if err != nil {
		return nil, err
	}
	return [][]byte{sum(der)}, nil
}

func mustBody(raw []byte) []byte {
	e, err := ParseOne(raw)
	if err != nil {
		return raw
	}
	return e.Body
}

func derHash(h crypto.Hash, raw []byte) ([]byte, error) {
	e, err := ParseOne(raw)
	if err != nil {
		return nil, err
	}
	der, err := e.ToDER()
	if err != nil {
		return nil, err
	}
	d := h.New()
	d.Write(der)
	return d.Sum(nil), nil
}

// Check verifies that every hash in the index names an element present in
// the signature (EN 319 122-1, 5.5.2: an index naming something absent is
// invalid). Elements added after the archive time stamp are not listed and
// are fine.
func (x *ATSHashIndex) Check(sd *SignedData, si *SignerInfo) error {
	if !x.Hash.Available() {
		return fmt.Errorf("cms: ats-hash-index hash %v unavailable", x.Hash)
	}
	present := func(list [][]byte, have [][]byte, what string) error {
		for _, want := range list {
			ok := false
			for _, h := range have {
				if bytes.Equal(h, want) {
					ok = true
					break
				}
			}
			if !ok {
				return fmt.Errorf("cms: ats-hash-index lists a %s that the signature does not hold", what)
			}
		}
		return nil
	}
	var certs, crls, attrs [][]byte
	for _, c := range sd.Certificates {
		d, err := derHash(x.Hash, c.Raw)
		if err != nil {
			return err
		}
		certs = append(certs, d)
	}
	for _, c := range sd.CRLs {
		d, err := derHash(x.Hash, c.Raw)
		if err != nil {
			return err
		}
		crls = append(crls, d)
	}
	for _, a := range si.UnsignedAttrs {
		hs, err := attrHashes(x.Type, x.Hash, a)
		if err != nil {
			return err
		}
		attrs = append(attrs, hs...)
	}
	if err := present(x.Certificates, certs, "certificate"); err != nil {
		return err
	}
	if err := present(x.CRLs, crls, "revocation value"); err != nil {
		return err
	}
	return present(x.UnsignedAttrs, attrs, "unsigned attribute")
}

// BuildATSHashIndexV3 encodes the ats-hash-index-v3 value for the current
// state of the signature (EN 319 122-1, 5.5.2).
func BuildATSHashIndexV3(h crypto.Hash, sd *SignedData, si *SignerInfo) ([]byte, error) {
	alg, err := DigestAlgorithm(h)
	if err != nil {
		return nil, err
	}
	octets := func(list [][]byte) []byte {
		var parts [][]byte
		for _, d := range list {
			parts = append(parts, Encode(ClassUniversal, TagOctetString, false, d))
		}
		return Sequence(parts...)
	}
	var certs, crls, attrs [][]byte
	for _, c := range sd.Certificates {
		d, err := derHash(h, c.Raw)
		if err != nil {
			return nil, err
		}
		certs = append(certs, d)
	}
	for _, c := range sd.CRLs {
		d, err := derHash(h, c.Raw)
		if err != nil {
			return nil, err
		}
		crls = append(crls, d)
	}
	for _, a := range si.UnsignedAttrs {
		hs, err := attrHashes(OIDAttrATSHashIndexV3, h, a)
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, hs...)
	}
	return Sequence(alg.Raw, octets(certs), octets(crls), octets(attrs)), nil
}

// ArchiveImprint computes the message imprint of an archive-time-stamp-v3
// (EN 319 122-1, 5.5.3): the hash of eContentType, the hash of the signed
// content, the SignerInfo fields version, sid, digestAlgorithm, signedAttrs,
// signatureAlgorithm and signature as encoded, and the ats-hash-index value.
// contentDigest is the content's hash under h.
func ArchiveImprint(h crypto.Hash, sd *SignedData, si *SignerInfo, contentDigest, indexValue []byte) []byte {
	d := h.New()
	d.Write(sd.ContentTypeRaw)
	d.Write(contentDigest)
	d.Write(si.VersionRaw)
	d.Write(si.SIDRaw)
	d.Write(si.DigestAlgorithm.Raw)
	d.Write(si.SignedAttrsRaw)
	d.Write(si.SignatureAlgorithm.Raw)
	d.Write(si.SignatureRaw)
	d.Write(indexValue)
	return d.Sum(nil)
}
