package pades

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"esig/verifier/pades/padestest"
)

// FuzzLocate feeds the signature locator hostile PDFs. It must not panic,
// and whatever it accepts as sound must really be sound: a ByteRange from
// the start of the file, a hole holding exactly a hexadecimal string, an
// end at a revision's end. The comparison of revisions runs too.
func FuzzLocate(f *testing.F) {
	f.Add([]byte("%PDF-1.7\n%%EOF\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		doc, err := Locate(data)
		if err != nil {
			return
		}
		for _, s := range doc.Signatures {
			if s.Err != nil {
				continue
			}
			br := s.ByteRange
			if len(br) != 4 || br[0] != 0 || br[1] <= 0 || br[2] <= br[1] || br[2]+br[3] > int64(len(data)) {
				t.Fatalf("unsound ByteRange %v accepted", br)
			}
			hole := data[br[1]:br[2]]
			if hole[0] != '<' || hole[len(hole)-1] != '>' || !isHex(hole[1:len(hole)-1]) {
				t.Fatalf("hole %q accepted", hole)
			}
			if s.Revision < 0 || s.Revision >= len(doc.Revisions) {
				t.Fatalf("revision %d of %d", s.Revision, len(doc.Revisions))
			}
			signed, err := doc.Revisions[s.Revision].context(data)
			if err != nil {
				t.Fatalf("a sound signature's revision cannot be read: %v", err)
			}
			final, _ := doc.final.context(data)
			judge(s, changes(signed, final))
		}
	})
}

// TestWriteFuzzSeeds regenerates the committed seed corpus of FuzzLocate
// from generated documents (no third-party PDF). Hand-signed seeds carry a
// two-byte stand-in for the signature, so that they stay small: the
// locator does not verify it. It runs only with ESIG_WRITE_FUZZ_SEEDS=1.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("ESIG_WRITE_FUZZ_SEEDS") != "1" {
		t.Skip("set ESIG_WRITE_FUZZ_SEEDS=1 to regenerate the fuzz seed corpus")
	}
	e := newEnv(t)
	table := padestest.Document(t, padestest.Spec{Pages: []string{"A", "B"}, Field: "x"})
	stream := padestest.Document(t, padestest.Spec{Pages: []string{"A"}, XRefStream: true})
	stub := padestest.Sig{Contents: []byte{0x30, 0x00}, Reserve: 4}
	sound := e.handSign(t, table, stub)
	lying := stub
	lying.ByteRange = func(f []byte, a, b int64) []int64 { return []int64{0, a, b + 3, int64(len(f)) - b - 3} }
	seeds := map[string][]byte{
		"unsigned-table":  table,
		"unsigned-stream": stream,
		"signed-stream":   e.handSign(t, stream, stub),
		"signed":          sound,
		"lying-byterange": e.handSign(t, table, lying),
		"page-replaced":   replacePageContent(t, sound, 1, "C"),
		"field-filled":    fillField(t, sound, "y"),
		"twice-signed":    e.handSign(t, sound, stub),
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzLocate")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range seeds {
		var b bytes.Buffer
		fmt.Fprintf(&b, "go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(data)))
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
