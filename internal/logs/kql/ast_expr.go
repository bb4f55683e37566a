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
	// memo is set on the shared call behind a several-column function's
	// columns, so that a row computes it once (multicol.go).
	memo *callMemo
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

// Operator precedence levels, lowest first, used to print only the
// parentheses a tree needs.
const (
	precOr = iota + 1
	precAnd
	precCompare
	precAdd
	precMul
	precUnary
	precPrimary
)

func precOf(e Expr) int {
	switch x := e.(type) {
	case *Binary:
		switch x.Op {
		case "or":
			return precOr
		case "and":
			return precAnd
		case "+", "-":
			return precAdd
		case "*", "/", "%":
			return precMul
		}
		if x.Op == ":" {
			return precPrimary
		}
		return precCompare
	case *InExpr, *Between:
		return precCompare
	case *Unary:
		return precUnary
	}
	return precPrimary
}

// wrap renders e, in parentheses when its precedence is below min.
func wrap(e Expr, min int) string {
	if precOf(e) < min {
		return "(" + e.String() + ")"
	}
	return e.String()
}

// String renders the operator and its operand.
func (e *Unary) String() string { return e.Op + wrap(e.X, precPrimary) }

// String renders "l op r" with the parentheses precedence needs (operators
// associate to the left).
func (e *Binary) String() string {
	if e.Op == ":" { // search's col:"term"
		return e.L.String() + ":" + e.R.String()
	}
	p := precOf(e)
	return wrap(e.L, p) + " " + e.Op + " " + wrap(e.R, p+1)
}

// String renders "x op (a, b)".
func (e *InExpr) String() string {
	return wrap(e.X, precCompare+1) + " " + e.Op + " (" + joinNodes(e.List, ", ") + ")"
}

// String renders "x between (lo .. hi)".
func (e *Between) String() string {
	op := " between "
	if e.Not {
		op = " !between "
	}
	return wrap(e.X, precCompare+1) + op + "(" + wrap(e.Lo, precAdd) + " .. " + wrap(e.Hi, precAdd) + ")"
}

// String renders "name(args)".
func (e *Call) String() string {
	name := e.Name
	if typedLiteral[strings.ToLower(name)] {
		// "time (x)" is a call; "time(x)" would read as a literal
		name += " "
	}
	return name + "(" + joinNodes(e.Args, ", ") + ")"
}

// String renders "x.name" (bracketed when the name is not plain).
func (e *Member) String() string {
	x := e.X.String()
	if _, ok := e.X.(*Lit); ok {
		x = "(" + x + ")"
	}
	q := quoteName(e.Name)
	if strings.HasPrefix(q, "[") {
		return x + q
	}
	return x + "." + q
}

// String renders "x[i]".
func (e *Index) String() string {
	x := e.X.String()
	if _, ok := e.X.(*Lit); ok {
		x = "(" + x + ")"
	}
	return x + "[" + e.Idx.String() + "]"
}

// String renders "*".
func (e *Star) String() string { return "*" }

// String renders the pipeline in parentheses.
func (e *SubQuery) String() string { return "(" + e.Q.String() + ")" }
