package kql

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// Worked by hand: Damage=NO implies Crops=0 here, as in the documented
// StormEvents example, so NO alone is not a closed pattern.
const basketData = "datatable(EventType:string, Damage:string, Crops:long)[" +
	"'Hail','NO',0, 'Hail','NO',0, 'Hail','NO',0, 'Hail','NO',0, 'Hail','YES',0, 'Hail','YES',5," +
	"'Wind','YES',5, 'Wind','YES',5, 'Wind','NO',0, 'Wind','NO',0]"

func TestBasketPlugin(t *testing.T) {
	checkRowsCases(t, []rowsCase{
		{basketData + " | evaluate basket(0.2)", "SegmentId,Count,Percent,EventType,Damage,Crops",
			"0|7|70|''|''|0;1|6|60|'Hail'|''|null;2|6|60|''|'NO'|0;3|5|50|'Hail'|''|0;" +
				"4|4|40|'Hail'|'NO'|0;5|4|40|''|'YES'|null;6|4|40|'Wind'|''|null;7|3|30|''|'YES'|5;" +
				"8|2|20|'Hail'|'YES'|null;9|2|20|'Wind'|'NO'|0;10|2|20|'Wind'|'YES'|5"},
		// a higher threshold; custom wildcards per type
		{basketData + " | evaluate basket(0.5, '~', '~', '*', long(-1))", "SegmentId,Count,Percent,EventType,Damage,Crops",
			"0|7|70|'*'|'*'|0;1|6|60|'Hail'|'*'|-1;2|6|60|'*'|'NO'|0;3|5|50|'Hail'|'*'|0"},
		// MaxDimensions 1: single columns only, closed within that bound
		{basketData + " | evaluate basket(0.3, '~', 1)", "SegmentId,Count,Percent,EventType,Damage,Crops",
			"0|7|70|''|''|0;1|6|60|'Hail'|''|null;2|6|60|''|'NO'|null;3|4|40|''|'YES'|null;4|4|40|'Wind'|''|null;5|3|30|''|''|5"},
		// a MaxDimensions far above the number of columns
		{basketData + " | evaluate basket(0.5, '~', 1000000000)", "SegmentId,Count,Percent,EventType,Damage,Crops",
			"0|7|70|''|''|0;1|6|60|'Hail'|''|null;2|6|60|''|'NO'|0;3|5|50|'Hail'|''|0"},
		// a weight column counts each row that many times and is not a dimension
		{"datatable(k:string, w:long)['a',3, 'b',1] | evaluate basket(0.3, w)", "SegmentId,Count,Percent,k", "0|3|75|'a'"},
		// empty input: no patterns
		{basketData + " | where EventType == 'none' | evaluate basket()", "SegmentId,Count,Percent,EventType,Damage,Crops", ""},
	})
}

// Worked by hand: Hail and Wind split the sets most (70 points each);
// their extensions are dropped, Spotter and Public are unrelated to them.
const diffData = "datatable(Outcome:string, EventType:string, Source:string)[" +
	"'ok','Hail','Spotter', 'ok','Hail','Spotter', 'ok','Hail','Spotter', 'ok','Hail','Spotter', 'ok','Hail','Spotter', 'ok','Hail','Spotter'," +
	"'ok','Wind','Public', 'ok','Wind','Public', 'ok','Hail','Public', 'ok','Hail','Public'," +
	"'fail','Wind','Public', 'fail','Wind','Public', 'fail','Wind','Public', 'fail','Wind','Public', 'fail','Wind','Public'," +
	"'fail','Hail','Spotter', 'fail','Wind','Spotter', 'fail','Wind','Spotter', 'fail','Wind','Spotter', 'fail','Wind','Spotter'," +
	"'other','Hail','Spotter']"

