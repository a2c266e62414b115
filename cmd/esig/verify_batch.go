package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"esig/verifier"
	"esig/verifier/document"
	"esig/verifier/evidence"
	"esig/verifier/policy"
	"esig/verifier/report"
	"esig/verifier/revocation"
)

// batchFlags are the options of esig verify for many files and for
// evidence bundles.
type batchFlags struct {
	recursive  bool
	jobs       int
	reportDir  string
	evidence   string
	evidenceIn string
}

func registerBatchFlags(fl *pflag.FlagSet, f *batchFlags) {
	fl.BoolVarP(&f.recursive, "recursive", "r", false, "verify the files in each DIR's whole tree, not only those directly in it")
	fl.IntVar(&f.jobs, "jobs", 0, "files verified in parallel (default: one per core)")
	fl.StringVar(&f.reportDir, "report-dir", "", "write NAME.json, NAME.xml (ETSI) and NAME.html per file and an index.html summary into this directory")
	fl.StringVar(&f.evidence, "evidence", "", "write an evidence bundle (zip): the inputs, their reports and the trust material used, for an offline replay")
	fl.StringVar(&f.evidenceIn, "evidence-in", "", "verify the files of this evidence bundle again, offline, with its trust material, as of its validation time")
}

// collectInputs expands the arguments into the files to verify: a FILE is
// itself, a DIR its regular files (recursive: its whole tree), in name
// order, skipping names that start with a dot. batch reports whether the
// run is a batch: a DIR, or more than one argument.
func collectInputs(args []string, recursive bool) (files []string, batch bool, err error) {
	batch = len(args) > 1
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, false, err
		}
		if !fi.IsDir() {
			files = append(files, a)
			continue
		}
		batch = true
		before := len(files)
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p == a {
				return nil
			}
			if strings.HasPrefix(d.Name(), ".") || (d.IsDir() && !recursive) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			if !d.Type().IsRegular() {
				// A symbolic link counts if it leads to a regular file.
				if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
					return nil
				}
			}
			files = append(files, p)
			return nil
		})
		if err != nil {
			return nil, false, err
		}
		if len(files) == before {
			return nil, false, fmt.Errorf("%s: no file to verify in it", a)
		}
	}
	return files, batch, nil
}

// fileResult is the outcome of verifying one file.
type fileResult struct {
	seq    int
	report *report.Report
	// data is the file as verified, fetched what its verification fetched
	// online: both for the evidence bundle.
	data    []byte
	fetched []revocation.Fetched
	// err is a usage problem (unreadable file, unusable detached content).
	err error
}

// batchRun is one run of esig verify over its inputs.
type batchRun struct {
	format string
	// batch selects batch output (JSON lines, summary); a single FILE
	// keeps the single-report output.
	batch          bool
	flags          batchFlags
	paths          []string
	validationTime time.Time
	// verify verifies the i-th input.
	verify func(ctx context.Context, i int) fileResult
	// setup is the run's material, for --evidence (nil in a replay).
	setup *verifySetup
	// check, in a replay, compares a report with the recorded verdicts.
	check func(i int, r *report.Report) []string
}

