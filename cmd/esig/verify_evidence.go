package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"esig/verifier/document"
	"esig/verifier/evidence"
	"esig/verifier/report"
)

// evidenceOut is an evidence bundle being written: into a temporary file
// beside its destination, renamed into place only once complete, so that
// an interrupted or failed run never leaves a bundle that looks whole.
type evidenceOut struct {
	w    *evidence.Writer
	f    *os.File
	path string
	done bool
}

// createEvidence starts the bundle of an ordinary run with the material
// every file is verified with.
func createEvidence(run batchRun) (*evidenceOut, error) {
	s := run.setup
	if s == nil {
		return nil, usageError{errors.New("--evidence: a replay (--evidence-in) does not write a bundle")}
	}
	f, err := os.CreateTemp(filepath.Dir(run.flags.evidence), ".esig-evidence-*")
	if err != nil {
		return nil, usageError{fmt.Errorf("--evidence: %w", err)}
	}
	out := &evidenceOut{f: f, path: run.flags.evidence}
	out.w = evidence.NewWriter(f, run.validationTime, evidence.Options{Arguments: os.Args[1:], Offline: s.fetcher == nil})
	add := func() error {
		if err := out.w.AddAnchors(s.anchors); err != nil {
			return err
		}
		if err := out.w.AddIntermediates(s.cfg.Intermediates); err != nil {
			return err
		}
		for _, c := range s.crls {
			if err := out.w.AddRevocation("CRL", c.path, c.data); err != nil {
				return err
			}
		}
		for _, o := range s.ocsps {
			if err := out.w.AddRevocation("OCSP", o.path, o.data); err != nil {
				return err
			}
		}
		if err := out.w.AddTrustedLists(s.cfg.TrustedLists); err != nil {
			return err
		}
		if s.policyYAML != nil {
			if err := out.w.ValidationPolicy(s.policyYAML); err != nil {
				return err
			}
		}
		if s.cryptoJSON != nil {
			if err := out.w.CryptoPolicy(s.cryptoJSON); err != nil {
				return err
			}
		}
		for _, p := range s.parts {
			data, err := os.ReadFile(p.path)
			if err != nil {
				return err
			}
			if err := out.w.AddDetached(p.name, data); err != nil {
				return err
			}
		}
		return nil
	}
	if err := add(); err != nil {
		out.abort()
		return nil, fmt.Errorf("--evidence: %w", err)
	}
	return out, nil
}

// commit finishes the bundle and moves it into place.
func (e *evidenceOut) commit() error {
	err := e.w.Close()
	if cerr := e.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// CreateTemp makes the file private; the bundle is a report like
		// any other the command writes.
		err = os.Chmod(e.f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(e.f.Name(), e.path)
	}
	if err != nil {
		os.Remove(e.f.Name())
		return fmt.Errorf("--evidence: %w", err)
	}
	e.done = true
	return nil
}

// abort drops an unfinished bundle; after commit it does nothing.
func (e *evidenceOut) abort() {
	if !e.done {
		e.done = true
		e.f.Close()
		os.Remove(e.f.Name())
	}
}

// runReplay verifies the inputs of an evidence bundle again from the
// bundle alone: its anchors, certificates, revocation data, trusted lists,
// policies and detached content, with no fetcher, as of the recorded
// validation time unless --at says otherwise, and reports whether each
// verdict came out as recorded.
func runReplay(cmd *cobra.Command, f verifyFlags, format string, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("--evidence-in verifies the files kept in the bundle; name no FILE (%s)", args[0])}
	}
	for flag, set := range map[string]bool{
		"--trust": len(f.trust) > 0, "--cert": len(f.certs) > 0, "--crl": len(f.crls) > 0, "--ocsp-response": len(f.ocsps) > 0,
		"--detached-content": len(f.detached) > 0, "--policy": f.validationPolicy != "", "--crypto-policy": f.policyFile != "",
		"--tsl": len(f.tsl.lists) > 0, "--evidence": f.batch.evidence != "",
	} {
		if set {
			return usageError{fmt.Errorf("%s cannot be used with --evidence-in: a replay takes its material from the bundle only", flag)}
		}
	}
	b, err := evidence.Open(f.batch.evidenceIn)
	if err != nil {
		return usageError{fmt.Errorf("--evidence-in: %w", err)}
	}
	var at time.Time
	if f.at != "" {
		if at, err = time.Parse(time.RFC3339, f.at); err != nil {
			return usageError{fmt.Errorf("--at: %w", err)}
		}
	}
	rp, err := b.Replay(at)
	if err != nil {
		return usageError{fmt.Errorf("--evidence-in: %w", err)}
	}
	inputs := b.Manifest.Inputs
	if len(inputs) == 0 {
		return usageError{fmt.Errorf("--evidence-in: the bundle holds no input")}
	}
	var parts []document.Part
	for _, d := range rp.Detached {
		parts = append(parts, document.Bytes(d.Name, d.Data))
	}
	paths := make([]string, len(inputs))
	for i, in := range inputs {
		paths[i] = in.Path
	}
	return runBatch(cmd, batchRun{
		format: format, batch: len(inputs) > 1, flags: f.batch, paths: paths, validationTime: rp.Config.Time,
		verify: func(ctx context.Context, i int) fileResult {
			rep, err := verifyData(ctx, rp.ConfigFor(inputs[i]), rp.Input(inputs[i]), parts, rp.Policy)
			if err != nil {
				return fileResult{err: err}
			}
			rep.File = inputs[i].Path
			return fileResult{report: rep}
		},
		check: func(i int, r *report.Report) []string { return evidence.Differences(inputs[i], r) },
	})
}
