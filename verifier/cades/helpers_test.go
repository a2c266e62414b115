package cades

import (
	"bytes"
	"testing"

	"esig/internal/cms"
)

// flipContentByte flips the first byte of the encapsulated content in the
// file's own encoding, leaving everything else as it was.
func flipContentByte(t *testing.T, data []byte) []byte {
	t.Helper()
	sd, err := cms.ParseContentInfo(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.Content) == 0 {
		t.Fatal("no encapsulated content to tamper with")
	}
	// The content's first segment starts at the first occurrence of its
	// opening bytes after the eContentType.
	probe := sd.Content[:min(len(sd.Content), 16)]
	i := bytes.Index(data, probe)
	if i < 0 {
		t.Fatal("content not found in the encoding")
	}
	out := append([]byte(nil), data...)
	out[i] ^= 0x01
	return out
}
