package storage

import (
	"strings"
	"testing"
	"time"
)

func TestFilterParsesAndRoundTrips(t *testing.T) {
	cases := []struct{ in, want string }{
		{"PartitionKey eq 'a''b'", "(PartitionKey eq 'a''b')"},
		{"Age gt 30 and not (Name eq 'x') or Big le 5L", "(((Age gt 30) and not (Name eq 'x')) or (Big le 5L))"},
		{"When ge datetime'2026-01-02T03:04:05Z'", "(When ge datetime'2026-01-02T03:04:05.0000000Z')"},
		{"ID eq guid'9F1A3C0E-0000-4000-8000-000000000001'", "(ID eq guid'9f1a3c0e-0000-4000-8000-000000000001')"},
		{"B eq X'0102' and R lt 1.5 and F eq false", "(((B eq X'0102') and (R lt 1.5)) and (F eq false))"},
		{"'x' lt RowKey", "('x' lt RowKey)"},
		{"Active", "(Active eq true)"},
	}
	for _, c := range cases {
		e, err := parseFilter(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if e.String() != c.want {
			t.Errorf("%q = %s, want %s", c.in, e.String(), c.want)
		}
		again, err := parseFilter(e.String())
		if err != nil || again.String() != e.String() {
			t.Errorf("round trip of %q: %v %v", c.in, again, err)
		}
	}
}

func TestFilterRejectsWhatItCannotUnderstand(t *testing.T) {
	for _, in := range []string{"", "Age gt", "Age gt 'a' and", "(Age eq 1", "Age eq Name", "1 eq 2", "Age eq 'open",
		"Age eq datetime'nope'", "Age eq 99999999999999999999", "Age ~ 1", "substringof('a', Name)", "Name eq null",
		strings.Repeat("A eq 1 and ", 16) + "A eq 1"} {
		if _, err := parseFilter(in); err == nil {
			t.Errorf("%q parsed", in)
		} else if se, ok := err.(*Error); !ok || se.Code != "InvalidInput" {
			t.Errorf("%q: %v, want InvalidInput", in, err)
		}
	}
}

func TestFilterMatchesTypedProperties(t *testing.T) {
	e := &Entity{PartitionKey: "p", RowKey: "r5", Timestamp: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Props: []Property{
		{Name: "Age", Value: Value{Type: EdmInt32, I: 42}},
		{Name: "Big", Value: Value{Type: EdmInt64, I: 1 << 40}},
		{Name: "Flag", Value: Value{Type: EdmBoolean, B: true}},
		{Name: "Name", Value: Value{Type: EdmString, S: "bob"}},
		{Name: "Ratio", Value: Value{Type: EdmDouble, F: 0.5}},
	}}
	cases := []struct {
		f    string
		want bool
	}{
		{"Age eq 42", true},
		{"Age ne 42", false},
		{"Age gt 41 and Age lt 43", true},
		{"Big eq 1099511627776L", true},
		{"Big gt 5", true},
		{"Ratio lt 1", true},
		{"Flag eq true and Name eq 'bob'", true},
		{"Name eq 42", false},
		{"Missing ne 1", false},
		{"not (Missing eq 1)", true},
		{"RowKey ge 'r' and PartitionKey eq 'p'", true},
		{"Timestamp lt datetime'2026-01-02T00:00:00Z'", true},
		{"Name gt 'a' or Age eq 0", true},
	}
	for _, c := range cases {
		x, err := parseFilter(c.f)
		if err != nil {
			t.Fatalf("%q: %v", c.f, err)
		}
		if got := match(x, e); got != c.want {
			t.Errorf("%q = %v, want %v", c.f, got, c.want)
		}
	}
}

func TestPushdownKeepsOnlyConjunctsOnKeys(t *testing.T) {
	cases := []struct {
		f                    string
		pkEq, rkLow, rkHigh  string
		rkLowExcl, rkHighExc bool
	}{
		{f: "PartitionKey eq 'a' and RowKey gt 'b' and RowKey le 'd'", pkEq: "a", rkLow: "b", rkHigh: "d", rkLowExcl: true},
		{f: "PartitionKey eq 'a' or RowKey gt 'b'"},
		{f: "not (PartitionKey eq 'a')"},
		{f: "'m' gt RowKey and Age eq 1", rkHigh: "m", rkHighExc: true},
	}
	for _, c := range cases {
		x, _ := parseFilter(c.f)
		kr := pushdown(x)
		s := func(p *string) string {
			if p == nil {
				return ""
			}
			return *p
		}
		if s(kr.PK.Eq) != c.pkEq || s(kr.RK.Low) != c.rkLow || s(kr.RK.High) != c.rkHigh || kr.RK.LowExcl != c.rkLowExcl || kr.RK.HighExcl != c.rkHighExc {
			t.Errorf("%q: %+v", c.f, kr)
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"PartitionKey eq 'a'", "Age gt 30 and not (Name eq 'x')", "B eq X'01'", "When ge datetime'2026-01-02T03:04:05Z'", "((("} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := parseFilter(s)
		if err != nil {
			return
		}
		again, err := parseFilter(e.String())
		if err != nil || again.String() != e.String() {
			t.Fatalf("%q: round trip %q: %v", s, e.String(), err)
		}
	})
}
