package cms

import (
	"errors"
	"fmt"
)

// AddUnsignedAttribute returns a copy of a DER ContentInfo/SignedData in
// which the SignerInfo at index has one more unsigned attribute (attr is
// the encoded Attribute). Unsigned attributes are outside the signature,
// so adding one (a time stamp, an ats-hash-index) leaves the signature
// valid; everything else is copied byte for byte.
func AddUnsignedAttribute(contentInfo []byte, index int, attr []byte) ([]byte, error) {
	ci, err := ParseOne(contentInfo)
	if err != nil {
		return nil, err
	}
	if !ci.IsDER() {
		return nil, errors.New("cms: adding an attribute needs a DER signature")
	}
	contentType, sdF, err := signedDataFields(ci)
	if err != nil {
		return nil, err
	}
	last := sdF[len(sdF)-1]
	sis, err := last.Children()
	if err != nil || index < 0 || index >= len(sis) {
		return nil, fmt.Errorf("cms: no SignerInfo %d", index)
	}
	siF, err := sis[index].Children()
	if err != nil || len(siF) < 5 {
		return nil, errors.New("cms: malformed SignerInfo")
	}
	var attrs [][]byte
	keep := siF
	if u := siF[len(siF)-1]; u.Is(ClassContext, 1) {
		keep = siF[:len(siF)-1]
		old, err := u.Children()
		if err != nil {
			return nil, err
		}
		for _, a := range old {
			attrs = append(attrs, a.Raw)
		}
	}
	attrs = append(attrs, attr)
	set := SetOf(attrs...)
	unsigned := Encode(ClassContext, 1, true, setBody(set))
	var siParts [][]byte
	for _, f := range keep {
		siParts = append(siParts, f.Raw)
	}
	siParts = append(siParts, unsigned)
	newSI := Sequence(siParts...)
	var siSet [][]byte
	for i, s := range sis {
		if i == index {
			siSet = append(siSet, newSI)
		} else {
			siSet = append(siSet, s.Raw)
		}
	}
	var sdParts [][]byte
	for _, f := range sdF[:len(sdF)-1] {
		sdParts = append(sdParts, f.Raw)
	}
	sdParts = append(sdParts, SetOf(siSet...))
	sd := Sequence(sdParts...)
	return Sequence(contentType.Raw, Explicit(0, sd)), nil
}

// signedDataFields splits a ContentInfo holding SignedData into its
// contentType and the fields of the SignedData.
func signedDataFields(ci Element) (contentType Element, fields []Element, err error) {
	ciF, err := ci.Children()
	if err != nil || len(ciF) != 2 {
		return Element{}, nil, errors.New("cms: malformed ContentInfo")
	}
	inner, err := ciF[1].Children()
	if err != nil || len(inner) != 1 {
		return Element{}, nil, errors.New("cms: malformed ContentInfo content")
	}
	fields, err = inner[0].Children()
	if err != nil || len(fields) < 4 {
		return Element{}, nil, errors.New("cms: malformed SignedData")
	}
	return ciF[0], fields, nil
}

func setBody(set []byte) []byte {
	e, err := ParseOne(set)
	if err != nil {
		return nil
	}
	return e.Body
}

// AddCertificates returns a copy of a DER ContentInfo/SignedData whose
// certificates set also holds the given DER certificates (those already
// present are not repeated).
func AddCertificates(contentInfo []byte, certs ...[]byte) ([]byte, error) {
	ci, err := ParseOne(contentInfo)
	if err != nil {
		return nil, err
	}
	contentType, sdF, err := signedDataFields(ci)
	if err != nil {
		return nil, err
	}
	var parts [][]byte
	var have [][]byte
	done := false
	for i, f := range sdF {
		if i == 3 && f.Is(ClassContext, 0) {
			kids, err := f.Children()
			if err != nil {
				return nil, err
			}
			for _, k := range kids {
				have = append(have, k.Raw)
			}
			parts = append(parts, Encode(ClassContext, 0, true, joinNew(have, certs)))
			done = true
			continue
		}
		if i == 3 && !done {
			parts = append(parts, Encode(ClassContext, 0, true, joinNew(nil, certs)))
			done = true
		}
		parts = append(parts, f.Raw)
	}
	return Sequence(contentType.Raw, Explicit(0, Sequence(parts...))), nil
}

func joinNew(have, add [][]byte) []byte {
	out := append([][]byte(nil), have...)
	for _, a := range add {
		dup := false
		for _, h := range out {
			if string(h) == string(a) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, a)
		}
	}
	var b []byte
	for _, x := range out {
		b = append(b, x...)
	}
	return b
}
