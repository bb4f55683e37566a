package kql

import (
	"strings"
	"testing"
)

func TestScanSteps(t *testing.T) {
	for _, tc := range []struct{ q, rows string }{
		// output=last keeps the last record of a series of matches of a
		// step; the series ends when the sequence moves on to the next step
		{"range x from 1 to 6 step 1 | scan with (step a output=last: x < 4; step b: x >= 4;)", "3;4;5;6"},
		// a new series after the sequence moved on
		{"datatable(x:long)[1, 2, 9, 3, 4, 9] | scan with (step a output=last: x < 9; step b output=none: x == 9;)", "2;4"},
		// a record matching two steps is output once per match, the later
		// step first; the first step starts a new sequence when its state
		// moved on
		{"range x from 1 to 3 step 1 | scan with_match_id=m with (step a: true; step b: x >= 2;)", "1|0;2|0;2|1;3|1;3|2"},
		// declared variables a step does not assign are their defaults;
		// step.variable reads the state of the sequence
		{"range x from 1 to 4 step 1 | scan declare (f:long=-1, seen:long=0) with (step a: x == 1 => f = x; step b: x > 1 => seen = a.f * 10 + x;)",
			"1|1|0;2|-1|12;3|-1|13;4|-1|14"},
		// a step not reached yet reads as the declared default, input
		// columns as null
		{"range x from 1 to 2 step 1 | scan declare (p:long=7, q:long) with (step a: true => p = a.p, q = a.x;)", "1|7|null;2|7|1"},
		// no declare
		{"range x from 1 to 3 step 1 | scan with (step a: x != 2;)", "1;3"},
	} {
		checkRowsCases(t, []rowsCase{{q: tc.q, rows: tc.rows}})
	}
}

func TestScanStepErrors(t *testing.T) {
	expectErrors(t, []string{
		"range x from 1 to 3 step 1 | scan with (step a: true; step a: false;)",                  // a step twice
		"range x from 1 to 3 step 1 | scan with (step a output=some: true;)",                     // unknown output mode
		"range x from 1 to 3 step 1 | scan with (step a: a.nosuch > 1;)",                         // no such column in the state
		"range x from 1 to 3 step 1 | scan with (step a: x;)",                                    // not a bool condition
		"range x from 1 to 3 step 1 | scan declare (v:long) with (step a: true => x = 1;)",       // assigns an input column
		"range x from 1 to 3 step 1 | scan with_match_id=x with (step a: true;)",                 // match id collides
		"range x from 1 to 3 step 1 | scan declare (v:long) with (step a: true => v = prev(x);)", // window function
		"range x from 1 to 3 step 1 | scan with ()",                                              // no step
	})
}

func TestScanRendersAndReparses(t *testing.T) {
	q := "T | scan with_match_id=m declare (v:long = 0) with (step a output=last: x > 1 => v = a.v + 1; step b: true;)"
	a, err := Parse(q)
	if err != nil {
		t.Fatal(err)
	}
	s := a.String()
	b, err := Parse(s)
	if err != nil || b.String() != s {
		t.Fatalf("%q does not round-trip: %v", s, err)
	}
	for _, w := range []string{"with_match_id=m", "output=last", "step b: true;"} {
		if !strings.Contains(s, w) {
			t.Errorf("%q lacks %q", s, w)
		}
	}
}
