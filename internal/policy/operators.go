package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// rhs is an operator's right-hand side, prepared once when it is a
// constant: lower-cased strings, parsed numbers and compiled patterns are
// computed at compile time, not per evaluation.
type rhs struct {
	v     any
	str   string // v as a string, when it is one
	isStr bool
	num   float64
	isNum bool // v is a number, or a string holding one
	glob  *glob
	match *matchPattern
	list  []rhs // in/notIn members
	loc   string
	exist bool // exists operand
}

// prepareRHS prepares a value for an operator. loc asks for location
// normalisation of strings.
func prepareRHS(op Operator, v any, loc bool) (*rhs, error) {
	r := &rhs{v: v}
	r.fill(loc)
	switch op {
	case OpLike, OpNotLike:
		if !r.isStr {
			return nil, fmt.Errorf("%s takes a string pattern, got %s", op, typeName(v))
		}
		r.glob = compileGlob(r.str)
	case OpMatch, OpNotMatch:
		if !r.isStr {
			return nil, fmt.Errorf("%s takes a string pattern, got %s", op, typeName(v))
		}
		r.match = compileMatch(r.str, false)
	case OpMatchInsensitively, OpNotMatchInsensitively:
		if !r.isStr {
			return nil, fmt.Errorf("%s takes a string pattern, got %s", op, typeName(v))
		}
		r.match = compileMatch(r.str, true)
	case OpIn, OpNotIn:
		list, ok := v.([]any)
		if !ok {
			list = []any{v}
		}
		r.list = make([]rhs, len(list))
		for i, e := range list {
			r.list[i] = rhs{v: e}
			r.list[i].fill(loc)
		}
	case OpExists:
		switch x := v.(type) {
		case bool:
			r.exist = x
		case string:
			switch strings.ToLower(x) {
			case "true":
				r.exist = true
			case "false":
			default:
				return nil, fmt.Errorf("exists takes true or false, got %q", x)
			}
		default:
			return nil, fmt.Errorf("exists takes true or false, got %s", typeName(v))
		}
	case OpContainsKey, OpNotContainsKey:
		if !r.isStr {
			return nil, fmt.Errorf("%s takes a string key, got %s", op, typeName(v))
		}
	}
	return r, nil
}

func (r *rhs) fill(loc bool) {
	switch x := r.v.(type) {
	case string:
		r.str, r.isStr = x, true
		if loc {
			r.loc = normalizeLocation(x)
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil && x != "" {
			r.num, r.isNum = f, true
		}
	case int64:
		r.num, r.isNum = float64(x), true
	case float64:
		r.num, r.isNum = x, true
	}
}

// errType is a type mismatch between an operator's operands; evaluation
// reports it as the Error compliance state.
type errType struct{ msg string }

func (e *errType) Error() string { return e.msg }

// apply evaluates one operator on one left-hand value. lv.ok is false for
// a missing property; loc marks the location field, compared without
// spaces or case.
func apply(op Operator, lv value, r *rhs, loc bool) (bool, error) {
	switch op {
	case OpExists:
		return (lv.ok && lv.v != nil) == r.exist, nil
	case OpEquals:
		return equalsOp(lv, r, loc), nil
	case OpNotEquals:
		return !equalsOp(lv, r, loc), nil
	case OpIn:
		return inOp(lv, r, loc), nil
	case OpNotIn:
		return !inOp(lv, r, loc), nil
	case OpLike:
		s, ok := likeSubject(lv)
		return ok && r.glob.match(s), nil
	case OpNotLike:
		s, ok := likeSubject(lv)
		return !(ok && r.glob.match(s)), nil
	case OpMatch, OpMatchInsensitively:
		s, ok := likeSubject(lv)
		return ok && r.match.matches(s), nil
	case OpNotMatch, OpNotMatchInsensitively:
		s, ok := likeSubject(lv)
		return !(ok && r.match.matches(s)), nil
	case OpContains:
		return containsOp(lv, r), nil
	case OpNotContains:
		return !containsOp(lv, r), nil
	case OpContainsKey:
		return containsKeyOp(lv, r), nil
	case OpNotContainsKey:
		return !containsKeyOp(lv, r), nil
	case OpLess, OpLessOrEquals, OpGreater, OpGreaterOrEquals:
		if !lv.ok || lv.v == nil {
			return false, nil
		}
		c, err := compareOrdered(lv.v, r)
		if err != nil {
			return false, err
		}
		switch op {
		case OpLess:
			return c < 0, nil
		case OpLessOrEquals:
			return c <= 0, nil
		case OpGreater:
			return c > 0, nil
		default:
			return c >= 0, nil
		}
	}
	return false, fmt.Errorf("unknown operator %d", op)
}

// likeSubject is the string like and match test: a missing value never
// matches, null is the empty string, numbers and booleans their text.
func likeSubject(lv value) (string, bool) {
	if !lv.ok {
		return "", false
	}
	switch x := lv.v.(type) {
	case nil:
		return "", true
	case string:
		return x, true
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// equalsOp: a missing value equals only null; null equals null and
// otherwise behaves as the empty string.
func equalsOp(lv value, r *rhs, loc bool) bool {
	if r.v == nil {
		return !lv.ok || lv.v == nil
	}
	if !lv.ok {
		return false
	}
	v := lv.v
	if v == nil {
		v = ""
	}
	return scalarEquals(v, r, loc)
}

func inOp(lv value, r *rhs, loc bool) bool {
	if !lv.ok {
		for i := range r.list {
			if r.list[i].v == nil {
				return true
			}
		}
		return false
	}
	v := lv.v
	if v == nil {
		v = ""
	}
	for i := range r.list {
		if r.list[i].v == nil {
			continue
		}
		if scalarEquals(v, &r.list[i], loc) {
			return true
		}
	}
	return false
}

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
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			return err == nil && f == r.num
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

// foldedCompare orders strings after full case folding.
func foldedCompare(a, b string) int {
	return strings.Compare(foldString(a), foldString(b))
}

// looseEqual is equality of arbitrary values with case-insensitive
// strings and numeric comparison of numbers.
func looseEqual(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !looseEqual(x[i], y[i]) {
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
			f, ok := getKey(y, k)
			if !ok || !looseEqual(e, f) {
				return false
			}
		}
		return true
	}
	r := rhs{v: b}
	r.fill(false)
	return scalarEquals(a, &r, false)
}

func containsOp(lv value, r *rhs) bool {
	if !lv.ok {
		return false
	}
	switch x := lv.v.(type) {
	case nil:
		return r.isStr && r.str == ""
	case string:
		if !r.isStr {
			s, ok := likeSubject(value{r.v, true})
			return ok && containsFold(x, s)
		}
		return containsFold(x, r.str)
	case []any:
		for _, e := range x {
			if e != nil && scalarEquals(e, r, false) {
				return true
			}
		}
		return false
	case map[string]any:
		if !r.isStr {
			return false
		}
		_, ok := getKey(x, r.str)
		return ok
	}
	return false
}

func containsKeyOp(lv value, r *rhs) bool {
	m, ok := lv.v.(map[string]any)
	if !lv.ok || !ok {
		return false
	}
	_, ok = getKey(m, r.str)
	return ok
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
			if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
				return cmpFloat(f, r.num), nil
			}
		} else if r.isStr {
			return compareFold(x, r.str), nil
		}
	}
	return 0, &errType{msg: fmt.Sprintf("cannot order %s %s against %s %s", typeName(v), formatValue(v), typeName(r.v), formatValue(r.v))}
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
