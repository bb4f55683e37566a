package kql

import (
	"math"
	"strings"
)

// fnImpl compiles a call of a scalar function from its compiled arguments.
type fnImpl func(call *Call, args []cexpr) (cexpr, error)

// funcs is the scalar function library, filled by the funcs_*.go files.
var funcs = map[string]fnImpl{}

// register adds a function under one or more names.
func register(f fnImpl, names ...string) {
	for _, n := range names {
		funcs[n] = f
	}
}

// fixed builds a function of a fixed argument count range and a result type
// computed from the argument types; eval sees the argument values.
func fixed(min, max int, typ func(args []cexpr) (Type, bool), eval func(t Type, v []Value) Value) fnImpl {
	return func(call *Call, args []cexpr) (cexpr, error) {
		if len(args) < min || max >= 0 && len(args) > max {
			if min == max {
				return cexpr{}, errAt(call, "%s takes %d argument(s), got %d", call.Name, min, len(args))
			}
			return cexpr{}, errAt(call, "%s takes %d to %d arguments, got %d", call.Name, min, max, len(args))
		}
		t, ok := typ(args)
		if !ok {
			types := make([]string, len(args))
			for i, a := range args {
				types[i] = a.t.String()
			}
			return cexpr{}, errAt(call, "%s cannot take arguments of type (%s)", call.Name, strings.Join(types, ", "))
		}
		return evalN(t, args, eval), nil
	}
}

// evalN builds the cexpr that evaluates the arguments and calls eval.
func evalN(t Type, args []cexpr, eval func(t Type, v []Value) Value) cexpr {
	konst := true
	for _, a := range args {
		konst = konst && a.konst
	}
	n := len(args)
	var f func(Row) Value
	switch n {
	case 1:
		a := args[0].f
		f = func(r Row) Value { return eval(t, []Value{a(r)}) }
	case 2:
		a, b := args[0].f, args[1].f
		f = func(r Row) Value { return eval(t, []Value{a(r), b(r)}) }
	default:
		f = func(r Row) Value {
			vs := make([]Value, n)
			for i, a := range args {
				vs[i] = a.f(r)
			}
			return eval(t, vs)
		}
	}
	return fold(cexpr{t: t, konst: konst, f: f})
}

// ret is a typ function for a fixed result type.
func ret(t Type) func([]cexpr) (Type, bool) { return func([]cexpr) (Type, bool) { return t, true } }

// sameAsArg is a typ function returning the type of argument i.
func sameAsArg(i int) func([]cexpr) (Type, bool) {
	return func(a []cexpr) (Type, bool) { return concreteType(a[i].t), true }
}

// anyNull reports whether a value list has a null (strings never count).
func anyNull(vs []Value) bool {
	for _, v := range vs {
		if v.IsNull() && v.T != TypeString {
			return true
		}
	}
	return false
}

