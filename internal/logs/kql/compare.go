package kql

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// scalarOf unwraps a dynamic scalar (number, string, bool) into a typed
// value so that it compares and computes like one; arrays, bags and other
// types are returned unchanged.
func scalarOf(v Value) Value {
	if v.T != TypeDynamic || !v.ok {
		return v
	}
	switch x := v.d.(type) {
	case nil:
		return Null(TypeDynamic)
	case bool:
		return Bool(x)
	case int64:
		return Long(x)
	case float64:
		return Real(x)
	case string:
		return String(x)
	}
	return v
}

func isIntegral(t Type) bool { return t == TypeInt || t == TypeLong || t == TypeBool }

// compareValues orders two non-null values of comparable types; ok is false
// when either is null or the types do not compare.
func compareValues(a, b Value) (int, bool) {
	a, b = scalarOf(a), scalarOf(b)
	if a.IsNull() || b.IsNull() {
		return 0, false
	}
	switch {
	case isIntegral(a.T) && isIntegral(b.T):
		return cmpInt(a.i, b.i), true
	case a.T.isNumeric() && b.T.isNumeric() && (a.s != "" || b.s != ""):
		return compareExactDecimal(a, b), true
	case a.T.isNumeric() && b.T.isNumeric():
		return cmpFloat(a.AsReal(), b.AsReal()), true
	case a.T == b.T && (a.T == TypeDateTime || a.T == TypeTimeSpan):
		return cmpInt(a.i, b.i), true
	case (a.T == TypeString || a.T == TypeGuid) && (b.T == TypeString || b.T == TypeGuid):
		return strings.Compare(a.s, b.s), true
	case a.T == TypeDynamic && b.T == TypeDynamic:
		return strings.Compare(jsonCompact(a.d), jsonCompact(b.d)), true
	case a.T == TypeString && b.T == TypeDateTime:
		if t, ok := parseDateTime(a.s); ok {
			return cmpInt(t, b.i), true
		}
	case a.T == TypeDateTime && b.T == TypeString:
		if t, ok := parseDateTime(b.s); ok {
			return cmpInt(a.i, t), true
		}
	}
	return 0, false
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	case a == b:
		return 0
	case math.IsNaN(a) && !math.IsNaN(b):
		return -1
	case !math.IsNaN(a) && math.IsNaN(b):
		return 1
	}
	return 0
}

func order(a, b Value, f func(int) bool) Value {
	if (a.IsNull() && a.T != TypeString) || (b.IsNull() && b.T != TypeString) {
		return Null(TypeBool)
	}
	c, ok := orderValues(a, b)
	return Bool(ok && f(c))
}

// orderValues is compareValues for the ordering operators: NaN is not
// ordered against anything.
func orderValues(a, b Value) (int, bool) {
	if isNaNValue(a) || isNaNValue(b) {
		return 0, false
	}
	return compareValues(a, b)
}

// valuesEqual is Kusto's == on two values; ok is false when either is null.
func valuesEqual(a, b Value) (bool, bool) {
	a, b = scalarOf(a), scalarOf(b)
	if a.IsNull() || b.IsNull() {
		return false, false
	}
	if a.T == TypeDynamic || b.T == TypeDynamic {
		if a.T == b.T {
			return dynEqual(a.d, b.d), true
		}
		return false, true
	}
	if a.T == TypeBool && b.T == TypeBool {
		return a.i == b.i, true
	}
	c, ok := compareValues(a, b)
	if !ok {
		return false, true
	}
	if a.T.isNumeric() && b.T.isNumeric() && (math.IsNaN(a.AsReal()) || math.IsNaN(b.AsReal())) {
		return false, true
	}
	return c == 0, true
}

// toStr converts a value to the string string operators work on.
func toStr(v Value) string {
	if v.T == TypeString || v.T == TypeGuid {
		return v.s
	}
	return v.Plain()
}

type binFn func(a, b Value) Value

// binaryOps holds the comparison and string operators, which work on any
// operand types at run time and return bool (null when an operand is null).
var binaryOps = map[string]binFn{
	// A comparison with null is false (and != is true): the conformance
	// data shows "where x != 1" keeping null rows.
	"==": func(a, b Value) Value { e, ok := valuesEqual(a, b); return Bool(e && ok) },
	"!=": func(a, b Value) Value { e, ok := valuesEqual(a, b); return Bool(!e || !ok) },
	// Ordering a null is null ("where not(x > 0)" drops null rows,
	// null-and-edge-0003); ordering NaN is false.
	"<":  func(a, b Value) Value { return order(a, b, func(c int) bool { return c < 0 }) },
	"<=": func(a, b Value) Value { return order(a, b, func(c int) bool { return c <= 0 }) },
	">":  func(a, b Value) Value { return order(a, b, func(c int) bool { return c > 0 }) },
	">=": func(a, b Value) Value { return order(a, b, func(c int) bool { return c >= 0 }) },
	"=~": strOp(func(s, t string) bool { return strings.EqualFold(s, t) }),
	"!~": strOp(func(s, t string) bool { return !strings.EqualFold(s, t) }),
}

