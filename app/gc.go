package app

import (
	"os"
	"runtime/debug"
)

// TuneGC trades memory for CPU unless the operator set GOGC or GOMEMLIMIT.
// Issuance allocates about a quarter of a megabyte of short-lived garbage
// per certificate (zlint parses and inspects each one) while the live heap
// stays small, so the default collector (GOGC=100) spends a large share of
// the CPU rescanning a tiny heap. Collecting at 10x the live heap, with a
// 1 GiB soft limit that brings collection back whenever the heap
// approaches it, was measured to raise issuance by about a quarter on two
// cores (make bench).
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(1000)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(1 << 30)
	}
}
