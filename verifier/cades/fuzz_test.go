package cades

import (
	"context"
	"testing"

	"esig/verifier"
	"esig/verifier/report"
)

// FuzzVerify runs the whole pipeline, parser to engine, on hostile input
// with no trust anchor: it must never panic and never pass.
func FuzzVerify(f *testing.F) {
	f.Add([]byte("not a signature"))
	eng, err := verifier.New(verifier.Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rep := Verify(context.Background(), eng, b, nil)
		if rep.Indication == report.TotalPassed {
			t.Fatal("passed without any trust anchor")
		}
	})
}
