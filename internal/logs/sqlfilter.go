package logs

import (
	"math"
	"strings"
	"unicode/utf8"

	"github.com/steward-gov/steward/internal/logs/kql"
	"github.com/steward-gov/steward/internal/store"
)

// sqlFilter translates a pushed-down kql filter on column c into a SQL
// predicate with "?" placeholders. ok is false when the filter cannot be
// applied in SQL with exactly Kusto's semantics; the planner then runs it.
//
// What pushes down: comparisons, in/!in and between of numeric, datetime,
// timespan and bool columns with values of the same family; equality and
// in/!in of strings and guids (case-sensitive, as SQL compares bytes);
// =~, !~ and the contains/startswith/endswith family of strings, when the
// value is non-empty ASCII (SQL's lower() folds ASCII on both backends).
// NULL in SQL never satisfies a comparison, which is kql's rule for null
// column values except for != and !in (true against null, so the SQL adds
// IS NULL);
// strings are stored as ” rather than NULL, as Kusto's
// strings are never null.
func sqlFilter(d store.Dialect, c Column, f kql.Filter) (string, []any, bool) {
	if len(f.Values) == 0 {
		return "", nil, false
	}
	for _, v := range f.Values {
		if v.IsNull() || !compatible(c.Type, v) {
			return "", nil, false
		}
	}
	col := c.SQL
	args := make([]any, len(f.Values))
	for i, v := range f.Values {
		args[i] = sqlArg(v)
	}
	switch f.Op {
	case "==", "!=", "<", "<=", ">", ">=":
		if len(args) != 1 {
			return "", nil, false
		}
		if isText(c.Type) && f.Op != "==" && f.Op != "!=" {
			return "", nil, false
		}
		if c.Type == kql.TypeBool && f.Op != "==" && f.Op != "!=" {
			return "", nil, false
		}
		switch f.Op {
		case "==":
			return col + " = ?", args, true
		case "!=":
			// kql's != is true when the column is null.
			return "(" + col + " <> ? OR " + col + " IS NULL)", args, true
		}
		return col + " " + f.Op + " ?", args, true
	case "in", "!in":
		list := "(" + strings.TrimSuffix(strings.Repeat("?,", len(args)), ",") + ")"
		if f.Op == "!in" {
			// kql's !in, like !=, is true when the column is null
			return "(" + col + " NOT IN " + list + " OR " + col + " IS NULL)", args, true
		}
		return col + " IN " + list, args, true
	case "between":
		if len(args) != 2 || isText(c.Type) || c.Type == kql.TypeBool {
			return "", nil, false
		}
		return col + " BETWEEN ? AND ?", args, true
	}
	if c.Type != kql.TypeString || len(args) != 1 {
		return "", nil, false
	}
	s := f.Values[0].AsString()
	if f.Op == "=~" || f.Op == "!~" {
		if !isASCII(s) {
			return "", nil, false
		}
		pred := "lower(" + col + ") = ?"
		if f.Op == "!~" {
			pred = "NOT (" + pred + ")"
		}
		return pred, []any{strings.ToLower(s)}, true
	}
	op, cs := strings.CutSuffix(f.Op, "_cs")
	neg := strings.HasPrefix(op, "!")
	op = strings.TrimPrefix(op, "!")
	if s == "" || (!cs && !isASCII(s)) {
		return "", nil, false
	}
	target := col
	if !cs {
		target = "lower(" + col + ")"
		s = strings.ToLower(s)
	}
	n := utf8.RuneCountInString(s)
	var pred string
	switch op {
	case "contains":
		if d == store.Postgres {
			pred = "strpos(" + target + ", ?) > 0"
		} else {
			pred = "instr(" + target + ", ?) > 0"
		}
	case "startswith":
		if d == store.Postgres {
			pred = "left(" + target + ", " + itoa(n) + ") = ?"
		} else {
			pred = "substr(" + target + ", 1, " + itoa(n) + ") = ?"
		}
	case "endswith":
		if d == store.Postgres {
			pred = "right(" + target + ", " + itoa(n) + ") = ?"
		} else {
			pred = "(length(" + col + ") >= " + itoa(n) + " AND substr(" + target + ", -" + itoa(n) + ") = ?)"
		}
	default:
		return "", nil, false
	}
	if neg {
		pred = "NOT (" + pred + ")"
	}
	return pred, []any{s}, true
}

// compatible reports whether a filter value compares with a column of type
// t the way SQL would compare the stored form.
func compatible(t kql.Type, v kql.Value) bool {
	num := func(x kql.Type) bool {
		return x == kql.TypeInt || x == kql.TypeLong || x == kql.TypeReal || x == kql.TypeDecimal
	}
	switch {
	case num(t):
		if !num(v.T) {
			return false
		}
		if v.T == kql.TypeReal || v.T == kql.TypeDecimal {
			f := v.AsReal()
			return !math.IsNaN(f) && !math.IsInf(f, 0)
		}
		return true
	case t == kql.TypeString:
		return v.T == kql.TypeString
	case t == kql.TypeGuid:
		return v.T == kql.TypeGuid
	}
	return v.T == t && t != kql.TypeDynamic
}

func isText(t kql.Type) bool { return t == kql.TypeString || t == kql.TypeGuid }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
