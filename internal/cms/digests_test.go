package cms

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"io"
	"testing"
)

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk gone") }

func TestDigests(t *testing.T) {
	data := bytes.Repeat([]byte("podpis "), 300_000) // over one read buffer
	got, err := Digests(bytes.NewReader(data), crypto.SHA256, crypto.SHA512, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	s256, s512 := sha256.Sum256(data), sha512.Sum512(data)
	if len(got) != 2 || !bytes.Equal(got[crypto.SHA256], s256[:]) || !bytes.Equal(got[crypto.SHA512], s512[:]) {
		t.Fatalf("Digests gave %d digests, wrong or missing", len(got))
	}
	for name, tt := range map[string]struct {
		r  io.Reader
		hs []crypto.Hash
	}{
		"unavailable hash": {bytes.NewReader(data), []crypto.Hash{crypto.MD4}},
		"read error":       {failingReader{}, []crypto.Hash{crypto.SHA256}},
	} {
		if _, err := Digests(tt.r, tt.hs...); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