func TestDiffPatternsPlugin(t *testing.T) {
	checkRowsCases(t, []rowsCase{
		{diffData + " | evaluate diffpatterns(Outcome, 'ok', 'fail')",
			"SegmentId,CountA,CountB,PercentA,PercentB,PercentDiffAB,EventType,Source",
			"0|8|1|80|10|70|'Hail'|'';1|2|9|20|90|70|'Wind'|'';2|6|5|60|50|10|''|'Spotter';3|4|5|40|50|10|''|'Public'"},
		// a threshold of 0.15 leaves out the 10-point patterns; then the
		// 50-point Hail+Spotter is still held by Hail
		{diffData + " | evaluate diffpatterns(Outcome, 'ok', 'fail', '~', 0.15)",
			"SegmentId,CountA,CountB,PercentA,PercentB,PercentDiffAB,EventType,Source",
			"0|8|1|80|10|70|'Hail'|'';1|2|9|20|90|70|'Wind'|''"},
		// two decimals, the difference taken before rounding
		{"datatable(s:long, k:string)[0,'a', 0,'b', 0,'b', 1,'a', 1,'b', 1,'b', 1,'b', 1,'c', 1,'c', 1,'c', 1,'c'] | evaluate diffpatterns(s, '0', '1')",
			"SegmentId,CountA,CountB,PercentA,PercentB,PercentDiffAB,k",
			"0|0|4|0|50|50|'c';1|2|3|66.67|37.5|29.17|'b';2|1|1|33.33|12.5|20.83|'a'"},
	})
}

// Worked by hand from the search described on compileAutocluster.
func TestAutoclusterPlugin(t *testing.T) {
	const data = "datatable(State:string, EventType:string, Damage:string)[" +
		"'TX','Hail','NO', 'TX','Hail','NO', 'TX','Hail','NO', 'TX','Hail','NO', 'TX','Hail','NO'," +
		"'OK','Hail','NO', 'OK','Hail','NO', 'OK','Hail','NO', 'KS','Hail','NO', 'KS','Hail','NO'," +
		"'TX','Wind','YES', 'TX','Wind','YES', 'TX','Wind','YES', 'KS','Wind','YES', 'KS','Wind','YES', 'TX','Flood','NO']"
	for _, tc := range []struct{ q, rows string }{
		// Hail+NO first; then, among the rows left, Wind+YES, then the last row
		{data + " | evaluate autocluster()", "0|10|62.5|''|'Hail'|'NO';1|5|31.3|''|'Wind'|'YES';2|1|6.3|'TX'|'Flood'|'NO'"},
		{data + " | evaluate autocluster(0.5, '~', '~', '*')", "0|10|62.5|'*'|'Hail'|'NO';1|5|31.3|'*'|'Wind'|'YES';2|1|6.3|'TX'|'Flood'|'NO'"},
		// ten more TX/Hail/NO rows: that whole row is now the best pattern;
		// Hail+NO follows (overlapping it, counted over all rows), then
		// Wind+YES; the last row is under the 5% a pattern must add
		{data + " | union (range i from 1 to 10 step 1 | project State='TX', EventType='Hail', Damage='NO') | evaluate autocluster()",
			"0|15|57.7|'TX'|'Hail'|'NO';1|20|76.9|''|'Hail'|'NO';2|5|19.2|''|'Wind'|'YES'"},
		// SizeWeight 0: only the number of fixed columns counts, the seeds stay whole rows
		{data + " | evaluate autocluster(0.0, '~', 2)", "0|5|31.3|'TX'|'Hail'|'NO';1|3|18.8|'OK'|'Hail'|'NO';2|3|18.8|'TX'|'Wind'|'YES';" +
			"3|2|12.5|'KS'|'Hail'|'NO';4|2|12.5|'KS'|'Wind'|'YES';5|1|6.3|'TX'|'Flood'|'NO'"},
		// SizeWeight 1: only coverage counts (NO, the most frequent value, then
		// Wind+YES: freeing a column must raise the score, and Wind alone has the same rows)
		{data + " | evaluate autocluster(1.0)", "0|11|68.8|''|''|'NO';1|5|31.3|''|'Wind'|'YES'"},
	} {
		checkRowsCases(t, []rowsCase{{tc.q, "SegmentId,Count,Percent,State,EventType,Damage", tc.rows}})
	}
}

