// Package pkcs11uri parses RFC 7512 "pkcs11:" URIs.
//
// A PKCS#11 URI is how an operator names a key that lives on a token: which
// token (by label or serial, because slot ids are not stable), which object on
// it, and optionally which module to load and where the PIN comes from. esig
// accepts such URIs wherever a key reference is configured, so the parser is
// strict: a typo in an attribute name would otherwise silently widen the match
// to "any object on any token".
//
// The PIN may travel inside the URI (pin-value). That is convenient for tests
// and dangerous in logs, so URI.String never prints it; read it with
// URI.PINValue.
package pkcs11uri

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Scheme is the URI scheme, including the colon, that starts every PKCS#11 URI.
const Scheme = "pkcs11:"

// Attribute names defined by RFC 7512. Path attributes select a token, slot
// or object; query attributes say how to reach them.
const (
	AttrToken               = "token"
	AttrManufacturer        = "manufacturer"
	AttrSerial              = "serial"
	AttrModel               = "model"
	AttrLibraryManufacturer = "library-manufacturer"
	AttrLibraryDescription  = "library-description"
	AttrLibraryVersion      = "library-version"
	AttrSlotDescription     = "slot-description"
	AttrSlotManufacturer    = "slot-manufacturer"
	AttrSlotID              = "slot-id"
	AttrObject              = "object"
	AttrID                  = "id"
	AttrType                = "type"

	AttrPINSource  = "pin-source"
	AttrPINValue   = "pin-value"
	AttrModuleName = "module-name"
	AttrModulePath = "module-path"
)

// ObjectType is the value of the type attribute: the PKCS#11 object class.
type ObjectType string

// The object classes RFC 7512 names.
const (
	TypePublic    ObjectType = "public"
	TypePrivate   ObjectType = "private"
	TypeCert      ObjectType = "cert"
	TypeSecretKey ObjectType = "secret-key"
	TypeData      ObjectType = "data"
)

// Version is a library-version value, "major" or "major.minor"; a missing
// minor number means 0, as RFC 7512 says.
type Version struct {
	Major, Minor uint8
}

// URI is a parsed PKCS#11 URI. Empty string fields and nil pointers mean the
// attribute was absent, except that an attribute given with an empty value
// ("object=") is also empty: use Has to tell the two apart.
type URI struct {
	// Token is the token label (CKA_LABEL of the token, CK_TOKEN_INFO.label).
	Token string
	// Manufacturer is CK_TOKEN_INFO.manufacturerID.
	Manufacturer string
	// Serial is the token serial number, CK_TOKEN_INFO.serialNumber.
	Serial string
	// Model is CK_TOKEN_INFO.model.
	Model string
	// LibraryManufacturer is CK_INFO.manufacturerID of the module.
	LibraryManufacturer string
	// LibraryDescription is CK_INFO.libraryDescription of the module.
	LibraryDescription string
	// LibraryVersion is CK_INFO.libraryVersion of the module.
	LibraryVersion *Version
	// SlotDescription is CK_SLOT_INFO.slotDescription.
	SlotDescription string
	// SlotManufacturer is CK_SLOT_INFO.manufacturerID.
	SlotManufacturer string
	// SlotID is the CK_SLOT_ID. Some modules (SoftHSM among them) assign
	// random slot ids, so prefer Token or Serial.
	SlotID *uint64
	// Object is the object label, CKA_LABEL.
	Object string
	// ID is the object identifier, CKA_ID, as raw bytes.
	ID []byte
	// Type is the object class.
	Type ObjectType

	// PINSource is the file named by a "file:" pin-source, as a path.
	PINSource string
	// ModuleName is the module's name without directory or suffix.
	ModuleName string
	// ModulePath is the file system path of the module library.
	ModulePath string

	// VendorPath holds the vendor-specific ("x-") path attributes.
	VendorPath map[string]string
	// VendorQuery holds the vendor-specific ("x-") query attributes.
	VendorQuery map[string]string

	pinValue string
	present  map[string]bool
}

// PINValue returns the pin-value attribute. It is kept out of the exported
// fields so that printing a URI with %v or %+v cannot leak it.
func (u *URI) PINValue() string { return u.pinValue }

// Has reports whether Parse saw the named standard or vendor attribute, even
// with an empty value.
func (u *URI) Has(attr string) bool { return u.present[attr] }

// ErrNotPKCS11 is returned by Parse for a string that does not start with the
// pkcs11: scheme.
var ErrNotPKCS11 = errors.New(`pkcs11uri: not a PKCS#11 URI (it must start with "pkcs11:")`)

