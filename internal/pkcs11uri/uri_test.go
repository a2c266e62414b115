package pkcs11uri

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func u64(v uint64) *uint64 { return &v }

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want URI // compared field by field, ignoring present and pinValue
		pin  string
		has  []string
	}{
		{
			name: "empty URI matches everything",
			in:   "pkcs11:",
			want: URI{},
		},
		{
			name: "scheme is case-insensitive",
			in:   "PKCS11:token=a",
			want: URI{Token: "a"},
			has:  []string{AttrToken},
		},
		{
			name: "RFC 7512 example with object and type",
			in:   "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial=",
			want: URI{
				Token:        "The Software PKCS#11 Softtoken",
				Manufacturer: "Snake Oil, Inc.",
				Model:        "1.0",
				Object:       "my-certificate",
				Type:         TypeCert,
				ID:           []byte{0x69, 0x95, 0x3e, 0x5c, 0xf4, 0xbd, 0xec, 0x91},
			},
			has: []string{AttrSerial, AttrToken, AttrID},
		},
		{
			name: "all path attributes",
			in:   "pkcs11:token=t;manufacturer=m;serial=0123;model=SoftHSM%20v2;library-manufacturer=lm;library-description=ld;library-version=2.6;slot-description=sd;slot-manufacturer=sm;slot-id=1657274747;object=ca-2026;id=%01%02;type=private",
			want: URI{
				Token: "t", Manufacturer: "m", Serial: "0123", Model: "SoftHSM v2",
				LibraryManufacturer: "lm", LibraryDescription: "ld", LibraryVersion: &Version{2, 6},
				SlotDescription: "sd", SlotManufacturer: "sm", SlotID: u64(1657274747),
				Object: "ca-2026", ID: []byte{1, 2}, Type: TypePrivate,
			},
		},
		{
			name: "library-version without minor",
			in:   "pkcs11:library-version=3",
			want: URI{LibraryVersion: &Version{3, 0}},
		},
		{
			name: "query attributes",
			in:   "pkcs11:token=esig;object=ocsp?module-path=/usr/lib/softhsm/libsofthsm2.so&module-name=libsofthsm2&pin-value=12%2634",
			want: URI{Token: "esig", Object: "ocsp", ModulePath: "/usr/lib/softhsm/libsofthsm2.so", ModuleName: "libsofthsm2"},
			pin:  "12&34",
		},
		{
			name: "pin-source file with single slash",
			in:   "pkcs11:token=a?pin-source=file:/etc/esig/token.pin",
			want: URI{Token: "a", PINSource: "/etc/esig/token.pin"},
		},
		{
			name: "pin-source file with empty authority",
			in:   "pkcs11:token=a?pin-source=file:///etc/esig/token.pin",
			want: URI{Token: "a", PINSource: "/etc/esig/token.pin"},
		},
		{
			name: "pin-source file with localhost",
			in:   "pkcs11:token=a?pin-source=file://localhost/run/pin",
			want: URI{Token: "a", PINSource: "/run/pin"},
		},
		{
			name: "pin-source relative file",
			in:   "pkcs11:token=a?pin-source=file:secrets/pin",
			want: URI{Token: "a", PINSource: "secrets/pin"},
		},
		{
			name: "vendor attributes kept",
			in:   "pkcs11:token=a;x-vendor-thing=v%20w?x-other=1/2",
			want: URI{Token: "a", VendorPath: map[string]string{"x-vendor-thing": "v w"}, VendorQuery: map[string]string{"x-other": "1/2"}},
		},
		{
			name: "reserved characters allowed unencoded in the path",
			in:   "pkcs11:object=a:b@c!$'()*+,=&[x]",
			want: URI{Object: "a:b@c!$'()*+,=&[x]"},
		},
		{
			name: "query may hold / ? | unencoded",
			in:   "pkcs11:?module-path=/opt/a|b?c",
			want: URI{ModulePath: "/opt/a|b?c"},
		},
		{
			name: "UTF-8 label",
			in:   "pkcs11:token=Urz%C4%85d",
			want: URI{Token: "Urząd"},
		},
		{
			name: "empty query after question mark",
			in:   "pkcs11:token=a?",
			want: URI{Token: "a"},
		},
		{
			name: "id with raw bytes that are not UTF-8",
			in:   "pkcs11:id=%FF%00%80",
			want: URI{ID: []byte{0xff, 0x00, 0x80}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got.PINValue() != tt.pin {
				t.Errorf("PINValue = %q, want %q", got.PINValue(), tt.pin)
			}
			for _, a := range tt.has {
				if !got.Has(a) {
					t.Errorf("Has(%q) = false", a)
				}
			}
			cmp := *got
			cmp.present, cmp.pinValue = nil, ""
			if !reflect.DeepEqual(cmp, tt.want) {
				t.Errorf("Parse(%q)\n got %#v\nwant %#v", tt.in, fieldsOf(cmp), fieldsOf(tt.want))
			}
		})
	}
}

