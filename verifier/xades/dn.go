package xades

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// attributeTypes maps the attribute type names met in X509IssuerName
// strings to their OIDs (RFC 4514 section 3 and the names in common use by
// Java, .NET and OpenSSL for the same attributes).
var attributeTypes = map[string]string{
	"CN": "2.5.4.3", "SN": "2.5.4.4", "SURNAME": "2.5.4.4", "SERIALNUMBER": "2.5.4.5", "C": "2.5.4.6",
	"L": "2.5.4.7", "ST": "2.5.4.8", "S": "2.5.4.8", "STREET": "2.5.4.9", "O": "2.5.4.10", "OU": "2.5.4.11",
	"T": "2.5.4.12", "TITLE": "2.5.4.12", "POSTALCODE": "2.5.4.17", "GIVENNAME": "2.5.4.42", "G": "2.5.4.42",
	"GN": "2.5.4.42", "INITIALS": "2.5.4.43", "GENERATIONQUALIFIER": "2.5.4.44", "DNQUALIFIER": "2.5.4.46",
	"PSEUDONYM": "2.5.4.65", "ORGANIZATIONIDENTIFIER": "2.5.4.97", "DC": "0.9.2342.19200300.100.1.25",
	"UID": "0.9.2342.19200300.100.1.1", "E": "1.2.840.113549.1.9.1", "EMAIL": "1.2.840.113549.1.9.1",
	"EMAILADDRESS": "1.2.840.113549.1.9.1",
}

// rdnValue is one attribute of a distinguished name in comparable form.
type rdnValue struct {
	oid   string
	value string // normalized: lower case, inner white space collapsed
}

// parseDN reads a distinguished name string as XAdES writes it in
// ds:X509IssuerName (RFC 4514, with the RFC 1779 leniencies still met:
// ';' separators, spaces around separators, quoted values). The result is
// in string order (most specific RDN first).
func parseDN(s string) ([][]rdnValue, error) {
	var out [][]rdnValue
	var rdn []rdnValue
	i := 0
	skipSpace := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
	}
	for {
		skipSpace()
		if i >= len(s) {
			break
		}
		// attribute type
		j := strings.IndexByte(s[i:], '=')
		if j < 0 {
			return nil, fmt.Errorf("attribute without '=' at %q", s[i:])
		}
		typ := strings.TrimSpace(s[i : i+j])
		oid, err := attributeOID(typ)
		if err != nil {
			return nil, err
		}
		i += j + 1
		skipSpace()
		// attribute value
		var val string
		switch {
		case i < len(s) && s[i] == '#':
			k := i + 1
			for k < len(s) && isHex(s[k]) {
				k++
			}
			der, err := hex.DecodeString(s[i+1 : k])
			if err != nil {
				return nil, fmt.Errorf("bad hex value for %s", typ)
			}
			var v any
			if rest, err := asn1.Unmarshal(der, &v); err != nil || len(rest) > 0 {
				return nil, fmt.Errorf("bad BER value for %s", typ)
			}
			val = fmt.Sprint(v)
			i = k
		case i < len(s) && s[i] == '"':
			k := i + 1
			var b strings.Builder
			for k < len(s) && s[k] != '"' {
				if s[k] == '\\' && k+1 < len(s) {
					k++
				}
				b.WriteByte(s[k])
				k++
			}
			if k >= len(s) {
				return nil, errors.New("unterminated quoted value")
			}
			val = b.String()
			i = k + 1
		default:
			var b []byte
			for i < len(s) && s[i] != ',' && s[i] != ';' && s[i] != '+' {
				if s[i] == '\\' {
					if i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
						n, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
						b = append(b, byte(n))
						i += 3
						continue
					}
					if i+1 >= len(s) {
						return nil, errors.New("dangling escape")
					}
					i++
				}
				b = append(b, s[i])
				i++
			}
			val = string(b)
		}
		rdn = append(rdn, rdnValue{oid: oid, value: normalizeValue(val)})
		skipSpace()
		if i >= len(s) {
			break
		}
		switch s[i] {
		case '+':
			i++
			continue
		case ',', ';':
			i++
			out = append(out, rdn)
			rdn = nil
		default:
			return nil, fmt.Errorf("unexpected %q after the value of %s", s[i], typ)
		}
	}
	if len(rdn) > 0 {
		out = append(out, rdn)
	}
	if len(out) == 0 {
		return nil, errors.New("empty name")
	}
	return out, nil
}

func attributeOID(typ string) (string, error) {
	u := strings.ToUpper(typ)
	if o, ok := attributeTypes[u]; ok {
		return o, nil
	}
	u = strings.TrimPrefix(u, "OID.")
	parts := strings.Split(u, ".")
	if len(parts) < 2 {
		return "", fmt.Errorf("unknown attribute type %q", typ)
	}
	for _, p := range parts {
		if _, err := strconv.ParseUint(p, 10, 32); err != nil {
			return "", fmt.Errorf("unknown attribute type %q", typ)
		}
	}
	return u, nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func normalizeValue(v string) string {
	return strings.ToLower(strings.Join(strings.Fields(v), " "))
}

// nameRDNs renders a DER Name in the comparable form of parseDN, in
// sequence order (least specific RDN first).
func nameRDNs(der []byte) ([][]rdnValue, error) {
	var seq pkix.RDNSequence
	if rest, err := asn1.Unmarshal(der, &seq); err != nil || len(rest) > 0 {
		return nil, errors.New("malformed Name")
	}
	var out [][]rdnValue
	for _, set := range seq {
		var rdn []rdnValue
		for _, atv := range set {
			rdn = append(rdn, rdnValue{oid: atv.Type.String(), value: normalizeValue(fmt.Sprint(atv.Value))})
		}
		out = append(out, rdn)
	}
	return out, nil
}

// sameRDNs compares two names RDN by RDN; attributes within a
// multi-valued RDN may come in any order.
func sameRDNs(a, b [][]rdnValue) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for _, x := range a[i] {
			found := false
			for _, y := range b[i] {
				if x == y {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
	}
	return true
}

// matchesDNString reports whether a parsed X509IssuerName names the DER
// Name der. The string is taken in RFC 4514 order (most specific RDN
// first) and, as some signers write it, in certificate order.
func matchesDNString(parsed [][]rdnValue, der []byte) bool {
	want, err := nameRDNs(der)
	if err != nil {
		return false
	}
	if sameRDNs(parsed, want) {
		return true
	}
	rev := make([][]rdnValue, len(parsed))
	for i := range parsed {
		rev[len(parsed)-1-i] = parsed[i]
	}
	return sameRDNs(rev, want)
}
