package kql

import (
	"strings"
	"testing"
)

func TestMoreAggregations(t *testing.T) {
	res := runQuery(t, "range x from 1 to 10 step 1 | summarize a=take_anyif(x, x>5), c=count_distinctif(x, x%2==0), p=percentiles_array(x, 50, 90), p2=percentiles_array(x, dynamic([10, 100])), o=binary_all_or(x), n=binary_all_and(x), xo=binary_all_xor(x)")
	got := strings.Join(strings.Fields(strings.Join(rowsText(res), ";")), "")
	// take_anyif: any value > 5 (the first seen, 6); 5 even values;
	// nearest-rank percentiles; 1|...|10 = 15, 1&...&10 = 0, 1^...^10 = 11
	if want := "6|5|[5,9]|[1,10]|15|0|11"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	sk := runQuery(t, "range x from 1 to 10 step 1 | summarize h=hll(x%3), t=tdigest(x) | project d=dcount_hll(h), p=percentile_tdigest(t, 50), pl=percentile_tdigest(t, 50, typeof(long)), pa=percentiles_array_tdigest(t, 10, 90), pr=percentrank_tdigest(t, 5)")
	got = strings.Join(strings.Fields(strings.Join(rowsText(sk), ";")), "")
	if want := "3|5|5|[1.0,9.0]|50"; got != want {
		t.Errorf("sketches: got %s, want %s", got, want)
	}
	if c := sk.Columns[2].Type; c != TypeLong {
		t.Errorf("percentile_tdigest(..., typeof(long)) is %s", c)
	}
	// merging sketches: as an aggregation and as a scalar function
	m := runQuery(t, "range x from 1 to 10 step 1 | summarize h=hll(x) by g=x%2 | summarize m=hll_merge(h) | project d=dcount_hll(m)")
	if got := rowsText(m)[0]; got != "10" {
		t.Errorf("hll_merge aggregation: %s", got)
	}
	s := runQuery(t, "range x from 1 to 10 step 1 | summarize h1=hll_if(x, x<4), h2=hll(x%2), t1=tdigest(x), t2=tdigest(x*10) | project d=dcount_hll(hll_merge(h1, h2)), p=percentile_tdigest(tdigest_merge(t1, t2), 100)")
	if got := strings.Join(rowsText(s), ";"); got != "4|100" {
		t.Errorf("scalar merges: %s", got)
	}
	// a value that is not a sketch holds nothing
	n := runQuery(t, "print d=dcount_hll(dynamic([1,2,3]))")
	if got := rowsText(n)[0]; got != "0" {
		t.Errorf("dcount_hll of a non-sketch: %s", got)
	}
}
