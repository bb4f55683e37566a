package abac

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Quantifier is the cross-product prefix of an operator.
type Quantifier int

// The quantifiers. None compares one value with one value.
const (
	None Quantifier = iota
	ForAnyOfAnyValues
	ForAllOfAnyValues
	ForAnyOfAllValues
	ForAllOfAllValues
)

var quantifierNames = map[string]Quantifier{
	"foranyofanyvalues": ForAnyOfAnyValues,
	"forallofanyvalues": ForAllOfAnyValues,
	"foranyofallvalues": ForAnyOfAllValues,
	"forallofallvalues": ForAllOfAllValues,
}

// String returns the quantifier as written before the colon.
func (q Quantifier) String() string {
	switch q {
	case ForAnyOfAnyValues:
		return "ForAnyOfAnyValues"
	case ForAllOfAnyValues:
		return "ForAllOfAnyValues"
	case ForAnyOfAllValues:
		return "ForAnyOfAllValues"
	case ForAllOfAllValues:
		return "ForAllOfAllValues"
	}
	return ""
}

// Family is the value type an operator compares.
type Family int

// The operator families.
const (
	StringFamily Family = iota
	NumericFamily
	DateTimeFamily
	GuidFamily
	BoolFamily
)

// String names the family.
func (f Family) String() string {
	return [...]string{"String", "Numeric", "DateTime", "Guid", "Bool"}[f]
}

// Operator is a comparison operator such as StringEqualsIgnoreCase or
// ForAnyOfAllValues:GuidNotEquals.
type Operator struct {
	Quantifier Quantifier
	// Name is the canonical function name without the quantifier, such as
	// "GuidNotEquals".
	Name   string
	Family Family
	// Spelling is the operator as written, kept for round-tripping.
	Spelling string
	cmp      compareFunc
}

// compareFunc compares one left value with one right value.
type compareFunc func(l, r string) (bool, error)

// operatorTable maps lower-cased function names to their definitions.
var operatorTable = map[string]Operator{}

func init() {
	add := func(name string, fam Family, cmp compareFunc) {
		operatorTable[strings.ToLower(name)] = Operator{Name: name, Family: fam, cmp: cmp}
	}
	for _, ic := range []bool{false, true} {
		suffix := ""
		if ic {
			suffix = "IgnoreCase"
		}
		ic := ic
		add("StringEquals"+suffix, StringFamily, func(l, r string) (bool, error) { return strEq(l, r, ic), nil })
		add("StringNotEquals"+suffix, StringFamily, func(l, r string) (bool, error) { return !strEq(l, r, ic), nil })
		add("StringStartsWith"+suffix, StringFamily, func(l, r string) (bool, error) { return strPrefix(l, r, ic), nil })
		add("StringNotStartsWith"+suffix, StringFamily, func(l, r string) (bool, error) { return !strPrefix(l, r, ic), nil })
		add("StringLike"+suffix, StringFamily, func(l, r string) (bool, error) { return like(l, r, ic), nil })
		add("StringNotLike"+suffix, StringFamily, func(l, r string) (bool, error) { return !like(l, r, ic), nil })
	}
	ordered := []struct {
		suffix string
		ok     func(c int) bool
	}{
		{"Equals", func(c int) bool { return c == 0 }},
		{"NotEquals", func(c int) bool { return c != 0 }},
		{"GreaterThan", func(c int) bool { return c > 0 }},
		{"GreaterThanEquals", func(c int) bool { return c >= 0 }},
		{"LessThan", func(c int) bool { return c < 0 }},
		{"LessThanEquals", func(c int) bool { return c <= 0 }},
	}
	for _, o := range ordered {
		ok := o.ok
		add("Numeric"+o.suffix, NumericFamily, func(l, r string) (bool, error) {
			c, err := compareInts(l, r)
			return err == nil && ok(c), err
		})
		add("DateTime"+o.suffix, DateTimeFamily, func(l, r string) (bool, error) {
			c, err := compareTimes(l, r)
			return err == nil && ok(c), err
		})
	}
	add("GuidEquals", GuidFamily, func(l, r string) (bool, error) { return guidEq(l, r) })
	add("GuidNotEquals", GuidFamily, func(l, r string) (bool, error) { eq, err := guidEq(l, r); return err == nil && !eq, err })
	add("BoolEquals", BoolFamily, func(l, r string) (bool, error) { return boolEq(l, r) })
	add("BoolNotEquals", BoolFamily, func(l, r string) (bool, error) { eq, err := boolEq(l, r); return err == nil && !eq, err })
}

