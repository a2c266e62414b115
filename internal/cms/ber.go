package cms

import (
	"bytes"
	"errors"
	"fmt"
)

// ASN.1 classes as they appear in the two high bits of an identifier octet.
const (
	ClassUniversal   = 0
	ClassApplication = 1
	ClassContext     = 2
	ClassPrivate     = 3
)

// Universal tag numbers this package needs.
const (
	TagBoolean     = 1
	TagInteger     = 2
	TagBitString   = 3
	TagOctetString = 4
	TagNull        = 5
	TagOID         = 6
	TagUTF8String  = 12
	TagSequence    = 16
	TagSet         = 17
	TagUTCTime     = 23
	TagGeneralized = 24
)

// MaxDepth bounds how deeply constructed elements may nest. CMS needs about
// a dozen levels (a time-stamp token inside an attribute inside a SignerInfo
// inside SignedData); anything far deeper is an attack on the stack.
const MaxDepth = 40

// maxTagNumber bounds high-tag-number forms so that a tag never overflows.
const maxTagNumber = 1 << 24

// ErrTruncated reports an element whose header or contents run past the end
// of the input.
var ErrTruncated = errors.New("cms: truncated ASN.1 element")

// Element is one BER-encoded TLV as it appears in the input. Raw and Body
// alias the input: nothing is copied, so signatures can be checked over the
// exact bytes the signer produced.
type Element struct {
	Class       int
	Tag         int
	Constructed bool
	// Indefinite is true when the length octet was 0x80 and the contents
	// end with an end-of-contents marker (BER only).
	Indefinite bool
	// Raw is the whole encoding: identifier, length, contents and, for the
	// indefinite form, the end-of-contents octets.
	Raw []byte
	// Body is the contents octets (without the end-of-contents octets).
	Body []byte
}

// Is reports whether e has the given class and tag number.
func (e Element) Is(class, tag int) bool { return e.Class == class && e.Tag == tag }

// IsUniversal reports whether e is a universal-class element with the given tag.
func (e Element) IsUniversal(tag int) bool { return e.Is(ClassUniversal, tag) }

// String names the element for error messages.
func (e Element) String() string {
	cls := [...]string{"UNIVERSAL", "APPLICATION", "CONTEXT", "PRIVATE"}[e.Class&3]
	return fmt.Sprintf("%s %d (constructed=%v, %d bytes)", cls, e.Tag, e.Constructed, len(e.Raw))
}

// ParseElement reads one element from the start of b and returns it with
// the remaining bytes.
func ParseElement(b []byte) (Element, []byte, error) {
	return parseElement(b, 0)
}

// ParseOne reads exactly one element that must fill b completely.
func ParseOne(b []byte) (Element, error) {
	e, rest, err := parseElement(b, 0)
	if err != nil {
		return Element{}, err
	}
	if len(rest) != 0 {
		return Element{}, fmt.Errorf("cms: %d bytes of trailing data after %s", len(rest), e)
	}
	return e, nil
}

func parseElement(b []byte, depth int) (Element, []byte, error) {
	if depth > MaxDepth {
		return Element{}, nil, fmt.Errorf("cms: ASN.1 nesting deeper than %d", MaxDepth)
	}
	if len(b) < 2 {
		return Element{}, nil, ErrTruncated
	}
	var e Element
	id := b[0]
	e.Class = int(id >> 6)
	e.Constructed = id&0x20 != 0
	e.Tag = int(id & 0x1f)
	off := 1
	if e.Tag == 0x1f {
		e.Tag = 0
		for {
			if off >= len(b) {
				return Element{}, nil, ErrTruncated
			}
			c := b[off]
			off++
			e.Tag = e.Tag<<7 | int(c&0x7f)
			if e.Tag > maxTagNumber {
				return Element{}, nil, errors.New("cms: ASN.1 tag number too large")
			}
			if c&0x80 == 0 {
				break
			}
		}
	}
	if off >= len(b) {
		return Element{}, nil, ErrTruncated
	}
	lb := b[off]
	off++
	switch {
	case lb < 0x80:
		return finishDefinite(e, b, off, int(lb))
	case lb == 0x80:
		if !e.Constructed {
			return Element{}, nil, errors.New("cms: indefinite length on a primitive ASN.1 element")
		}
		e.Indefinite = true
		start := off
		rest := b[off:]
		for {
			if len(rest) >= 2 && rest[0] == 0 && rest[1] == 0 {
				end := len(b) - len(rest)
				e.Body = b[start:end]
				e.Raw = b[:end+2]
				return e, b[end+2:], nil
			}
			if len(rest) == 0 {
				return Element{}, nil, ErrTruncated
			}
			var err error
			_, rest, err = parseElement(rest, depth+1)
			if err != nil {
				return Element{}, nil, err
			}
		}
	case lb == 0xff:
		return Element{}, nil, errors.New("cms: reserved ASN.1 length octet 0xff")
	default:
		n := int(lb & 0x7f)
		if n > 4 {
			return Element{}, nil, errors.New("cms: ASN.1 length does not fit in 32 bits")
		}
		if off+n > len(b) {
			return Element{}, nil, ErrTruncated
		}
		l := 0
		for _, c := range b[off : off+n] {
			l = l<<8 | int(c)
		}
		if l < 0 || l > 1<<31-1 {
			return Element{}, nil, errors.New("cms: ASN.1 length too large")
		}
		return finishDefinite(e, b, off+n, l)
	}
}

