package kql

import (
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
	// The argument buffer is reused from row to row: a Plan runs one
	// execution at a time and eval functions do not keep the slice.
	n := len(args)
	buf := make([]Value, n)
	var f func(Row) Value
	switch n {
	case 1:
		a := args[0].f
		f = func(r Row) Value { buf[0] = a(r); return eval(t, buf) }
	case 2:
		a, b := args[0].f, args[1].f
		f = func(r Row) Value { buf[0], buf[1] = a(r), b(r); return eval(t, buf) }
	default:
		f = func(r Row) Value {
			for i, a := range args {
				buf[i] = a.f(r)
			}
			return eval(t, buf)
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
	case "ingestion_time":
		return s.compileIngestionTime(x)
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
			c, err := s.compileExpr(x.Args[0])
			if err != nil {
				return cexpr{}, err
			}
			off, err := constValue(c, x, "now's offset")
			if err != nil {
				return cexpr{}, err
			}
			now = DateTime(s.q.now + off.i)
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
	case "pack_all":
		return s.compilePackAll(x)
	case "bag_pack_columns":
		return s.compileBagPackColumns(x)
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
	if mk, gov := governedFuncs[x.Name]; gov {
		f, ok = mk(s.q.gov), true
	}
	if x.Name == "geo_info_from_ip_address" {
		f, ok = compileGeoInfo(s.q.geoIP), true
	}
	if !ok {
		if _, multi := multiCols[x.Name]; multi {
			return cexpr{}, multiColError(x)
		}
		if isAggregate(x.Name) {
			return cexpr{}, errAt(x, "aggregate function %s is only allowed in summarize", x.Name)
		}
		return cexpr{}, errAt(x, "unknown function '%s'", x.Name)
	}
	args, err := s.compileArgs(x.Args)
	if err != nil {
		return cexpr{}, err
	}
	c, err := f(x, args)
	if err != nil || x.memo == nil {
		return c, err
	}
	return x.memo.wrap(c, args), nil
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
	return q.drain(it, "subquery")
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
