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
	const counts = `let start=datetime(2017-08-01); let end=datetime(2017-08-04); let window=1d;
let T = datatable(UserId:string, Timestamp:datetime)['A', datetime(2017-08-01), 'D', datetime(2017-08-01), 'J', datetime(2017-08-01), 'B', datetime(2017-08-01),
'C', datetime(2017-08-02), 'T', datetime(2017-08-02), 'J', datetime(2017-08-02), 'H', datetime(2017-08-03), 'T', datetime(2017-08-03), 'T', datetime(2017-08-03),
'J', datetime(2017-08-03), 'B', datetime(2017-08-03), 'S', datetime(2017-08-03), 'S', datetime(2017-08-04)];
T | evaluate activity_counts_metrics(UserId, Timestamp, start, end, window)`
	const cohorts = `let Sets = datatable(Timestamp:datetime, users:dynamic)[datetime(2019-11-01), dynamic([0,2,3,4]),
datetime(2019-11-02), dynamic([0,1,3,4,5]), datetime(2019-11-03), dynamic([0,2,4,5]), datetime(2019-11-04), dynamic([0,1,2,3]),
datetime(2019-11-05), dynamic([0,1,2,3,4])];
let Users = Sets | mv-expand user = users to typeof(long) | project Timestamp, user;
let StartDate = datetime(2019-11-01 00:00:00); let EndDate = datetime(2019-11-07 00:00:00);
Users | evaluate new_activity_metrics(user, Timestamp, StartDate, EndDate-1tick, 1d) | where from_Timestamp < datetime(2019-11-03 00:00:00.0000000)`
	const cohortRows = "2019-11-01T00:00:00.0000000Z|2019-11-01T00:00:00.0000000Z|4|4|0|1|0;2019-11-01T00:00:00.0000000Z|2019-11-02T00:00:00.0000000Z|2|3|1|0.75|0.25;" +
		"2019-11-01T00:00:00.0000000Z|2019-11-03T00:00:00.0000000Z|1|3|1|0.75|0.25;2019-11-01T00:00:00.0000000Z|2019-11-04T00:00:00.0000000Z|1|3|1|0.75|0.25;" +
		"2019-11-01T00:00:00.0000000Z|2019-11-05T00:00:00.0000000Z|1|4|0|1|0;2019-11-01T00:00:00.0000000Z|2019-11-06T00:00:00.0000000Z|0|0|4|0|1;" +
		"2019-11-02T00:00:00.0000000Z|2019-11-02T00:00:00.0000000Z|2|2|0|1|0;2019-11-02T00:00:00.0000000Z|2019-11-03T00:00:00.0000000Z|0|1|1|0.5|0.5;" +
		"2019-11-02T00:00:00.0000000Z|2019-11-04T00:00:00.0000000Z|0|1|1|0.5|0.5;2019-11-02T00:00:00.0000000Z|2019-11-05T00:00:00.0000000Z|0|1|1|0.5|0.5;" +
		"2019-11-02T00:00:00.0000000Z|2019-11-06T00:00:00.0000000Z|0|0|2|0|1"
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
		{counts, "Timestamp:datetime,count:long,dcount:long,new_dcount:long,aggregated_dcount:long",
			"2017-08-01T00:00:00.0000000Z|4|4|4|4;2017-08-02T00:00:00.0000000Z|3|3|2|6;2017-08-03T00:00:00.0000000Z|6|5|2|8;2017-08-04T00:00:00.0000000Z|1|1|0|8"},
		{cohorts, "from_Timestamp:datetime,to_Timestamp:datetime,dcount_new_values:long,dcount_retained_values:long,dcount_churn_values:long,retention_rate:real,churn_rate:real",
			cohortRows},
		// the Cohort argument keeps one cohort
		{strings.Replace(strings.Replace(cohorts, "EndDate-1tick, 1d)", "EndDate-1tick, 1d, datetime(2019-11-02))", 1), "| where from_Timestamp < datetime(2019-11-03 00:00:00.0000000)", "", 1),
			"from_Timestamp:datetime,to_Timestamp:datetime,dcount_new_values:long,dcount_retained_values:long,dcount_churn_values:long,retention_rate:real,churn_rate:real",
			cohortRows[strings.Index(cohortRows, "2019-11-02T00:00:00.0000000Z|2019-11-02"):]},
		// per period, the ids reaching each state of the sequence within it of a first state (id 5's first state is before Start)
		{`datatable(Id:long, At:datetime, EventType:string)[1, datetime(2007-01-01 00:00), 'Hail', 1, datetime(2007-01-01 00:30), 'Tornado',
1, datetime(2007-01-01 02:00), 'Thunderstorm Wind', 2, datetime(2007-01-01 00:00), 'Hail', 2, datetime(2007-01-01 03:00), 'Tornado', 3, datetime(2007-01-01), 'Tornado',
4, datetime(2007-01-01 01:00), 'Hail', 5, datetime(2006-12-31), 'Hail'] | evaluate funnel_sequence_completion(Id, At, datetime(2007-01-01), datetime(2008-01-01), 365d,
EventType, dynamic(['Hail', 'Tornado', 'Thunderstorm Wind']), dynamic([1h, 4h]))`,
			"At:datetime,EventType:string,Period:timespan,dcount:long",
			"2007-01-01T00:00:00.0000000Z|'Hail'|01:00:00|3;2007-01-01T00:00:00.0000000Z|'Tornado'|01:00:00|1;2007-01-01T00:00:00.0000000Z|'Thunderstorm Wind'|01:00:00|0;" +
				"2007-01-01T00:00:00.0000000Z|'Hail'|04:00:00|3;2007-01-01T00:00:00.0000000Z|'Tornado'|04:00:00|2;2007-01-01T00:00:00.0000000Z|'Thunderstorm Wind'|04:00:00|1"},
		// with a Lookback table holding users 2 and 5: they are never new,
		// so 11-01's cohort is 0, 3, 4 and 11-02's is 1
		{strings.Replace(cohorts, "EndDate-1tick, 1d)", "EndDate-1tick, 1d, datatable(user:long)[2, 5])", 1),
			"from_Timestamp:datetime,to_Timestamp:datetime,dcount_new_values:long,dcount_retained_values:long,dcount_churn_values:long,retention_rate:real,churn_rate:real",
			"2019-11-01T00:00:00.0000000Z|2019-11-01T00:00:00.0000000Z|3|3|0|1|0;2019-11-01T00:00:00.0000000Z|2019-11-02T00:00:00.0000000Z|1|3|0|1|0;" +
				"2019-11-01T00:00:00.0000000Z|2019-11-03T00:00:00.0000000Z|0|2|1|0.6666666666666666|0.3333333333333333;" +
				"2019-11-01T00:00:00.0000000Z|2019-11-04T00:00:00.0000000Z|1|2|1|0.6666666666666666|0.3333333333333333;" +
				"2019-11-01T00:00:00.0000000Z|2019-11-05T00:00:00.0000000Z|1|3|0|1|0;2019-11-01T00:00:00.0000000Z|2019-11-06T00:00:00.0000000Z|0|0|3|0|1;" +
				"2019-11-02T00:00:00.0000000Z|2019-11-02T00:00:00.0000000Z|1|1|0|1|0;2019-11-02T00:00:00.0000000Z|2019-11-03T00:00:00.0000000Z|0|0|1|0|1;" +
				"2019-11-02T00:00:00.0000000Z|2019-11-04T00:00:00.0000000Z|0|1|0|1|0;2019-11-02T00:00:00.0000000Z|2019-11-05T00:00:00.0000000Z|0|1|0|1|0;" +
				"2019-11-02T00:00:00.0000000Z|2019-11-06T00:00:00.0000000Z|0|0|1|0|1"},
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

