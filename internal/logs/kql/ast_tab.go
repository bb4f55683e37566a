package kql

import (
	"strconv"
	"strings"
)

// Assign is "name = expr" or a bare expression in project, extend,
// summarize and print lists. Names holds a parenthesised name list
// ("(a, b) = f()") when there is one.
type Assign struct {
	Name  string
	Names []string
	X     Expr
}

// Pos returns the expression's position.
func (a Assign) Pos() Pos { return a.X.Pos() }

// String renders "name = x" or "x".
func (a Assign) String() string {
	if len(a.Names) > 0 {
		q := make([]string, len(a.Names))
		for i, n := range a.Names {
			q[i] = quoteName(n)
		}
		return "(" + strings.Join(q, ", ") + ") = " + a.X.String()
	}
	if a.Name == "" {
		return a.X.String()
	}
	return quoteName(a.Name) + " = " + a.X.String()
}

// SortKey is one "expr [asc|desc] [nulls first|last]" item.
type SortKey struct {
	X          Expr
	Asc        bool
	NullsFirst bool
	// Explicit records which parts were written, so String reproduces them.
	ExplicitDir, ExplicitNulls bool
}

// Pos returns the expression's position.
func (k SortKey) Pos() Pos { return k.X.Pos() }

// String renders the key with its written modifiers.
func (k SortKey) String() string {
	s := k.X.String()
	if k.ExplicitDir {
		if k.Asc {
			s += " asc"
		} else {
			s += " desc"
		}
	}
	if k.ExplicitNulls {
		if k.NullsFirst {
			s += " nulls first"
		} else {
			s += " nulls last"
		}
	}
	return s
}

// ColDecl is "name:type" in datatable, parse-kv and function parameters.
type ColDecl struct {
	Name string
	Type string
}

// String renders "name:type".
func (c ColDecl) String() string { return quoteName(c.Name) + ":" + c.Type }

// NamedParam is an operator parameter such as kind=inner or withsource=T.
type NamedParam struct {
	Name  string
	Value string
}

// String renders "name=value".
func (p NamedParam) String() string { return p.Name + "=" + p.Value }

func paramsString(ps []NamedParam) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.String())
		b.WriteByte(' ')
	}
	return b.String()
}

func param(ps []NamedParam, name string) (string, bool) {
	for _, p := range ps {
		if strings.EqualFold(p.Name, name) {
			return p.Value, true
		}
	}
	return "", false
}

func assignsString(as []Assign) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}

// ExprSource is a pipeline starting from a name, a call or a parenthesised
// subquery.
type ExprSource struct{ X Expr }

// Datatable is "datatable(cols)[values]".
type Datatable struct {
	At   Pos
	Cols []ColDecl
	Vals []Expr
}

// Print is "print a = 1, b".
type Print struct {
	At    Pos
	Items []Assign
}

// Range is "range name from a to b step s".
type Range struct {
	At             Pos
	Name           string
	From, To, Step Expr
}

// Union combines tables: "union [params] T1, (T2 | ...)". As an operator its
// input is the first leg.
type Union struct {
	At     Pos
	Params []NamedParam
	Legs   []Expr
}

func (*ExprSource) sourceNode() {}
func (*Datatable) sourceNode()  {}
func (*Print) sourceNode()      {}
func (*Range) sourceNode()      {}
func (*Union) sourceNode()      {}
func (*Union) opNode()          {}

// Pos returns the node's position.
func (s *ExprSource) Pos() Pos { return s.X.Pos() }

// Pos returns the node's position.
func (s *Datatable) Pos() Pos { return s.At }

// Pos returns the node's position.
func (s *Print) Pos() Pos { return s.At }

// Pos returns the node's position.
func (s *Range) Pos() Pos { return s.At }

// Pos returns the node's position.
func (s *Union) Pos() Pos { return s.At }

// String renders the expression.
func (s *ExprSource) String() string { return s.X.String() }

// String renders "datatable(cols)[values]".
func (s *Datatable) String() string {
	cols := make([]string, len(s.Cols))
	for i, c := range s.Cols {
		cols[i] = c.String()
	}
	return "datatable(" + strings.Join(cols, ", ") + ")[" + joinNodes(s.Vals, ", ") + "]"
}

// String renders "print items".
func (s *Print) String() string { return "print " + assignsString(s.Items) }

// String renders "range name from a to b step s".
func (s *Range) String() string {
	return "range " + quoteName(s.Name) + " from " + s.From.String() + " to " + s.To.String() + " step " + s.Step.String()
}

// String renders "union params legs".
func (s *Union) String() string {
	return "union " + paramsString(s.Params) + joinNodes(s.Legs, ", ")
}

func itoa(n int) string { return strconv.Itoa(n) }
