package kql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// chainOfFunctions defines n user functions, each calling the next twice
// (double) or once, and prints the first.
func chainOfFunctions(n int, double bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "let f%d = (x:long) { x };\n", n)
	for i := n - 1; i >= 0; i-- {
		if double {
			fmt.Fprintf(&b, "let f%d = (x:long) { f%d(x) + f%d(x) };\n", i, i+1, i+1)
		} else {
			fmt.Fprintf(&b, "let f%d = (x:long) { f%d(x) + 1 };\n", i, i+1)
		}
	}
	b.WriteString("print f0(1)")
	return b.String()
}

// small is a budget the tests can exhaust quickly, also under -race.
var small = Limits{MaxMemory: 16 << 20}

// TestGovernorStopsRunawayQueries runs the inputs that crashed or grew the
// server without bound (issue 11), and more of their kind, and requires
// each to end in the governor's error or a truncated result.
func TestGovernorStopsRunawayQueries(t *testing.T) {
	cases := []struct {
		name    string
		query   string
		limits  Limits
		code    string // the *LimitError code, or "" for a compile error
		compile string // text of the expected compile error
		partial bool   // a truncated result instead of an error
	}{
		{"strrep folded at compile time", `print strrep('ab', 2000000000, ',')`, small, CodeRunaway, "", false},
		{"strrep over the result size", `print strrep('a', 1000000000)`, Limits{}, CodeResultTooLarge, "", true},
		{"strrep per row", `range x from 1 to 1000 step 1 | extend s = strrep('abcd', 100000) | order by x`, small, CodeRunaway, "", false},
		{"strcat of large strings", `let s = strrep('a', 4000000); print strcat(s, s, s, s, s)`, small, CodeRunaway, "", false},
		{"replace_string that grows", `let s = strrep('a', 1000000); print replace_string(s, 'a', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb')`, small, CodeRunaway, "", false},
		{"repeat", `print repeat(1, 100000000)`, small, CodeRunaway, "", false},
		{"array_concat", `let a = range(1, 200000, 1); print array_concat(a, a, a, a, a, a, a, a, a, a)`, small, CodeRunaway, "", false},
		{"self recursion", `let f = (x:long) { f(x) }; print f(1)`, Limits{}, "", "recursion is not allowed", false},
		{"mutual recursion", `let g = (x:long) { x }; let f = (x:long) { g(x) }; let g = (x:long) { f(x) }; print g(1)`, Limits{}, "", "recursion is not allowed", false},
		{"tabular recursion", `let t = (n:long) { t(n) }; t(1)`, Limits{}, "", "recursion is not allowed", false},
		{"expansion doubles per level", chainOfFunctions(30, true), Limits{}, CodeTooComplex, "", false},
		{"call chain too deep", chainOfFunctions(100, false), Limits{}, CodeTooComplex, "", false},
		{"cross join truncated", `let t = range x from 1 to 3000 step 1 | extend k = 1; t | join kind=inner (t) on k`, Limits{MaxRecords: 1000}, CodeResultTooLarge, "", true},
		{"cross join sorted", `let t = range x from 1 to 3000 step 1 | extend k = 1; t | join kind=inner (t) on k | order by x`, small, CodeRunaway, "", false},
		{"range by ticks over ten years", `range x from datetime(2015-01-01) to datetime(2025-01-01) step 1tick`, Limits{MaxRecords: 1000}, CodeResultTooLarge, "", true},
		{"range by ticks counted", `range x from datetime(2015-01-01) to datetime(2025-01-01) step 1tick | where x > datetime(2014-01-01) | count`, Limits{Timeout: 200 * time.Millisecond}, CodeTimeout, "", false},
		{"result size", `range x from 1 to 100000 step 1 | extend s = strrep('x', 1000)`, Limits{MaxResultBytes: 1 << 20}, CodeResultTooLarge, "", true},
		{"make_list of large strings", `let s = strrep('a', 1000000); range i from 1 to 100 step 1 | extend y = strcat(s, tostring(i)) | summarize make_list(y)`, small, CodeRunaway, "", false},
		{"percentile keeps every value", `range x from 1 to 10000000 step 1 | summarize percentile(x, 50)`, small, CodeRunaway, "", false},
		{"many groups", `range x from 1 to 10000000 step 1 | summarize count() by x`, small, CodeRunaway, "", false},
		{"make-series bins times groups", `range x from 1 to 1000 step 1 | extend t = datetime(2020-01-01) | make-series count() default=0 on t from datetime(2020-01-01) to datetime(2020-01-12) step 1s by x`, small, CodeRunaway, "", false},
		{"materialized range", `let m = materialize(range x from 1 to 10000000 step 1); m | count`, small, CodeRunaway, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res, err := Run(ctx, c.query, Options{Limits: c.limits})
			if c.compile != "" {
				var ce *CompileError
				if !errors.As(err, &ce) || !strings.Contains(ce.Msg, c.compile) {
					t.Fatalf("got %v, want a compile error with %q", err, c.compile)
				}
				return
			}
			if c.partial {
				if err != nil {
					t.Fatalf("got %v, want a partial result", err)
				}
				if res.Partial == nil || res.Partial.Code != c.code {
					t.Fatalf("got %d rows, partial %v; want partial %s", len(res.Rows), res.Partial, c.code)
				}
				return
			}
			var le *LimitError
			if !errors.As(err, &le) || le.Code != c.code {
				t.Fatalf("got %v, want %s", err, c.code)
			}
		})
	}
}

