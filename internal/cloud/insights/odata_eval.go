package insights

import (
	"strings"
	"time"
)

// Evaluation and rendering of $filter expressions.

// Eval implements Expr: and, or.
func (b *Binary) Eval(r Row) bool {
	if b.Op == "and" {
		return b.Left.Eval(r) && b.Right.Eval(r)
	}
	return b.Left.Eval(r) || b.Right.Eval(r)
}

// String implements Expr.
func (b *Binary) String() string {
	return "(" + b.Left.String() + " " + b.Op + " " + b.Right.String() + ")"
}

// Eval implements Expr.
func (n *Not) Eval(r Row) bool { return !n.X.Eval(r) }

func (n *Not) String() string { return "not (" + n.X.String() + ")" }

// Eval implements Expr. A null compares equal to null and to "" (Azure
// returns null for unset string properties), and ordered comparisons with
// null are false.
func (c *Compare) Eval(r Row) bool {
	a, b := c.Left.value(r), c.Right.value(r)
	if a == nil || b == nil {
		switch c.Op {
		case "eq":
			return a == nil && b == nil || isEmpty(a) && isEmpty(b)
		case "ne":
			return !(a == nil && b == nil || isEmpty(a) && isEmpty(b))
		}
		return false
	}
	n, ok := compareValues(a, b)
	if !ok {
		return c.Op == "ne"
	}
	switch c.Op {
	case "eq":
		return n == 0
	case "ne":
		return n != 0
	case "gt":
		return n > 0
	case "ge":
		return n >= 0
	case "lt":
		return n < 0
	case "le":
		return n <= 0
	}
	return false
}

func (c *Compare) String() string { return c.Left.String() + " " + c.Op + " " + c.Right.String() }

func (in *In) Eval(r Row) bool {
	x := in.X.value(r)
	if in.Field != "" {
		v, _ := r.Get(in.Field)
		list, _ := v.([]string)
		for _, s := range list {
			if n, ok := compareValues(x, s); ok && n == 0 {
				return true
			}
		}
		return false
	}
	for _, o := range in.List {
		if n, ok := compareValues(x, o.value(r)); ok && n == 0 {
			return true
		}
	}
	return false
}

func (in *In) String() string {
	if in.Field != "" {
		return in.X.String() + " in " + in.Field
	}
	parts := make([]string, len(in.List))
	for i, o := range in.List {
		parts[i] = o.String()
	}
	return in.X.String() + " in (" + strings.Join(parts, ", ") + ")"
}

// Eval implements Expr: the string functions compare case-insensitively.
func (c *Call) Eval(r Row) bool {
	hay, needle := c.Args[0], c.Args[1]
	if c.Fn == "substringof" {
		hay, needle = needle, hay
	}
	h, ok1 := hay.value(r).(string)
	n, ok2 := needle.value(r).(string)
	if !ok1 || !ok2 {
		return false
	}
	h, n = strings.ToLower(h), strings.ToLower(n)
	switch c.Fn {
	case "startswith":
		return strings.HasPrefix(h, n)
	case "endswith":
		return strings.HasSuffix(h, n)
	}
	return strings.Contains(h, n)
}

func (c *Call) String() string {
	return c.Fn + "(" + c.Args[0].String() + ", " + c.Args[1].String() + ")"
}

func (o Operand) value(r Row) any {
	if o.Field == "" {
		return o.Lit
	}
	v, _ := r.Get(o.Field)
	return v
}

// String renders the operand: the property as written, or the literal.
func (o Operand) String() string {
	if o.Field != "" {
		return o.Name
	}
	if s, ok := o.Lit.(string); ok {
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return o.Raw
}

func isEmpty(v any) bool {
	s, ok := v.(string)
	return v == nil || ok && s == ""
}

// compareValues orders two values of compatible kinds. Strings compare
// case-insensitively (resource and policy IDs are case-insensitive, and
// Azure lower-cases many of them); a string compared with a time is parsed
// as a time.
func compareValues(a, b any) (int, bool) {
	switch x := a.(type) {
	case string:
		switch y := b.(type) {
		case string:
			return strings.Compare(strings.ToLower(x), strings.ToLower(y)), true
		case time.Time:
			if t, ok := parseTime(x); ok {
				return t.Compare(y), true
			}
		case bool:
			return compareValues(strings.EqualFold(x, "true"), y)
		}
	case time.Time:
		switch y := b.(type) {
		case time.Time:
			return x.Compare(y), true
		case string:
			if t, ok := parseTime(y); ok {
				return x.Compare(t), true
			}
		}
	case bool:
		switch y := b.(type) {
		case bool:
			if x == y {
				return 0, true
			}
			if !x {
				return -1, true
			}
			return 1, true
		case string:
			return compareValues(x, strings.EqualFold(y, "true"))
		}
	case float64:
		if y, ok := b.(float64); ok {
			switch {
			case x < y:
				return -1, true
			case x > y:
				return 1, true
			}
			return 0, true
		}
	case int:
		return compareValues(float64(x), b)
	}
	if y, ok := b.(int); ok {
		return compareValues(a, float64(y))
	}
	return 0, false
}

func parseTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05Z", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