// Error is a parse error that names the attribute at fault. It never carries
// the value of pin-value.
type Error struct {
	// Attr is the attribute name, or "" when the fault is not in one attribute.
	Attr string
	// Msg says what is wrong.
	Msg string
}

// Error formats the error as "pkcs11uri: attribute "name": message".
func (e *Error) Error() string {
	if e.Attr == "" {
		return "pkcs11uri: " + e.Msg
	}
	return fmt.Sprintf("pkcs11uri: attribute %q: %s", e.Attr, e.Msg)
}

func errorf(attr, format string, args ...any) error {
	return &Error{Attr: attr, Msg: fmt.Sprintf(format, args...)}
}

// IsPKCS11 reports whether s uses the pkcs11: scheme (case-insensitively, as
// URI schemes are). It does not check the rest.
func IsPKCS11(s string) bool {
	return len(s) >= len(Scheme) && strings.EqualFold(s[:len(Scheme)], Scheme)
}

type component int

const (
	inPath component = iota
	inQuery
)

func (c component) String() string {
	if c == inPath {
		return "path"
	}
	return "query"
}

// attrSpec says where a standard attribute may appear and, for the
// CK_*_INFO text fields, how long a value can possibly match.
type attrSpec struct {
	where  component
	maxLen int
}

var standard = map[string]attrSpec{
	AttrToken:               {inPath, 32},
	AttrManufacturer:        {inPath, 32},
	AttrSerial:              {inPath, 16},
	AttrModel:               {inPath, 16},
	AttrLibraryManufacturer: {inPath, 32},
	AttrLibraryDescription:  {inPath, 32},
	AttrLibraryVersion:      {inPath, 0},
	AttrSlotDescription:     {inPath, 64},
	AttrSlotManufacturer:    {inPath, 32},
	AttrSlotID:              {inPath, 0},
	AttrObject:              {inPath, 0},
	AttrID:                  {inPath, 0},
	AttrType:                {inPath, 0},
	AttrPINSource:           {inQuery, 0},
	AttrPINValue:            {inQuery, 0},
	AttrModuleName:          {inQuery, 0},
	AttrModulePath:          {inQuery, 0},
}

// Parse parses a PKCS#11 URI. It refuses malformed percent-encoding,
// characters RFC 7512 does not allow unencoded, repeated attributes, unknown
// attribute names that are not vendor extensions ("x-..."), attributes in the
// wrong component, and pin-source values other than file: URIs.
func Parse(s string) (*URI, error) {
	if !IsPKCS11(s) {
		return nil, ErrNotPKCS11
	}
	rest := s[len(Scheme):]
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		return nil, errorf("", "a PKCS#11 URI has no fragment, but '#' appears at offset %d", len(Scheme)+i)
	}
	path, query, hasQuery := strings.Cut(rest, "?")
	u := &URI{present: map[string]bool{}}
	if path != "" {
		for _, attr := range strings.Split(path, ";") {
			if err := u.parseAttr(attr, inPath); err != nil {
				return nil, err
			}
		}
	}
	if hasQuery && query != "" {
		for _, attr := range strings.Split(query, "&") {
			if err := u.parseAttr(attr, inQuery); err != nil {
				return nil, err
			}
		}
	}
	if u.present[AttrPINSource] && u.present[AttrPINValue] {
		return nil, errorf(AttrPINSource, "give pin-source or pin-value, not both")
	}
	return u, nil
}

func (u *URI) parseAttr(attr string, where component) error {
	name, raw, ok := strings.Cut(attr, "=")
	if attr == "" {
		return errorf("", "empty attribute in the %s (a doubled or trailing separator)", where)
	}
	if !ok {
		return errorf(printableName(name), "missing '=' and value")
	}
	if err := checkName(name); err != nil {
		return err
	}
	isVendor := strings.HasPrefix(name, "x-")
	spec, known := standard[name]
	switch {
	case isVendor:
	case !known:
		return errorf(name, "unknown attribute (vendor attributes start with \"x-\")")
	case spec.where != where:
		return errorf(name, "belongs in the %s of the URI, not the %s", spec.where, where)
	}
	if u.present[name] {
		return errorf(name, "given more than once")
	}
	u.present[name] = true

	value, err := decode(name, raw, where)
	if err != nil {
		return err
	}
	if isVendor {
		if where == inPath {
			if u.VendorPath == nil {
				u.VendorPath = map[string]string{}
			}
			u.VendorPath[name] = string(value)
		} else {
			if u.VendorQuery == nil {
				u.VendorQuery = map[string]string{}
			}
			u.VendorQuery[name] = string(value)
		}
		return nil
	}
	if name == AttrID {
		u.ID = value
		return nil
	}
	text := string(value)
	if !utf8.ValidString(text) && name != AttrPINValue {
		return errorf(name, "value is not valid UTF-8")
	}
	if spec.maxLen > 0 && len(text) > spec.maxLen {
		return errorf(name, "value is %d bytes, but PKCS#11 holds at most %d, so it can never match", len(text), spec.maxLen)
	}
	return u.set(name, text)
}

