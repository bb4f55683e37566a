package kql

import (
	"math"
)

func gettype(v Value) string {
	if v.T == TypeDynamic {
		switch v.d.(type) {
		case nil:
			return "null"
		case bool:
			return "bool"
		case int64:
			return "long"
		case float64:
			// a dynamic real reports "double" (agent-type-casts-coercion-0025#3)
			return "double"
		case string:
			return "string"
		case []any:
			return "array"
		case *Bag:
			return "dictionary"
		}
	}
	if v.T == TypeUnknown {
		return "null"
	}
	if v.T == TypeInt {
		return "int"
	}
	return v.T.String()
}

// isEmpty is isempty(): null or the empty string.
func isEmpty(v Value) bool {
	if v.IsNull() {
		return true
	}
	switch v.T {
	case TypeString:
		return v.s == ""
	case TypeDynamic:
		s, ok := v.d.(string)
		return ok && s == ""
	}
	return false
}

// unify is the common type of branch results (iff, case, coalesce).
func unify(ts ...Type) (Type, bool) {
	t := TypeUnknown
	for _, u := range ts {
		switch {
		case u == TypeUnknown || u == t:
		case t == TypeUnknown:
			t = u
		case t.isNumeric() && u.isNumeric():
			if t == TypeReal || u == TypeReal || t == TypeDecimal || u == TypeDecimal {
				t = TypeReal
			} else {
				t = TypeLong
			}
		default:
			return t, false
		}
	}
	return t, true
}

func compileIff(call *Call, args []cexpr) (cexpr, error) {
	if len(args) != 3 {
		return cexpr{}, errAt(call, "%s takes 3 arguments", call.Name)
	}
	t, ok := unify(args[1].t, args[2].t)
	if !ok {
		return cexpr{}, errAt(call, "%s branches have different types %s and %s", call.Name, args[1].t, args[2].t)
	}
	c, a, b := args[0].f, args[1].f, args[2].f
	return fold(cexpr{t: concreteType(t), konst: args[0].konst && args[1].konst && args[2].konst, f: func(r Row) Value {
		cv := scalarOf(c(r))
		if cv.ok && cv.T == TypeBool && cv.i != 0 {
			return castTo(a(r), t)
		}
		return castTo(b(r), t)
	}}), nil
}

// castTo converts a branch value to the unified numeric type.
func castTo(v Value, t Type) Value {
	if v.T == t || t == TypeUnknown {
		return v
	}
	if v.IsNull() {
		return Null(t)
	}
	switch t {
	case TypeReal:
		return Real(v.AsReal())
	case TypeLong:
		if isIntegral(v.T) {
			return Long(v.i)
		}
	}
	return withType(v, t)
}

func compileCase(call *Call, args []cexpr) (cexpr, error) {
	if len(args) < 3 || len(args)%2 == 0 {
		return cexpr{}, errAt(call, "case takes condition/value pairs and an else value")
	}
	var ts []Type
	for i := 1; i < len(args); i += 2 {
		ts = append(ts, args[i].t)
	}
	ts = append(ts, args[len(args)-1].t)
	for _, t := range ts[1:] {
		if t != ts[0] && t != TypeUnknown && ts[0] != TypeUnknown {
			return cexpr{}, errAt(call, "case branches have different types")
		}
	}
	t, _ := unify(ts...)
	konst := true
	for _, a := range args {
		konst = konst && a.konst
	}
	return fold(cexpr{t: concreteType(t), konst: konst, f: func(r Row) Value {
		for i := 0; i+1 < len(args); i += 2 {
			cv := scalarOf(args[i].f(r))
			if cv.ok && cv.T == TypeBool && cv.i != 0 {
				return castTo(args[i+1].f(r), t)
			}
		}
		return castTo(args[len(args)-1].f(r), t)
	}}), nil
}

func compileCoalesce(call *Call, args []cexpr) (cexpr, error) {
	if len(args) < 1 {
		return cexpr{}, errAt(call, "coalesce needs arguments")
	}
	var ts []Type
	for _, a := range args {
		ts = append(ts, a.t)
	}
	t, ok := unify(ts...)
	if !ok {
		return cexpr{}, errAt(call, "coalesce arguments have different types")
	}
	konst := true
	for _, a := range args {
		konst = konst && a.konst
	}
	return fold(cexpr{t: concreteType(t), konst: konst, f: func(r Row) Value {
		for _, a := range args {
			v := a.f(r)
			if !isEmpty(v) || (v.T != TypeString && !v.IsNull()) {
				return castTo(v, t)
			}
		}
		return Null(concreteType(t))
	}}), nil
}

func compileMinMaxOf(sign int) fnImpl {
	return func(call *Call, args []cexpr) (cexpr, error) {
		if len(args) < 2 {
			return cexpr{}, errAt(call, "%s needs at least two arguments", call.Name)
		}
		var ts []Type
		for _, a := range args {
			ts = append(ts, a.t)
		}
		t, ok := unify(ts...)
		if !ok {
			return cexpr{}, errAt(call, "%s arguments have different types", call.Name)
		}
		return evalN(concreteType(t), args, func(t Type, vs []Value) Value {
			best := Null(t)
			for _, v := range vs {
				v = castTo(scalarOf(v), t)
				if v.IsNull() {
					continue
				}
				if v.T.isNumeric() && math.IsNaN(v.AsReal()) {
					return v
				}
				if best.IsNull() {
					best = v
					continue
				}
				if c, ok := compareValues(v, best); ok && c*sign > 0 {
					best = v
				}
			}
			return best
		}), nil
	}
}
