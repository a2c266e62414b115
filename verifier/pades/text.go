package pades

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// textOf decodes a PDF text string (ISO 32000-2, 7.9.2.2): UTF-16BE after
// a byte order mark, UTF-8 after one (PDF 2.0), PDFDocEncoding otherwise.
// Names such as a signer's or a reason's come this way; they are decoded
// here rather than by pdfcpu so that the bytes, which the signature
// covers, are all that decide the text.
func textOf(o types.Object) (string, bool) {
	var b []byte
	var err error
	switch v := o.(type) {
	case types.StringLiteral:
		b, err = types.Unescape(string(v))
	case types.HexLiteral:
		b, err = hexBytes([]byte(v))
	default:
		return "", false
	}
	if err != nil {
		return "", false
	}
	return decodeText(b), true
}

func decodeText(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xfe, 0xff}):
		b = b[2:]
		u := make([]uint16, 0, len(b)/2)
		for i := 0; i+1 < len(b); i += 2 {
			u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
		}
		return string(utf16.Decode(u))
	case bytes.HasPrefix(b, []byte{0xef, 0xbb, 0xbf}) && utf8.Valid(b[3:]):
		return string(b[3:])
	}
	r := make([]rune, 0, len(b))
	for _, c := range b {
		r = append(r, pdfDocRune(c))
	}
	return string(r)
}

// pdfDocHigh maps PDFDocEncoding 0x80-0x9f (ISO 32000-1, Annex D.2); the
// rest of the encoding agrees with Latin-1 where it defines a character.
var pdfDocHigh = [32]rune{
	0x2022, 0x2020, 0x2021, 0x2026, 0x2014, 0x2013, 0x0192, 0x2044,
	0x2039, 0x203a, 0x2212, 0x2030, 0x201e, 0x201c, 0x201d, 0x2018,
	0x2019, 0x201a, 0x2122, 0xfb01, 0xfb02, 0x0141, 0x0152, 0x0160,
	0x0178, 0x017d, 0x0131, 0x0142, 0x0153, 0x0161, 0x017e, 0xfffd,
}

// pdfDocLow maps PDFDocEncoding 0x18-0x1f.
var pdfDocLow = [8]rune{0x02d8, 0x02c7, 0x02c6, 0x02d9, 0x02dd, 0x02db, 0x02da, 0x02dc}

func pdfDocRune(c byte) rune {
	switch {
	case c >= 0x80 && c <= 0x9f:
		return pdfDocHigh[c-0x80]
	case c >= 0x18 && c <= 0x1f:
		return pdfDocLow[c-0x18]
	case c == 0xa0:
		return 0x20ac // the euro sign
	case c == 0xad:
		return 0xfffd
	}
	return rune(c)
}