func (u *URI) set(name, v string) error {
	switch name {
	case AttrToken:
		u.Token = v
	case AttrManufacturer:
		u.Manufacturer = v
	case AttrSerial:
		u.Serial = v
	case AttrModel:
		u.Model = v
	case AttrLibraryManufacturer:
		u.LibraryManufacturer = v
	case AttrLibraryDescription:
		u.LibraryDescription = v
	case AttrLibraryVersion:
		ver, err := parseVersion(v)
		if err != nil {
			return err
		}
		u.LibraryVersion = ver
	case AttrSlotDescription:
		u.SlotDescription = v
	case AttrSlotManufacturer:
		u.SlotManufacturer = v
	case AttrSlotID:
		if v == "" || strings.TrimLeft(v, "0123456789") != "" {
			return errorf(name, "%q is not a decimal number", v)
		}
		id, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return errorf(name, "%q is out of range", v)
		}
		u.SlotID = &id
	case AttrObject:
		u.Object = v
	case AttrType:
		switch t := ObjectType(v); t {
		case TypePublic, TypePrivate, TypeCert, TypeSecretKey, TypeData:
			u.Type = t
		default:
			return errorf(name, "%q is not one of public, private, cert, secret-key, data", v)
		}
	case AttrPINSource:
		p, err := parsePINSource(v)
		if err != nil {
			return err
		}
		u.PINSource = p
	case AttrPINValue:
		u.pinValue = v
	case AttrModuleName:
		if v == "" || strings.ContainsAny(v, `/\`) {
			return errorf(name, "%q is not a bare module name (use module-path for a path)", v)
		}
		u.ModuleName = v
	case AttrModulePath:
		if v == "" {
			return errorf(name, "empty path")
		}
		u.ModulePath = v
	}
	return nil
}

func parseVersion(v string) (*Version, error) {
	major, minor, hasMinor := strings.Cut(v, ".")
	parse := func(s string) (uint8, bool) {
		if s == "" || strings.TrimLeft(s, "0123456789") != "" {
			return 0, false
		}
		n, err := strconv.ParseUint(s, 10, 8)
		return uint8(n), err == nil
	}
	var ver Version
	var ok bool
	if ver.Major, ok = parse(major); !ok {
		return nil, errorf(AttrLibraryVersion, "%q is not \"major[.minor]\" with numbers 0 to 255", v)
	}
	if hasMinor {
		if ver.Minor, ok = parse(minor); !ok {
			return nil, errorf(AttrLibraryVersion, "%q is not \"major[.minor]\" with numbers 0 to 255", v)
		}
	}
	return &ver, nil
}

// parsePINSource accepts "file:/abs/path", "file:///abs/path",
// "file://localhost/abs/path" and "file:relative/path". Other schemes are
// refused: esig never runs a program or contacts a server to learn a PIN.
func parsePINSource(v string) (string, error) {
	scheme, rest, ok := strings.Cut(v, ":")
	if !ok || strings.ContainsAny(scheme, `/\`) || len(scheme) < 2 {
		return "", errorf(AttrPINSource, "must be a file: URI such as file:/etc/esig/token.pin")
	}
	if !strings.EqualFold(scheme, "file") {
		return "", errorf(AttrPINSource, "only file: sources are supported, not %q", scheme+":")
	}
	if strings.HasPrefix(rest, "//") {
		host, p, _ := strings.Cut(rest[2:], "/")
		if host != "" && !strings.EqualFold(host, "localhost") {
			return "", errorf(AttrPINSource, "file: URI names host %q; only local files are supported", host)
		}
		rest = "/" + p
	}
	if rest == "" || rest == "/" {
		return "", errorf(AttrPINSource, "file: URI names no file")
	}
	return rest, nil
}

func printableName(name string) string {
	if len(name) > 40 {
		name = name[:40] + "..."
	}
	return strings.ToValidUTF8(name, "?")
}

// checkName enforces the RFC 7512 attribute-name grammar: lower-case letters,
// digits, '-' and '_'. Upper case is refused rather than folded so that
// "Token=" is reported instead of being taken for something it is not.
func checkName(name string) error {
	if name == "" {
		return errorf("", "attribute with an empty name")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return errorf(printableName(name), "attribute name has character %q; names are lower-case letters, digits, '-' and '_'", rune(c))
		}
	}
	return nil
}

func isUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// allowed reports whether c may appear unencoded in a value in the given
// component (RFC 7512 pk11-pchar and pk11-qchar).
func allowed(c byte, where component) bool {
	if isUnreserved(c) || strings.IndexByte(":[]@!$'()*+,=", c) >= 0 {
		return true
	}
	if where == inPath {
		return c == '&'
	}
	return c == '/' || c == '?' || c == '|'
}

func decode(name, raw string, where component) ([]byte, error) {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '%':
			if i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2]) {
				return nil, errorf(name, "bad percent-encoding at offset %d of the value (want %%XX with two hex digits)", i)
			}
			out = append(out, unhex(raw[i+1])<<4|unhex(raw[i+2]))
			i += 2
		case allowed(c, where):
			out = append(out, c)
		default:
			return nil, errorf(name, "character %q at offset %d of the value must be percent-encoded in the %s", rune(c), i, where)
		}
	}
	return out, nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// Escape percent-encodes every byte of s except RFC 3986 unreserved
// characters. The result is valid in both the path and the query of a
// PKCS#11 URI, which makes it the safe choice when building one by hand.
func Escape(s string) string {
	return escape([]byte(s), func(c byte) bool { return isUnreserved(c) })
}

func escape(b []byte, keep func(byte) bool) string {
	const hexDigits = "0123456789ABCDEF"
	var sb strings.Builder
	for _, c := range b {
		if keep(c) {
			sb.WriteByte(c)
			continue
		}
		sb.WriteByte('%')
		sb.WriteByte(hexDigits[c>>4])
		sb.WriteByte(hexDigits[c&0xf])
	}
	return sb.String()
}

// String formats the URI in a canonical attribute order, leaving out
// pin-value whatever it holds, so the result is safe to log. It prints the
// attributes Parse saw and any field set by hand. Parsing the
// result gives back the same URI minus its pin-value. The id attribute is
// always fully percent-encoded, as RFC 7512 recommends.
func (u URI) String() string {
	var path, query []string
	keepPath := func(c byte) bool { return allowed(c, inPath) && c != '=' }
	keepQuery := func(c byte) bool { return allowed(c, inQuery) && c != '=' && c != '?' }
	addPath := func(name, v string) {
		if u.present[name] || v != "" {
			path = append(path, name+"="+escape([]byte(v), keepPath))
		}
	}
	addPath(AttrToken, u.Token)
	addPath(AttrManufacturer, u.Manufacturer)
	addPath(AttrSerial, u.Serial)
	addPath(AttrModel, u.Model)
	addPath(AttrLibraryManufacturer, u.LibraryManufacturer)
	addPath(AttrLibraryDescription, u.LibraryDescription)
	if u.LibraryVersion != nil {
		path = append(path, fmt.Sprintf("%s=%d.%d", AttrLibraryVersion, u.LibraryVersion.Major, u.LibraryVersion.Minor))
	}
	addPath(AttrSlotDescription, u.SlotDescription)
	addPath(AttrSlotManufacturer, u.SlotManufacturer)
	if u.SlotID != nil {
		path = append(path, fmt.Sprintf("%s=%d", AttrSlotID, *u.SlotID))
	}
	addPath(AttrObject, u.Object)
	if u.present[AttrID] || len(u.ID) > 0 {
		path = append(path, AttrID+"="+escape(u.ID, func(byte) bool { return false }))
	}
	addPath(AttrType, string(u.Type))
	for _, k := range sortedKeys(u.VendorPath) {
		path = append(path, k+"="+escape([]byte(u.VendorPath[k]), keepPath))
	}

	addQuery := func(name, v string) {
		if u.present[name] || v != "" {
			query = append(query, name+"="+escape([]byte(v), keepQuery))
		}
	}
	if u.PINSource != "" {
		query = append(query, AttrPINSource+"="+escape([]byte("file:"+u.PINSource), keepQuery))
	}
	addQuery(AttrModuleName, u.ModuleName)
	addQuery(AttrModulePath, u.ModulePath)
	for _, k := range sortedKeys(u.VendorQuery) {
		query = append(query, k+"="+escape([]byte(u.VendorQuery[k]), keepQuery))
	}

	s := Scheme + strings.Join(path, ";")
	if len(query) > 0 {
		s += "?" + strings.Join(query, "&")
	}
	return s
}

// GoString is String, so that %#v cannot print pin-value either.
func (u URI) GoString() string { return u.String() }

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
