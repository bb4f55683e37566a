package kql

import (
	"context"
	"testing"
)

func TestTopHitters(t *testing.T) {
	const data = "datatable(Page:string, Views:long)['a',1, 'b',10, 'a',1, 'c',3, 'a',1, 'c',4]"
	checkRowsCases(t, []rowsCase{
		{data + " | top-hitters 2 of Page", "Page,approximate_count_Page", "'a'|3;'c'|2"},
		{data + " | top-hitters 2 of Page by Views", "Page,approximate_sum_Views", "'b'|10;'c'|7"},
		{data + " | top-hitters 10 of p = toupper(Page)", "p,approximate_count_p", "'A'|3;'C'|2;'B'|1"},
	})
	for _, q := range []string{
		data + " | top-hitters of Page",      // no count
		data + " | top-hitters 2 Page",       // no of
		data + " | top-hitters 2 of Page by", // nothing after by
		data + " | top-hitters 2 of nosuch",  // unknown column
		data + " | top-hitters Page of Page", // count not a constant
	} {
		if _, err := Run(context.Background(), q, Options{}); err == nil {
			t.Errorf("%s: no error", q)
		}
	}
}