// fieldsOf prints the exported fields, since URI's own formatting is the
// canonical string and would hide which field differs.
func fieldsOf(u URI) string {
	type plain URI
	return fmt.Sprintf("%+v", plain(u))
}

func TestParseMalformed(t *testing.T) {
	tests := []struct {
		name string
		in   string
		attr string // Error.Attr expected
		msg  string // substring of the message
	}{
		{"no scheme", "token=a", "", "must start with"},
		{"other scheme", "file:/etc/key.pem", "", "must start with"},
		{"duplicate path attribute", "pkcs11:token=a;token=b", AttrToken, "more than once"},
		{"duplicate query attribute", "pkcs11:?module-path=/a&module-path=/b", AttrModulePath, "more than once"},
		{"duplicate vendor attribute", "pkcs11:x-a=1;x-a=2", "x-a", "more than once"},
		{"unknown attribute", "pkcs11:tokn=a", "tokn", "unknown attribute"},
		{"unknown query attribute", "pkcs11:?pin=1234", "pin", "unknown attribute"},
		{"upper-case name", "pkcs11:Token=a", "Token", "lower-case"},
		{"query attribute in path", "pkcs11:pin-value=1234", AttrPINValue, "belongs in the query"},
		{"path attribute in query", "pkcs11:?object=a", AttrObject, "belongs in the path"},
		{"missing equals", "pkcs11:token", AttrToken, "missing '='"},
		{"empty attribute", "pkcs11:token=a;;object=b", "", "empty attribute"},
		{"trailing separator", "pkcs11:token=a;", "", "empty attribute"},
		{"empty name", "pkcs11:=a", "", "empty name"},
		{"truncated percent", "pkcs11:object=a%2", AttrObject, "bad percent-encoding"},
		{"percent at end", "pkcs11:object=a%", AttrObject, "bad percent-encoding"},
		{"non-hex percent", "pkcs11:id=%zz", AttrID, "bad percent-encoding"},
		{"space unencoded", "pkcs11:token=My Token", AttrToken, "must be percent-encoded"},
		{"slash unencoded in path", "pkcs11:object=a/b", AttrObject, "must be percent-encoded in the path"},
		{"ampersand unencoded in query", "pkcs11:?module-path=/a&b", "b", "missing '='"},
		{"fragment", "pkcs11:token=a#frag", "", "no fragment"},
		{"bad type", "pkcs11:type=secret", AttrType, "not one of"},
		{"slot-id not a number", "pkcs11:slot-id=0x10", AttrSlotID, "not a decimal number"},
		{"slot-id negative", "pkcs11:slot-id=-1", AttrSlotID, "not a decimal number"},
		{"slot-id too large", "pkcs11:slot-id=18446744073709551616", AttrSlotID, "out of range"},
		{"library-version bad", "pkcs11:library-version=2.x", AttrLibraryVersion, "major[.minor]"},
		{"library-version too big", "pkcs11:library-version=256", AttrLibraryVersion, "major[.minor]"},
		{"library-version empty minor", "pkcs11:library-version=2.", AttrLibraryVersion, "major[.minor]"},
		{"pin-source http", "pkcs11:?pin-source=https://example.com/pin", AttrPINSource, "only file: sources"},
		{"pin-source command", "pkcs11:?pin-source=%7Ccat%20pin", AttrPINSource, "must be a file: URI"},
		{"pin-source bare path", "pkcs11:?pin-source=/etc/pin", AttrPINSource, "must be a file: URI"},
		{"pin-source remote host", "pkcs11:?pin-source=file://server/pin", AttrPINSource, "host"},
		{"pin-source empty file", "pkcs11:?pin-source=file:", AttrPINSource, "names no file"},
		{"pin-source and pin-value", "pkcs11:?pin-source=file:/p&pin-value=1", AttrPINSource, "not both"},
		{"module-name with slash", "pkcs11:?module-name=/usr/lib/x.so", AttrModuleName, "bare module name"},
		{"empty module-path", "pkcs11:?module-path=", AttrModulePath, "empty path"},
		{"token label too long", "pkcs11:token=" + strings.Repeat("a", 33), AttrToken, "at most 32"},
		{"invalid UTF-8 label", "pkcs11:object=%FF", AttrObject, "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want an error", tt.in, u)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Parse(%q) error %q does not contain %q", tt.in, err, tt.msg)
			}
			if errors.Is(err, ErrNotPKCS11) {
				if tt.attr != "" {
					t.Errorf("got ErrNotPKCS11, want an error about %q", tt.attr)
				}
				return
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is %T, want *Error", err, err)
			}
			if pe.Attr != tt.attr {
				t.Errorf("Error.Attr = %q, want %q", pe.Attr, tt.attr)
			}
		})
	}
}