func TestPatternPluginErrors(t *testing.T) {
	expectErrors(t, []string{
		basketData + " | evaluate basket(0.01)",                         // threshold below 0.015
		basketData + " | evaluate basket(2)",                            // above 1
		basketData + " | evaluate basket('~', nosuch)",                  // unknown weight column
		basketData + " | evaluate basket('~', EventType)",               // weight not numeric
		basketData + " | evaluate basket('~', '~', 1.5)",                // MaxDimensions not an integer
		basketData + " | evaluate basket('~', '~', '~', '*', 'x')",      // two string wildcards
		basketData + " | evaluate basket(EventType)",                    // threshold not a constant
		basketData + " | evaluate autocluster(1.5)",                     // SizeWeight above 1
		basketData + " | evaluate autocluster('~', '~', 0)",             // no seeds
		basketData + " | extend w = 0.5 | evaluate autocluster('~', w)", // weight not an integer
		basketData + " | evaluate diffpatterns(Damage, 'NO')",           // one split value
		basketData + " | evaluate diffpatterns(Damage, 'NO', 'NO')",     // the same value twice
		basketData + " | evaluate diffpatterns(nosuch, 'NO', 'YES')",    // unknown split column
		basketData + " | evaluate diffpatterns(Damage, 'NO', 'MAYBE')",  // set B is empty
		basketData + " | evaluate no_such_plugin()",                     // unknown plugin
	})
	_, err := Run(context.Background(), basketData+" | evaluate no_such_plugin()", Options{})
	if err == nil || !strings.Contains(err.Error(), "no_such_plugin") {
		t.Errorf("unknown plugin: %v, want an error naming it", err)
	}
	var ce *CompileError
	if !errors.As(err, &ce) {
		t.Errorf("unknown plugin: %T, want a compile error", err)
	}
}

// rowsCase is a query with its expected column names (comma-separated;
// empty to leave them unchecked) and rows ("|" between cells, ";"
// between rows).
type rowsCase struct{ q, cols, rows string }

func checkRowsCases(t *testing.T, cases []rowsCase) {
	t.Helper()
	for _, tc := range cases {
		res := runQuery(t, tc.q)
		if got := colNames(res); tc.cols != "" && got != tc.cols {
			t.Errorf("%s\ncolumns %s, want %s", tc.q, got, tc.cols)
		}
		if got := strings.Join(rowsText(res), ";"); got != tc.rows {
			t.Errorf("%s\nrows %s\nwant %s", tc.q, got, tc.rows)
		}
	}
}

func TestRowsNearPlugin(t *testing.T) {
	const data = "range i from 1 to 12 step 1 | extend State = iff(i in (3, 7, 8), 'Error', 'Success') | sort by i asc"
	checkRowsCases(t, []rowsCase{
		{data + " | evaluate rows_near(State == 'Error', 1) | project i", "i", "2;3;4;6;7;8;9"},
		{data + " | evaluate rows_near(State == 'Error', 0, 2) | project i", "i", "3;4;5;7;8;9;10"},
		{data + " | evaluate rows_near(State == 'Error', 3, 0) | project i", "i", "1;2;3;4;5;6;7;8"},
		{data + " | evaluate rows_near(i == 100, 3) | project i", "i", ""},
	})
	expectErrors(t, []string{
		"datatable(i:long)[1] | evaluate rows_near(i == 1, 1)",             // not serialized
		"range i from 1 to 3 step 1 | evaluate rows_near(i, 1)",            // not a bool
		"range i from 1 to 3 step 1 | evaluate rows_near(i == 1, -1)",      // negative
		"range i from 1 to 3 step 1 | evaluate rows_near(i == 1)",          // no count
		"range i from 1 to 3 step 1 | evaluate rows_near(i == 1, 1, 1, 1)", // too many
	})
}

