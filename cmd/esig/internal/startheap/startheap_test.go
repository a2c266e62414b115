package startheap

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

// gcState reads the heap goal, GOGC and the number of collections.
func gcState() (goal, gogc, cycles uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}, {Name: "/gc/gogc:percent"}, {Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64(), s[2].Value.Uint64()
}

// atStart is the state right after the package's init (this file's init
// runs after startheap.go's).
var atStart struct{ goal, gogc, cycles uint64 }

func init() { atStart.goal, atStart.gogc, atStart.cycles = gcState() }

func TestStartingHeapGoal(t *testing.T) {
	if os.Getenv("GOGC") != "" {
		t.Skip("GOGC is set: the package leaves the collector alone")
	}
	if atStart.cycles != 0 {
		t.Skipf("%d collections ran before the package's init", atStart.cycles)
	}
	if atStart.goal != StartingHeap || atStart.gogc != 100*StartingHeap/heapMinimum {
		t.Fatalf("after init: heap goal %d, GOGC %d; want %d and %d", atStart.goal, atStart.gogc, StartingHeap, 100*StartingHeap/heapMinimum)
	}
}

// After a collection the process is back on GOGC=100.
func TestBackTo100AfterACollection(t *testing.T) {
	if os.Getenv("GOGC") != "" {
		t.Skip("GOGC is set: the package leaves the collector alone")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, gogc, _ := gcState()
		if gogc == 100 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GOGC is still %d after collections", gogc)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

func TestHandBackKeepsAPercentageSetSince(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	debug.SetGCPercent(400)
	handBack(400)
	if _, gogc, _ := gcState(); gogc != 100 {
		t.Fatalf("GOGC %d after handing back 400, want 100", gogc)
	}
	debug.SetGCPercent(1000) // esig serve's own tuning
	handBack(400)
	if _, gogc, _ := gcState(); gogc != 1000 {
		t.Fatalf("GOGC %d, want the 1000 set after the boost", gogc)
	}
}

func TestBoostLeavesAnotherPercentageAlone(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(250))
	if pct := boost(); pct != 0 {
		t.Fatalf("boost set GOGC=%d over a percentage of 250", pct)
	}
	if _, gogc, _ := gcState(); gogc != 250 {
		t.Fatalf("GOGC %d, want 250 untouched", gogc)
	}
	debug.SetGCPercent(100)
	if pct := boost(); pct != 100*StartingHeap/heapMinimum {
		t.Fatalf("boost from 100 set %d", pct)
	}
}