func TestPINValueNeverPrinted(t *testing.T) {
	const secret = "s3cr3t-PIN"
	u, err := Parse("pkcs11:token=a;object=b?pin-value=" + secret + "&module-path=/m.so")
	if err != nil {
		t.Fatal(err)
	}
	if u.PINValue() != secret {
		t.Fatalf("PINValue = %q", u.PINValue())
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{u, *u} {
			if s := fmt.Sprintf(format, v); strings.Contains(s, secret) {
				t.Errorf("fmt %s of %T prints the PIN: %s", format, v, s)
			}
		}
	}
	if s := u.String(); s != "pkcs11:token=a;object=b?module-path=/m.so" {
		t.Errorf("String() = %q", s)
	}
	// Errors about pin-value must not echo it either.
	_, err = Parse("pkcs11:?pin-value=" + secret + "%zz")
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("error for a bad pin-value = %v; want an error without the PIN", err)
	}
}

func TestStringRoundTrip(t *testing.T) {
	inputs := []string{
		"pkcs11:",
		"pkcs11:token=Urz%C4%85d%20Celny;serial=1234;object=ca%3B1;id=%00%FF;type=private",
		"pkcs11:library-version=1;slot-id=7?module-name=libsofthsm2&module-path=/usr/lib/softhsm/libsofthsm2.so",
		"pkcs11:object=a%26b?pin-source=file:/etc/pin%20file",
		"pkcs11:token=;x-b=2;x-a=1?x-q=%3F",
	}
	for _, in := range inputs {
		u, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		s := u.String()
		again, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(String()) of %q = %q: %v", in, s, err)
		}
		if again.String() != s {
			t.Errorf("String not stable: %q then %q", s, again.String())
		}
		a, b := *u, *again
		if !reflect.DeepEqual(a, b) {
			t.Errorf("round trip of %q via %q changed the URI:\n%s\n%s", in, s, fieldsOf(a), fieldsOf(b))
		}
	}
}

func TestEscape(t *testing.T) {
	in := "a b/c?d&e;f=g%h~i.j_k-l#ą"
	got := Escape(in)
	if want := "a%20b%2Fc%3Fd%26e%3Bf%3Dg%25h~i.j_k-l%23%C4%85"; got != want {
		t.Fatalf("Escape(%q) = %q, want %q", in, got, want)
	}
	for _, where := range []component{inPath, inQuery} {
		dec, err := decode("x", got, where)
		if err != nil || !bytes.Equal(dec, []byte(in)) {
			t.Errorf("decode in %s = %q, %v; want %q", where, dec, err, in)
		}
	}
}

func TestIsPKCS11(t *testing.T) {
	for in, want := range map[string]bool{
		"pkcs11:": true, "Pkcs11:token=a": true, "pkcs11": false, "file:pkcs11:": false, "": false,
	} {
		if got := IsPKCS11(in); got != want {
			t.Errorf("IsPKCS11(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestStringOfHandBuiltURI(t *testing.T) {
	u := URI{Token: "esig ca", Object: "klucz;1", ID: []byte{0xca}, ModulePath: "/usr/lib/softhsm/libsofthsm2.so", pinValue: "1234"}
	want := "pkcs11:token=esig%20ca;object=klucz%3B1;id=%CA?module-path=/usr/lib/softhsm/libsofthsm2.so"
	if got := u.String(); got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}