func init() {
	type pred func(s, t string) bool
	ci := func(f pred) pred { return func(s, t string) bool { return f(strings.ToLower(s), strings.ToLower(t)) } }
	base := map[string]pred{
		"has":        hasTerm,
		"contains":   strings.Contains,
		"startswith": strings.HasPrefix,
		"endswith":   strings.HasSuffix,
		"hasprefix":  hasPrefixTerm,
		"hassuffix":  hasSuffixTerm,
	}
	for name, f := range base {
		f := f
		binaryOps[name+"_cs"] = strOp(f)
		binaryOps["!"+name+"_cs"] = strOp(func(s, t string) bool { return !f(s, t) })
		g := ci(f)
		switch name {
		case "has":
			g = hasTermFold
		case "contains":
			g = containsFold
		}
		binaryOps[name] = strOp(g)
		binaryOps["!"+name] = strOp(func(s, t string) bool { return !g(s, t) })
	}
}

func strOp(f func(s, t string) bool) binFn {
	return func(a, b Value) Value {
		if a.T != TypeString && a.IsNull() {
			a = String("")
		}
		if b.T != TypeString && b.IsNull() {
			b = String("")
		}
		return Bool(f(toStr(a), toStr(b)))
	}
}

func boolOrNull(b, ok bool) Value {
	if !ok {
		return Null(TypeBool)
	}
	return Bool(b)
}

// isASCII reports whether s has only ASCII bytes.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// indexFoldASCII finds the lower-case ASCII needle in s at or after from,
// ignoring ASCII case, without lowering s (the hot path of has and
// contains, which Kusto runs case-insensitively).
func indexFoldASCII(s, needle string, from int) int {
	n := len(needle)
	for i := from; i+n <= len(s); i++ {
		j := 0
		for ; j < n; j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != needle[j] {
				break
			}
		}
		if j == n {
			return i
		}
	}
	return -1
}

// hasTermFold is case-insensitive has.
func hasTermFold(s, needle string) bool {
	if !isASCII(needle) {
		return hasTerm(strings.ToLower(s), strings.ToLower(needle))
	}
	needle = strings.ToLower(needle)
	if needle == "" {
		return true
	}
	if !strings.ContainsFunc(needle, isTermRune) {
		return indexFoldASCII(s, needle, 0) >= 0
	}
	for i := 0; ; {
		j := indexFoldASCII(s, needle, i)
		if j < 0 {
			return false
		}
		if boundaryBefore(s, j) && boundaryAfter(s, j+len(needle)) {
			return true
		}
		i = j + 1
	}
}

// containsFold is case-insensitive contains.
func containsFold(s, needle string) bool {
	if !isASCII(needle) {
		return strings.Contains(strings.ToLower(s), strings.ToLower(needle))
	}
	return indexFoldASCII(s, strings.ToLower(needle), 0) >= 0
}

func isTermRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// terms splits s into maximal runs of letters and digits.
func terms(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !isTermRune(r) })
}

// hasTerm is Kusto's has: the needle's terms appear as whole terms, in
// sequence for a multi-term needle.
func hasTerm(s, needle string) bool {
	if needle == "" {
		return true
	}
	if !strings.ContainsFunc(needle, isTermRune) {
		return strings.Contains(s, needle)
	}
	// a whole-term match is an occurrence bounded by term edges; this scan
	// allocates nothing
	for i := 0; ; {
		j := strings.Index(s[i:], needle)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(needle)
		if boundaryBefore(s, start) && boundaryAfter(s, end) {
			return true
		}
		i = start + 1
		if i >= len(s) {
			return false
		}
	}
}

func boundaryBefore(s string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return !isTermRune(r)
}

func boundaryAfter(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return !isTermRune(r)
}

func hasPrefixTerm(s, p string) bool {
	for _, t := range terms(s) {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return p == ""
}

func hasSuffixTerm(s, p string) bool {
	for _, t := range terms(s) {
		if strings.HasSuffix(t, p) {
			return true
		}
	}
	return p == ""
}