// TestPatternPluginsSkipRareValues runs the plugins over an input with a
// column whose every value is distinct (an id): no bitset is built for its
// values, so the memory stays far below a 16 MB budget.
func TestPatternPluginsSkipRareValues(t *testing.T) {
	data := "range x from 1 to 20000 step 1 | extend s = x % 2 | extend k = iff(s == 0 and x % 5 != 0, 'even', 'odd')"
	for _, q := range []string{
		data + " | evaluate basket()",
		data + " | evaluate diffpatterns(s, '0', '1')",
	} {
		res, err := Run(context.Background(), q, Options{Limits: small})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		x := colIndex(res.Columns, "x")
		for _, r := range res.Rows {
			if !r[x].IsNull() {
				t.Errorf("%s: a pattern fixes x: %v", q, r)
			}
		}
		if len(res.Rows) == 0 {
			t.Errorf("%s: no patterns", q)
		}
	}
}

func TestSequenceDetectPlugin(t *testing.T) {
	// the shape of the documented StormEvents example: a heat event can
	// start several sequences and a wildfire can end several
	const data = "datatable(StartTime:datetime, EventType:string, State:string)[" +
		"datetime(2007-05-08 00:00), 'Excessive Heat', 'CA', datetime(2007-05-08 16:02), 'Wildfire', 'CA'," +
		"datetime(2007-05-10 11:30), 'Wildfire', 'CA', datetime(2007-05-20), 'Wildfire', 'CA'," +
		"datetime(2007-08-31 08:00), 'Excessive Heat', 'CA', datetime(2007-09-02 12:00), 'Excessive Heat', 'CA'," +
		"datetime(2007-09-02 13:30), 'Wildfire', 'CA', datetime(2007-08-10 08:00), 'Excessive Heat', 'TX'," +
		"datetime(2007-08-11 13:56), 'Wildfire', 'TX', datetime(2007-08-11 14:00), 'Wildfire', 'NV']"
	checkRowsCases(t, []rowsCase{
		{data + " | evaluate sequence_detect(StartTime, 5d, 5d, heat=(EventType == 'Excessive Heat'), wildfire=(EventType == 'Wildfire'), State)",
			"State,heat_StartTime,wildfire_StartTime,Duration",
			"'CA'|2007-05-08T00:00:00.0000000Z|2007-05-08T16:02:00.0000000Z|16:02:00;" +
				"'CA'|2007-05-08T00:00:00.0000000Z|2007-05-10T11:30:00.0000000Z|2.11:30:00;" +
				"'TX'|2007-08-10T08:00:00.0000000Z|2007-08-11T13:56:00.0000000Z|1.05:56:00;" +
				"'CA'|2007-08-31T08:00:00.0000000Z|2007-09-02T13:30:00.0000000Z|2.05:30:00;" +
				"'CA'|2007-09-02T12:00:00.0000000Z|2007-09-02T13:30:00.0000000Z|01:30:00"},
		// a step window of 1d leaves out the sequences with a longer step
		{data + " | evaluate sequence_detect(StartTime, 1d, 5d, heat=(EventType == 'Excessive Heat'), wildfire=(EventType == 'Wildfire'), State)",
			"", "'CA'|2007-05-08T00:00:00.0000000Z|2007-05-08T16:02:00.0000000Z|16:02:00;" +
				"'CA'|2007-09-02T12:00:00.0000000Z|2007-09-02T13:30:00.0000000Z|01:30:00"},
		// no dimension: one timeline for all rows; three steps
		{data + " | evaluate sequence_detect(StartTime, 2d, 3d, h=(EventType == 'Excessive Heat'), w1=(EventType == 'Wildfire'), w2=(EventType == 'Wildfire'))",
			"h_StartTime,w1_StartTime,w2_StartTime,Duration",
			"2007-05-08T00:00:00.0000000Z|2007-05-08T16:02:00.0000000Z|2007-05-10T11:30:00.0000000Z|2.11:30:00;" +
				"2007-08-10T08:00:00.0000000Z|2007-08-11T13:56:00.0000000Z|2007-08-11T14:00:00.0000000Z|1.06:00:00"},
	})
	expectErrors(t, []string{
		data + " | evaluate sequence_detect(StartTime, 5d, 5d)",                                   // no predicate
		data + " | evaluate sequence_detect(EventType, 5d, 5d, a=(State == 'CA'))",                // timeline not a time
		data + " | evaluate sequence_detect(StartTime, -1d, 5d, a=(State == 'CA'))",               // negative window
		data + " | evaluate sequence_detect(StartTime, 5d, 5d, a=(State == 'CA'), strlen(State))", // unnamed dimension
		data + " | evaluate sequence_detect(StartTime, 5d, 5d, a=(State == 'CA')",                 // no closing parenthesis
	})
}