// TestGovernorLeavesOrdinaryQueriesAlone checks answers that stay within
// the limits, including a count the old engine could only reach by holding
// every row.
func TestGovernorLeavesOrdinaryQueriesAlone(t *testing.T) {
	cases := []struct {
		query string
		want  string
	}{
		{`range x from 1 to 100000000 step 1 | count`, "100000000"},
		{`range x from 10 to 1 step -3 | count`, "4"},
		{`range x from 1 to 0 step 1 | count`, "0"},
		{`range x from datetime(2015-01-01) to datetime(2025-01-01) step 1tick | count`, "3156192000000001"},
		{`range x from 1 to 100000 step 1 | where x % 7 == 0 | count`, "14285"},
		{`print strlen(strrep('ab', 3, ','))`, "8"},
		{`print strrep('ab', 3, ',')`, "ab,ab,ab"},
		{`print array_length(repeat('x', 5))`, "5"},
		{`let f = (x:long) { x * 2 }; let g = (x:long) { f(x) + f(x) }; print g(3)`, "12"},
		{`let t = range x from 1 to 300 step 1 | extend k = 1; t | join kind=inner (t) on k | count`, "90000"},
		{chainOfFunctions(10, true), "1024"},
	}
	for _, c := range cases {
		res, err := Run(context.Background(), c.query, Options{})
		if err != nil {
			t.Errorf("%s: %v", c.query, err)
			continue
		}
		if res.Partial != nil || len(res.Rows) != 1 || fmt.Sprint(res.Rows[0][0].APIValue()) != c.want {
			t.Errorf("%s: got %v (partial %v), want %s", c.query, res.Rows, res.Partial, c.want)
		}
	}
}

// TestCancelledQueryStops cancels a query that would run for years and
// requires it to end with the cancellation error.
func TestCancelledQueryStops(t *testing.T) {
	for _, q := range []string{
		`range x from datetime(2015-01-01) to datetime(2025-01-01) step 1tick | where x > datetime(2014-01-01) | count`,
		`let t = range x from 1 to 100000 step 1 | extend k = 1; t | join kind=inner (t) on k | count`,
		`range x from 1 to 100000000000 step 1 | summarize count() by bin(x, 1000000000)`,
	} {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := Run(ctx, q, Options{})
		var le *LimitError
		if !errors.As(err, &le) || le.Code != CodeCancelled || !errors.Is(err, context.Canceled) {
			t.Errorf("%s: got %v, want %s", q, err, CodeCancelled)
		}
	}
}

// TestGateQueuesAndThrottles fills a gate of one running slot and one
// queue place.
func TestGateQueuesAndThrottles(t *testing.T) {
	g := NewGate(1, 1, time.Minute)
	ctx := context.Background()
	release, err := g.Enter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second := make(chan error, 1)
	go func() {
		rel, err := g.Enter(ctx)
		if err == nil {
			rel()
		}
		second <- err
	}()
	// wait until the second caller is queued
	for {
		g.mu.Lock()
		q := g.queued
		g.mu.Unlock()
		if q == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := g.Enter(ctx); !errors.Is(err, ErrThrottled) {
		t.Fatalf("third caller: got %v, want ErrThrottled", err)
	}
	release()
	if err := <-second; err != nil {
		t.Fatalf("queued caller: %v", err)
	}

	short := NewGate(1, 5, time.Millisecond)
	rel, _ := short.Enter(ctx)
	if _, err := short.Enter(ctx); !errors.Is(err, ErrThrottled) {
		t.Errorf("after the queue wait: got %v, want ErrThrottled", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	long := NewGate(1, 5, time.Hour)
	rel2, _ := long.Enter(ctx)
	if _, err := long.Enter(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled while queued: got %v", err)
	}
	rel()
	rel2()
}

// TestSharedDynamicRenderingIsCapped renders a value whose parts are
// shared (8 x 8 x 16 references to one array): small in memory, its JSON
// text would be 128 times the array's. The cap is lowered so that the test
// stays fast.
func TestSharedDynamicRenderingIsCapped(t *testing.T) {
	old := maxJSONBytes
	maxJSONBytes = 1 << 20
	defer func() { maxJSONBytes = old }()
	q := `let a = range(1, 10000, 1); let b = pack_array(a,a,a,a,a,a,a,a); let c = pack_array(b,b,b,b,b,b,b,b); let d = pack_array(c,c,c,c,c,c,c,c,c,c,c,c,c,c,c,c); print strlen(tostring(d))`
	_, err := Run(context.Background(), q, Options{})
	var le *LimitError
	if !errors.As(err, &le) || le.Code != CodeRunaway {
		t.Fatalf("got %v, want %s", err, CodeRunaway)
	}
	res, err := Run(context.Background(), `let a = range(1, 3, 1); print tostring(pack_array(a, a))`, Options{})
	if err != nil || res.Rows[0][0].AsString() != "[[1,2,3],[1,2,3]]" {
		t.Fatalf("small shared value: %v %v", res, err)
	}
}

// TestBuildersInOneRowCountTogether: each value is under the budget, the
// row's values together are not.
func TestBuildersInOneRowCountTogether(t *testing.T) {
	cols := make([]string, 8)
	for i := range cols {
		cols[i] = fmt.Sprintf("c%d = strrep('x', 3000000)", i)
	}
	_, err := Run(context.Background(), "print "+strings.Join(cols, ", "), Options{Limits: small})
	var le *LimitError
	if !errors.As(err, &le) || le.Code != CodeRunaway {
		t.Fatalf("got %v, want %s", err, CodeRunaway)
	}
	// the same values one per row stream within the budget
	res, err := Run(context.Background(), "range i from 1 to 8 step 1 | extend s = strrep('x', 3000000) | project n = strlen(s)", Options{Limits: small})
	if err != nil || len(res.Rows) != 8 {
		t.Fatalf("one per row: %v, %v", res, err)
	}
}
