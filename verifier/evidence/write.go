package evidence

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"esig/verifier/report"
	"esig/verifier/revocation"
	"esig/verifier/tsl"
)

// Writer writes a bundle to a zip stream. Entries are written as they are
// added; Close writes the manifest. It is safe for concurrent use.
type Writer struct {
	mu      sync.Mutex
	zw      *zip.Writer
	m       Manifest
	entries map[string]string // entry -> SHA-256
	seq     map[string]int    // input entry -> order given to AddInput
	err     error
	closed  bool
}

// NewWriter starts a bundle on w for a verification performed as of
// validationTime with the given options.
func NewWriter(w io.Writer, validationTime time.Time, opts Options) *Writer {
	return &Writer{
		zw: zip.NewWriter(w),
		m: Manifest{Format: FormatV1, ValidationTime: validationTime.UTC(), Options: opts,
			Inputs: []Input{}, Files: []File{}},
		entries: map[string]string{},
		seq:     map[string]int{},
	}
}

// put writes one entry, once: adding the same name with the same content
// again is a no-op, with other content an error.
func (w *Writer) put(name string, data []byte) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("evidence: bundle already closed")
	}
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	if old, ok := w.entries[name]; ok {
		if old != h {
			return fmt.Errorf("evidence: two different contents for entry %s", name)
		}
		return nil
	}
	f, err := w.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: w.m.ValidationTime})
	if err == nil {
		_, err = f.Write(data)
	}
	if err != nil {
		w.err = fmt.Errorf("evidence: writing %s: %w", name, err)
		return w.err
	}
	w.entries[name] = h
	w.m.Files = append(w.m.Files, File{Name: name, SHA256: h, Size: int64(len(data))})
	return nil
}

