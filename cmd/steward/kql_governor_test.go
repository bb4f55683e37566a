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