// expectErrors requires each query to fail.
func expectErrors(t *testing.T, queries []string) {
	t.Helper()
	for _, q := range queries {
		if _, err := Run(context.Background(), q, Options{}); err == nil {
			t.Errorf("%s: no error", q)
		}
	}
}

func TestDcountIntersectPlugin(t *testing.T) {
	checkRowsCases(t, []rowsCase{
		// the input columns stay; one count per set
		{"range x from 1 to 12 step 1 | summarize a = hll(iff(x % 2 == 0, x, 0)), b = hll(iff(x % 3 == 0, x, 0)) by g = x > 6" +
			" | evaluate dcount_intersect(a, b) | project g, s0, s1 | sort by g asc", "g,s0,s1", "False|4|2;True|4|2"},
	})
	expectErrors(t, []string{
		"print a = hll(1) | evaluate dcount_intersect(a)",      // one set
		"print a = 1, b = 2 | evaluate dcount_intersect(a, b)", // not hll values
	})
}

func TestIPv4LookupPlugin(t *testing.T) {
	const nets = "let Nets = datatable(net:string, name:string)['10.0.0.0/8','ten', '10.1.0.0/16','ten-one', '192.168.1.7','host', 'bad','x'];"
	checkRowsCases(t, []rowsCase{
		// overlapping ranges: one row per match, the wider first; an
		// address key matches that address only
		{nets + " datatable(ip:string)['10.1.2.3', '10.2.0.1', '192.168.1.7', '192.168.1.8', ''] | evaluate ipv4_lookup(Nets, ip, net)",
			"ip,net,name", "'10.1.2.3'|'10.0.0.0/8'|'ten';'10.1.2.3'|'10.1.0.0/16'|'ten-one';'10.2.0.1'|'10.0.0.0/8'|'ten';'192.168.1.7'|'192.168.1.7'|'host'"},
		// a source prefix matches the ranges that hold all of it
		{nets + " datatable(ip:string)['10.1.0.0/12'] | evaluate ipv4_lookup(Nets, ip, net, true)", "", "'10.1.0.0/12'|'10.0.0.0/8'|'ten'"},
		// colliding names are renamed
		{"let L = datatable(ip:string, v:long)['1.2.3.0/24', 7]; datatable(ip:string)['1.2.3.4'] | evaluate ipv4_lookup(L, ip, ip)", "ip,ip1,v", "'1.2.3.4'|'1.2.3.0/24'|7"},
	})
	expectErrors(t, []string{
		nets + " datatable(ip:string)['1.2.3.4'] | evaluate ipv4_lookup(Nets, ip)",                            // no lookup key
		nets + " datatable(ip:string)['1.2.3.4'] | evaluate ipv4_lookup(Nets, ip, nosuch)",                    // unknown key
		nets + " datatable(ip:long)[1] | evaluate ipv4_lookup(Nets, ip, net)",                                 // not a string
		nets + " datatable(ip:string)['1.2.3.4'] | evaluate ipv4_lookup(Nets, ip, net, return_unmatched = 1)", // not a bool
		nets + " datatable(ip:string)['1.2.3.4'] | evaluate ipv4_lookup(Nets, ip, net, keep = true)",          // unknown name
		nets + " datatable(ip:string)['1.2.3.4'] | evaluate ipv4_lookup(NoSuchTable, ip, net)",                // unknown table
	})
}
