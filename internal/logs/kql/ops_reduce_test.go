package kql

import (
	"context"
	"strings"
	"testing"
)

// unquoted is the rows' text, one line a row, without the quotes around
// strings (the cases hold none).
func unquoted(res *Result) string {
	return strings.ReplaceAll(strings.Join(rowsText(res), "\n"), "'", "")
}

// TestReduceDocumented runs the reduce page's examples whose output does
// not depend on random values.
func TestReduceDocumented(t *testing.T) {
	const foo = "range x from 1 to 10 step 1 | project str = strcat('foo', 'Z', tostring(x)) "
	for _, tc := range []struct{ q, want string }{
		// every value is one term (letters and digits), held by one row
		// of ten: none is in more than 0.1 × 10 rows
		{foo + "| reduce by str", "others|10|"},
		// with Z a delimiter, foo is in every row and the numbers are
		// wildcards
		{foo + "| reduce by str with characters='Z'", "foo*|10|fooZ1"},
		// the page's illustrative "reduce by city" patterns, on a few of
		// its values: the spaces and dashes around the wildcards stay
		{"datatable(city:string)['San Bernard', 'San Jose', 'San Diego', 'Moscow', 'Moscow', 'One -on- One', 'Two -on- Two', 'Paris', 'Paris'] | reduce by city with threshold=0.2",
			"San *|3|San Bernard\nMoscow|2|Moscow\n* -on- *|2|One -on- One\nParis|2|Paris"},
	} {
		res := runQuery(t, tc.q)
		if got := unquoted(res); colNames(res) != "Pattern,Count,Representative" || got != tc.want {
			t.Errorf("%s:\n %s %q, want %q", tc.q, colNames(res), got, tc.want)
		}
	}
	// a small threshold: one group whatever rand gives, the digits being
	// numbers
	res := runQuery(t, "range x from 1 to 1000 step 1 | project MyText = strcat('MachineLearningX', tostring(toint(rand(10)))) | reduce by MyText with threshold=0.001, characters='X'")
	if len(res.Rows) != 1 || res.Rows[0][0].AsString() != "MachineLearning*" || res.Rows[0][1].Text() != "1000" || !strings.HasPrefix(res.Rows[0][2].AsString(), "MachineLearningX") {
		t.Errorf("small threshold: %q", rowsText(res))
	}
}

// TestReduceGroups pins the support, the pattern's shape and kind=source on
// small inputs.
func TestReduceGroups(t *testing.T) {
	const logs = "datatable(m:string)['open file a.txt', 'open file b.txt', 'open file c.txt', 'open file d.txt extra', 'close x', 'close y'] "
	for _, tc := range []struct{ q, want string }{
		// more than 0.5 × 6 = 3 rows: open, file, txt and the separators
		// between them are frequent at their positions, close (2 rows) is
		// not (the space after it is, but separators alone make no group);
		// one row has more after txt
		{logs + "| reduce by m with threshold=0.5",
			"open file *.txt*|4|open file a.txt\nothers|2|"},
		// more than 0.3 × 6 = 1.8 rows: close is frequent too
		{logs + "| reduce by m with threshold=0.3",
			"open file *.txt*|4|open file a.txt\nclose *|2|close x"},
		// threshold 0: every term is frequent, every value its own group
		{logs + "| where m startswith 'close' | reduce by m with threshold=0",
			"close x|1|close x\nclose y|1|close y"},
		// separators are terms of their own, kept when frequent
		{"datatable(m:string)['a-1-b', 'a-2-b', 'a-3-b'] | reduce by m with threshold=0.2",
			"a-*-b|3|a-1-b"},
		// a listed separator joins the words around it; a listed letter
		// becomes a delimiter, which a wildcard next to it takes in (the
		// page's characters="Z")
		{"datatable(m:string)['k=1 x', 'k=2 x'] | reduce by m with threshold=0.5",
			"k=* x|2|k=1 x"},
		{"datatable(m:string)['k=1 x', 'k=2 x'] | reduce by m with threshold=0.5, characters='='",
			"* x|2|k=1 x"},
		{"datatable(m:string)['aQb', 'aQc'] | reduce by m with threshold=0.5, characters='Q'",
			"a*|2|aQb"},
		// kind=source: each row with its group's Pattern, Count and
		// Representative
		{"datatable(m:string, n:long)['k=1', 1, 'k=2', 2, 'q', 3] | reduce kind=source by m with threshold=0.5",
			"k=1|1|k=*|2|k=1\nk=2|2|k=*|2|k=1\nq|3|others|1|"},
		// empty strings have no terms
		{"datatable(m:string)['', '', 'a'] | reduce by m with threshold=0.3", "a|1|a\nothers|2|"},
		// a number is a wildcard even when every row has it
		{"datatable(m:string)['port 22', 'port 22', 'port 80'] | reduce by m", "port *|3|port 22"},
		// 29 rows are not more than 0.29 × 100, though the product is
		// 28.999999999999996 in floating point
		{"range x from 1 to 100 step 1 | project m = iff(x <= 29, 'a b', strcat('c', x)) | reduce by m with threshold=0.29", "others|100|"},
		{"range x from 1 to 100 step 1 | project m = iff(x <= 30, 'a b', strcat('c', x)) | reduce by m with threshold=0.29", "a b|30|a b\nothers|70|"},
		// nothing in more than 0.1 × 10 rows
		{"range x from 1 to 10 step 1 | project m = strcat('w', x) | reduce by m", "others|10|"},
	} {
		res := runQuery(t, tc.q)
		if got := unquoted(res); got != tc.want {
			t.Errorf("%s:\n got  %q\n want %q", tc.q, got, tc.want)
		}
	}
}

