package kql

import (
	"context"
	"strings"
	"testing"
)

func rowsText(res *Result) []string {
	var out []string
	for _, r := range res.Rows {
		var c []string
		for _, v := range r {
			c = append(c, v.Text())
		}
		out = append(out, strings.Join(c, "|"))
	}
	return out
}

func TestPivotPlugin(t *testing.T) {
	const storms = "datatable(State:string, EventType:string, Deaths:long)['ALABAMA','Thunderstorm Wind',0, 'ALASKA','High Wind',2, 'ALABAMA','Thunderstorm Wind',1, 'ALABAMA','Strong Wind',0, 'ALASKA','High Wind',3]"
	for _, tc := range []struct{ q, cols, rows string }{
		// count() by default, grouped by every other column
		{storms + " | project State, EventType | evaluate pivot(State)",
			"EventType,ALABAMA,ALASKA", "'Thunderstorm Wind'|2|0;'High Wind'|0|2;'Strong Wind'|1|0"},
		// an aggregation: the grouping leaves out the column it reads
		{storms + " | evaluate pivot(State, sum(Deaths))",
			"EventType,ALABAMA,ALASKA", "'Thunderstorm Wind'|1|0;'High Wind'|0|5;'Strong Wind'|0|0"},
		// explicit grouping columns; avg leaves empty cells null
		{storms + " | evaluate pivot(EventType, avg(Deaths), State)",
			"State,Thunderstorm Wind,High Wind,Strong Wind", "'ALABAMA'|0.5|null|0;'ALASKA'|null|2.5|null"},
	} {
		res := runQuery(t, tc.q)
		if got := colNames(res); got != tc.cols {
			t.Errorf("%s\ncolumns %s, want %s", tc.q, got, tc.cols)
		}
		if got := strings.Join(rowsText(res), ";"); got != tc.rows {
			t.Errorf("%s\nrows %s, want %s", tc.q, got, tc.rows)
		}
	}
	for q, want := range map[string]string{
		storms + " | evaluate pivot(State, percentile(Deaths, 50))": "pivot cannot aggregate with percentile()",
		storms + " | evaluate pivot(Nope)":                          "must be a column",
		storms + " | evaluate pivot(State, count(), 1)":             "must be columns",
		storms + " | evaluate narrow(State)":                        "narrow takes no arguments",
	} {
		if _, err := Run(context.Background(), q, Options{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", q, err, want)
		}
	}
}

func TestNarrowPlugin(t *testing.T) {
	res := runQuery(t, "datatable(a:long, b:string, c:dynamic)[1,'x',dynamic([1]), 2,'y',dynamic(null)] | evaluate narrow()")
	if got := colNames(res); got != "Row,Column,Value" {
		t.Errorf("columns %s", got)
	}
	got := strings.Join(rowsText(res), ";")
	want := "0|'a'|'1';0|'b'|'x';0|'c'|'[1]';1|'a'|'2';1|'b'|'y';1|'c'|''"
	if got != want {
		t.Errorf("rows\n%s\nwant\n%s", got, want)
	}
}
