package kql

import (
	"math"
	"strings"
)

func (s *scope) compileUnary(x *Unary) (cexpr, error) {
	c, err := s.compileExpr(x.X)
	if err != nil {
		return cexpr{}, err
	}
	if x.Op == "+" {
		return c, nil
	}
	switch c.t {
	case TypeInt, TypeLong, TypeReal, TypeDecimal, TypeTimeSpan, TypeDynamic, TypeUnknown:
	default:
		return cexpr{}, errAt(x, "cannot negate a %s", c.t)
	}
	f := c.f
	return fold(cexpr{t: c.t, konst: c.konst, f: func(r Row) Value {
		v := scalarOf(f(r))
		if v.IsNull() {
			return v
		}
		switch v.T {
		case TypeReal, TypeDecimal:
			// Kusto negates as 0 - x: -(0.0) is 0, not -0
			// (agent-type-casts-coercion-0012#2)
			return Value{T: v.T, ok: true, i: int64(math.Float64bits(0 - v.real()))}
		case TypeInt, TypeLong, TypeTimeSpan:
			v.i = -v.i
			return v
		}
		return Null(c.t)
	}}), nil
}

func (s *scope) compileBinary(x *Binary) (cexpr, error) {
	if _, ok := x.L.(*Star); ok {
		return s.compileStarPredicate(x)
	}
	l, err := s.compileExpr(x.L)
	if err != nil {
		return cexpr{}, err
	}
	r, err := s.compileExpr(x.R)
	if err != nil {
		return cexpr{}, err
	}
	konst := l.konst && r.konst
	lf, rf := l.f, r.f
	switch x.Op {
	case "and", "or":
		if !boolish(l.t) || !boolish(r.t) {
			return cexpr{}, errAt(x, "'%s' needs bool operands, not %s and %s", x.Op, l.t, r.t)
		}
		and := x.Op == "and"
		return fold(cexpr{t: TypeBool, konst: konst, f: func(row Row) Value {
			a := scalarOf(lf(row))
			if a.ok && a.T == TypeBool && (a.i != 0) != and {
				return a
			}
			b := scalarOf(rf(row))
			if b.ok && b.T == TypeBool && (b.i != 0) != and {
				return b
			}
			if a.IsNull() || b.IsNull() {
				// a null operand counts as false: the reference's
				// logical-operators page gives bool(null) and true as
				// false and bool(null) or true as true
				return Bool(false)
			}
			return Bool(and)
		}}), nil
	case "+", "-", "*", "/", "%":
		t, ok := arithType(x.Op, l.t, r.t)
		if !ok {
			return cexpr{}, errAt(x, "operator '%s' cannot be applied to %s and %s", x.Op, l.t, r.t)
		}
		op := x.Op
		return fold(cexpr{t: t, konst: konst, f: func(row Row) Value { return arith(op, t, lf(row), rf(row)) }}), nil
	case "like", "!like":
		return cexpr{}, errAt(x, "operator %s is not supported", x.Op)
	case "matches regex", "!matches regex":
		neg := strings.HasPrefix(x.Op, "!")
		var re = compiledRegex(r)
		return fold(cexpr{t: TypeBool, konst: konst, f: func(row Row) Value {
			rx, err := re(row)
			if err != nil || rx == nil {
				return Null(TypeBool)
			}
			return Bool(rx.MatchString(toStr(lf(row))) != neg)
		}}), nil
	}
	fn, ok := binaryOps[x.Op]
	if !ok {
		return cexpr{}, errAt(x, "unknown operator %s", x.Op)
	}
	if err := checkComparable(x, l.t, r.t); err != nil {
		return cexpr{}, err
	}
	return fold(cexpr{t: TypeBool, konst: konst, f: func(row Row) Value { return fn(lf(row), rf(row)) }}), nil
}

// compileStarPredicate is "* op value": true when any column satisfies the
// string operator.
func (s *scope) compileStarPredicate(x *Binary) (cexpr, error) {
	fn, ok := binaryOps[x.Op]
	if !ok || flippable[x.Op] != "" {
		return cexpr{}, errAt(x, "'*' can only be used with a string operator")
	}
	r, err := s.compileExpr(x.R)
	if err != nil {
		return cexpr{}, err
	}
	n := len(s.cols)
	rf := r.f
	return cexpr{t: TypeBool, f: func(row Row) Value {
		w := rf(row)
		for i := 0; i < n; i++ {
			if v := fn(row[i], w); v.ok && v.i != 0 {
				return Bool(true)
			}
		}
		return Bool(false)
	}}, nil
}