// runBatch verifies the inputs on --jobs workers and writes the reports,
// the report directory, the evidence bundle and the summary.
func runBatch(cmd *cobra.Command, run batchRun) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	n := len(run.paths)
	names := report.FileNames(run.paths)
	if run.flags.reportDir != "" {
		if err := os.MkdirAll(run.flags.reportDir, 0o755); err != nil {
			return usageError{fmt.Errorf("--report-dir: %w", err)}
		}
	}
	var bundle *evidenceOut
	if run.flags.evidence != "" {
		var err error
		if bundle, err = createEvidence(run); err != nil {
			return err
		}
		defer bundle.abort()
	}

	// The progress bar goes to a terminal only; the reports then wait
	// for it to finish if they would share that terminal.
	var bar *progressbar.ProgressBar
	out := stdout
	var held strings.Builder
	if run.batch && isTerminalWriter(stderr) {
		bar = newProgressBar(stderr, n)
		if isTerminalWriter(stdout) {
			out = &held
		}
	}

	jobs := run.flags.jobs
	if jobs == 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	jobs = max(1, min(jobs, n))
	start := time.Now()
	reports := make([]*report.Report, n)
	var problems []string
	written := 0
	tick := func() {
		if bar != nil {
			bar.Add(1)
		}
	}
	err := inOrder(startWorkers(ctx, run, jobs, names, bundle), tick, func(r fileResult) error {
		if r.err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", run.paths[r.seq], r.err))
			return nil
		}
		reports[r.seq] = r.report
		if !run.batch {
			return nil
		}
		written++
		return streamReport(out, run.format, r.report, written == 1)
	})
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	if bar != nil {
		bar.Finish()
	}
	if out == &held {
		io.WriteString(stdout, held.String())
	}
	if len(problems) > 0 {
		return usageError{errors.New(strings.Join(problems, "\nesig: "))}
	}
	if err := finishOutput(stdout, run, reports); err != nil {
		return err
	}
	if run.batch {
		summaryTo := stderr
		if run.format == "text" {
			summaryTo = stdout
			fmt.Fprintln(stdout)
		}
		report.WriteSummary(summaryTo, report.Summarize(reports))
		fmt.Fprintf(stderr, "esig: %d files verified in %.2fs: %.1f files/s with %d workers\n",
			n, elapsed.Seconds(), float64(n)/elapsed.Seconds(), jobs)
	}
	if run.flags.reportDir != "" {
		if err := writeIndex(run, names, reports); err != nil {
			return err
		}
	}
	if run.check != nil {
		reproduced := 0
		for i, r := range reports {
			diffs := run.check(i, r)
			for _, d := range diffs {
				fmt.Fprintf(stderr, "esig: evidence: %s: not reproduced: %s\n", run.paths[i], d)
			}
			if len(diffs) == 0 {
				reproduced++
			}
		}
		fmt.Fprintf(stderr, "esig: evidence: %d of %d verdicts reproduced as recorded\n", reproduced, n)
	}
	if bundle != nil {
		if err := bundle.commit(); err != nil {
			return err
		}
	}
	if code := report.ExitCode(reports); code != 0 {
		return verifyResult{code}
	}
	return nil
}

