package evidence

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esig/internal/testpki"
	cadessign "esig/signer/cades"
	xadessign "esig/signer/xades"
	"esig/verifier"
	"esig/verifier/document"
	"esig/verifier/policy"
	"esig/verifier/report"
	"esig/verifier/revocation"
	"esig/verifier/trust"
	"esig/verifier/tsl"
	"esig/verifier/tsl/tsltest"
)

// file is one signed file of a test batch.
type file struct {
	path string
	data []byte
}

// cades signs content as an attached CAdES B-B signature.
func cades(t *testing.T, c *testpki.Cert, chain []*x509.Certificate, content string) []byte {
	t.Helper()
	var out bytes.Buffer
	err := cadessign.Sign(context.Background(), strings.NewReader(content), &out,
		cadessign.Options{Signer: c.Key, Certificate: c.Cert, Chain: chain})
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// xades signs content as an XAdES B-B signature with the given packaging.
func xades(t *testing.T, c *testpki.Cert, chain []*x509.Certificate, content string, packaging xadessign.Packaging) []byte {
	t.Helper()
	out, err := xadessign.Sign(context.Background(), []byte(content), xadessign.Options{Signer: c.Key, Certificate: c.Cert,
		Chain: chain, Packaging: packaging, Name: "wniosek.xml"})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// run verifies files as esig verify does (one engine per file, online
// revocation data shared and recorded per file) and writes the bundle.
func run(t *testing.T, base verifier.Config, pol *policy.Validation, detached []Content, opts Options, setup func(*Writer), files []file) ([]*report.Report, []byte) {
	t.Helper()
	var zipped bytes.Buffer
	w := NewWriter(&zipped, base.Time, opts)
	if setup != nil {
		setup(w)
	}
	var parts []document.Part
	for _, d := range detached {
		parts = append(parts, document.Bytes(d.Name, d.Data))
		if err := w.AddDetached(d.Name, d.Data); err != nil {
			t.Fatal(err)
		}
	}
	var shared revocation.Fetcher
	if base.Fetcher != nil {
		shared = revocation.NewShared(base.Fetcher)
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.path
	}
	names := report.FileNames(paths)
	var reports []*report.Report
	for i, f := range files {
		cfg := base
		var rec *revocation.Recorder
		if shared != nil {
			rec = revocation.NewRecorder(shared)
			cfg.Fetcher = rec
		}
		eng, err := verifier.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		res, err := document.Verify(context.Background(), eng, f.data, parts, pol)
		if err != nil {
			t.Fatal(err)
		}
		res.Report.File = f.path
		in := InputData{Seq: i, Path: f.path, Name: names[i], Data: f.data, Report: res.Report}
		if rec != nil {
			in.Fetched = rec.Fetched()
		}
		if err := w.AddInput(in); err != nil {
			t.Fatal(err)
		}
		reports = append(reports, res.Report)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return reports, zipped.Bytes()
}

// replay reads a bundle and verifies its inputs again with the fetcher
// absent, returning the reports and the differences from the recorded
// verdicts.
func replay(t *testing.T, bundle []byte, shared bool) ([]*report.Report, []string) {
	t.Helper()
	b, err := Read(bytes.NewReader(bundle), int64(len(bundle)))
	if err != nil {
		t.Fatal(err)
	}
	r, err := b.Replay(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Config.Fetcher != nil || !r.Config.Time.Equal(b.Manifest.ValidationTime) {
		t.Fatalf("replay config has a fetcher (%v) or time %s, not the recorded %s", r.Config.Fetcher, r.Config.Time, b.Manifest.ValidationTime)
	}
	var parts []document.Part
	for _, d := range r.Detached {
		parts = append(parts, document.Bytes(d.Name, d.Data))
	}
	var reports []*report.Report
	var diffs []string
	for _, in := range b.Manifest.Inputs {
		cfg := r.ConfigFor(in)
		if shared {
			cfg = r.Config // without the data the input fetched
		}
		eng, err := verifier.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		res, err := document.Verify(context.Background(), eng, r.Input(in), parts, r.Policy)
		if err != nil {
			t.Fatal(err)
		}
		reports = append(reports, res.Report)
		for _, d := range Differences(in, res.Report) {
			diffs = append(diffs, in.Path+": "+d)
		}
	}
	return reports, diffs
}

// TestReplayOffline verifies a batch online (revocation data fetched from
// the test PKI's OCSP responder and CRL distribution points), keeps the
// bundle, turns the network off, and reproduces every verdict from the
// bundle alone with no fetcher.
func TestReplayOffline(t *testing.T) {
	p := testpki.New(t)
	good := p.Leaf(t, testpki.LeafOptions{Name: "Jan Kowalski"})
	ec := p.Leaf(t, testpki.LeafOptions{Name: "Anna Nowak", Key: testpki.ECDSAP256})
	revoked := p.Leaf(t, testpki.LeafOptions{Name: "Odwołany"})
	p.Revoke(revoked, time.Now().Add(-30*time.Minute), 1)
	chain := []*x509.Certificate{p.CA.Cert, p.Root.Cert}
	doc := `<?xml version="1.0" encoding="UTF-8"?><Wniosek xmlns="urn:esig:test"><Kwota>100</Kwota></Wniosek>`
	tampered := cades(t, good, chain, "Wniosek do ZUS")
	i := bytes.Index(tampered, []byte("Wniosek"))
	tampered[i] ^= 1
	files := []file{
		{"batch/wniosek.p7m", cades(t, good, chain, "Wniosek do ZUS")},
		{"batch/wniosek.xml", xades(t, ec, chain, doc, xadessign.Enveloped)},
		{"other/wniosek.p7m", cades(t, revoked, chain, "Wniosek odwołanego")},
		{"batch/tampered.p7m", tampered},
	}
	base := verifier.Config{Anchors: trust.NewAnchors(p.Root.Cert), Time: time.Now(), Fetcher: revocation.NewHTTPFetcher()}
	setup := func(w *Writer) {
		if err := w.AddAnchors([]*x509.Certificate{p.Root.Cert}); err != nil {
			t.Fatal(err)
		}
	}
	online, bundle := run(t, base, nil, nil, Options{}, setup, files)
	want := []report.Indication{report.TotalPassed, report.TotalPassed, report.TotalFailed, report.TotalFailed}
	for i, r := range online {
		if r.Indication != want[i] {
			t.Fatalf("online %s: %s, want %s\n%v", files[i].path, r.Indication, want[i], r.Signatures[0].Errors)
		}
	}
	if online[2].Signatures[0].SubIndication != report.Revoked || online[3].Signatures[0].SubIndication != report.HashFailure {
		t.Fatalf("online verdicts: %s, %s", online[2].Signatures[0].SubIndication, online[3].Signatures[0].SubIndication)
	}

	// The network goes off: nothing answers at the PKI's URLs any more.
	p.Server.Close()

	replayed, diffs := replay(t, bundle, false)
	if len(diffs) > 0 {
		t.Fatalf("offline replay differs from the recorded verdicts:\n%s", strings.Join(diffs, "\n"))
	}
	for i, r := range replayed {
		if r.Indication != want[i] {
			t.Errorf("replayed %s: %s, want %s", files[i].path, r.Indication, want[i])
		}
	}
	// The revocation status came from the bundle's recorded OCSP or CRL.
	if rev := replayed[0].Signatures[0].Revocation; len(rev) == 0 || !strings.Contains(rev[0].Source, "file") {
		t.Errorf("replayed revocation %+v, want data from the bundle", rev)
	}

	// Without each file's recorded online data, the verdicts are not
	// reproduced: the bundle's fetched material is what carries them.
	_, diffs = replay(t, bundle, true)
	if len(diffs) == 0 || !strings.Contains(strings.Join(diffs, "\n"), string(report.TryLater)) {
		t.Errorf("replay without the fetched data reproduced everything: %q", diffs)
	}
}

// TestReplayOptions keeps the validation policy and detached content: a
// detached XAdES signature, refused by the default policy, passes under
// the one given, and the replay applies the same policy to the same
// content.
func TestReplayOptions(t *testing.T) {
	p := testpki.New(t)
	leaf := p.Leaf(t, testpki.LeafOptions{Name: "Jan Kowalski"})
	content := []byte("zawartość wniosku")
	sig := xades(t, leaf, []*x509.Certificate{p.CA.Cert, p.Root.Cert}, string(content), xadessign.Detached)
	yaml := []byte("xades:\n  packagings: [enveloped, enveloping, detached]\n")
	pol, err := policy.ParseValidation(bytes.NewReader(yaml))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	crl := p.CRL(t, p.CA, now.Add(-time.Minute))
	rootCRL := p.CRL(t, p.Root, now.Add(-time.Minute))
	base := verifier.Config{Anchors: trust.NewAnchors(p.Root.Cert), Time: now, CRLs: [][]byte{crl, rootCRL}, Policy: pol.Algorithms}
	setup := func(w *Writer) {
		for _, err := range []error{
			w.AddAnchors([]*x509.Certificate{p.Root.Cert}),
			w.AddRevocation("CRL", "ca.crl", crl),
			w.AddRevocation("CRL", "root.crl", rootCRL),
			w.ValidationPolicy(yaml),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	detached := []Content{{Name: "wniosek.xml", Data: content}}
	online, bundle := run(t, base, pol, detached, Options{Offline: true}, setup, []file{{"wniosek.xades", sig}})
	if online[0].Indication != report.TotalPassed {
		t.Fatalf("first run: %s %v", online[0].Indication, online[0].Signatures[0].Errors)
	}
	p.Server.Close()
	replayed, diffs := replay(t, bundle, false)
	if len(diffs) > 0 || replayed[0].Indication != report.TotalPassed {
		t.Fatalf("replay: %s %q", replayed[0].Indication, diffs)
	}
}

// TestReplayTrustedList keeps the trusted-list snapshot a qualification
// rested on and reproduces the qualification from it.
func TestReplayTrustedList(t *testing.T) {
	p := tsltest.New(t)
	dir := t.TempDir()
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	listFile := p.Write(t, "zz.xml", p.SignedList(t, tsltest.ListOptions{}))
	loader := &tsl.Loader{CacheDir: filepath.Join(dir, "cache"), Offline: true, Now: func() time.Time { return at }}
	set := loader.LoadSet(context.Background(), []tsl.Source{{Location: listFile, Pinned: []*x509.Certificate{p.Operator.Cert}}}, tsl.LOTLOptions{NoFollow: true})
	if len(set.Lists()) != 1 {
		t.Fatalf("list not loaded: %v", set.Rejected)
	}
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: at.Add(-time.Hour), NextUpdate: at.Add(24 * time.Hour)}, p.CA.Cert, p.CA.Key)
	if err != nil {
		t.Fatal(err)
	}
	leaf := p.Leaf(t, tsltest.LeafOptions{Name: "qes", QcCompliance: true, QcSSCD: true, QcTypes: []asn1.ObjectIdentifier{tsltest.OIDQcTypeESign}})
	var sig bytes.Buffer
	if err := cadessign.Sign(context.Background(), strings.NewReader("deklaracja"), &sig, cadessign.Options{
		Signer: leaf.Key, Certificate: leaf.Cert, Chain: []*x509.Certificate{p.CA.Cert}, SigningTime: at.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	base := verifier.Config{Anchors: tsl.TrustAnchors(set.CAAnchors()), Time: at, CRLs: [][]byte{crl}, TrustedLists: set}
	setup := func(w *Writer) {
		if err := w.AddTrustedLists(set); err != nil {
			t.Fatal(err)
		}
		if err := w.AddRevocation("CRL", "ca.crl", crl); err != nil {
			t.Fatal(err)
		}
	}
	first, bundle := run(t, base, nil, nil, Options{Offline: true}, setup, []file{{"qes.p7m", sig.Bytes()}})
	if q := first[0].Signatures[0].Qualification; q != "QESig" {
		t.Fatalf("first run qualification %q", q)
	}
	os.Remove(listFile)
	replayed, diffs := replay(t, bundle, false)
	if len(diffs) > 0 || replayed[0].Signatures[0].Qualification != "QESig" {
		t.Fatalf("replay: %q %q", replayed[0].Signatures[0].Qualification, diffs)
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// rezip copies a bundle, letting edit change, drop (nil) or add entries.
func rezip(t *testing.T, bundle []byte, edit func(name string, data []byte) []byte, extra map[string][]byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(bundle), int64(len(bundle)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	copyEntry := func(name string, data []byte) {
		f, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(data)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		if data = edit(f.Name, data); data != nil {
			copyEntry(f.Name, data)
		}
	}
	for name, data := range extra {
		copyEntry(name, data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestTamperedBundleRefused alters a good bundle in every way that matters
// and expects Read to refuse each, naming the entry at fault.
func TestTamperedBundleRefused(t *testing.T) {
	p := testpki.New(t)
	leaf := p.Leaf(t, testpki.LeafOptions{Name: "Jan Kowalski"})
	now := time.Now()
	crl := p.CRL(t, p.CA, now.Add(-time.Minute))
	base := verifier.Config{Anchors: trust.NewAnchors(p.Root.Cert), Time: now, CRLs: [][]byte{crl}}
	setup := func(w *Writer) {
		w.AddAnchors([]*x509.Certificate{p.Root.Cert})
		w.AddRevocation("CRL", "ca.crl", crl)
	}
	_, bundle := run(t, base, nil, nil, Options{Offline: true}, setup,
		[]file{{"a.p7m", cades(t, leaf, []*x509.Certificate{p.CA.Cert}, "umowa")}})
	if _, err := Read(bytes.NewReader(bundle), int64(len(bundle))); err != nil {
		t.Fatalf("the untouched bundle is refused: %v", err)
	}
	flip := func(target string) func(string, []byte) []byte {
		return func(name string, data []byte) []byte {
			if name == target {
				data = append([]byte(nil), data...)
				data[len(data)/2] ^= 0x20
			}
			return data
		}
	}
	keep := func(_ string, data []byte) []byte { return data }
	other, _ := x509.ParseCertificate(p.CA.Cert.Raw)
	cases := []struct {
		name    string
		edit    func(string, []byte) []byte
		extra   map[string][]byte
		wantErr string
	}{
		{"input altered", flip("inputs/a.p7m"), nil, "entry inputs/a.p7m does not match its SHA-256"},
		{"anchor replaced", func(name string, data []byte) []byte {
			if name == "trust/anchors.pem" {
				return pemCerts([]*x509.Certificate{other})
			}
			return data
		}, nil, "entry trust/anchors.pem does not match"},
		{"CRL altered", flip("revocation/" + sha(crl) + ".crl"), nil, "does not match its SHA-256"},
		{"report altered", flip("reports/a.p7m.json"), nil, "entry reports/a.p7m.json does not match"},
		{"entry removed", func(name string, data []byte) []byte {
			if name == "reports/a.p7m.xml" {
				return nil
			}
			return data
		}, nil, "entry reports/a.p7m.xml is in the manifest but not in the bundle"},
		{"entry added", keep, map[string][]byte{"revocation/extra.crl": crl}, "entry revocation/extra.crl is not in the manifest"},
		{"manifest removed", func(name string, data []byte) []byte {
			if name == ManifestName {
				return nil
			}
			return data
		}, nil, "no manifest.json"},
		{"input digest in the manifest altered", func(name string, data []byte) []byte {
			if name == ManifestName {
				return bytes.Replace(data, []byte(`"sha256": "`), []byte(`"sha256": "00`), 1)
			}
			return data
		}, nil, "does not match its SHA-256"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := rezip(t, bundle, tc.edit, tc.extra)
			_, err := Read(bytes.NewReader(bad), int64(len(bad)))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Read: %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}