func (s *scope) compileCall(x *Call) (cexpr, error) {
	if b := s.env.lookup(x.Name); b != nil && b.fn != nil {
		return s.callUser(x, b, x.Args)
	}
	switch x.Name {
	case "toscalar":
		if len(x.Args) != 1 {
			return cexpr{}, errAt(x, "toscalar takes one argument")
		}
		var t *planTable
		var err error
		if sq, ok := x.Args[0].(*SubQuery); ok {
			t, err = compilePipeline(s.q, s.env, sq.Q)
		} else if isTabular(s.env, x.Args[0]) {
			t, err = compileTabExpr(s.q, s.env, x.Args[0])
		} else {
			return s.compileExpr(x.Args[0])
		}
		if err != nil {
			return cexpr{}, err
		}
		rows, err := runPlan(s.q, t)
		if err != nil {
			return cexpr{}, err
		}
		if len(t.cols) == 0 {
			return cexpr{}, errAt(x, "toscalar needs a column")
		}
		v := Null(t.cols[0].Type)
		if len(rows) > 0 {
			v = rows[0][0]
		}
		return constExpr(v), nil
	case "now":
		now := DateTime(s.q.now)
		if len(x.Args) == 1 {
			off, err := s.compileExpr(x.Args[0])
			if err != nil {
				return cexpr{}, err
			}
			now = DateTime(s.q.now + off.f(nil).i)
		}
		return constExpr(now), nil
	case "ago":
		if len(x.Args) != 1 {
			return cexpr{}, errAt(x, "ago takes one timespan")
		}
		a, err := s.compileExpr(x.Args[0])
		if err != nil {
			return cexpr{}, err
		}
		if a.t != TypeTimeSpan {
			return cexpr{}, errAt(x, "ago needs a timespan, not %s", a.t)
		}
		now := s.q.now
		af := a.f
		return fold(cexpr{t: TypeDateTime, konst: a.konst, f: func(r Row) Value {
			v := af(r)
			if v.IsNull() {
				return Null(TypeDateTime)
			}
			return DateTime(now - v.i)
		}}), nil
	case "typeof":
		// typeof(T) is a type argument (extract, mv-expand); it stands for
		// the type's name
		if len(x.Args) == 1 {
			if id, ok := x.Args[0].(*Ident); ok && typeByName[strings.ToLower(id.Name)] != TypeUnknown {
				return constExpr(String(strings.ToLower(id.Name))), nil
			}
		}
		return cexpr{}, errAt(x, "typeof needs a type name")
	case "column_ifexists":
		if len(x.Args) != 2 {
			return cexpr{}, errAt(x, "column_ifexists takes a name and a default")
		}
		if l, ok := x.Args[0].(*Lit); ok && l.Val.T == TypeString && s.col(l.Val.s) >= 0 {
			return s.compileExpr(&Ident{At: l.At, Name: l.Val.s})
		}
		return s.compileExpr(x.Args[1])
	}
	if x.Name == searchTermFn {
		return s.compileSearchTerm(x)
	}
	if windowFuncs[x.Name] {
		return s.compileWindow(x)
	}
	f, ok := funcs[x.Name]
	if !ok {
		if isAggregate(x.Name) {
			return cexpr{}, errAt(x, "aggregate function %s is only allowed in summarize", x.Name)
		}
		return cexpr{}, errAt(x, "unknown function '%s'", x.Name)
	}
	args, err := s.compileArgs(x.Args)
	if err != nil {
		return cexpr{}, err
	}
	return f(x, args)
}

// subqueryColumn runs a subquery and returns its first column's values.
func (s *scope) subqueryColumn(sq *SubQuery) ([]Value, error) {
	t, err := compilePipeline(s.q, s.env, sq.Q)
	if err != nil {
		return nil, err
	}
	rows, err := runPlan(s.q, t)
	if err != nil {
		return nil, err
	}
	out := make([]Value, 0, len(rows))
	for _, r := range rows {
		if len(r) > 0 {
			out = append(out, r[0])
		}
	}
	return out, nil
}

func runPlan(q *qctx, t *planTable) ([]Row, error) {
	it, err := t.open(q)
	if err != nil {
		return nil, err
	}
	return drain(q.ctx, it)
}

func init() {
	// conversions
	for name, t := range map[string]Type{
		"tostring": TypeString, "tolong": TypeLong, "toint": TypeInt, "toreal": TypeReal, "todouble": TypeReal,
		"todecimal": TypeDecimal, "tobool": TypeBool, "toboolean": TypeBool, "todatetime": TypeDateTime,
		"totimespan": TypeTimeSpan, "toguid": TypeGuid, "todynamic": TypeDynamic, "parse_json": TypeDynamic,
		"toobject": TypeDynamic,
	} {
		conv := converter(t)
		register(fixed(1, 1, ret(t), func(_ Type, v []Value) Value { return conv(v[0]) }), name)
	}
	register(fixed(1, 1, ret(TypeString), func(_ Type, v []Value) Value { return String(gettype(v[0])) }), "gettype")
	register(fixed(1, 1, ret(TypeBool), func(_ Type, v []Value) Value { return Bool(v[0].IsNull() && v[0].T != TypeString) }), "isnull")
	register(fixed(1, 1, ret(TypeBool), func(_ Type, v []Value) Value { return Bool(!(v[0].IsNull() && v[0].T != TypeString)) }), "isnotnull")
	register(fixed(1, 1, ret(TypeBool), func(_ Type, v []Value) Value { return Bool(isEmpty(v[0])) }), "isempty")
	register(fixed(1, 1, ret(TypeBool), func(_ Type, v []Value) Value { return Bool(!isEmpty(v[0])) }), "isnotempty")
	register(fixed(1, 1, ret(TypeBool), func(_ Type, v []Value) Value {
		b := scalarOf(v[0])
		if b.IsNull() {
			return Null(TypeBool)
		}
		return Bool(!(b.T == TypeBool && b.i != 0))
	}), "not")
	register(compileIff, "iff", "iif")
	register(compileCase, "case")
	register(compileCoalesce, "coalesce")
	register(compileMinMaxOf(1), "max_of")
	register(compileMinMaxOf(-1), "min_of")
}

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
			return "real"
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
