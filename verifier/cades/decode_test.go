package cades_test

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"runtime"
	"strings"
	"testing"

	"esig/verifier/cades"
)

func TestDecode(t *testing.T) {
	der := []byte{0x30, 0x03, 0x02, 0x01, 0x07}
	b64 := base64.StdEncoding.EncodeToString(append(der, 0, 0)) // 7 bytes: padded
	wrapped := b64[:4] + "\r\n" + b64[4:8] + "\n\t " + b64[8:]
	tests := []struct {
		name string
		in   []byte
		want []byte // nil: an error
	}{
		{"DER", der, der},
		{"DER after white space", append([]byte("\n "), der...), append([]byte("\n "), der...)},
		{"PEM", pem.EncodeToMemory(&pem.Block{Type: "PKCS7", Bytes: der}), der},
		{"base64 with line breaks", []byte(wrapped), append(der, 0, 0)},
		{"base64 without padding", []byte(strings.TrimRight(b64, "=")), append(der, 0, 0)},
		{"base64 of something else", []byte(base64.StdEncoding.EncodeToString([]byte("hello"))), nil},
		{"base64 with a stray character", []byte(b64[:4] + "*" + b64[4:]), nil},
		{"base64 with padding inside", []byte(b64[:4] + "=" + b64[4:]), nil},
		{"binary", []byte{0x5a, 0x17, 0xc3, 0x00}, nil},
		{"empty", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cades.Decode(tt.in)
			if tt.want == nil {
				if err == nil {
					t.Fatalf("decoded %x, want an error", got)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tt.want) {
				t.Fatalf("Decode = %x, %v; want %x", got, err, tt.want)
			}
		})
	}
}

// TestDecodeRefusesBinaryWithoutCopying: a large binary file that is not
// CMS is refused without being copied (the intake takes 32 MiB documents).
func TestDecodeRefusesBinaryWithoutCopying(t *testing.T) {
	data := bytes.Repeat([]byte{0x5a, 0x17, 0xc3, 0x00}, 4<<20) // 16 MiB
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := cades.Decode(data); err == nil {
		t.Fatal("binary data decoded")
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("refusing 16 MiB of binary data allocated %d bytes", alloc)
	}
}
