package kql

import (
	"strings"
	"testing"
)

// TestSessionCountDocumented runs the page's example: ids 1 to 50, id k
// at every multiple of k, bins of 100 slots, a look-back of 41. Ids up to
// 41 never go 41 slots without a record, so each keeps one session that
// is active in every bin; an id above 41 starts a new session at each of
// its records. The expected counts are derived from that, not copied.
func TestSessionCountDocumented(t *testing.T) {
	res := runQuery(t, `let _data = range Timeline from 1 to 9999 step 1
| extend __key = 1
| join kind=inner (range Id from 1 to 50 step 1 | extend __key=1) on __key
| where Timeline % Id == 0
| project Timeline, Id;
_data
| evaluate session_count(Id, Timeline, 1, 10000, 100, 41)`)
	if colNames(res) != "Timeline,count_sessions" || res.Columns[1].Type != TypeLong {
		t.Fatalf("columns %v", res.Columns)
	}
	if len(res.Rows) != 100 {
		t.Fatalf("%d rows, want a bin of 100 slots from 1 to 10000", len(res.Rows))
	}
	for b, r := range res.Rows {
		lo := int64(1 + 100*b)
		want := int64(41)
		for k := int64(42); k <= 50; k++ {
			for ts := lo; ts < lo+100 && ts <= 9999; ts++ {
				if ts%k == 0 {
					want++
				}
			}
		}
		if r[0].i != lo || r[1].i != want {
			t.Errorf("bin %d: %s, want %d %d", b, strings.Join(rowsText(&Result{Rows: []Row{r}}), ""), lo, want)
		}
	}
}

func TestSessionCountSessions(t *testing.T) {
	const data = `datatable(Id:string, T:datetime, G:string)[
  'a', datetime(2020-01-01 23:50), 'x',
  'a', datetime(2020-01-02 00:00), 'x',
  'a', datetime(2020-01-02 00:20), 'x',
  'a', datetime(2020-01-02 01:10), 'x',
  'b', datetime(2020-01-02 00:50), 'y',
  'b', datetime(2020-01-02 05:00), 'y']`
	const rng = "datetime(2020-01-02), datetime(2020-01-02 02:00), 1h, 30m"
	for _, tc := range []struct{ q, want string }{
		// a's record before Start links its first session into the first
		// bin; the 50-minute gap starts a second one; b's record after End
		// is ignored; the bin holding End is listed with no session
		{data + " | evaluate session_count(Id, T, " + rng + ")",
			"2020-01-02T00:00:00.0000000Z|2;2020-01-02T01:00:00.0000000Z|1;2020-01-02T02:00:00.0000000Z|0"},
		// per dimension, every bin of each combination
		{data + " | evaluate session_count(Id, T, " + rng + ", G)",
			"2020-01-02T00:00:00.0000000Z|'x'|1;2020-01-02T01:00:00.0000000Z|'x'|1;2020-01-02T02:00:00.0000000Z|'x'|0;" +
				"2020-01-02T00:00:00.0000000Z|'y'|1;2020-01-02T01:00:00.0000000Z|'y'|0;2020-01-02T02:00:00.0000000Z|'y'|0"},
		// a record exactly LookBackWindow after the last one continues the
		// session; one a tick later starts another
		{"datatable(Id:long, T:long)[1, 0, 1, 30, 2, 0, 2, 31] | evaluate session_count(Id, T, 0, 59, 60, 30)", "0|3"},
	} {
		res := runQuery(t, tc.q)
		if got := strings.Join(rowsText(res), ";"); got != tc.want {
			t.Errorf("%s:\n got  %s\n want %s", tc.q, got, tc.want)
		}
	}
	expectErrorTexts(t, map[string]string{
		data + " | evaluate session_count(Id, T, " + rng + ", Nope)":                                     "must name a column",
		data + " | evaluate session_count(Id, T, datetime(2020-01-02), datetime(2020-01-03), 1h)":        "needs at least 6 arguments",
		data + " | evaluate session_count(Id, T, datetime(2020-01-03), datetime(2020-01-02), 1h, 1h)":    "end comes before its start",
		data + " | evaluate session_count(Id, T, datetime(2020-01-02), datetime(2020-01-03), 1h, -1h)":   "lookback window must be a positive timespan",
		data + " | evaluate session_count(Id, T, 1, 2, 1h, 1h)":                                          "start must be a datetime",
		"datatable(Id:long, T:long)[1, 0] | evaluate session_count(Id, T, 0, 9223372036854775807, 1, 1)": "E_RUNAWAY_QUERY",
	})
}

// BenchmarkSessionCount counts the storm table's states as ids over its
// 100,000 minutes, in hourly bins with a 30-minute look-back, per source.
func BenchmarkSessionCount(b *testing.B) {
	benchPlugin(b, "StormEvents | evaluate session_count(State, StartTime, datetime(2007-01-01), datetime(2007-03-11), 1h, 30m, Source)")
}
