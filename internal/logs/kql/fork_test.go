package kql

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// tablesText renders every result table as "name=rows", rows joined by
// ";", values by "|" (dynamic values as compact JSON), tables separated
// by " / ".
func tablesText(rs []*Result) string {
	var out []string
	for _, r := range rs {
		var rows []string
		for _, row := range r.Rows {
			var c []string
			for _, v := range row {
				if v.T == TypeDynamic {
					c = append(c, jsonCompact(v.d))
				} else {
					c = append(c, v.Text())
				}
			}
			rows = append(rows, strings.Join(c, "|"))
		}
		out = append(out, r.Name+"="+strings.Join(rows, ";"))
	}
	return strings.Join(out, " / ")
}

// storms is a few rows shaped as the documentation's StormEvents.
const storms = "datatable(State:string, EventType:string, DeathsDirect:long, InjuriesDirect:long, StartTime:datetime)[" +
	"'FLORIDA','Tornado',2,10,datetime(2007-01-04), 'FLORIDA','Dense Fog',0,3,datetime(2007-01-05), 'FLORIDA','Rip Current',1,0,datetime(2007-01-20)," +
	"'ALASKA','Heavy Snow',0,0,datetime(2007-01-04), 'ALABAMA','Heavy Rain',0,0,datetime(2007-01-06), 'ALASKA','Heavy Snow',0,1,datetime(2007-02-01)," +
	"'ARIZONA','Heavy Rain',0,0,datetime(2007-03-01)]"

// TestSeveralTables: fork, facet, funnel_sequence and batches return
// their tables in order, each named as the query names it.
func TestSeveralTables(t *testing.T) {
	for _, tc := range []struct{ q, want string }{
		// fork-operator page: unnamed legs
		{storms + " | where State == 'FLORIDA' | fork (where DeathsDirect > 1 | project EventType) (where InjuriesDirect > 1 | project EventType)",
			"='Tornado' / ='Tornado';'Dense Fog'"},
		// named by "| as Name" and by "name="
		{storms + " | where State == 'FLORIDA' | fork (where DeathsDirect > 1 | project EventType | as StormsWithDeaths) (where InjuriesDirect > 1 | count | as StormsWithInjuries)",
			"StormsWithDeaths='Tornado' / StormsWithInjuries=2"},
		{storms + " | where State == 'FLORIDA' | fork StormsWithDeaths = (where DeathsDirect > 1 | project EventType) ['With Injuries'] = (where InjuriesDirect > 1 | count)",
			"StormsWithDeaths='Tornado' / With Injuries=2"},
		// the leg operators the page lists
		{"range x from 1 to 6 step 1 | fork (extend y = x * 2 | project-away x | top 2 by y) (summarize s = sum(x) by odd = x % 2 | sort by odd asc)" +
			" (parse tostring(x) with d:long | project-keep d | take 1) (extend a = dynamic([1, 2]) | mv-expand a | where x == 1 | project-rename b = a | project-reorder b)" +
			" (top-nested 1 of x by m = max(x))",
			"=12;10 / =0|12;1|9 / =1 / =1|1;2|1 / =6|6"},
		// facet-operator page: the with table first, then one table per column
		{storms + " | where State startswith 'A' and EventType has 'Heavy' | facet by State, EventType with (where StartTime between (datetime(2007-01-04) .. 7d) | project State, StartTime, EventType | take 5)",
			"='ALASKA'|2007-01-04T00:00:00.0000000Z|'Heavy Snow';'ALABAMA'|2007-01-06T00:00:00.0000000Z|'Heavy Rain'" +
				" / State='ALASKA'|2;'ALABAMA'|1;'ARIZONA'|1 / EventType='Heavy Snow'|2;'Heavy Rain'|2"},
		{storms + " | facet by State", "State='FLORIDA'|3;'ALASKA'|2;'ALABAMA'|1;'ARIZONA'|1"},
		// the page's two facet tables, over rows generated with its counts
		{"range i from 1 to 112 step 1 | extend State = case(i <= 19, 'ALABAMA', i <= 52, 'ARIZONA', i == 53, 'ARKANSAS', i == 54, 'AMERICAN SAMOA', 'ALASKA')," +
			" EventType = iff(i <= 34, 'Heavy Rain', 'Heavy Snow') | facet by State, EventType",
			"State='ALABAMA'|19;'ARIZONA'|33;'ARKANSAS'|1;'AMERICAN SAMOA'|1;'ALASKA'|58 / EventType='Heavy Rain'|34;'Heavy Snow'|78"},
		// batches page: one table per statement, named by a trailing as
		{storms + " | where State == 'FLORIDA' | count | as ['Count of events in Florida']; " + storms + " | where State == 'GUAM' | count | as ['Count of events in Guam']",
			"Count of events in Florida=3 / Count of events in Guam=0"},
		{"let m = materialize(" + storms + " | summarize n = count() by State); m | where n > 2; m | where n < 2 | order by State asc;",
			"='FLORIDA'|3 / ='ALABAMA'|1;'ARIZONA'|1"},
		// a batch statement may itself return several tables
		{"print a = 1; range x from 1 to 2 step 1 | fork (count) (take 1)", "=1 / =2 / =1"},
	} {
		rs, err := RunTables(context.Background(), tc.q, Options{})
		if err != nil {
			t.Errorf("%s: %v", tc.q, err)
			continue
		}
		if got := tablesText(rs); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.q, got, tc.want)
		}
	}
}