// TestUsagePluginsWorked checks the plugins whose pages give no output
// (or an output of random data) on small tables worked by hand.
func TestUsagePluginsWorked(t *testing.T) {
	const T = `let T = datatable(Id:string, Day:datetime, G:string)['a', datetime(2020-01-01), 'x', 'b', datetime(2020-01-02), 'x', 'a', datetime(2020-01-02), 'x',
'a', datetime(2020-01-03), 'x', 'c', datetime(2020-01-03), 'x', 'c', datetime(2020-01-04), 'x', 'c', datetime(2020-01-04), 'y', 'a', datetime(2020-01-09), 'x'];
let s = datetime(2020-01-02); let e = datetime(2020-01-04); T `
	expectRows(t, T, []struct{ q, rows string }{
		// previous window {a,b} -> {a,c}: a returns (1 of 2), c is new; then {c}: c returns (1 of 2)
		{"| where G == 'x' | evaluate activity_metrics(Id, Day, s, e, 1d)",
			"2020-01-02T00:00:00.0000000Z|2|2|NaN|NaN;2020-01-03T00:00:00.0000000Z|2|1|0.5|0.5;2020-01-04T00:00:00.0000000Z|1|0|0.5|0.5"},
		// without Start and End: from the first to the last record, the empty windows left out
		{"| where G == 'x' and Day < datetime(2020-01-05) | evaluate activity_metrics(Id, Day, 1d)",
			"2020-01-01T00:00:00.0000000Z|1|1|NaN|NaN;2020-01-02T00:00:00.0000000Z|2|1|1|0;2020-01-03T00:00:00.0000000Z|2|1|0.5|0.5;2020-01-04T00:00:00.0000000Z|1|0|0.5|0.5"},
		// the outer window of two days reaches back before Start (a on the 1st)
		{"| where G == 'x' | evaluate activity_engagement(Id, Day, s, e, 1d, 2d)",
			"2020-01-02T00:00:00.0000000Z|2|2|1;2020-01-03T00:00:00.0000000Z|2|3|0.6666666666666666;2020-01-04T00:00:00.0000000Z|1|2|0.5"},
		// dimensions: one group per value, ascending; records before Start count in the lookback
		{"| evaluate sliding_window_counts(Id, Day, s, e, 2d, 1d, G)",
			"2020-01-02T00:00:00.0000000Z|'x'|3|2;2020-01-03T00:00:00.0000000Z|'x'|4|3;2020-01-04T00:00:00.0000000Z|'x'|3|2;2020-01-04T00:00:00.0000000Z|'y'|1|1"},
		{"| evaluate activity_counts_metrics(Id, Day, s, e, 1d, G)",
			"2020-01-02T00:00:00.0000000Z|'x'|2|2|2|2;2020-01-03T00:00:00.0000000Z|'x'|2|2|1|3;2020-01-04T00:00:00.0000000Z|'x'|1|1|0|3;2020-01-04T00:00:00.0000000Z|'y'|1|1|1|1"},
		// a is seen on three distinct days within 3 days only on the 3rd
		{"| evaluate active_users_count(Id, Day, s, datetime(2020-01-10), 3d, 1d, 3, 1d)", "2020-01-03T00:00:00.0000000Z|1"},
	})
	expectErrorsWith(t, T, map[string]string{
		"| evaluate sliding_window_counts(Id, Day, s, e, 7d, 'week')":                                      "calendar steps",
		"| evaluate sliding_window_counts(Id, Day, s, e, 1d)":                                              "needs at least 6 arguments",
		"| evaluate sliding_window_counts(Id, G, s, e, 1d, 1d)":                                            "must be a datetime, timespan or integer column",
		"| evaluate sliding_window_counts(Id, Day, 1, e, 1d, 1d)":                                          "start must be a datetime",
		"| evaluate sliding_window_counts(Id, Day, s, e, 1h, 1d)":                                          "at least one bin",
		"| evaluate sliding_window_counts(Id, Day, e, s, 1d, 1d)":                                          "end comes before its start",
		"| evaluate activity_engagement(Id, Day, s, e, 2d, 1d)":                                            "at least its inner window",
		"| evaluate rolling_percentile(G, 50, Day, 1d, 3)":                                                 "must be numeric",
		"| extend v = 1 | evaluate rolling_percentile(v, 150, Day, 1d, 3)":                                 "between 0 and 100",
		"| extend v = 1 | evaluate rolling_percentile(v, 50, Day, 1d, 0)":                                  "between 1 and",
		"| evaluate active_users_count(Id, Day, s, e, 3d, 1d, 3, 1d, Nope)":                                "must name a column",
		"| evaluate activity_metrics(Id, Day, s, e, -1d)":                                                  "must be a positive timespan",
		"| evaluate new_activity_metrics(Id, Day, s, e, 1d, datetime(2020-01-03), (T | project Who = Id))": "needs the id column 'Id'",
		"| evaluate new_activity_metrics(Id, Day, s, e, 1d, datetime(2021-01-03))":                         "cohort must be between",
		"| evaluate funnel_sequence_completion(Id, Day, s, e, 1d, Day, dynamic(['a']), dynamic([1h]))":     "state column must be a string",
		"| evaluate funnel_sequence_completion(Id, Day, s, e, 1d, G, dynamic([]), dynamic([1h]))":          "non-empty dynamic array",
		"| evaluate funnel_sequence_completion(Id, Day, s, e, 1d, G, dynamic(['x']), 'soon')":              "periods must be",
		"| evaluate session_count(Id, Day, s, e, 0d, 1d)":                                                  "bin must be a positive timespan",
	})
}

