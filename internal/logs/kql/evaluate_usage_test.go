package kql

import (
	"context"
	"strings"
	"testing"
)

// TestUsagePluginsDocumented runs the reference pages' examples and
// compares with their documented outputs.
func TestUsagePluginsDocumented(t *testing.T) {
	const sliding = `let start = datetime(2017-08-01); let end = datetime(2017-08-07); let lookbackWindow = 3d; let bin = 1d;
let T = datatable(UserId:string, Timestamp:datetime)['Bob', datetime(2017-08-01), 'David', datetime(2017-08-01), 'David', datetime(2017-08-01),
'John', datetime(2017-08-01), 'Bob', datetime(2017-08-01), 'Ananda', datetime(2017-08-02), 'Atul', datetime(2017-08-02), 'John', datetime(2017-08-02),
'Ananda', datetime(2017-08-03), 'Atul', datetime(2017-08-03), 'Atul', datetime(2017-08-03), 'John', datetime(2017-08-03), 'Bob', datetime(2017-08-03),
'Betsy', datetime(2017-08-04), 'Bob', datetime(2017-08-05)];
T | evaluate sliding_window_counts(UserId, Timestamp, start, end, lookbackWindow, bin)`
	const active = `let Start = datetime(2018-07-01); let End = datetime(2018-07-31); let LookbackWindow = 8d; let Period = 1d; let ActivePeriods = 3; let Bin = 7d;
let T = datatable(User:string, Timestamp:datetime)["B", datetime(2018-06-29), "B", datetime(2018-06-30), "A", datetime(2018-07-02), "B", datetime(2018-07-04),
"B", datetime(2018-07-08), "A", datetime(2018-07-10), "A", datetime(2018-07-14), "A", datetime(2018-07-17), "A", datetime(2018-07-20), "B", datetime(2018-07-24)];
T | evaluate active_users_count(User, Timestamp, Start, End, LookbackWindow, Period, ActivePeriods, Bin)`
	const rolling = `let T = range idx from 0 to 24*10-1 step 1 | project Timestamp = datetime(2018-01-01) + 1h*idx, val=idx+1
| extend EvenOrOdd = iff(val % 2 == 0, "Even", "Odd"); T | evaluate rolling_percentile(val, 50, Timestamp, 1d, 3`
	days := func(vals ...string) string {
		var b []string
		for i, v := range vals {
			b = append(b, "2018-01-"+[]string{"01", "02", "03", "04", "05", "06", "07", "08", "09", "10"}[i]+"T00:00:00.0000000Z|"+v)
		}
		return strings.Join(b, ";")
	}
	even := days("12", "24", "36", "60", "84", "108", "132", "156", "180", "204")
	odd := days("11", "23", "35", "59", "83", "107", "131", "155", "179", "203")
	for _, tc := range []struct{ q, cols, rows string }{
		{sliding, "Timestamp:datetime,Count:long,Dcount:long",
			"2017-08-01T00:00:00.0000000Z|5|3;2017-08-02T00:00:00.0000000Z|8|5;2017-08-03T00:00:00.0000000Z|13|5;2017-08-04T00:00:00.0000000Z|9|5;" +
				"2017-08-05T00:00:00.0000000Z|7|5;2017-08-06T00:00:00.0000000Z|2|2;2017-08-07T00:00:00.0000000Z|1|1"},
		{active, "Timestamp:datetime,dcount:long", "2018-07-01T00:00:00.0000000Z|1;2018-07-15T00:00:00.0000000Z|1"},
		{rolling + ")", "Timestamp:datetime,rolling_3_percentile_val_50:long", even},
		{rolling + ", EvenOrOdd)", "Timestamp:datetime,EvenOrOdd:string,rolling_3_percentile_val_50:long",
			strings.ReplaceAll(even, "Z|", "Z|'Even'|") + ";" + strings.ReplaceAll(odd, "Z|", "Z|'Odd'|")},
	} {
		res, err := Run(context.Background(), tc.q, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.q, err)
		}
		var cols []string
		for _, c := range res.Columns {
			cols = append(cols, c.Name+":"+c.Type.String())
		}
		if got := strings.Join(cols, ","); got != tc.cols {
			t.Errorf("%s: columns %s, want %s", tc.q, got, tc.cols)
		}
		if got := strings.Join(rowsText(res), ";"); got != tc.rows {
			t.Errorf("%s:\n got %s\nwant %s", tc.q, got, tc.rows)
		}
	}
}
