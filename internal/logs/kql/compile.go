package kql

import (
	"context"
	"fmt"
	"strings"
)

// CompileError is a semantic error found while planning a query (an unknown
// column or function, a type mismatch); Pos points at the offending node.
type CompileError struct {
	Pos Pos
	Msg string
}

// Error renders "semantic error at line:col: message".
func (e *CompileError) Error() string {
	return fmt.Sprintf("semantic error at %d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg)
}

func errAt(n Node, format string, args ...any) error {
	return &CompileError{Pos: n.Pos(), Msg: fmt.Sprintf(format, args...)}
}

// cexpr is a compiled scalar expression: its static type and an evaluator
// over the current row. konst marks expressions that do not read the row.
type cexpr struct {
	t     Type
	f     func(Row) Value
	konst bool
}

func constExpr(v Value) cexpr {
	return cexpr{t: v.T, f: func(Row) Value { return v }, konst: true}
}

// qctx is what every part of one query execution shares.
type qctx struct {
	ctx    context.Context
	now    int64
	source Source
	render *Render
	gov    *governor
	geoIP  *GeoIPDB
	// wantIngest is set when the query calls ingestion_time(), so that
	// scans read the records' ingestion time
	wantIngest bool
}

// binding is what a let name or function parameter stands for.
type binding struct {
	scalar *cexpr     // a scalar let or a function argument
	tab    *Pipeline  // a tabular let, compiled at each use
	tabEnv *env       // the environment the tabular let was defined in
	fn     *FuncDef   // a user-defined function
	fnEnv  *env       // its defining environment
	table  *planTable // a tabular function argument or materialized let
}

// env is a chain of let scopes.
type env struct {
	parent *env
	vars   map[string]*binding
}

func (e *env) lookup(name string) *binding {
	for ; e != nil; e = e.parent {
		if b, ok := e.vars[name]; ok {
			return b
		}
	}
	return nil
}

func (e *env) child() *env { return &env{parent: e, vars: map[string]*binding{}} }

// scope is the compile-time context of a scalar expression: the columns of
// the row it reads, the lets visible to it and the query.
type scope struct {
	cols []Column
	env  *env
	q    *qctx
	win  *winCtx // set inside an extend or project that uses window functions
	// ingest says what ingestion_time() reads in the rows (ingestion.go)
	ingest ingestState
}

func (s *scope) col(name string) int { return colIndex(s.cols, name) }

// compileExpr compiles a scalar expression against the scope's columns.
func (s *scope) compileExpr(e Expr) (cexpr, error) {
	switch x := e.(type) {
	case *Lit:
		return constExpr(x.Val), nil
	case *Ident:
		if i := s.col(x.Name); i >= 0 {
			t := s.cols[i].Type
			return cexpr{t: t, f: func(r Row) Value { return r[i] }}, nil
		}
		if b := s.env.lookup(x.Name); b != nil {
			if b.scalar != nil {
				return *b.scalar, nil
			}
			if b.fn != nil && len(b.fn.Params) == 0 {
				return s.callUser(x, b, nil)
			}
			return cexpr{}, errAt(x, "'%s' is tabular and cannot be used as a scalar", x.Name)
		}
		return cexpr{}, errAt(x, "unknown name '%s'", x.Name)
	case *Unary:
		return s.compileUnary(x)
	case *Binary:
		return s.compileBinary(x)
	case *InExpr:
		return s.compileIn(x)
	case *Between:
		return s.compileBetween(x)
	case *Call:
		return s.compileCall(x)
	case *Member:
		if id, ok := x.X.(*Ident); ok && (id.Name == "$left" || id.Name == "$right") {
			return cexpr{}, errAt(x, "%s is only allowed in a join's on clause", id.Name)
		}
		inner, err := s.compileExpr(x.X)
		if err != nil {
			return cexpr{}, err
		}
		if inner.t != TypeDynamic {
			return cexpr{}, errAt(x, "property access needs a dynamic value, not %s", inner.t)
		}
		key := String(x.Name)
		return fold(cexpr{t: TypeDynamic, konst: inner.konst, f: func(r Row) Value { return dynIndex(inner.f(r), key) }}), nil
	case *Index:
		inner, err := s.compileExpr(x.X)
		if err != nil {
			return cexpr{}, err
		}
		idx, err := s.compileExpr(x.Idx)
		if err != nil {
			return cexpr{}, err
		}
		if inner.t != TypeDynamic {
			return cexpr{}, errAt(x, "indexing needs a dynamic value, not %s", inner.t)
		}
		return fold(cexpr{t: TypeDynamic, konst: inner.konst && idx.konst, f: func(r Row) Value { return dynIndex(inner.f(r), idx.f(r)) }}), nil
	case *SubQuery:
		return cexpr{}, errAt(x, "a tabular expression cannot be used as a scalar (use toscalar())")
	case *Star:
		return cexpr{}, errAt(x, "'*' is not allowed here")
	}
	return cexpr{}, errAt(e, "unsupported expression")
}

// constValue returns the value of a constant expression, or an error naming
// what had to be constant.
func constValue(c cexpr, at Node, what string) (Value, error) {
	if !c.konst {
		return Value{}, errAt(at, "%s must be a constant", what)
	}
	return scalarOf(c.f(nil)), nil
}

// fold evaluates a constant expression once.
func fold(c cexpr) cexpr {
	if !c.konst {
		return c
	}
	v := c.f(nil)
	if v.T == TypeUnknown {
		v.T = c.t
	}
	return cexpr{t: c.t, konst: true, f: func(Row) Value { return v }}
}

// dynIndex looks up a property (string key) or element (integer index,
// negative from the end) of a dynamic value; a miss is null.
func dynIndex(v Value, k Value) Value {
	if !v.ok || v.T != TypeDynamic {
		return Null(TypeDynamic)
	}
	k = scalarOf(k)
	switch d := v.d.(type) {
	case *Bag:
		if k.T != TypeString {
			return Null(TypeDynamic)
		}
		if x, ok := d.Get(k.s); ok {
			return Dynamic(x)
		}
	case []any:
		if !isIntegral(k.T) || !k.ok {
			return Null(TypeDynamic)
		}
		i := k.i
		if i < 0 {
			i += int64(len(d))
		}
		if i >= 0 && i < int64(len(d)) {
			return Dynamic(d[i])
		}
	case string:
		// a dynamic string holding JSON is not parsed implicitly
	}
	return Null(TypeDynamic)
}

func (s *scope) compileArgs(args []Expr) ([]cexpr, error) {
	out := make([]cexpr, len(args))
	for i, a := range args {
		c, err := s.compileExpr(a)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

// callUser inlines a user-defined function: its parameters are bound to the
// compiled arguments in a scope over the caller's row.
func (s *scope) callUser(call Node, b *binding, args []Expr) (cexpr, error) {
	f := b.fn
	if len(args) > len(f.Params) {
		return cexpr{}, errAt(call, "too many arguments")
	}
	if err := s.q.gov.enter(call, f, funcName(call)); err != nil {
		return cexpr{}, err
	}
	defer s.q.gov.leave(f)
	fe := b.fnEnv.child()
	for i, p := range f.Params {
		if strings.HasPrefix(p.Type, "(") {
			return cexpr{}, errAt(call, "tabular function used as a scalar")
		}
		var c cexpr
		var err error
		switch {
		case i < len(args):
			c, err = s.compileExpr(args[i])
		case p.Default != nil:
			c, err = (&scope{env: b.fnEnv, q: s.q}).compileExpr(p.Default)
		default:
			return cexpr{}, errAt(call, "missing argument %s", p.Name)
		}
		if err != nil {
			return cexpr{}, err
		}
		c = convertTo(c, typeByName[strings.ToLower(p.Type)])
		fe.vars[p.Name] = &binding{scalar: &c}
	}
	for _, l := range f.Lets {
		if err := bindLet(s.q, fe, l); err != nil {
			return cexpr{}, err
		}
	}
	if _, ok := f.Result.(*SubQuery); ok {
		return cexpr{}, errAt(call, "tabular function used as a scalar")
	}
	inner := &scope{cols: s.cols, env: fe, q: s.q, ingest: s.ingest}
	return inner.compileExpr(f.Result)
}

// convertTo wraps c so its values have type t (for typed parameters).
func convertTo(c cexpr, t Type) cexpr {
	if t == TypeUnknown || c.t == t {
		return c
	}
	conv := converter(t)
	if conv == nil {
		return c
	}
	f := c.f
	return fold(cexpr{t: t, konst: c.konst, f: func(r Row) Value { return conv(f(r)) }})
}

// funcName names the user function a call node invokes.
func funcName(n Node) string {
	switch c := n.(type) {
	case *Call:
		return c.Name
	case *Ident:
		return c.Name
	}
	return "?"
}
