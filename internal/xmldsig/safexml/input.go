package safexml

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/ianaindex"
)

var encodingDecl = regexp.MustCompile(`^<\?xml\s+version\s*=\s*["']1\.[0-9]+["'](?:\s+encoding\s*=\s*["']([A-Za-z][A-Za-z0-9._-]*)["'])?(?:\s+standalone\s*=\s*["'](?:yes|no)["'])?\s*\?>`)

// decodeInput strips a UTF-8 byte order mark and converts a document whose
// XML declaration names a single-byte or legacy encoding (ISO-8859-2 and
// windows-1250 are still met in Polish public administration) to UTF-8. The
// declaration itself is ASCII, so positions in it stay valid. UTF-16 input is
// refused: no signer in scope produces it.
func decodeInput(data []byte) ([]byte, error) {
	if bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}) {
		data = data[3:]
	}
	if bytes.HasPrefix(data, []byte{0xFE, 0xFF}) || bytes.HasPrefix(data, []byte{0xFF, 0xFE}) ||
		bytes.HasPrefix(data, []byte{0, '<'}) || bytes.HasPrefix(data, []byte{'<', 0}) {
		return nil, &SyntaxError{Line: 1, Msg: "UTF-16 documents are not supported"}
	}
	if !bytes.HasPrefix(data, []byte("<?xml")) || len(data) < 6 || !isSpace(data[5]) {
		return data, nil // no XML declaration (<?xml-stylesheet?> is a PI)
	}
	end := bytes.Index(data, []byte("?>"))
	if end < 0 {
		return nil, &SyntaxError{Line: 1, Msg: "XML declaration is not closed"}
	}
	m := encodingDecl.FindSubmatch(data[:end+2])
	if m == nil {
		return nil, &SyntaxError{Line: 1, Msg: fmt.Sprintf("malformed XML declaration %q", data[:end+2])}
	}
	enc := strings.ToLower(string(m[1]))
	switch enc {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		return data, nil
	case "utf-16", "utf-16le", "utf-16be":
		return nil, &SyntaxError{Line: 1, Msg: "UTF-16 documents are not supported"}
	}
	e, err := ianaindex.IANA.Encoding(enc)
	if err != nil || e == nil {
		return nil, &SyntaxError{Line: 1, Msg: fmt.Sprintf("unsupported encoding %q", m[1])}
	}
	out, err := e.NewDecoder().Bytes(data)
	if err != nil {
		return nil, &SyntaxError{Line: 1, Msg: fmt.Sprintf("input is not valid %s: %v", m[1], err)}
	}
	return out, nil
}

// checkChars verifies in one pass that data is UTF-8 made only of XML 1.0
// characters (section 2.2), so that the tokenizer can work on bytes.
func checkChars(data []byte) error {
	line := 1
	for i := 0; i < len(data); {
		c := data[i]
		if c < 0x80 {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return &SyntaxError{Line: line, Msg: fmt.Sprintf("control character %#02x", c)}
			}
			if c == '\n' {
				line++
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			return &SyntaxError{Line: line, Msg: "invalid UTF-8"}
		}
		if !isXMLChar(r) {
			return &SyntaxError{Line: line, Msg: fmt.Sprintf("character %U is not allowed in XML", r)}
		}
		i += n
	}
	return nil
}

func isXMLChar(r rune) bool {
	switch {
	case r == 0x9 || r == 0xA || r == 0xD:
		return true
	case r >= 0x20 && r <= 0xD7FF:
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return true
	case r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}