// newProgressBar draws "verifying 42% |████   | (420/1000, 1500 files/s)"
// on w, and leaves the finished bar on its own line.
func newProgressBar(w io.Writer, n int) *progressbar.ProgressBar {
	return progressbar.NewOptions(n, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("verifying"),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("files"),
		progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetWidth(30), progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
}

// startWorkers verifies the inputs on jobs goroutines, each writing its
// file's reports (report directory, evidence bundle) as it goes, and
// delivers the results as they finish.
func startWorkers(ctx context.Context, run batchRun, jobs int, names []string, bundle *evidenceOut) <-chan fileResult {
	results := make(chan fileResult, jobs)
	next := make(chan int)
	var wg sync.WaitGroup
	for range jobs {
		wg.Go(func() {
			for i := range next {
				r := run.verify(ctx, i)
				r.seq = i
				if r.err == nil {
					r.err = fileOutputs(run, bundle, names[i], r)
				}
				results <- r
			}
		})
	}
	go func() {
		for i := range len(run.paths) {
			next <- i
		}
		close(next)
	}()
	go func() { wg.Wait(); close(results) }()
	return results
}

// inOrder calls tick as each result arrives, and each for the results in
// input order, holding back those that finish early: a batch's output does
// not depend on which worker was faster.
func inOrder(results <-chan fileResult, tick func(), each func(fileResult) error) error {
	pending := map[int]fileResult{}
	next := 0
	for r := range results {
		tick()
		pending[r.seq] = r
		for {
			r, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			if err := each(r); err != nil {
				return err
			}
			next++
		}
	}
	return nil
}

// isTerminalWriter reports whether w is a terminal.
func isTerminalWriter(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isTerminal(f)
}

// streamReport writes one report of a batch as it comes: a JSON line, or
// a text report; etsi and html are written whole at the end.
func streamReport(w io.Writer, format string, r *report.Report, first bool) error {
	switch format {
	case "json":
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	case "text":
		if !first {
			io.WriteString(w, "\n")
		}
		return report.WriteText(w, []*report.Report{r})
	}
	return nil
}

// finishOutput writes what is written once all reports are in: the single
// report of a one-file run, or the ETSI and HTML documents of a batch.
func finishOutput(w io.Writer, run batchRun, reports []*report.Report) error {
	if run.batch && (run.format == "json" || run.format == "text") {
		return nil
	}
	switch run.format {
	case "json":
		return report.WriteJSON(w, reports)
	case "etsi":
		return report.WriteETSI(w, reports)
	case "html":
		return report.WriteHTML(w, reports)
	}
	return report.WriteText(w, reports)
}

// fileOutputs writes one file's reports into the report directory and the
// evidence bundle; workers call it, so that rendering runs in parallel.
func fileOutputs(run batchRun, bundle *evidenceOut, name string, r fileResult) error {
	if dir := run.flags.reportDir; dir != "" {
		one := []*report.Report{r.report}
		for _, w := range []struct {
			ext   string
			write func(io.Writer, []*report.Report) error
		}{{".json", report.WriteJSON}, {".xml", report.WriteETSI}, {".html", report.WriteHTML}} {
			if err := writeFile(filepath.Join(dir, name+w.ext), func(f io.Writer) error { return w.write(f, one) }); err != nil {
				return fmt.Errorf("--report-dir: %w", err)
			}
		}
	}
	if bundle != nil {
		err := bundle.w.AddInput(evidence.InputData{Seq: r.seq, Path: run.paths[r.seq], Name: name, Data: r.data,
			Report: r.report, Fetched: r.fetched})
		if err != nil {
			return fmt.Errorf("--evidence: %w", err)
		}
	}
	return nil
}

// writeIndex writes the report directory's summary page.
func writeIndex(run batchRun, names []string, reports []*report.Report) error {
	entries := make([]report.IndexEntry, len(reports))
	for i, r := range reports {
		entries[i] = report.IndexEntry{Report: r, Name: names[i]}
	}
	err := writeFile(filepath.Join(run.flags.reportDir, "index.html"), func(w io.Writer) error {
		return report.WriteIndexHTML(w, entries, report.Summarize(reports), run.validationTime)
	})
	if err != nil {
		return fmt.Errorf("--report-dir: %w", err)
	}
	return nil
}

// writeFile creates path and fills it with write.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	werr := write(f)
	if err := f.Close(); werr == nil {
		werr = err
	}
	return werr
}

// verifyFile is the per-file work of an ordinary run: its own engine, and
// its own recorder over the run's shared fetcher.
func (s *verifySetup) verifyFile(ctx context.Context, path string, keep bool) fileResult {
	data, err := os.ReadFile(path)
	if err != nil {
		return fileResult{err: err}
	}
	cfg := s.cfg
	var rec *revocation.Recorder
	if s.fetcher != nil {
		rec = revocation.NewRecorder(s.fetcher)
		cfg.Fetcher = rec
	}
	res, err := verifyData(ctx, cfg, data, s.parts.documentParts(), s.pol)
	if err != nil {
		return fileResult{err: err}
	}
	res.File = path
	r := fileResult{report: res}
	if rec != nil {
		r.fetched = rec.Fetched()
	}
	if keep {
		r.data = data
	}
	return r
}

// verifyData verifies data on a new engine under pol.
func verifyData(ctx context.Context, cfg verifier.Config, data []byte, parts []document.Part, pol *policy.Validation) (*report.Report, error) {
	eng, err := verifier.New(cfg)
	if err != nil {
		return nil, err
	}
	return document.VerifyReport(ctx, eng, data, parts, pol)
}
