package main

import (
	"strings"
	"testing"
)

// TestKQLGovernedOffline: steward kql runs under the query governor; a
// truncated result says so and a runaway query is an error, not a crash.
func TestKQLGovernedOffline(t *testing.T) {
	cases := []struct {
		args []string
		want string
		fail bool
	}{
		{[]string{"kql", "print s = strrep('a', 70000000)"}, "warning: partial result", false},
		{[]string{"kql", "let f = (x:long) { f(x) }; print f(1)"}, "recursion is not allowed", true},
		{[]string{"kql", "range x from 1 to 100000000 step 1 | count"}, "100000000", false},
	}
	for _, c := range cases {
		out, err := runCLI(t, c.args...)
		msg := out
		if err != nil {
			msg += err.Error()
		}
		if (err != nil) != c.fail || !strings.Contains(msg, c.want) {
			t.Errorf("%v: err %v, output %.200q; want %q", c.args, err, msg, c.want)
		}
	}
}

// TestKQLPrintsEveryTable: a query returning several tables prints each
// under its name, and --output json holds them all.
func TestKQLPrintsEveryTable(t *testing.T) {
	q := "print a = 1; range x from 1 to 2 step 1 | fork (count) Firsts = (take 1)"
	out, err := runCLI(t, "kql", q)
	if err != nil {
		t.Fatal(err)
	}
	last := 0
	for _, want := range []string{"Table: PrimaryResult", "A", "1", "Table: PrimaryResult", "COUNT", "2", "Table: Firsts", "X", "1"} {
		i := strings.Index(out[last:], want)
		if i < 0 {
			t.Fatalf("output lacks %q after offset %d:\n%s", want, last, out)
		}
		last += i + len(want)
	}
	out, err = runCLI(t, "kql", q, "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, `"name": "PrimaryResult"`) + strings.Count(out, `"name":"PrimaryResult"`); n != 2 || !strings.Contains(strings.ReplaceAll(out, " ", ""), `"name":"Firsts"`) {
		t.Errorf("json output:\n%s", out)
	}
}
