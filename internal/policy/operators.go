package policy

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/steward-gov/steward/internal/armexpr"
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
			return nil, fmt.Errorf("%s takes a string pattern, got %s", op, armexpr.TypeName(v))
		}
		r.glob = compileGlob(r.str)
	case OpMatch, OpNotMatch:
		if !r.isStr {
			return nil, fmt.Errorf("%s takes a string pattern, got %s", op, armexpr.TypeName(v))
		}
		r.match = compileMatch(r.str, false)
	case OpMatchInsensitively, OpNotMatchInsensitively:
		if !r.isStr {
			return nil, fmt.Errorf("%s takes a string pattern, got %s", op, armexpr.TypeName(v))
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
			return nil, fmt.Errorf("exists takes true or false, got %s", armexpr.TypeName(v))
		}
	case OpContainsKey, OpNotContainsKey:
		if !r.isStr {
			return nil, fmt.Errorf("%s takes a string key, got %s", op, armexpr.TypeName(v))
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
		if f, ok := parseNumber(x); ok {
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
		_, ok := armexpr.Lookup(x, r.str)
		return ok
	}
	return false
}

func containsKeyOp(lv value, r *rhs) bool {
	m, ok := lv.v.(map[string]any)
	if !lv.ok || !ok {
		return false
	}
	_, ok = armexpr.Lookup(m, r.str)
	return ok
}
