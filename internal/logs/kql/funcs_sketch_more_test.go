package kql

import "testing"

// TestSketchAliasesAndVariancepif: rank_tdigest's documented example, the
// scalar list's names for the tdigest functions, and variancepif.
func TestSketchAliasesAndVariancepif(t *testing.T) {
	for _, tc := range []struct{ q, want string }{
		// rank-tdigest-function
		{"range x from 1 to 1000 step 1 | summarize t_x=tdigest(x) | project r=rank_tdigest(t_x, 685)", "685"},
		{"range x from 1 to 10 step 1 | summarize t=tdigest(x) | project r=rank_tdigest(t, 0)", "0"},
		{"range x from 1 to 10 step 1 | summarize a=tdigest(x), b=tdigest(x + 10) | project r=percentile_tdigest(merge_tdigest(a, b), 50, typeof(long))", "10"},
		{"range x from 1 to 10 step 1 | summarize t=tdigest(x) | project r=tostring(percentile_array_tdigest(t, 10, 100))", "[1.0,10.0]"},
		// variancepif: the population variance of the rows the predicate keeps
		{"range x from 1 to 10 step 1 | summarize r=variancepif(x, x <= 4)", "1.25"},
		{"range x from 1 to 10 step 1 | summarize variancepif(x, x <= 4) | project r=column_ifexists('variancepif_x', -1.0)", "1.25"},
	} {
		checkFirstCell(t, tc.q, tc.want)
	}
}

// checkFirstCell runs q and compares its first cell's plain text.
func checkFirstCell(t *testing.T, q, want string) {
	t.Helper()
	res := runQuery(t, q)
	if got := res.Rows[0][0].Plain(); got != want {
		t.Errorf("%s = %s, want %s", q, got, want)
	}
}
