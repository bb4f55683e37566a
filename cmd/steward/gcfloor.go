package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// A scan allocates its records and drops them a batch later: its live
// heap stays small (tens of MB) while it allocates gigabytes. With the
// default GOGC=100 the collector then runs every few MB of allocation and
// takes a fifth of the scan's CPU. setGCFloor lets the heap grow to a
// floor before the collector runs, and keeps GOGC=100's rule (the next
// collection at twice the live heap) above it: after each collection the
// percentage is set so that the next one comes at max(floor, 2 x live).
// Big scans (a large related-resource index) therefore behave as before,
// and small ones stop paying for a collector that has nothing to free.
// Unlike GOMEMLIMIT, the floor never makes the collector run more often.
// It does nothing when GOGC or GOMEMLIMIT is set: the user's choice wins.
// Only the first call in a process takes effect (tests run many commands
// in one process; one chain of finalizers is enough).
func setGCFloor(floor uint64) {
	gcFloorOnce.Do(func() {
		if floor == 0 || os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
			return
		}
		live, roots := heapAndRoots()
		debug.SetGCPercent(gcPercentFor(live, roots, floor))
		armGCFloor(floor)
	})
}

var gcFloorOnce sync.Once

// gcPercentFor is the GOGC that puts the next collection at
// max(floor, what GOGC=100 gives), given the live heap after the last
// one and the other roots the collector scans (stacks and globals): the
// runtime's goal is live + (live + roots) x GOGC / 100.
func gcPercentFor(live, roots, floor uint64) int {
	const base = 100
	if live == 0 {
		// before the first collection the runtime's goal is its heap
		// minimum, 4 MiB scaled by GOGC/100
		return max(base, int(floor*100/(4<<20)))
	}
	scanned := live + roots
	if scanned == 0 {
		scanned = 1
	}
	if live >= floor || live+scanned*base/100 >= floor {
		return base
	}
	return int((floor - live) * 100 / scanned)
}

// gcFloorSentinel is an object whose finalizer runs after the collection
// that found it unreachable, that is after every cycle once re-armed.
type gcFloorSentinel struct{ _ [16]byte }

func armGCFloor(floor uint64) {
	s := &gcFloorSentinel{}
	runtime.SetFinalizer(s, func(*gcFloorSentinel) {
		live, roots := heapAndRoots()
		debug.SetGCPercent(gcPercentFor(live, roots, floor))
		armGCFloor(floor)
	})
}

// heapAndRoots reads the live heap of the last collection and the stacks
// and globals the collector scans besides it (0 for what the runtime
// does not report).
func heapAndRoots() (live, roots uint64) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"}}
	metrics.Read(sample)
	var v [3]uint64
	for i, s := range sample {
		if s.Value.Kind() == metrics.KindUint64 {
			v[i] = s.Value.Uint64()
		}
	}
	return v[0], v[1] + v[2]
}
