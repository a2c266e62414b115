package cades

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"esig/verifier"
	"esig/verifier/report"
)

// corpusDir holds real CAdES files from ETSI plugtests (see the corpus
// README); tests skip where it is absent and never copy its files.
const corpusDir = "../../../shared/corpus/cades"

func corpusFiles(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.p7m"))
	if len(files) == 0 {
		t.Skipf("no corpus at %s: skipping real-world CAdES files", corpusDir)
	}
	return files
}

// TestCorpusCryptoLayerHolds checks that real signatures whose crypto
// layer openssl accepts come out INDETERMINATE without trust anchors (no
// chain, old certificates, no revocation data), never TOTAL-FAILED.
func TestCorpusCryptoLayerHolds(t *testing.T) {
	for _, f := range corpusFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			eng, err := verifier.New(verifier.Config{})
			if err != nil {
				t.Fatal(err)
			}
			rep := Verify(context.Background(), eng, data, nil)
			if len(rep.Signatures) == 0 {
				t.Fatal("no signature found")
			}
			for _, s := range rep.Signatures {
				t.Logf("%s %s: %s/%s errors=%q warnings=%q", s.ID, s.Format, s.Indication, s.SubIndication, s.Errors, s.Warnings)
				for _, ts := range s.Timestamps {
					t.Logf("  %s %v: %s/%s %q", ts.Type, ts.ProductionTime, ts.Indication, ts.SubIndication, ts.Errors)
					if ts.Indication == report.TotalFailed {
						t.Errorf("time stamp %s is TOTAL-FAILED: %v", ts.Type, ts.Errors)
					}
				}
				if s.Indication != report.Indeterminate {
					t.Errorf("%s: got %s/%s, want INDETERMINATE", s.ID, s.Indication, s.SubIndication)
				}
				if s.SubIndication != report.NoCertificateChainFound {
					t.Errorf("%s: sub-indication %s, want NO_CERTIFICATE_CHAIN_FOUND", s.ID, s.SubIndication)
				}
			}
		})
	}
}

// TestCorpusFlippedContentByte flips one byte of the signed content of each
// real file and expects TOTAL-FAILED/HASH_FAILURE.
func TestCorpusFlippedContentByte(t *testing.T) {
	for _, f := range corpusFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			tampered := flipContentByte(t, data)
			eng, _ := verifier.New(verifier.Config{Time: time.Now()})
			rep := Verify(context.Background(), eng, tampered, nil)
			if rep.Indication != report.TotalFailed || rep.Signatures[0].SubIndication != report.HashFailure {
				t.Fatalf("got %s/%s %q, want TOTAL-FAILED/HASH_FAILURE", rep.Indication, rep.Signatures[0].SubIndication, rep.Signatures[0].Errors)
			}
		})
	}
}
