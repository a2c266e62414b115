package testpki

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// BuildESig builds the esig binary once per test process (for CLI tests
// and benchmarks that measure it as a separate process) and returns its path.
func BuildESig(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "esig-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "esig")
		out, err := exec.Command("go", "build", "-o", binPath, "esig/cmd/esig").CombinedOutput()
		if err != nil {
			buildErr = &buildError{err, string(out)}
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return binPath
}

type buildError struct {
	err error
	out string
}

// Error includes the compiler output.
func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// Run is the measured outcome of one process.
type Run struct {
	Wall time.Duration
	// PeakRSS is the child's maximum resident set size (getrusage).
	PeakRSS int64
}

// Measure runs a command and returns its wall time and peak RSS, failing
// the test or benchmark with its output when it fails.
func Measure(tb testing.TB, name string, args ...string) Run {
	tb.Helper()
	cmd := exec.Command(name, args...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(start)
	if err != nil {
		tb.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss * 1024 // kilobytes on Linux
	}
	return Run{Wall: wall, PeakRSS: rss}
}
