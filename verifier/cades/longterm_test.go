package cades

import (
	"testing"
	"time"

	"esig/internal/cms"
	"esig/internal/testpki"
	signer "esig/signer/cades"
	"esig/verifier"
	"esig/verifier/report"
	"esig/verifier/trust"
)

// TestLongTermLevels checks B-T, B-LT and B-LTA signatures: levels are
// named, the validation data they embed suffices offline with no other
// revocation data, and the archive time stamp verifies.
func TestLongTermLevels(t *testing.T) {
	e := newEnv(t)
	leaf := e.pki.Leaf(t, testpki.LeafOptions{})
	offline := verifier.Config{Anchors: trust.NewAnchors(e.pki.Root.Cert)}
	cases := []struct {
		level  signer.Level
		format string
		cfg    verifier.Config
		ind    report.Indication
		sub    report.SubIndication
		nTS    int
		detach bool
	}{
		{signer.LevelT, "CAdES-BASELINE-T", offline, report.Indeterminate, report.TryLater, 1, false},
		{signer.LevelT, "CAdES-BASELINE-T", e.config(), report.TotalPassed, "", 1, false},
		{signer.LevelLT, "CAdES-BASELINE-LT", offline, report.TotalPassed, "", 1, false},
		{signer.LevelLTA, "CAdES-BASELINE-LTA", offline, report.TotalPassed, "", 2, false},
		{signer.LevelLTA, "CAdES-BASELINE-LTA", offline, report.TotalPassed, "", 2, true},
	}
	for _, c := range cases {
		t.Run(c.format, func(t *testing.T) {
			sig := e.sign(leaf, content, signer.Options{Level: c.level, Detached: c.detach})
			var det Content
			if c.detach {
				det = bytesContent{"doc.txt", content}
			}
			rep := e.verify(sig, c.cfg, det)
			expect(t, rep, c.ind, c.sub)
			s := rep.Signatures[0]
			if s.Format != c.format {
				t.Errorf("format %s, want %s", s.Format, c.format)
			}
			if len(s.Timestamps) != c.nTS {
				t.Fatalf("%d time stamps, want %d", len(s.Timestamps), c.nTS)
			}
			for _, ts := range s.Timestamps {
				if c.ind == report.TotalPassed && ts.Indication != report.TotalPassed {
					t.Errorf("%s: %s/%s %q", ts.Type, ts.Indication, ts.SubIndication, ts.Errors)
				}
			}
		})
	}
}

// TestArchiveTimestampDetectsRemoval removes the embedded revocation data
// an archive time stamp covers: its hash index then names something that
// is gone, and the archive time stamp fails with HASH_FAILURE.
func TestArchiveTimestampDetectsRemoval(t *testing.T) {
	e := newEnv(t)
	leaf := e.pki.Leaf(t, testpki.LeafOptions{})
	sig := e.sign(leaf, content, signer.Options{Level: signer.LevelLTA})
	sd, err := cms.ParseContentInfo(sig)
	if err != nil {
		t.Fatal(err)
	}
	var certs [][]byte
	for _, c := range sd.Certificates[:len(sd.Certificates)-1] {
		certs = append(certs, c.Raw)
	}
	stripped := rewrite(t, sig, certs, nil)
	rep := e.verify(stripped, e.config(), nil)
	var ats *report.Timestamp
	for _, ts := range rep.Signatures[0].Timestamps {
		if ts.Type == report.ArchiveTimestamp {
			ats = ts
		}
	}
	if ats == nil || ats.Indication != report.TotalFailed || ats.SubIndication != report.HashFailure {
		t.Fatalf("archive time stamp: %+v, want TOTAL-FAILED/HASH_FAILURE", ats)
	}
}

// TestValidationAtFutureTimeUsesProofOfExistence validates as of a time
// (--at) when the signer's certificate has expired: the B-LT signature's
// time stamp and embedded revocation data keep it valid, the same
// signature at B-B has no proof of existence and is INDETERMINATE.
func TestValidationAtFutureTimeUsesProofOfExistence(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	leaf := e.pki.Leaf(t, testpki.LeafOptions{NotAfter: now.Add(2 * time.Hour)})
	sig := e.sign(leaf, content, signer.Options{Level: signer.LevelLT})
	cfg := verifier.Config{Anchors: trust.NewAnchors(e.pki.Root.Cert), Time: now.Add(48 * time.Hour)}
	expect(t, e.verify(sig, cfg, nil), report.TotalPassed, "")

	bb := e.sign(leaf, content, signer.Options{})
	cfg.CRLs = [][]byte{e.pki.CRL(t, e.pki.Root, now), e.pki.CRL(t, e.pki.CA, now)}
	expect(t, e.verify(bb, cfg, nil), report.Indeterminate, report.OutOfBoundsNoPOE)
}
