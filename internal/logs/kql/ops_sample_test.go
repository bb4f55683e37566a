package kql

import (
	"context"
	"sort"
	"strings"
	"testing"
)

func TestSampleInvokeConsume(t *testing.T) {
	res := runQuery(t, "range x from 1 to 100 step 1 | sample 5")
	if len(res.Rows) != 5 {
		t.Fatalf("sample 5 gave %d rows", len(res.Rows))
	}
	seen := map[int64]bool{}
	for _, r := range res.Rows {
		if r[0].i < 1 || r[0].i > 100 || seen[r[0].i] {
			t.Errorf("sample rows %v: each row of the input at most once", rowsText(res))
		}
		seen[r[0].i] = true
	}
	if all := runQuery(t, "range x from 1 to 3 step 1 | sample 10"); len(all.Rows) != 3 {
		t.Errorf("sample 10 of 3 rows gave %d", len(all.Rows))
	}
	d := runQuery(t, "range x from 1 to 100 step 1 | extend g = x % 4 | sample-distinct 10 of g")
	if colNames(d) != "g" || len(d.Rows) != 4 {
		t.Errorf("sample-distinct: %s %v", colNames(d), rowsText(d))
	}
	got := rowsText(d)
	sort.Strings(got)
	if strings.Join(got, ",") != "0,1,2,3" {
		t.Errorf("sample-distinct values %v", got)
	}
	inv := runQuery(t, "let addOne = (T:(x:long), k:long) { T | extend y = x + k }; range x from 1 to 3 step 1 | invoke addOne(10)")
	if strings.Join(rowsText(inv), ";") != "1|11;2|12;3|13" {
		t.Errorf("invoke: %v", rowsText(inv))
	}
	if c := runQuery(t, "range x from 1 to 1000 step 1 | consume"); len(c.Rows) != 0 {
		t.Errorf("consume returned %d rows", len(c.Rows))
	}
	for q, want := range map[string]string{
		"range x from 1 to 3 step 1 | sample":                                    "sample needs a row count",
		"range x from 1 to 3 step 1 | sample -1":                                 "non-negative",
		"range x from 1 to 3 step 1 | invoke nothere()":                          "not a function defined by let",
		"let f = (k:long) { print k }; range x from 1 to 3 step 1 | invoke f(1)": "must be a table",
	} {
		if _, err := Run(context.Background(), q, Options{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", q, err, want)
		}
	}
}

// TestRowWindowSession follows the reference's description: a session
// starts at the first row, after a gap longer than the neighbour distance,
// past the distance from the session's first row, or on restart.
func TestRowWindowSession(t *testing.T) {
	res := runQuery(t, `datatable(ts:datetime, id:string)[
		datetime(2024-01-01 10:00), 'a', datetime(2024-01-01 10:04), 'a', datetime(2024-01-01 10:08), 'a',
		datetime(2024-01-01 10:30), 'a', datetime(2024-01-01 10:34), 'a', datetime(2024-01-01 11:20), 'a',
		datetime(2024-01-01 11:21), 'b']
		| sort by ts asc
		| extend s = row_window_session(ts, 30m, 10m, id != prev(id))
		| project m = datetime_part('minute', s) + 60 * datetime_part('hour', s)`)
	// 10:00 10:04 10:08 | 10:30 10:34 | 11:20 | 11:21 restarts (new id)
	if got, want := strings.Join(rowsText(res), ","), "600,600,600,630,630,680,681"; got != want {
		t.Errorf("sessions %s, want %s", got, want)
	}
	// the distance from the session's first row closes it too
	long := runQuery(t, `range x from 0 to 50 step 5 | serialize | extend s = row_window_session(x, 20, 10) | project s`)
	if got, want := strings.Join(rowsText(long), ","), "0,0,0,0,0,25,25,25,25,25,50"; got != want {
		t.Errorf("numeric sessions %s, want %s", got, want)
	}
}