// lookupOperator resolves an operator word such as
// "ForAnyOfAnyValues:GuidEquals" (case-insensitively).
func lookupOperator(word string) (Operator, error) {
	q := None
	name := word
	if i := strings.IndexByte(word, ':'); i >= 0 {
		var ok bool
		q, ok = quantifierNames[strings.ToLower(word[:i])]
		if !ok {
			return Operator{}, fmt.Errorf("unknown cross-product prefix %q (want ForAnyOfAnyValues, ForAllOfAnyValues, ForAnyOfAllValues or ForAllOfAllValues)", word[:i])
		}
		name = word[i+1:]
	}
	op, ok := operatorTable[strings.ToLower(name)]
	if !ok {
		return Operator{}, fmt.Errorf("unknown operator %q", word)
	}
	if q != None && (op.Family == DateTimeFamily || op.Family == BoolFamily) {
		return Operator{}, fmt.Errorf("operator %q: cross-product forms apply to String, Numeric and Guid operators only", word)
	}
	op.Quantifier = q
	op.Spelling = word
	return op, nil
}

func strEq(l, r string, ic bool) bool {
	if ic {
		return strings.EqualFold(l, r)
	}
	return l == r
}

func strPrefix(l, r string, ic bool) bool {
	if ic {
		return len(l) >= len(r) && strings.EqualFold(l[:len(r)], r)
	}
	return strings.HasPrefix(l, r)
}

// like matches s against a StringLike pattern: '*' is any run of
// characters, '?' is one character, and a backslash makes the next '*' or
// '?' literal.
func like(s, pattern string, ic bool) bool {
	if ic {
		s, pattern = strings.ToLower(s), strings.ToLower(pattern)
	}
	// Iterative matcher with one backtrack point for the last '*'.
	si, pi := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(pattern) {
			c := pattern[pi]
			switch {
			case c == '*':
				starP, starS = pi, si
				pi++
				continue
			case c == '?':
				si++
				pi++
				continue
			case c == '\\' && pi+1 < len(pattern) && (pattern[pi+1] == '*' || pattern[pi+1] == '?'):
				if s[si] == pattern[pi+1] {
					si++
					pi += 2
					continue
				}
			case c == s[si]:
				si++
				pi++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		si = starS
		pi = starP + 1
	}
	for pi < len(pattern) && pattern[pi] == '*' {
		pi++
	}
	return pi == len(pattern)
}

func compareInts(l, r string) (int, error) {
	a, err := strconv.ParseInt(strings.TrimSpace(l), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", l)
	}
	b, err := strconv.ParseInt(strings.TrimSpace(r), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", r)
	}
	switch {
	case a < b:
		return -1, nil
	case a > b:
		return 1, nil
	}
	return 0, nil
}

// parseDateTime accepts the documented yyyy-mm-ddThh:mm:ss.fffffffZ form and
// other RFC 3339 times.
func parseDateTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date-time (want yyyy-mm-ddThh:mm:ss.fffffffZ)", s)
	}
	return t, nil
}

func compareTimes(l, r string) (int, error) {
	a, err := parseDateTime(l)
	if err != nil {
		return 0, err
	}
	b, err := parseDateTime(r)
	if err != nil {
		return 0, err
	}
	return a.Compare(b), nil
}

// NormalizeGUID returns a GUID as 32 lower-case hex digits, accepting the
// dashed form, the undashed form and braces. ok is false for anything else.
func NormalizeGUID(s string) (string, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	var b [32]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-':
			continue
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case c >= 'A' && c <= 'F':
			c += 'a' - 'A'
		default:
			return "", false
		}
		if n == 32 {
			return "", false
		}
		b[n] = c
		n++
	}
	if n != 32 {
		return "", false
	}
	return string(b[:]), true
}

func guidEq(l, r string) (bool, error) {
	a, ok := NormalizeGUID(l)
	if !ok {
		return false, fmt.Errorf("%q is not a GUID", l)
	}
	b, ok := NormalizeGUID(r)
	if !ok {
		return false, fmt.Errorf("%q is not a GUID", r)
	}
	return a == b, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", s)
}

func boolEq(l, r string) (bool, error) {
	a, err := parseBool(l)
	if err != nil {
		return false, err
	}
	b, err := parseBool(r)
	if err != nil {
		return false, err
	}
	return a == b, nil
}

// checkLiteral validates a literal against the family an operator compares,
// so that a condition with a malformed value fails to parse rather than to
// evaluate.
func checkLiteral(l *Literal, fam Family) error {
	var err error
	switch fam {
	case StringFamily:
		if l.Kind != LitString {
			err = fmt.Errorf("String operators take quoted strings, not %s", l.Value)
		}
	case NumericFamily:
		_, err = compareInts(l.Value, "0")
	case DateTimeFamily:
		if l.Kind != LitString {
			err = fmt.Errorf("DateTime operators take quoted date-times, not %s", l.Value)
		} else {
			_, err = parseDateTime(l.Value)
		}
	case GuidFamily:
		if _, ok := NormalizeGUID(l.Value); !ok {
			err = fmt.Errorf("%q is not a GUID", l.Value)
		}
	case BoolFamily:
		_, err = parseBool(l.Value)
	}
	return err
}
