package cms

import (
	"bytes"
	"testing"
)

func TestParseElement(t *testing.T) {
	cases := []struct {
		name    string
		in      []byte
		wantErr bool
		der     []byte // expected ToDER, nil to skip
		isDER   bool
	}{
		{"definite", []byte{0x30, 0x03, 0x02, 0x01, 0x05}, false, []byte{0x30, 0x03, 0x02, 0x01, 0x05}, true},
		{"indefinite", []byte{0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00}, false, []byte{0x30, 0x03, 0x02, 0x01, 0x05}, false},
		{"constructed OCTET STRING", []byte{0x24, 0x80, 0x04, 0x01, 'a', 0x04, 0x02, 'b', 'c', 0x00, 0x00}, false, []byte{0x04, 0x03, 'a', 'b', 'c'}, false},
		{"constructed BIT STRING", []byte{0x23, 0x08, 0x03, 0x02, 0x00, 0xff, 0x03, 0x02, 0x04, 0xf0}, false, []byte{0x03, 0x03, 0x04, 0xff, 0xf0}, false},
		{"non-minimal length", []byte{0x04, 0x81, 0x01, 'x'}, false, []byte{0x04, 0x01, 'x'}, false},
		{"high tag number", []byte{0x9f, 0x81, 0x00, 0x00}, false, []byte{0x9f, 0x81, 0x00, 0x00}, true},
		{"truncated header", []byte{0x30}, true, nil, false},
		{"truncated body", []byte{0x30, 0x05, 0x02}, true, nil, false},
		{"indefinite primitive", []byte{0x04, 0x80, 0x00, 0x00}, true, nil, false},
		{"unterminated indefinite", []byte{0x30, 0x80, 0x02, 0x01, 0x05}, true, nil, false},
		{"length over 32 bits", []byte{0x04, 0x85, 1, 0, 0, 0, 0}, true, nil, false},
		{"reserved length", []byte{0x04, 0xff}, true, nil, false},
		{"too deep", append(bytes.Repeat([]byte{0x30, 0x80}, MaxDepth+5), make([]byte, 2*(MaxDepth+5))...), true, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, _, err := ParseElement(c.in)
			if (err != nil) != c.wantErr {
				t.Fatalf("err %v, want error %v", err, c.wantErr)
			}
			if err != nil {
				return
			}
			if e.IsDER() != c.isDER {
				t.Errorf("IsDER %v, want %v", e.IsDER(), c.isDER)
			}
			if c.der != nil {
				d, err := e.ToDER()
				if err != nil || !bytes.Equal(d, c.der) {
					t.Errorf("ToDER %x (%v), want %x", d, err, c.der)
				}
			}
		})
	}
}

func TestSetOfSortsMembers(t *testing.T) {
	got := SetOf([]byte{0x04, 0x01, 0x02}, []byte{0x02, 0x01, 0x09}, []byte{0x04, 0x01, 0x01})
	want := []byte{0x31, 0x09, 0x02, 0x01, 0x09, 0x04, 0x01, 0x01, 0x04, 0x01, 0x02}
	if !bytes.Equal(got, want) {
		t.Fatalf("%x, want %x", got, want)
	}
}

func TestHeaderLengths(t *testing.T) {
	for _, n := range []int{0, 127, 128, 255, 256, 65535, 65536, 1 << 24, 1<<30 + 7} {
		h := Header(ClassUniversal, TagOctetString, false, n)
		e, _, err := ParseElement(append(h, make([]byte, min(n, 70000))...))
		if n <= 70000 {
			if err != nil || len(e.Body) != n {
				t.Errorf("length %d: %v, body %d", n, err, len(e.Body))
			}
		} else if err != ErrTruncated {
			t.Errorf("length %d without its body: %v, want ErrTruncated", n, err)
		}
	}
}
