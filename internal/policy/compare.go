package policy

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/steward-gov/steward/internal/armexpr"
)

// scalarEquals compares a value with a prepared right-hand side the way
// Azure Policy does: strings case-insensitively, a string holding a number
// or a boolean equal to that number or boolean, arrays and objects
// member by member.
func scalarEquals(v any, r *rhs, loc bool) bool {
	switch x := v.(type) {
	case string:
		if r.isStr {
			if loc {
				return locEqual(x, r.loc) || equalFold(x, r.str)
			}
			return equalFold(x, r.str)
		}
		switch y := r.v.(type) {
		case bool:
			return strings.EqualFold(x, strconv.FormatBool(y))
		case int64, float64:
			f, ok := parseNumber(x)
			return ok && f == r.num
		}
		return false
	case int64, float64:
		f, _ := toFloat(x)
		return r.isNum && f == r.num
	case bool:
		switch y := r.v.(type) {
		case bool:
			return x == y
		case string:
			return strings.EqualFold(y, strconv.FormatBool(x))
		}
		return false
	}
	return looseEqual(v, r.v)
}

// looseEqual is equality of arbitrary values with case-insensitive
// strings and keys and numeric comparison of numbers.
func looseEqual(a, b any) bool {
	return deepEqual(a, b, true, func(x, y any) bool {
		r := rhs{v: y}
		r.fill(false)
		return scalarEquals(x, &r, false)
	})
}

// deepEqual compares arrays member by member and objects key by key
// (keys case-insensitively when foldKeys), and anything else with scalar.
func deepEqual(a, b any, foldKeys bool, scalar func(a, b any) bool) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !deepEqual(x[i], y[i], foldKeys, scalar) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, e := range x {
			f, ok := y[k]
			if !ok && foldKeys {
				f, ok = armexpr.Lookup(y, k)
			}
			if !ok || !deepEqual(e, f, foldKeys, scalar) {
				return false
			}
		}
		return true
	}
	if b == nil {
		return false
	}
	return scalar(a, b)
}

// foldedCompare orders strings after full case folding.
func foldedCompare(a, b string) int {
	return strings.Compare(foldString(a), foldString(b))
}

// containsFold is a case-insensitive substring test.
func containsFold(s, sub string) bool {
	if sub == "" {
		return true
	}
	if isASCII(s) && isASCII(sub) {
		n := len(sub)
		for i := 0; i+n <= len(s); i++ {
			if strings.EqualFold(s[i:i+n], sub) {
				return true
			}
		}
		return false
	}
	return strings.Contains(foldString(s), foldString(sub))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// compareOrdered orders a value against the operand: numbers numerically
// (a string holding a number counts as one), strings case-insensitively
// (ISO 8601 dates therefore in time order). Any other pairing is a type
// mismatch, which Azure reports as an evaluation error.
func compareOrdered(v any, r *rhs) (int, error) {
	switch x := v.(type) {
	case int64, float64:
		f, _ := toFloat(x)
		if r.isNum {
			return cmpFloat(f, r.num), nil
		}
	case string:
		if !r.isStr && r.isNum {
			if f, ok := parseNumber(x); ok {
				return cmpFloat(f, r.num), nil
			}
		} else if r.isStr {
			return compareFold(x, r.str), nil
		}
	}
	return 0, &errType{msg: fmt.Sprintf("cannot order %s %s against %s %s", armexpr.TypeName(v), formatValue(v), armexpr.TypeName(r.v), formatValue(r.v))}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareFold compares strings ignoring case.
func compareFold(a, b string) int {
	if isASCII(a) && isASCII(b) {
		for i := 0; i < len(a) && i < len(b); i++ {
			ca, cb := lowerASCII(a[i]), lowerASCII(b[i])
			if ca != cb {
				if ca < cb {
					return -1
				}
				return 1
			}
		}
		return cmpFloat(float64(len(a)), float64(len(b)))
	}
	return foldedCompare(a, b)
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// parseNumber reads a string holding a number (spaces around allowed).
// Strings that cannot be numbers are rejected before strconv, whose
// error would allocate on this hot path.
func parseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	switch c := s[0]; {
	case c >= '0' && c <= '9', c == '-', c == '+', c == '.':
	default:
		return 0, false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+') {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}
