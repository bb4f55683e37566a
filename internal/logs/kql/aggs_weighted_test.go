package kql

import (
	"context"
	"testing"
)

// TestWeightedPercentiles runs percentilesw-aggregation-function's example
// (buckets of latencies with their counts) and the other forms.
func TestWeightedPercentiles(t *testing.T) {
	const table = `let latencyTable = datatable (ReqCount:long, LatencyBucket:long) [ 8, 10, 6, 20, 3, 30, 1, 40 ]; latencyTable `
	res := runQuery(t, table+`| summarize percentilesw(LatencyBucket, ReqCount, 50, 75, 99.9)`)
	if got, want := colNames(res)+" "+rowText(res.Rows[0]), "percentile_LatencyBucket_50,percentile_LatencyBucket_75,percentile_LatencyBucket_99_9 20,20,40"; got != want {
		t.Errorf("percentilesw: %s, want %s", got, want)
	}
	res = runQuery(t, table+`| summarize percentilesw_array(LatencyBucket, ReqCount, 50, 75, 99.9)`)
	if got := colNames(res) + " " + res.Rows[0][0].Plain(); got != "percentiles_LatencyBucket [20,20,40]" {
		t.Errorf("percentilesw_array: %s", got)
	}
	res = runQuery(t, table+`| summarize percentilew(LatencyBucket, ReqCount, 10), p = percentilew(LatencyBucket, ReqCount, 90)`)
	if got := colNames(res) + " " + rowText(res.Rows[0]); got != "percentile_LatencyBucket_10,p 10,30" {
		t.Errorf("percentilew: %s", got)
	}
	// weights of 0, negative or null count for nothing; no weight at all is null
	res = runQuery(t, `datatable(v:long, w:long)[1, 0, 2, -3, 3, long(null), 4, 1] | summarize p = percentilew(v, w, 50), q = percentilew(v, w - 10, 50)`)
	if got := rowText(res.Rows[0]); got != "4," {
		t.Errorf("weights: %s", got)
	}
	if _, err := Run(context.Background(), `datatable(v:long, w:real)[1, 1.5] | summarize percentilew(v, w, 50)`, Options{}); err == nil {
		t.Error("a real weight: no error")
	}
}

// TestBuildSchema runs buildschema-aggregation-function's example.
func TestBuildSchema(t *testing.T) {
	res := runQuery(t, `datatable(value: dynamic) [
    dynamic({"x":1, "y":3.5}),
    dynamic({"x":"somevalue", "z":[1, 2, 3]}),
    dynamic({"y":{"w":"zzz"}, "t":["aa", "bb"], "z":["foo"]})
]
| summarize buildschema(value)`)
	want := "schema_value " + "{\"x\":[\"long\",\"string\"],\"y\":[\"double\",{\"w\":\"string\"}],\"z\":{\"`indexer`\":[\"long\",\"string\"]},\"t\":{\"`indexer`\":\"string\"}}"
	if got := colNames(res) + " " + res.Rows[0][0].Plain(); got != want {
		t.Errorf("buildschema:\n got %s\nwant %s", got, want)
	}
	checkFirstCell(t, `datatable(d:dynamic)[dynamic(null), dynamic(true), dynamic([]) ] | summarize s = buildschema(d) | project tostring(s)`, "[\"bool\",{\"`indexer`\":null}]")
	if _, err := Run(context.Background(), `datatable(s:string)["a"] | summarize buildschema(s)`, Options{}); err == nil {
		t.Error("buildschema of a string: no error")
	}
}
