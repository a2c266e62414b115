package evidence

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// Limits on what Read accepts: a bundle is read into memory, and a zip
// can claim anything about its sizes.
const (
	MaxEntrySize  = 1 << 30
	MaxBundleSize = 4 << 30
	MaxEntries    = 1 << 20
)

// Bundle is a bundle whose every entry matched its manifest.
type Bundle struct {
	Manifest Manifest
	files    map[string][]byte
}

// Open reads and checks the bundle in the file at path.
func Open(path string) (*Bundle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	return Read(f, fi.Size())
}

// Read reads a bundle and checks it: the manifest must be of a known
// format, every entry it refers to must be among its Files, every entry of
// the zip must be listed there, and each must have the size and SHA-256
// listed. The first discrepancy is the error, naming the entry.
func Read(r io.ReaderAt, size int64) (*Bundle, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("evidence: not a zip: %w", err)
	}
	if len(zr.File) > MaxEntries {
		return nil, fmt.Errorf("evidence: %d entries, more than %d", len(zr.File), MaxEntries)
	}
	files := map[string][]byte{}
	var total int64
	for _, f := range zr.File {
		if _, dup := files[f.Name]; dup {
			return nil, fmt.Errorf("evidence: entry %s appears twice", f.Name)
		}
		if f.UncompressedSize64 > MaxEntrySize {
			return nil, fmt.Errorf("evidence: entry %s is larger than %d bytes", f.Name, MaxEntrySize)
		}
		total += int64(f.UncompressedSize64)
		if total > MaxBundleSize {
			return nil, fmt.Errorf("evidence: bundle holds more than %d bytes", int64(MaxBundleSize))
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("evidence: entry %s: %w", f.Name, err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, int64(f.UncompressedSize64)+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("evidence: entry %s: %w", f.Name, err)
		}
		if uint64(len(b)) != f.UncompressedSize64 {
			return nil, fmt.Errorf("evidence: entry %s is not the size its zip header says", f.Name)
		}
		files[f.Name] = b
	}
	mb, ok := files[ManifestName]
	if !ok {
		return nil, fmt.Errorf("evidence: no %s", ManifestName)
	}
	b := &Bundle{files: files}
	dec := json.NewDecoder(bytes.NewReader(mb))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b.Manifest); err != nil {
		return nil, fmt.Errorf("evidence: %s: %w", ManifestName, err)
	}
	if b.Manifest.Format != FormatV1 {
		return nil, fmt.Errorf("evidence: %s: format %q, this esig reads %q", ManifestName, b.Manifest.Format, FormatV1)
	}
	if err := b.check(); err != nil {
		return nil, err
	}
	return b, nil
}

// check matches the entries against the manifest.
func (b *Bundle) check() error {
	listed := map[string]bool{ManifestName: true}
	for _, f := range b.Manifest.Files {
		if listed[f.Name] {
			return fmt.Errorf("evidence: %s lists %s twice", ManifestName, f.Name)
		}
		listed[f.Name] = true
		data, ok := b.files[f.Name]
		if !ok {
			return fmt.Errorf("evidence: entry %s is in the manifest but not in the bundle", f.Name)
		}
		sum := sha256.Sum256(data)
		if int64(len(data)) != f.Size || hex.EncodeToString(sum[:]) != f.SHA256 {
			return fmt.Errorf("evidence: entry %s does not match its SHA-256 in the manifest: the bundle was altered", f.Name)
		}
	}
	for name := range b.files {
		if !listed[name] {
			return fmt.Errorf("evidence: entry %s is not in the manifest", name)
		}
	}
	m := &b.Manifest
	refs := []string{m.Anchors, m.Intermediates, m.Options.ValidationPolicy, m.Options.CryptoPolicy}
	for _, d := range m.Detached {
		refs = append(refs, d.Entry)
	}
	for _, r := range m.Revocation {
		refs = append(refs, r.Entry)
	}
	for _, l := range m.TrustedLists {
		refs = append(refs, l.Entry, l.Signer)
	}
	for _, in := range m.Inputs {
		refs = append(refs, in.Entry, in.ReportJSON, in.ReportETSI)
		for _, r := range in.Fetched {
			refs = append(refs, r.Entry)
		}
	}
	for _, r := range refs {
		if r != "" && (r == ManifestName || !listed[r]) {
			return fmt.Errorf("evidence: %s refers to %s, which is not among its files", ManifestName, r)
		}
	}
	for _, in := range m.Inputs {
		sum := sha256.Sum256(b.files[in.Entry])
		if hex.EncodeToString(sum[:]) != in.SHA256 {
			return fmt.Errorf("evidence: input %s does not match its SHA-256 in the manifest", in.Path)
		}
	}
	return nil
}

// File returns the content of an entry, nil if there is none.
func (b *Bundle) File(name string) []byte { return b.files[name] }