func TestReduceErrors(t *testing.T) {
	for _, q := range []string{
		"print s = 'a' | reduce s",
		"print s = 'a' | reduce by s with threshold=1.5",
		"print s = 'a' | reduce by s with threshold=-0.1",
		"print s = 'a' | reduce by s with characters=''",
		"print s = 'a' | reduce by s with size=3",
		"print s = 'a' | reduce kind=target by s",
		"print s = 1 | reduce by s",
		"print s = 'a', Pattern = 'b' | reduce kind=source by s",
		"print s = 'a', Count = 1 | reduce kind=source by s",
		"print s = 'a' | reduce by s with threshold=0.1, threshold=0.2",
	} {
		if _, err := Run(context.Background(), q, Options{}); err == nil {
			t.Errorf("%s: no error", q)
		}
	}
}

// TestGovernorBoundsReduce: reduce's term counts grow with the distinct
// terms, which the input's own size does not bound closely.
func TestGovernorBoundsReduce(t *testing.T) {
	q := "range x from 1 to 100000 step 1 | project s = strcat('a', x, ' b', x * 7, ' c', x * 13, ' d', x * 17)"
	if _, err := Run(context.Background(), q+" | sort by s | count", Options{Limits: small}); err != nil {
		t.Fatalf("the input does not fit: %v", err)
	}
	runLimitCases(t, []limitCase{{"reduce terms", q + " | reduce by s", small, CodeRunaway}})
}

// BenchmarkReduce groups 100,000 log lines of four terms built from the
// storm table (state, event type, source, damage flag).
func BenchmarkReduce(b *testing.B) {
	benchPlugin(b, "StormEvents | project m = strcat(State, ' ', EventType, ' by ', Source, ' damage=', Damage) | reduce by m")
}

// FuzzReduceTerms checks that the terms and delimiters of any value put
// back together give the value, that no term is empty, and that a pattern
// with every term kept is the value itself.
func FuzzReduceTerms(f *testing.F) {
	for _, s := range []string{"fooZ1", "San Bernard", "One -on- One", "a-1-b", "", "  ", "ZZZ", "k=1 x;é"} {
		f.Add(s, "Z=")
	}
	f.Fuzz(func(t *testing.T, s, chars string) {
		terms, seps := reduceTerms(s, chars)
		if len(seps) != len(terms)+1 {
			t.Fatalf("%q: %d terms, %d delimiter runs", s, len(terms), len(seps))
		}
		var b strings.Builder
		all := make([]int, len(terms))
		for i, term := range terms {
			if term == "" {
				t.Fatalf("%q: empty term %d", s, i)
			}
			b.WriteString(seps[i])
			b.WriteString(term)
			all[i] = i
		}
		b.WriteString(seps[len(terms)])
		if b.String() != s {
			t.Fatalf("%q comes back as %q", s, b.String())
		}
		if len(terms) > 0 {
			g := &reduceGroup{freq: all, last: len(terms) - 1}
			if p := g.pattern(terms, seps); p != s {
				t.Fatalf("%q: the pattern keeping every term is %q", s, p)
			}
		}
	})
}
