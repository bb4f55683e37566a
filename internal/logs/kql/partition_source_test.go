package kql

import (
	"context"
	"strings"
	"testing"
)

// TestPartitionBraceForm follows the reference's legacy example with an
// explicit source (range x from 1 to 2 | partition hint.strategy=legacy by
// x {StormEvents | where x == InjuriesIndirect} | count) on a small table
// standing in for StormEvents.
func TestPartitionBraceForm(t *testing.T) {
	const storms = "let Storms = datatable(InjuriesIndirect:long, State:string)[0,'A', 1,'B', 2,'C', 2,'D', 3,'E', 1,'F'];"
	for _, tc := range []struct{ q, want string }{
		{storms + " range x from 1 to 2 step 1 | partition hint.strategy=legacy by x {Storms | where x == InjuriesIndirect} | count", "4"},
		// without a hint (legacy is the default), toscalar(x) as the reference writes it
		{storms + " range x from 1 to 3 step 1 | partition by x { Storms | where InjuriesIndirect == toscalar(x) | project State } | sort by State asc",
			"'B';'C';'D';'E';'F'"},
		// the parenthesised form keeps working, with each strategy
		{"datatable(k:long, v:long)[1,10, 1,20, 2,30] | partition hint.strategy=native by k (top 1 by v desc) | sort by k asc", "1|20;2|30"},
		{"datatable(k:long, v:long)[1,10, 1,20, 2,30] | partition hint.strategy=shuffle by k (count) | sort by Count asc", "1;2"},
		{"datatable(k:long, v:long)[1,10, 1,20, 2,30] | partition hint.strategy=legacy by k (summarize sum(v)) | sort by sum_v asc", "30;30"},
	} {
		res, err := Run(context.Background(), tc.q, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.q, err)
		}
		if got := strings.Join(rowsText(res), ";"); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.q, got, tc.want)
		}
	}
	expectErrorsWith(t, "", map[string]string{
		"range x from 1 to 2 step 1 | partition hint.strategy=native by x { range y from 1 to x step 1 }": "needs hint.strategy=legacy",
		"range x from 1 to 2 step 1 | partition hint.strategy=fast by x (count)":                          "must be legacy, shuffle or native",
		"range x from 1 to 65 step 1 | partition by x { range y from 1 to x step 1 }":                     "at most 64 distinct values",
		"range x from 1 to 65 step 1 | partition hint.strategy=legacy by x (count)":                       "at most 64 distinct values",
		"range x from 1 to 2 step 1 | partition by nope { range y from 1 to 2 step 1 }":                   "unknown column",
	})
	// the key's value reaches the subquery: one plan per value
	res, err := Run(context.Background(), "range x from 1 to 3 step 1 | partition by x { range y from 1 to x step 1 | summarize n = count(), s = sum(y) | extend k = x }", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rowsText(res), ";"); got != "1|1|1;2|3|2;3|6|3" {
		t.Errorf("got %s", got)
	}
}
