package kql

import (
	"context"
	"strings"
	"testing"
)

func TestTopHitters(t *testing.T) {
	const data = "datatable(Page:string, Views:long)['a',1, 'b',10, 'a',1, 'c',3, 'a',1, 'c',4]"
	checkRowsCases(t, []rowsCase{
		{data + " | top-hitters 2 of Page", "Page,approximate_count_Page", "'a'|3;'c'|2"},
		{data + " | top-hitters 2 of Page by Views", "Page,approximate_sum_Views", "'b'|10;'c'|7"},
		{data + " | top-hitters 10 of p = toupper(Page)", "p,approximate_count_p", "'A'|3;'C'|2;'B'|1"},
	})
	expectErrors(t, []string{
		data + " | top-hitters of Page",      // no count
		data + " | top-hitters 2 Page",       // no of
		data + " | top-hitters 2 of Page by", // nothing after by
		data + " | top-hitters 2 of nosuch",  // unknown column
		data + " | top-hitters Page of Page", // count not a constant
	})
}

// TestUnsupportedOperatorsSayWhat requires a clear error for the operators
// the engine does not run, naming them.
func TestUnsupportedOperatorsSayWhat(t *testing.T) {
	const data = "datatable(a:string, b:long)['x',1]"
	expectErrorTexts(t, map[string]string{
		"externaldata(a:string)['https://example.com/a.csv']":             "externaldata is not supported",
		"datatable(a:string, c:string)['x','y'] | evaluate bag_unpack(c)": "bag_unpack needs a dynamic column",
		"find 'x'":                                               "find operator is not supported",
		"find in (T1, T2) where a == 'x'":                        "find operator is not supported",
		data + " | evaluate r(typeof(*), 'x')":                   "'r' is not supported",
		data + " | evaluate python(typeof(*), 'x')":              "'python' is not supported",
		data + " | evaluate sql_request('Server=x', 'select 1')": "'sql_request' is not supported",
	})
}

// TestRawOperatorErrorsPointIntoTheQuery checks that errors in operators
// kept as text (evaluate, top-hitters) give the position in the query.
func TestRawOperatorErrorsPointIntoTheQuery(t *testing.T) {
	expectErrorTexts(t, map[string]string{
		"datatable(a:string)['x']\n| evaluate basket(0.01)":        "at 2:19:",
		"datatable(a:string)['x'] | top-hitters 2 of nosuch":       "at 1:45:",
		"datatable(a:string)['x'] | evaluate pivot(a, nosuch)":     "at 1:46:",
		"range i from 1 to 2 step 1\n  | evaluate rows_near(i, 1)": "at 2:24:",
	})
}

// expectErrorTexts requires each query to fail with an error containing
// its text.
func expectErrorTexts(t *testing.T, cases map[string]string) {
	t.Helper()
	for q, want := range cases {
		_, err := Run(context.Background(), q, Options{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error with %q", q, err, want)
		}
	}
}
