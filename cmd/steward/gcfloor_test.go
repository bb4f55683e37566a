package main

import "testing"

func TestGCPercentForKeepsTheFloorAndGOGC100Above(t *testing.T) {
	const mib = 1 << 20
	goal := func(live, roots uint64, pct int) uint64 { return live + (live+roots)*uint64(pct)/100 }
	for _, c := range []struct {
		name               string
		live, roots, floor uint64
		want               uint64 // the runtime's next goal
	}{
		{"small heap: the next collection at the floor", 10 * mib, 2 * mib, 64 * mib, 64 * mib},
		{"tiny heap", 1 * mib, 0, 64 * mib, 64 * mib},
		{"heap past half the floor: GOGC=100", 40 * mib, 1 * mib, 64 * mib, 81 * mib},
		{"heap past the floor: GOGC=100", 300 * mib, 4 * mib, 64 * mib, 604 * mib},
	} {
		pct := gcPercentFor(c.live, c.roots, c.floor)
		if pct < 100 {
			t.Errorf("%s: GOGC %d, below the default", c.name, pct)
		}
		// integer percentages round the goal down by under 1 %
		if got := goal(c.live, c.roots, pct); got > c.want || got < c.want-c.want/100 {
			t.Errorf("%s: GOGC %d puts the next collection at %d MiB, want %d MiB", c.name, pct, got/mib, c.want/mib)
		}
	}
	// before the first collection the runtime's goal is 4 MiB x GOGC/100
	if pct := gcPercentFor(0, 0, 64*mib); 4*mib*uint64(pct)/100 != 64*mib {
		t.Errorf("before the first collection: GOGC %d, goal %d MiB, want 64 MiB", pct, 4*uint64(pct)/100)
	}
}