func pemCerts(certs []*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

// AddAnchors keeps the trust anchors supplied for the run.
func (w *Writer) AddAnchors(certs []*x509.Certificate) error {
	if len(certs) == 0 {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.m.Anchors = "trust/anchors.pem"
	return w.put(w.m.Anchors, pemCerts(certs))
}

// AddIntermediates keeps the untrusted certificates supplied for the run.
func (w *Writer) AddIntermediates(certs []*x509.Certificate) error {
	if len(certs) == 0 {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.m.Intermediates = "trust/intermediates.pem"
	return w.put(w.m.Intermediates, pemCerts(certs))
}

// ValidationPolicy keeps the YAML validation policy the run used.
func (w *Writer) ValidationPolicy(yaml []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.m.Options.ValidationPolicy = "options/policy.yaml"
	return w.put(w.m.Options.ValidationPolicy, yaml)
}

// CryptoPolicy keeps the JSON algorithm policy the run used.
func (w *Writer) CryptoPolicy(js []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.m.Options.CryptoPolicy = "options/crypto-policy.json"
	return w.put(w.m.Options.CryptoPolicy, js)
}

// revocationEntry stores one CRL or OCSP response under its digest, so
// that data fetched for many inputs is kept once.
func (w *Writer) revocationEntry(kind, source string, data []byte) (Revocation, error) {
	var ext string
	switch kind {
	case "CRL":
		ext = ".crl"
	case "OCSP":
		ext = ".ocsp"
	default:
		return Revocation{}, fmt.Errorf("evidence: revocation data of kind %q (want CRL or OCSP)", kind)
	}
	sum := sha256.Sum256(data)
	r := Revocation{Kind: kind, Source: source, Entry: "revocation/" + hex.EncodeToString(sum[:]) + ext}
	return r, w.put(r.Entry, data)
}

// AddRevocation keeps a CRL ("CRL") or OCSP response ("OCSP") supplied for
// every input, read from source.
func (w *Writer) AddRevocation(kind, source string, data []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, err := w.revocationEntry(kind, source, data)
	if err != nil {
		return err
	}
	w.m.Revocation = append(w.m.Revocation, r)
	return nil
}

// AddDetached keeps detached content supplied with every input, under the
// name the signatures use for it.
func (w *Writer) AddDetached(name string, data []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := Detached{Name: name, Entry: "detached/" + report.FileNames([]string{name})[0]}
	for _, old := range w.m.Detached {
		if old.Entry == d.Entry {
			return fmt.Errorf("evidence: detached content %q and %q would share the entry %s", old.Name, name, d.Entry)
		}
	}
	w.m.Detached = append(w.m.Detached, d)
	return w.put(d.Entry, data)
}

// AddTrustedLists keeps a snapshot of every list of the set, with the
// operator certificate it was verified with, and the rejections.
func (w *Writer) AddTrustedLists(set *tsl.Set) error {
	if set == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, t := range set.Lists() {
		if len(t.Raw) == 0 || t.Signer == nil {
			return fmt.Errorf("evidence: trusted list %s has no snapshot or no signer to keep", t.Location)
		}
		base := fmt.Sprintf("tsl/%02d-%s", i+1, report.FileNames([]string{t.List.Territory})[0])
		l := List{Entry: base + ".xml", Signer: base + ".pem", Location: t.Location, Territory: t.List.Territory,
			Sequence: t.List.SequenceNumber, PinnedBy: t.PinnedBy, Origin: string(t.Origin), Stale: t.Stale,
			Warnings: slices.Clone(t.Warnings)}
		if err := w.put(l.Entry, t.Raw); err != nil {
			return err
		}
		if err := w.put(l.Signer, pemCerts([]*x509.Certificate{t.Signer})); err != nil {
			return err
		}
		w.m.TrustedLists = append(w.m.TrustedLists, l)
	}
	for _, r := range set.Rejected {
		w.m.Options.RejectedLists = append(w.m.Options.RejectedLists, fmt.Sprintf("%s: %v", r.Location, r.Err))
	}
	return nil
}

// InputData is one verified file for AddInput.
type InputData struct {
	// Seq orders the inputs in the manifest (their order on the command
	// line), whatever order they are added in.
	Seq int
	// Path is the file as named; Name its entry name, unique in the
	// bundle (see report.FileNames).
	Path, Name string
	Data       []byte
	Report     *report.Report
	// Fetched is what the file's verification fetched online.
	Fetched []revocation.Fetched
}

// AddInput keeps a verified file, its reports (JSON and ETSI XML), its
// verdicts and the revocation data its verification fetched.
func (w *Writer) AddInput(in InputData) error {
	if in.Report == nil {
		return fmt.Errorf("evidence: input %s has no report", in.Path)
	}
	if in.Name == "" || strings.ContainsAny(in.Name, `/\`) || in.Name == "." || in.Name == ".." {
		return fmt.Errorf("evidence: input %s: entry name %q is not a plain file name", in.Path, in.Name)
	}
	var js, etsi bytes.Buffer
	if err := report.WriteJSON(&js, []*report.Report{in.Report}); err != nil {
		return fmt.Errorf("evidence: report of %s: %w", in.Path, err)
	}
	if err := report.WriteETSI(&etsi, []*report.Report{in.Report}); err != nil {
		return fmt.Errorf("evidence: ETSI report of %s: %w", in.Path, err)
	}
	sum := sha256.Sum256(in.Data)
	rec := Input{Path: in.Path, Entry: "inputs/" + in.Name, SHA256: hex.EncodeToString(sum[:]),
		ReportJSON: "reports/" + in.Name + ".json", ReportETSI: "reports/" + in.Name + ".xml",
		Indication: in.Report.Indication, Signatures: verdicts(in.Report)}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, dup := w.seq[rec.Entry]; dup {
		return fmt.Errorf("evidence: two inputs named %s", in.Name)
	}
	for _, f := range in.Fetched {
		r, err := w.revocationEntry(f.Kind, f.URL, f.Data)
		if err != nil {
			return err
		}
		rec.Fetched = append(rec.Fetched, r)
	}
	for _, e := range []struct {
		name string
		data []byte
	}{{rec.Entry, in.Data}, {rec.ReportJSON, js.Bytes()}, {rec.ReportETSI, etsi.Bytes()}} {
		if err := w.put(e.name, e.data); err != nil {
			return err
		}
	}
	w.seq[rec.Entry] = in.Seq
	w.m.Inputs = append(w.m.Inputs, rec)
	return nil
}

// Close writes the manifest and finishes the zip. It does not close the
// underlying writer.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return nil
	}
	slices.SortStableFunc(w.m.Inputs, func(a, b Input) int { return w.seq[a.Entry] - w.seq[b.Entry] })
	w.m.Created = time.Now().UTC()
	js, err := json.MarshalIndent(w.m, "", "  ")
	if err != nil {
		return fmt.Errorf("evidence: manifest: %w", err)
	}
	f, err := w.zw.CreateHeader(&zip.FileHeader{Name: ManifestName, Method: zip.Deflate, Modified: w.m.Created})
	if err == nil {
		_, err = f.Write(js)
	}
	if err == nil {
		err = w.zw.Close()
	}
	w.closed = true
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	return nil
}
