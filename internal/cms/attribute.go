package cms

import (
	"bytes"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"
)

// Attribute is one CMS Attribute with its values left encoded.
type Attribute struct {
	Type asn1.ObjectIdentifier
	// TypeRaw is the encoding of attrType (ATSv3 hashes it).
	TypeRaw []byte
	Values  []Element
	Raw     []byte
}

// Attributes is a SignedAttributes or UnsignedAttributes set, in the order
// it was encoded.
type Attributes []Attribute

// ParseAttributes reads the members of an attribute SET (the element may
// carry an implicit tag).
func ParseAttributes(e Element) (Attributes, error) {
	items, err := e.Children()
	if err != nil {
		return nil, err
	}
	if len(items) > MaxAttributes {
		return nil, fmt.Errorf("more than %d attributes", MaxAttributes)
	}
	var out Attributes
	for n, it := range items {
		if !it.IsUniversal(TagSequence) || !it.Constructed {
			return nil, fmt.Errorf("attribute %d is not a SEQUENCE", n+1)
		}
		f, err := it.Children()
		if err != nil || len(f) != 2 {
			return nil, fmt.Errorf("attribute %d is malformed", n+1)
		}
		t, err := ParseOID(f[0])
		if err != nil {
			return nil, fmt.Errorf("attribute %d attrType: %w", n+1, err)
		}
		if !f[1].IsUniversal(TagSet) || !f[1].Constructed {
			return nil, fmt.Errorf("attribute %v: attrValues is not a SET", t)
		}
		vals, err := f[1].Children()
		if err != nil {
			return nil, fmt.Errorf("attribute %v: %w", t, err)
		}
		if len(vals) > MaxAttrValues {
			return nil, fmt.Errorf("attribute %v has more than %d values", t, MaxAttrValues)
		}
		out = append(out, Attribute{Type: t, TypeRaw: f[0].Raw, Values: vals, Raw: it.Raw})
	}
	return out, nil
}

// All returns every attribute of the given type.
func (as Attributes) All(t asn1.ObjectIdentifier) []Attribute {
	var out []Attribute
	for _, a := range as {
		if a.Type.Equal(t) {
			out = append(out, a)
		}
	}
	return out
}

// Single returns the one value of a single-valued attribute. found is false
// when the attribute is absent; an error reports one present more than once
// or with a number of values other than one (RFC 5652, 11: content-type,
// message-digest and signing-time are single-valued and appear once).
func (as Attributes) Single(t asn1.ObjectIdentifier) (v Element, found bool, err error) {
	all := as.All(t)
	if len(all) == 0 {
		return Element{}, false, nil
	}
	if len(all) > 1 {
		return Element{}, true, fmt.Errorf("attribute %v appears %d times", t, len(all))
	}
	if len(all[0].Values) != 1 {
		return Element{}, true, fmt.Errorf("attribute %v has %d values, want 1", t, len(all[0].Values))
	}
	return all[0].Values[0], true, nil
}

// ParseTime reads a UTCTime or GeneralizedTime element.
func ParseTime(e Element) (time.Time, error) {
	if e.Constructed {
		return time.Time{}, errors.New("constructed time value")
	}
	var t time.Time
	switch {
	case e.IsUniversal(TagUTCTime):
		if _, err := asn1.Unmarshal(Encode(ClassUniversal, TagUTCTime, false, e.Body), &t); err != nil {
			return time.Time{}, err
		}
	case e.IsUniversal(TagGeneralized):
		if _, err := asn1.Unmarshal(Encode(ClassUniversal, TagGeneralized, false, e.Body), &t); err != nil {
			return time.Time{}, err
		}
	default:
		return time.Time{}, fmt.Errorf("%s is not a time", e)
	}
	return t, nil
}

// EncodeTime encodes a time as RFC 5652 wants for signing-time: UTCTime
// for years 1950 to 2049, GeneralizedTime otherwise.
func EncodeTime(t time.Time) []byte {
	t = t.UTC().Truncate(time.Second)
	if t.Year() >= 1950 && t.Year() < 2050 {
		return Encode(ClassUniversal, TagUTCTime, false, []byte(t.Format("060102150405Z")))
	}
	return Encode(ClassUniversal, TagGeneralized, false, []byte(t.Format("20060102150405Z")))
}

// EncodeAttribute encodes an Attribute with the given encoded values.
func EncodeAttribute(t asn1.ObjectIdentifier, values ...[]byte) []byte {
	o, _ := asn1.Marshal(t)
	return Sequence(o, SetOf(values...))
}

// KeyIdentifier computes the RFC 5280 (4.2.1.2, method 1) key identifier:
// the SHA-1 of the subjectPublicKey BIT STRING contents.
func KeyIdentifier(cert *x509.Certificate) []byte {
	var spki struct {
		Algorithm asn1.RawValue
		Key       asn1.BitString
	}
	if _, err := asn1.Unmarshal(cert.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil
	}
	sum := sha1.Sum(spki.Key.Bytes)
	return sum[:]
}

// SameName reports whether two DER-encoded Names are equal: byte for byte,
// or failing that after crypto/x509's parse of both. Issuers sometimes
// re-encode a name with other string types; RFC 5280 (7.1) allows the
// comparison to ignore that.
func SameName(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	na, err1 := parseName(a)
	nb, err2 := parseName(b)
	return err1 == nil && err2 == nil && na == nb
}
