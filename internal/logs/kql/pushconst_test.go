package kql

import (
	"context"
	"testing"
	"time"
)

// TestConstantFiltersReachTheSource: a filter against an expression that
// is constant for the query (ago, now() arithmetic, a scalar let) is
// pushed to the source like a literal, so a time-windowed query does not
// read the whole table; one that reads a column is not.
func TestConstantFiltersReachTheSource(t *testing.T) {
	fixed := time.Date(2024, 1, 1, 1, 40, 0, 0, time.UTC) // events run from 00:00, one a minute
	for _, tc := range []struct {
		query  string
		pushed int
		rows   int64
	}{
		{"Events | where TimeGenerated > ago(10m) | count", 1, 9},
		{"Events | where TimeGenerated between (now() - 30m .. now() - 20m) | count", 1, 11},
		{"let since = datetime(2024-01-01 01:30); Events | where TimeGenerated >= since | count", 1, 10},
		{"Events | where Level == 1 + 1 | count", 1, 25},
		{"Events | where TimeGenerated > ago(10m) + Level * 1m | count", 0, 8},
	} {
		src := eventsSource(100)
		res, err := Run(context.Background(), tc.query, Options{Source: src, Now: func() time.Time { return fixed }})
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		if got := len(src.reqs[0].Filters); got != tc.pushed {
			t.Errorf("%s: %d filters pushed (%v), want %d", tc.query, got, src.reqs[0].Filters, tc.pushed)
		}
		if got := res.Rows[0][0].i; got != tc.rows {
			t.Errorf("%s: count %d, want %d", tc.query, got, tc.rows)
		}
	}
}