func boolish(t Type) bool { return t == TypeBool || t == TypeDynamic || t == TypeUnknown }

// checkComparable rejects comparisons Kusto refuses at compile time, such as
// a string against a number.
func checkComparable(x *Binary, a, b Type) error {
	if a == TypeDynamic || b == TypeDynamic || a == TypeUnknown || b == TypeUnknown || a == b {
		return nil
	}
	switch x.Op {
	case "==", "!=", "<", "<=", ">", ">=":
	default:
		return nil
	}
	if a.isNumeric() && b.isNumeric() {
		return nil
	}
	if a == TypeString && b == TypeGuid || a == TypeGuid && b == TypeString {
		return nil
	}
	return errAt(x, "cannot compare %s with %s", a, b)
}

func (s *scope) compileIn(x *InExpr) (cexpr, error) {
	l, err := s.compileExpr(x.X)
	if err != nil {
		return cexpr{}, err
	}
	var items []cexpr
	for _, e := range x.List {
		if sq, ok := e.(*SubQuery); ok {
			vals, err := s.subqueryColumn(sq)
			if err != nil {
				return cexpr{}, err
			}
			for _, v := range vals {
				items = append(items, constExpr(v))
			}
			continue
		}
		c, err := s.compileExpr(e)
		if err != nil {
			return cexpr{}, err
		}
		items = append(items, c)
	}
	op := x.Op
	neg := strings.HasPrefix(op, "!")
	ci := strings.HasSuffix(op, "~")
	lf := l.f
	konst := l.konst
	for _, it := range items {
		konst = konst && it.konst
	}
	expand := func(row Row) []Value {
		var out []Value
		for _, it := range items {
			v := it.f(row)
			if v.T == TypeDynamic {
				if arr, ok := v.d.([]any); ok {
					for _, e := range arr {
						out = append(out, scalarOf(Dynamic(e)))
					}
					continue
				}
			}
			out = append(out, v)
		}
		return out
	}
	if strings.Contains(op, "has_") {
		all := op == "has_all"
		return fold(cexpr{t: TypeBool, konst: konst, f: func(row Row) Value {
			s := strings.ToLower(toStr(lf(row)))
			vals := expand(row)
			hit := 0
			for _, v := range vals {
				if hasTerm(s, strings.ToLower(toStr(v))) {
					hit++
				}
			}
			if all {
				return Bool(hit == len(vals))
			}
			return Bool((hit > 0) != neg)
		}}), nil
	}
	return fold(cexpr{t: TypeBool, konst: konst, f: func(row Row) Value {
		v := lf(row)
		if v.IsNull() && v.T != TypeString {
			return Bool(neg)
		}
		for _, w := range expand(row) {
			var eq bool
			if ci {
				eq = strings.EqualFold(toStr(v), toStr(w))
			} else {
				eq, _ = valuesEqual(v, w)
			}
			if eq {
				return Bool(!neg)
			}
		}
		return Bool(neg)
	}}), nil
}

func (s *scope) compileBetween(x *Between) (cexpr, error) {
	v, err := s.compileExpr(x.X)
	if err != nil {
		return cexpr{}, err
	}
	lo, err := s.compileExpr(x.Lo)
	if err != nil {
		return cexpr{}, err
	}
	hi, err := s.compileExpr(x.Hi)
	if err != nil {
		return cexpr{}, err
	}
	if (v.t == TypeString) != (lo.t == TypeString) {
		return cexpr{}, errAt(x, "between cannot compare %s with %s", v.t, lo.t)
	}
	rel := hi.t == TypeTimeSpan && lo.t == TypeDateTime
	neg := x.Not
	vf, lf, hf := v.f, lo.f, hi.f
	return fold(cexpr{t: TypeBool, konst: v.konst && lo.konst && hi.konst, f: func(row Row) Value {
		a, l, h := vf(row), lf(row), hf(row)
		if rel && l.ok && h.ok {
			h = DateTime(l.i + h.i)
		}
		c1, ok1 := compareValues(a, l)
		c2, ok2 := compareValues(a, h)
		if !ok1 || !ok2 {
			return Null(TypeBool)
		}
		return Bool((c1 >= 0 && c2 <= 0) != neg)
	}}), nil
}
