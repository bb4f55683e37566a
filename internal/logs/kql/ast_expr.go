package kql

import "strings"

// Ident is a column, let or parameter name ($left and $right included).
type Ident struct {
	At   Pos
	Name string
}

// Lit is a literal; Text is its source spelling and Val its value.
type Lit struct {
	At   Pos
	Text string
	Val  Value
}

// Unary is a prefix operator: "-", "+" or "not".
type Unary struct {
	At Pos
	Op string
	X  Expr
}

// Binary is an infix operator: arithmetic, comparison, logical or one of the
// string operators (has, contains, startswith, matches regex, ...).
type Binary struct {
	At   Pos
	Op   string
	L, R Expr
}

// InExpr is "x in (list)" and its negated and case-insensitive forms. Op is
// one of in, !in, in~, !in~; List may hold one *SubQuery.
type InExpr struct {
	At   Pos
	Op   string
	X    Expr
	List []Expr
}

// Between is "x between (lo .. hi)" or its negation.
type Between struct {
	At     Pos
	Not    bool
	X      Expr
	Lo, Hi Expr
}

// Call is a function call; aggregate calls share this node.
type Call struct {
	At   Pos
	Name string
	Args []Expr
}

// Member is "x.name", a property access on a dynamic value or $left/$right.
type Member struct {
	At   Pos
	X    Expr
	Name string
}

// Index is "x[i]", an element or property access on a dynamic value.
type Index struct {
	At  Pos
	X   Expr
	Idx Expr
}

// Star is "*" as an argument (count(*), arg_max(x, *)).
type Star struct{ At Pos }

// SubQuery is a tabular expression in scalar position: a parenthesised
// pipeline, a toscalar or materialize argument, or a tabular let value.
type SubQuery struct {
	At Pos
	Q  *Pipeline
}

func (*Ident) exprNode()    {}
func (*Lit) exprNode()      {}
func (*Unary) exprNode()    {}
func (*Binary) exprNode()   {}
func (*InExpr) exprNode()   {}
func (*Between) exprNode()  {}
func (*Call) exprNode()     {}
func (*Member) exprNode()   {}
func (*Index) exprNode()    {}
func (*Star) exprNode()     {}
func (*SubQuery) exprNode() {}

// Pos returns the node's position.
func (e *Ident) Pos() Pos { return e.At }

// Pos returns the node's position.
func (e *Lit) Pos() Pos { return e.At }

// Pos returns the node's position.
func (e *Unary) Pos() Pos { return e.At }

// Pos returns the node's position.
func (e *Binary) Pos() Pos { return e.At }

// Pos returns the node's position.
func (e *InExpr) Pos() Pos { return e.At }

// Pos returns the node's position.
func (e *Between) Pos() Pos { return e.At }

// Pos returns the node's position.
func (e *Call) Pos() Pos { return e.At }

// Pos returns the node's position.
func (e *Member) Pos() Pos { return e.At }

// Pos returns the node's position.
func (e *Index) Pos() Pos { return e.At }

// Pos returns the node's position.
func (e *Star) Pos() Pos { return e.At }

// Pos returns the node's position.
func (e *SubQuery) Pos() Pos { return e.At }

// String renders the name, bracketed when needed.
func (e *Ident) String() string { return quoteName(e.Name) }

// String renders the literal as written.
func (e *Lit) String() string { return e.Text }

// String renders the operator and its operand in parentheses.
func (e *Unary) String() string {
	if e.Op == "not" {
		return "not(" + e.X.String() + ")"
	}
	return "(" + e.Op + e.X.String() + ")"
}

// String renders the operation fully parenthesised.
func (e *Binary) String() string {
	return "(" + e.L.String() + " " + e.Op + " " + e.R.String() + ")"
}

// String renders "(x op (a, b))".
func (e *InExpr) String() string {
	return "(" + e.X.String() + " " + e.Op + " (" + joinNodes(e.List, ", ") + "))"
}

// String renders "(x between (lo .. hi))".
func (e *Between) String() string {
	op := " between "
	if e.Not {
		op = " !between "
	}
	return "(" + e.X.String() + op + "(" + e.Lo.String() + " .. " + e.Hi.String() + "))"
}

// String renders "name(args)".
func (e *Call) String() string { return e.Name + "(" + joinNodes(e.Args, ", ") + ")" }

// String renders "x.name" (bracketed when the name is not plain).
func (e *Member) String() string {
	q := quoteName(e.Name)
	if strings.HasPrefix(q, "[") {
		return e.X.String() + q
	}
	return e.X.String() + "." + q
}

// String renders "x[i]".
func (e *Index) String() string { return e.X.String() + "[" + e.Idx.String() + "]" }

// String renders "*".
func (e *Star) String() string { return "*" }

// String renders the pipeline in parentheses.
func (e *SubQuery) String() string { return "(" + e.Q.String() + ")" }
