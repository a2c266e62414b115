package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyEvidenceReplay verifies a batch online (revocation fetched
// from the test PKI's OCSP responder and CRL distribution points) into an
// evidence bundle, turns the network off and replays the bundle with
// --offline --evidence-in: every verdict comes out as recorded. A tampered
// bundle and a replay mixed with other material are refused.
func TestVerifyEvidenceReplay(t *testing.T) {
	b := newBatchPKI(t)
	dir := filepath.Join(t.TempDir(), "teczka")
	b.signFile(t, filepath.Join(dir, "wniosek.p7m"), false, b.rsa)
	b.signFile(t, filepath.Join(dir, "deklaracja.xml"), true, b.ec)
	b.signFile(t, filepath.Join(dir, "odwolany.xml"), true, b.revoked)
	bundle := filepath.Join(t.TempDir(), "dowody.zip")

	stdout, stderr, code := runESig(t, "verify", "--trust", b.TrustFile(), "--format", "json", "--evidence", bundle, dir)
	if code != 1 {
		t.Fatalf("online run: exit %d, want 1 (one revoked)\n%s", code, stderr)
	}
	_, online := jsonLines(t, stdout)

	// The bundle kept what was fetched, per input, with its URL.
	zr, err := zip.OpenReader(bundle)
	if err != nil {
		t.Fatal(err)
	}
	var manifest struct {
		Inputs []struct {
			Path    string
			Fetched []struct{ Kind, Source string }
		}
	}
	for _, f := range zr.File {
		if f.Name == "manifest.json" {
			rc, _ := f.Open()
			json.NewDecoder(rc).Decode(&manifest)
			rc.Close()
		}
	}
	zr.Close()
	if len(manifest.Inputs) != 3 {
		t.Fatalf("manifest inputs: %+v", manifest.Inputs)
	}
	for _, in := range manifest.Inputs {
		if len(in.Fetched) == 0 || !strings.HasPrefix(in.Fetched[0].Source, b.URL) {
			t.Errorf("%s: fetched %+v, want data from %s", in.Path, in.Fetched, b.URL)
		}
	}

	// Network off: nothing answers at the PKI's URLs any more.
	b.Server.Close()

	stdout, stderr, code = runESig(t, "verify", "--offline", "--evidence-in", bundle, "--format", "json")
	if code != 1 {
		t.Fatalf("replay: exit %d, want 1\n%s", code, stderr)
	}
	_, replayed := jsonLines(t, stdout)
	if len(replayed) != 3 {
		t.Fatalf("replayed %d files", len(replayed))
	}
	for f, ind := range online {
		if replayed[f] != ind {
			t.Errorf("%s: replayed %s, online %s", f, replayed[f], ind)
		}
	}
	if !strings.Contains(stderr, "3 of 3 verdicts reproduced as recorded") {
		t.Errorf("replay does not say the verdicts were reproduced:\n%s", stderr)
	}

	// Years later the same material no longer proves the same thing, and
	// the replay says so.
	_, stderr, _ = runESig(t, "verify", "--evidence-in", bundle, "--at", "2035-01-01T00:00:00Z", "--format", "json")
	if !strings.Contains(stderr, "not reproduced") {
		t.Errorf("a replay at another time reproduced everything:\n%s", stderr)
	}

	tampered := filepath.Join(t.TempDir(), "zmienione.zip")
	alterEntry(t, bundle, tampered, "inputs/wniosek.p7m")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"tampered bundle", []string{"verify", "--offline", "--evidence-in", tampered}, "entry inputs/wniosek.p7m does not match its SHA-256"},
		{"other anchors", []string{"verify", "--evidence-in", bundle, "--trust", b.TrustFile()}, "--trust cannot be used with --evidence-in"},
		{"a file besides the bundle", []string{"verify", "--evidence-in", bundle, filepath.Join(dir, "wniosek.p7m")}, "name no FILE"},
		{"not a bundle", []string{"verify", "--evidence-in", filepath.Join(dir, "wniosek.p7m")}, "not a zip"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runESig(t, tc.args...)
			if code != 64 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, want 64 with %q\n%s", code, tc.want, stderr)
			}
		})
	}
}

// alterEntry copies the zip at from to to with one byte of entry changed.
func alterEntry(t *testing.T, from, to, entry string) {
	t.Helper()
	zr, err := zip.OpenReader(from)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	found := false
	for _, f := range zr.File {
		rc, _ := f.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == entry {
			data[len(data)/2] ^= 1
			found = true
		}
		w, _ := zw.Create(f.Name)
		w.Write(data)
	}
	zw.Close()
	if !found {
		t.Fatalf("no entry %s in the bundle", entry)
	}
	if err := os.WriteFile(to, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
