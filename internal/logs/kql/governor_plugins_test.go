package kql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// wideConstant is a table of n rows and d columns that all hold the same
// value: every combination of columns is a frequent pattern.
func wideConstant(n, d int, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "range r from 1 to %d step 1 | project %s", n, extra)
	for i := 0; i < d; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "c%d = 'v'", i)
	}
	return b.String()
}

// TestGovernorBoundsPatternPluginsAndScan requires the plugins and scan to
// stop in the governor's error when what they build themselves (value
// dictionaries, row bitsets, held rows, the search) goes over the budget,
// not only when their input does.
func TestGovernorBoundsPatternPluginsAndScan(t *testing.T) {
	distinct := "range x from 1 to 100000 step 1 | extend k = tostring(x)"
	// the input alone fits the budget
	if _, err := Run(context.Background(), distinct+" | sort by x | count", Options{Limits: small}); err != nil {
		t.Fatalf("the input does not fit: %v", err)
	}
	runLimitCases(t, []limitCase{
		// the input (about 10 MB counted) fits; the plugin's dictionary of
		// 200,000 distinct values does not
		{"basket dictionary", distinct + " | evaluate basket()", small, CodeRunaway},
		{"diffpatterns dictionary", distinct + " | extend s = x % 2 | evaluate diffpatterns(s, '0', '1')", small, CodeRunaway},
		{"autocluster dictionary", distinct + " | evaluate autocluster()", small, CodeRunaway},
		// 2^30 frequent patterns: the search is stopped by the time budget
		{"basket search", wideConstant(1000, 30, "") + " | evaluate basket(0.5, '~', 30)", Limits{Timeout: 200 * time.Millisecond}, CodeTimeout},
		{"diffpatterns search", wideConstant(1000, 30, "s = r % 2, ") + " | evaluate diffpatterns(s, '0', '1', '~', 0.015)",
			Limits{Timeout: 200 * time.Millisecond}, CodeTimeout},
		// about 1.3 billion sequences of three steps among 2,000 rows
		{"sequence_detect combinations", "range x from 1 to 2000 step 1 | extend t = datetime(2020-01-01) + x * 1s" +
			" | evaluate sequence_detect(t, 1d, 1d, a=(x > 0), b=(x > 0), c=(x > 0))", small, CodeRunaway},
		// no sequence completes, but the search is long: the time budget ends it
		{"sequence_detect search", "range x from 1 to 3000 step 1 | extend t = datetime(2020-01-01) + x * 1s" +
			" | evaluate sequence_detect(t, 1d, 1d, a=(x > 0), b=(x > 0), c=(x < 0))", Limits{Timeout: 200 * time.Millisecond}, CodeTimeout},
		// output=last holds the rows behind a match whose series may go on:
		// here the first step's rows wait behind s2's match, whose series
		// never ends
		{"scan rows behind output=last", "range x from 1 to 1000000 step 1 | scan with (step s1: x == 1 or x > 2; step s2 output=last: x == 2;)", small, CodeRunaway},
	})
}

// TestScanStreams runs scans over more rows than the budget could hold:
// without output=last, or with series of output=last matches that end,
// they stream.
func TestScanStreams(t *testing.T) {
	for q, want := range map[string]string{
		"range x from 1 to 1000000 step 1 | scan declare (c:long=0) with (step s: true => c = s.c + 1;) | summarize max(c)": "1000000",
		// b's series end each time a promotes a new sequence into b: the
		// even rows from a, and per series {odd x, x+1} from 3 on, x+1
		"range x from 1 to 1000000 step 1 | scan with (step a: x % 2 == 0; step b output=last: true;) | count": "999999",
		// one series that never ends: only its latest match is held
		"range x from 1 to 1000000 step 1 | scan with (step s output=last: true;) | project x": "1000000",
	} {
		res, err := Run(context.Background(), q, Options{Limits: small})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got := rowsText(res); len(got) != 1 || got[0] != want {
			t.Fatalf("%s: got %v, want %s", q, got, want)
		}
	}
}

// TestCancelledPluginStops cancels a basket search that would run for
// years.
func TestCancelledPluginStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := Run(ctx, wideConstant(1000, 40, "")+" | evaluate basket(0.5, '~', 40)", Options{})
	var le *LimitError
	if !errors.As(err, &le) || le.Code != CodeCancelled {
		t.Fatalf("got %v, want %s", err, CodeCancelled)
	}
}