// TestUsageCalendarSteps: 'week', 'month' and 'year' steps make calendar
// windows, the first one holding Start (weeks start on Sunday, as
// startofweek's do).
func TestUsageCalendarSteps(t *testing.T) {
	expectRows(t, "", []struct{ q, rows string }{
		{"datatable(Id:string, Day:datetime)['a', datetime(2020-01-15), 'b', datetime(2020-01-20), 'a', datetime(2020-02-03), 'c', datetime(2020-02-28)," +
			" 'a', datetime(2020-03-01), 'b', datetime(2020-01-10)] | evaluate activity_counts_metrics(Id, Day, datetime(2020-01-15), datetime(2020-03-31), 'month')",
			"2020-01-01T00:00:00.0000000Z|3|2|2|2;2020-02-01T00:00:00.0000000Z|2|2|1|3;2020-03-01T00:00:00.0000000Z|1|1|0|3"},
		{"datatable(Id:string, Day:datetime)['a', datetime(2020-01-01), 'b', datetime(2020-01-05), 'a', datetime(2020-01-07), 'a', datetime(2020-01-13)]" +
			" | evaluate activity_metrics(Id, Day, datetime(2020-01-01), datetime(2020-01-20), 'week')",
			"2019-12-29T00:00:00.0000000Z|1|1|NaN|NaN;2020-01-05T00:00:00.0000000Z|2|1|1|0;2020-01-12T00:00:00.0000000Z|1|0|0.5|0.5"},
		{"datatable(Id:string, Day:datetime)['a', datetime(2019-06-01), 'b', datetime(2020-01-05), 'a', datetime(2020-07-07)]" +
			" | evaluate new_activity_metrics(Id, Day, datetime(2019-03-01), datetime(2020-12-31), 'year')",
			"2019-01-01T00:00:00.0000000Z|2019-01-01T00:00:00.0000000Z|1|1|0|1|0;2019-01-01T00:00:00.0000000Z|2020-01-01T00:00:00.0000000Z|1|1|0|1|0;" +
				"2020-01-01T00:00:00.0000000Z|2020-01-01T00:00:00.0000000Z|1|1|0|1|0"},
	})
	expectErrorsWith(t, "", map[string]string{
		"range x from 1 to 3 step 1 | evaluate activity_metrics(x, x, 1, 3, 'week')":                                                                 "needs a datetime timeline",
		"print Id = 1, Day = datetime(2020-01-01) | evaluate activity_metrics(Id, Day, datetime(2020-01-01), datetime(2020-02-01), 'fortnight')":     "must be a timespan or 'week'",
		"print Id = 1, Day = datetime(2020-01-01) | evaluate activity_engagement(Id, Day, 'week', 'month')":                                          "calendar steps",
		"print Id = 1, Day = datetime(2020-01-01) | evaluate sliding_window_counts(Id, Day, datetime(2020-01-01), datetime(2020-02-01), 7d, 'week')": "calendar steps",
	})
}

// expectRows runs each query (after prefix) and compares its rows, joined
// by ";", with the expected text.
func expectRows(t *testing.T, prefix string, cases []struct{ q, rows string }) {
	t.Helper()
	for _, tc := range cases {
		res, err := Run(context.Background(), prefix+tc.q, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.q, err)
		}
		if got := strings.Join(rowsText(res), ";"); got != tc.rows {
			t.Errorf("%s:\n got %s\nwant %s", tc.q, got, tc.rows)
		}
	}
}

// expectErrorsWith runs each query (after prefix) and wants an error holding
// the given text.
func expectErrorsWith(t *testing.T, prefix string, cases map[string]string) {
	t.Helper()
	for q, want := range cases {
		_, err := Run(context.Background(), prefix+q, Options{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error with %q", q, err, want)
		}
	}
}