func finishDefinite(e Element, b []byte, off, l int) (Element, []byte, error) {
	if l > len(b)-off {
		return Element{}, nil, ErrTruncated
	}
	e.Body = b[off : off+l]
	e.Raw = b[:off+l]
	return e, b[off+l:], nil
}

// Children parses the contents of a constructed element into its elements.
func (e Element) Children() ([]Element, error) {
	if !e.Constructed {
		return nil, fmt.Errorf("cms: %s is not constructed", e)
	}
	var out []Element
	rest := e.Body
	for len(rest) > 0 {
		c, r, err := parseElement(rest, 1)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		rest = r
	}
	return out, nil
}

// OctetString returns the value of an OCTET STRING, concatenating the
// segments of the BER constructed form. The tag is not checked so that
// implicitly tagged strings can be read too.
func (e Element) OctetString() ([]byte, error) {
	if !e.Constructed {
		return e.Body, nil
	}
	var buf bytes.Buffer
	if err := appendSegments(&buf, e, 0); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func appendSegments(buf *bytes.Buffer, e Element, depth int) error {
	if depth > MaxDepth {
		return errors.New("cms: constructed string nested too deeply")
	}
	if !e.Constructed {
		buf.Write(e.Body)
		return nil
	}
	kids, err := e.Children()
	if err != nil {
		return err
	}
	for _, k := range kids {
		if !k.IsUniversal(TagOctetString) {
			return fmt.Errorf("cms: segment of a constructed OCTET STRING is %s", k)
		}
		if err := appendSegments(buf, k, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// IsDER reports whether the element and all its descendants use definite
// lengths in the minimal form and primitive strings. It does not check the
// order of SET OF members.
func (e Element) IsDER() bool {
	return isDER(e, 0)
}

func isDER(e Element, depth int) bool {
	if e.Indefinite || depth > MaxDepth {
		return false
	}
	// Compare the header with the minimal one for this length.
	hdr := len(e.Raw) - len(e.Body)
	if hdr != len(header(e.Class, e.Tag, e.Constructed, len(e.Body))) {
		return false
	}
	if !e.Constructed {
		return true
	}
	if e.Class == ClassUniversal && stringTag(e.Tag) {
		return false // DER strings are primitive (X.690, 10.2)
	}
	kids, err := e.Children()
	if err != nil {
		return false
	}
	for _, k := range kids {
		if !isDER(k, depth+1) {
			return false
		}
	}
	return true
}

// ToDER re-encodes a BER element with definite, minimal lengths and with
// constructed OCTET STRINGs flattened. SET OF members keep their order: a
// signer who signed an unsorted set signed those bytes.
func (e Element) ToDER() ([]byte, error) {
	if e.IsDER() {
		return e.Raw, nil
	}
	return toDER(e, 0)
}

func toDER(e Element, depth int) ([]byte, error) {
	if depth > MaxDepth {
		return nil, errors.New("cms: ASN.1 nesting too deep")
	}
	if !e.Constructed {
		return Encode(e.Class, e.Tag, false, e.Body), nil
	}
	if e.Class == ClassUniversal && stringTag(e.Tag) {
		v, err := flatten(e, e.Tag, 0)
		if err != nil {
			return nil, err
		}
		return Encode(e.Class, e.Tag, false, v), nil
	}
	kids, err := e.Children()
	if err != nil {
		return nil, err
	}
	var body []byte
	for _, k := range kids {
		d, err := toDER(k, depth+1)
		if err != nil {
			return nil, err
		}
		body = append(body, d...)
	}
	return Encode(e.Class, e.Tag, true, body), nil
}

// stringTag reports whether a universal tag is a string type, which BER
// may encode in constructed segments (X.690, 8.21).
func stringTag(tag int) bool {
	switch tag {
	case TagBitString, TagOctetString, TagUTF8String, 18, 19, 20, 21, 22, 25, 26, 27, 28, 30:
		return true
	}
	return false
}

// flatten concatenates the segments of a constructed string, each of
// which must carry the string's own tag (X.690, 8.21). BIT STRING segments
// each start with an unused-bits octet; only the last may leave bits unused
// (8.6.4), and the result carries that one octet.
func flatten(e Element, tag, depth int) ([]byte, error) {
	var segs [][]byte
	if err := collectSegments(e, tag, depth, &segs); err != nil {
		return nil, err
	}
	if tag != TagBitString {
		return bytes.Join(segs, nil), nil
	}
	out := []byte{0}
	for i, seg := range segs {
		if len(seg) == 0 || seg[0] > 7 || (seg[0] != 0 && (i != len(segs)-1 || len(seg) == 1)) {
			return nil, errors.New("cms: malformed BIT STRING segment")
		}
		out[0] = seg[0]
		out = append(out, seg[1:]...)
	}
	return out, nil
}

func collectSegments(e Element, tag, depth int, segs *[][]byte) error {
	if depth > MaxDepth {
		return errors.New("cms: constructed string nested too deeply")
	}
	if !e.Constructed {
		*segs = append(*segs, e.Body)
		return nil
	}
	kids, err := e.Children()
	if err != nil {
		return err
	}
	for _, k := range kids {
		if !k.IsUniversal(tag) {
			return fmt.Errorf("cms: segment of a constructed string is %s", k)
		}
		if err := collectSegments(k, tag, depth+1, segs); err != nil {
			return err
		}
	}
	return nil
}

// header returns the DER identifier and length octets.
func header(class, tag int, constructed bool, n int) []byte {
	var h []byte
	id := byte(class << 6)
	if constructed {
		id |= 0x20
	}
	if tag < 31 {
		h = append(h, id|byte(tag))
	} else {
		h = append(h, id|0x1f)
		var t []byte
		for v := tag; ; v >>= 7 {
			t = append([]byte{byte(v & 0x7f)}, t...)
			if v < 0x80 {
				break
			}
		}
		for i := 0; i < len(t)-1; i++ {
			t[i] |= 0x80
		}
		h = append(h, t...)
	}
	switch {
	case n < 0x80:
		h = append(h, byte(n))
	case n < 1<<8:
		h = append(h, 0x81, byte(n))
	case n < 1<<16:
		h = append(h, 0x82, byte(n>>8), byte(n))
	case n < 1<<24:
		h = append(h, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		h = append(h, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return h
}

// Header returns the DER identifier and length octets of an element whose
// contents are n bytes long. The signer uses it to write an encapsulated
// content of known length without holding it in memory.
func Header(class, tag int, constructed bool, n int) []byte {
	return header(class, tag, constructed, n)
}

// Encode returns the DER encoding of an element with the given contents.
func Encode(class, tag int, constructed bool, body []byte) []byte {
	h := header(class, tag, constructed, len(body))
	out := make([]byte, 0, len(h)+len(body))
	return append(append(out, h...), body...)
}

// Sequence returns the DER encoding of a SEQUENCE of already encoded parts.
func Sequence(parts ...[]byte) []byte {
	return Encode(ClassUniversal, TagSequence, true, bytes.Join(parts, nil))
}

// SetOf returns the DER encoding of a SET OF already encoded members, sorted
// as DER requires (X.690, 11.6).
func SetOf(members ...[]byte) []byte {
	sorted := append([][]byte(nil), members...)
	sortDER(sorted)
	return Encode(ClassUniversal, TagSet, true, bytes.Join(sorted, nil))
}

// Explicit wraps encoded parts in a constructed context-specific tag.
func Explicit(tag int, parts ...[]byte) []byte {
	return Encode(ClassContext, tag, true, bytes.Join(parts, nil))
}

// Implicit replaces the identifier octet of a DER element with a
// context-specific tag, keeping its constructed bit and contents.
func Implicit(tag int, der []byte) ([]byte, error) {
	e, err := ParseOne(der)
	if err != nil {
		return nil, err
	}
	return Encode(ClassContext, tag, e.Constructed, e.Body), nil
}

func sortDER(m [][]byte) {
	// Insertion sort: sets here hold a handful of members.
	for i := 1; i < len(m); i++ {
		for j := i; j > 0 && bytes.Compare(m[j-1], m[j]) > 0; j-- {
			m[j-1], m[j] = m[j], m[j-1]
		}
	}
}
