// Package startheap lets an esig process run its first garbage collection
// at a 16 MiB heap instead of the runtime's 4 MiB, and then hands the
// collector back to the default GOGC=100. Importing it is all there is to
// do (cmd/esig does).
//
// esig is one binary holding the CA, the signer and the verifier, and the
// libraries the CA links (zlint's lint registry, the public suffix list,
// Prometheus, ...) allocate about 3 MB while they initialise: just past
// where the runtime starts its first collection. Every process paid for
// that collection, run beside those initialisers with its write barriers
// on; a one-document `esig verify`, which allocates 0.3 MB more, spent
// about 3 ms of 20 on it on two cores.
//
// The init function runs before those initialisers: the package imports
// only the runtime and os, and Go initialises packages in import-path
// order as soon as their imports are (esig/cmd/... sorts before
// github.com/...); a test in cmd/esig checks the order. cmd/compile does
// the same (base.AdjustStartingHeap). Once a collection has measured the
// live heap, GOGC is 100 again, so a long batch or a server collects as it
// did. GOGC, when set, stands; so does a percentage the process set in the
// meantime (esig serve's app.TuneGC).
package startheap

import (
	"os"
	"runtime"
	"runtime/debug"
)

// StartingHeap is the heap size the first collection waits for.
const StartingHeap = 16 << 20

// heapMinimum is the runtime's heap goal before its first collection at
// GOGC=100 (the GC guide's 4 MiB minimum); it scales with GOGC.
const heapMinimum = 4 << 20

func init() {
	if os.Getenv("GOGC") != "" {
		return
	}
	if pct := boost(); pct != 0 {
		runtime.AddCleanup(new(sentinel), handBack, pct)
	}
}

// sentinel is garbage from the start; its cleanup runs after the first
// collection. It is too big for the tiny allocator, whose blocks may keep
// a cleanup from ever running.
type sentinel struct{ _ [64]byte }

// boost raises GOGC so that the first collection waits for StartingHeap,
// and returns the percentage set: 0, setting nothing, if GOGC was not 100.
// (runtime/metrics would tell the goal and whether a collection already
// ran, but reading it the first time costs more than the rest of esig's
// own initialisation; TestStartingHeapGoal checks the arithmetic.)
func boost() int {
	want := int(100 * StartingHeap / heapMinimum)
	if prev := debug.SetGCPercent(want); prev != 100 {
		debug.SetGCPercent(prev)
		return 0
	}
	return want
}

// handBack sets GOGC back to 100 unless the percentage is no longer the
// one boost set.
func handBack(boosted int) {
	if prev := debug.SetGCPercent(100); prev != boosted {
		debug.SetGCPercent(prev)
	}
}
