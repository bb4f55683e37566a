package abac

import (
	"strings"
)

// Node is an element of a parsed condition. Pos is the byte offset of the
// node's first character in the text it was parsed from; String prints the
// node as condition text that parses back to an equal tree.
type Node interface {
	Pos() int
	String() string
}

// Expr is a node that evaluates to true or false.
type Expr interface {
	Node
	expr()
}

// Operand is the left or right side of a comparison: an attribute, a
// literal value or a set of literals.
type Operand interface {
	Node
	operand()
}

// LogicOp is a binary logical operator.
type LogicOp int

// The binary logical operators.
const (
	And LogicOp = iota
	Or
)

// String returns the operator's keyword spelling.
func (o LogicOp) String() string {
	if o == Or {
		return "OR"
	}
	return "AND"
}

// Binary is "X AND Y" or "X OR Y" (also written && and ||).
type Binary struct {
	Op LogicOp
	// Spelling is the operator as written: AND, and, &&, OR, ||, ...
	Spelling string
	OpPos    int
	X, Y     Expr
}

// Not is "!X" or "NOT X".
type Not struct {
	Spelling string
	NotPos   int
	X        Expr
}

// Paren is a parenthesised expression.
type Paren struct {
	Lparen, Rparen int
	X              Expr
}

// ActionMatches is ActionMatches{'pattern'}: true when the action being
// performed matches the pattern as a role permission would.
type ActionMatches struct {
	FnPos   int
	Pattern string
}

// SubOperationMatches is SubOperationMatches{'name'}: true when the request
// carries that suboperation.
type SubOperationMatches struct {
	FnPos   int
	Pattern string
}

// Exists is "Exists @Source[name]": true when the attribute has a value.
type Exists struct {
	FnPos int
	Attr  *Attribute
}

// Comparison is "Left Operator Right", such as
// @Request[...:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'User'}.
type Comparison struct {
	Left  Operand
	Op    Operator
	OpPos int
	Right Operand
}

// Source is where an attribute's value comes from.
type Source int

// The attribute sources of the condition language.
const (
	Request Source = iota
	Resource
	Principal
	Environment
)

// String returns the source's name as written after '@'.
func (s Source) String() string {
	switch s {
	case Resource:
		return "Resource"
	case Principal:
		return "Principal"
	case Environment:
		return "Environment"
	}
	return "Request"
}

// Attribute is @Source[name].
type Attribute struct {
	AttrPos int
	Source  Source
	// SourceSpelling is the source as written, for round-tripping.
	SourceSpelling string
	Name           string
}

// LitKind says how a literal was written.
type LitKind int

// The literal kinds: a quoted string, or a bare word (number, GUID, true or
// false).
const (
	LitString LitKind = iota
	LitWord
)

// Literal is a single value: 'text' or a bare word such as 42, true or a GUID.
type Literal struct {
	LitPos int
	Kind   LitKind
	// Value is the text without quotes.
	Value string
}

// Set is {v1, v2, ...}.
type Set struct {
	Lbrace int
	Elems  []*Literal
}

func (*Binary) expr()              {}
func (*Not) expr()                 {}
func (*Paren) expr()               {}
func (*ActionMatches) expr()       {}
func (*SubOperationMatches) expr() {}
func (*Exists) expr()              {}
func (*Comparison) expr()          {}
func (*Attribute) operand()        {}
func (*Literal) operand()          {}
func (*Set) operand()              {}

// Pos implements Node.
func (n *Binary) Pos() int { return n.X.Pos() }

// Pos implements Node.
func (n *Not) Pos() int { return n.NotPos }

// Pos implements Node.
func (n *Paren) Pos() int { return n.Lparen }

// Pos implements Node.
func (n *ActionMatches) Pos() int { return n.FnPos }

// Pos implements Node.
func (n *SubOperationMatches) Pos() int { return n.FnPos }

// Pos implements Node.
func (n *Exists) Pos() int { return n.FnPos }

// Pos implements Node.
func (n *Comparison) Pos() int { return n.Left.Pos() }

// Pos implements Node.
func (n *Attribute) Pos() int { return n.AttrPos }

// Pos implements Node.
func (n *Literal) Pos() int { return n.LitPos }

// Pos implements Node.
func (n *Set) Pos() int { return n.Lbrace }

func (n *Binary) String() string { return n.X.String() + " " + n.Spelling + " " + n.Y.String() }

func (n *Not) String() string {
	if n.Spelling == "!" {
		return "!" + n.X.String()
	}
	return n.Spelling + " " + n.X.String()
}

func (n *Paren) String() string { return "(" + n.X.String() + ")" }

func (n *ActionMatches) String() string { return "ActionMatches{'" + n.Pattern + "'}" }

func (n *SubOperationMatches) String() string { return "SubOperationMatches{'" + n.Pattern + "'}" }

func (n *Exists) String() string { return "Exists " + n.Attr.String() }

func (n *Comparison) String() string {
	return n.Left.String() + " " + n.Op.Spelling + " " + n.Right.String()
}

func (n *Attribute) String() string { return "@" + n.SourceSpelling + "[" + n.Name + "]" }

func (n *Literal) String() string {
	if n.Kind == LitString {
		return "'" + n.Value + "'"
	}
	return n.Value
}

func (n *Set) String() string {
	parts := make([]string, len(n.Elems))
	for i, e := range n.Elems {
		parts[i] = e.String()
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// Inspect walks the tree rooted at n in depth-first order, calling f for
// each node; when f returns false the node's children are skipped.
func Inspect(n Node, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	switch n := n.(type) {
	case *Binary:
		Inspect(n.X, f)
		Inspect(n.Y, f)
	case *Not:
		Inspect(n.X, f)
	case *Paren:
		Inspect(n.X, f)
	case *Exists:
		Inspect(n.Attr, f)
	case *Comparison:
		Inspect(n.Left, f)
		Inspect(n.Right, f)
	case *Set:
		for _, e := range n.Elems {
			Inspect(e, f)
		}
	}
}
