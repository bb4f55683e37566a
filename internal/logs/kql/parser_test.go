package kql

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRejectsMalformedQueriesWithAPosition(t *testing.T) {
	tests := []struct {
		name, query string
		line, col   int
		msg         string
	}{
		{"dangling operator", "print x = 1 +", 1, 14, "unexpected end"},
		{"unknown character", "print x = 1 # 2", 1, 13, "unexpected character"},
		{"unterminated string", "print s = \"abc", 1, 11, "unterminated"},
		{"second line", "datatable(a:long)[1]\n| where", 2, 8, "unexpected end"},
		{"missing by", "datatable(a:long)[1] | sort a", 1, 29, "expected 'by'"},
		{"bad column type", "datatable(a:longg)[1]", 1, 13, "unknown column type"},
		{"let without body", "let x = 1;", 1, 11, "no tabular expression"},
		{"keyword as name", "print has = 1", 1, 7, "keyword"},
		{"bad datetime", "print datetime(2020-13-45)", 1, 7, "invalid datetime"},
		{"unclosed paren", "print (1 + 2", 1, 13, "expected ')'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.query)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error = %v, want a *SyntaxError", tt.query, err)
			}
			if se.Pos.Line != tt.line || se.Pos.Col != tt.col || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("Parse(%q) = %v, want %d:%d containing %q", tt.query, se, tt.line, tt.col, tt.msg)
			}
		})
	}
}

func TestParseCapsInputSize(t *testing.T) {
	q := "print x = \"" + strings.Repeat("a", MaxQueryBytes) + "\""
	if _, err := Parse(q); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("Parse of an oversized query = %v, want a size error", err)
	}
}

func TestParseRejectsDeepNestingWithoutCrashing(t *testing.T) {
	q := "print x = " + strings.Repeat("(", 10000) + "1" + strings.Repeat(")", 10000)
	if _, err := Parse(q); err == nil || !strings.Contains(err.Error(), "nested") {
		t.Fatalf("Parse of deeply nested query = %v, want a nesting error", err)
	}
}

func TestStringRoundTrips(t *testing.T) {
	queries := []string{
		`let T = datatable(k:string, v:long)["a", 1, "b", 2]; T | where v > 1 and k has "a" | project k, w = v * 2`,
		`datatable(t:datetime, v:real)[datetime(2020-01-01), 1.5] | summarize avg(v), c = count() by bin(t, 1h) | sort by t asc nulls last`,
		`let f = (x:long, y:long = 2) { x + y }; print f(1), g = dynamic({"a": [1, 2]}).a[0]`,
		`datatable(a:long)[1] | join kind=leftouter (datatable(b:long)[1]) on $left.a == $right.b | top 3 by a desc`,
		`datatable(s:string)["k=v"] | parse s with k "=" v:long | mv-expand x = pack_array(1, 2) to typeof(long) | render timechart`,
		`union withsource=src (print a = 1), (print a = 2) | where a !in (3, 4) and a between (1 .. 2) | project-away src`,
		`datatable(t:datetime, v:long)[datetime(2021-01-01), 1] | make-series s = sum(v) default = 0 on t from datetime(2021-01-01) to datetime(2021-01-05) step 1d`,
		// statements and operators that return several tables
		`T | fork (where x > 1 | as A) B=(count) ['c d']=(take 1)`,
		`T | facet by a, ['b c'] with (where x > 1 | take 5)`,
		`let m = 1; T | take m; U | facet by a; print 1`,
	}
	for _, q := range queries {
		a, err := Parse(q)
		if err != nil {
			t.Fatalf("Parse(%q): %v", q, err)
		}
		s := a.String()
		b, err := Parse(s)
		if err != nil {
			t.Fatalf("re-Parse(%q): %v", s, err)
		}
		if b.String() != s {
			t.Errorf("String does not round-trip:\n first %s\nsecond %s", s, b.String())
		}
	}
}

func TestWalkVisitsEveryCall(t *testing.T) {
	q, err := Parse(`let x = strlen("a"); datatable(a:long)[1] | extend b = abs(a) | where tolower("X") == "x" | summarize max(b)`)
	if err != nil {
		t.Fatal(err)
	}
	var calls []string
	Walk(q, func(n Node) bool {
		if c, ok := n.(*Call); ok {
			calls = append(calls, c.Name)
		}
		return true
	})
	if got, want := strings.Join(calls, ","), "strlen,abs,tolower,max"; got != want {
		t.Errorf("Walk found calls %s, want %s", got, want)
	}
}

// FuzzParse checks that no input makes the parser panic and that every
// query it accepts renders to text that parses back to the same rendering.
// The seed corpus is the conformance queries.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"print 1", "datatable(a:long)[1] | summarize count() by a", "let x = 1; print x"} {
		f.Add(s)
	}
	if cases := loadCasesIfPresent(); cases != nil {
		for _, c := range cases {
			f.Add(c.KQL)
		}
	}
	f.Fuzz(func(t *testing.T, q string) {
		a, err := Parse(q)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) returned %T, want *SyntaxError", q, err)
			}
			return
		}
		s := a.String()
		b, err := Parse(s)
		if err != nil {
			t.Fatalf("rendering of %q does not parse: %q: %v", q, s, err)
		}
		if b.String() != s {
			t.Fatalf("rendering does not round-trip: %q -> %q", s, b.String())
		}
	})
}