// TestFunnelSequence: the three tables of funnel_sequence over a timeline
// worked by hand. With the sequence ['B'] and a 2h step window: id 1 goes
// A -> B -> C, id 2 B, B (merged) -> D, id 3 A then B five hours later (too
// far for a prev), id 4 A -> B -> C; id 5 has B in the second window.
func TestFunnelSequence(t *testing.T) {
	const events = "datatable(Id:long, T:datetime, S:string)[" +
		"1, datetime(2020-01-01 00:00), 'A', 1, datetime(2020-01-01 01:00), 'B', 1, datetime(2020-01-01 02:00), 'C'," +
		"2, datetime(2020-01-01 00:00), 'B', 2, datetime(2020-01-01 00:30), 'B', 2, datetime(2020-01-01 01:00), 'D'," +
		"3, datetime(2020-01-01 05:00), 'B', 3, datetime(2020-01-01 00:00), 'A'," +
		"4, datetime(2020-01-01 00:00), 'A', 4, datetime(2020-01-01 01:00), 'B', 4, datetime(2020-01-01 01:30), 'C'," +
		"5, datetime(2020-01-02 10:00), 'B', 6, datetime(2020-01-01 03:00), 'C']"
	rs, err := RunTables(context.Background(), events+" | evaluate funnel_sequence(Id, T, datetime(2020-01-01), datetime(2020-01-02), 2h, 1d, S, dynamic(['B']))", Options{})
	if err != nil {
		t.Fatal(err)
	}
	const day1, day2 = "2020-01-01T00:00:00.0000000Z", "2020-01-02T00:00:00.0000000Z"
	want := "=" + day1 + "|'A'|'C'|2|[1,4];" + day1 + "|''|''|1|[3];" + day1 + "|''|'D'|1|[2];" + day2 + "|''|''|1|[5]" +
		" / =" + day1 + "|''|2|[2,3];" + day1 + "|'A'|2|[1,4];" + day2 + "|''|1|[5]" +
		" / =" + day1 + "|'C'|2|[1,4];" + day1 + "|''|1|[3];" + day1 + "|'D'|1|[2];" + day2 + "|''|1|[5]"
	if got := tablesText(rs); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	var cols []string
	for _, r := range rs {
		var c []string
		for _, col := range r.Columns {
			c = append(c, col.Name+":"+col.Type.String())
		}
		cols = append(cols, strings.Join(c, ","))
	}
	if got := strings.Join(cols, " / "); got != "T:datetime,prev:string,next:string,dcount:long,samples:dynamic / T:datetime,prev:string,dcount:long,samples:dynamic / T:datetime,next:string,dcount:long,samples:dynamic" {
		t.Errorf("schemas: %s", got)
	}
	// a longer sequence: steps must follow each other within the window
	rs, err = RunTables(context.Background(), events+" | evaluate funnel_sequence(Id, T, datetime(2020-01-01), datetime(2020-01-01), 2h, 1d, S, dynamic(['A', 'B']))", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tablesText(rs), "="+day1+"|''|'C'|2|[1,4] / ="+day1+"|''|2|[1,4] / ="+day1+"|'C'|2|[1,4]"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestSeveralTablesErrors: what returns several tables is refused where
// one table is expected, and where its tables would feed more operators.
func TestSeveralTablesErrors(t *testing.T) {
	expectErrorsWith(t, "range x from 1 to 3 step 1 ", map[string]string{
		"| fork (count) (take 1) | count":        "must be the last operator",
		"| facet by x | take 1":                  "must be the last operator",
		"| fork (count) (fork (count) (take 1))": "'fork' is not supported in a fork subquery",
		"| fork (join (print x = 1) on x)":       "'join' is not supported in a fork subquery",
		"| fork (distinct x)":                    "'distinct' is not supported in a fork subquery",
		"| facet by y":                           "unknown column 'y'",
		"| extend s = 'a', t = now() | evaluate funnel_sequence(x, t, now(), now(), 1h, 1d, s, dynamic(['a'])) | count": "must be the last operator",
		"| extend s = 'a', t = now() | evaluate funnel_sequence(x, t, now(), now(), 1h, 1d, x, dynamic(['a']))":         "state column must be a string",
		"| extend s = 'a', t = now() | evaluate funnel_sequence(x, t, now(), now(), 1h, 1d, s, dynamic([]))":            "non-empty dynamic array",
		"| extend s = 'a', t = now() | evaluate funnel_sequence(x, t, now(), now(), 1h, s, dynamic(['a']))":             "needs at least 8 arguments",
		"| fork (count) (take 1)":     "returns 2 result tables",
		"| count; print 1":            "returns 2 result tables",
		"| count; let y = 1; print y": "a let statement after a tabular statement is not supported",
		"| count print 1":             "unexpected",
	})
	expectErrorsWith(t, "", map[string]string{
		"let f = range x from 1 to 3 step 1 | fork (count) (take 1); f": "must be the last operator",
		"print n = toscalar(range x from 1 to 3 step 1 | facet by x)":   "must be the last operator",
	})
	_, err := Run(context.Background(), "print 1; print 2", Options{})
	var se *SeveralTablesError
	if !errors.As(err, &se) || se.N != 2 {
		t.Errorf("Run of a batch: %v", err)
	}
	ast, err := Parse("range x from 1 to 3 step 1 | fork (count) (take 1)")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(context.Background(), ast, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Tables() != 2 {
		t.Errorf("Tables() = %d", p.Tables())
	}
	if _, err := p.Open(context.Background()); !errors.As(err, &se) {
		t.Errorf("Open of a fork: %v", err)
	}
}

// TestSeveralTablesGovernor: the tables share the governor's memory budget
// and the result's truncation limits.
func TestSeveralTablesGovernor(t *testing.T) {
	// the input a fork shares is held once, and counts
	_, err := RunTables(context.Background(), "range x from 1 to 200000 step 1 | extend s = strcat('row ', x) | fork (count) (summarize dcount(s))",
		Options{Limits: Limits{MaxMemory: 4 << 20}})
	var le *LimitError
	if !errors.As(err, &le) || le.Code != CodeRunaway {
		t.Errorf("fork over a large input: %v", err)
	}
	_, err = RunTables(context.Background(), "range x from 1 to 200000 step 1 | extend s = strcat('row ', x), t = now() | evaluate funnel_sequence(x, t, now(), now(), 1h, 1d, s, dynamic(['row 1']))",
		Options{Limits: Limits{MaxMemory: 4 << 20}})
	if !errors.As(err, &le) || le.Code != CodeRunaway {
		t.Errorf("funnel_sequence over a large input: %v", err)
	}
	// every table's memory counts: each table alone fits, together not
	q := "range x from 1 to 40000 step 1 | extend s = strcat('row ', x) | summarize make_set(s)"
	if _, err := RunTables(context.Background(), q, Options{Limits: Limits{MaxMemory: 3 << 20}}); err != nil {
		t.Fatalf("one table: %v", err)
	}
	_, err = RunTables(context.Background(), q+"; "+q+"; "+q, Options{Limits: Limits{MaxMemory: 3 << 20}})
	if !errors.As(err, &le) || le.Code != CodeRunaway {
		t.Errorf("three tables: %v", err)
	}
	// the record limit bounds the tables together: the second is cut
	rs, err := RunTables(context.Background(), "range x from 1 to 2 step 1; range y from 1 to 5 step 1; print 1", Options{Limits: Limits{MaxRecords: 4}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || len(rs[0].Rows) != 2 || len(rs[1].Rows) != 2 || rs[1].Partial == nil || rs[1].Partial.Code != CodeResultTooLarge {
		t.Errorf("truncation across tables: %s, partial %v", tablesText(rs), rs[len(rs)-1].Partial)
	}
}
