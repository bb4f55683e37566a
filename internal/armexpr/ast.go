package armexpr

import (
	"strconv"
	"strings"
)

// Expr is the root of a parsed expression: the bracketed form "[...]".
// Its String includes the brackets, so Parse(e.String()) gives back an
// equal tree.
type Expr struct {
	// X is the expression between the brackets.
	X Node
}

// FuncCall is a function call such as concat('a', 'b'). Name keeps the
// spelling of the source; function names are case-insensitive.
type FuncCall struct {
	Offset int
	Name   string
	Args   []Node

	lower string // Name in lower case, the key for hosts and the library
	fn    *function
}

// Property is member access with a dot, as in resourceGroup().location.
// Its offset is that of the dot.
type Property struct {
	Offset int
	Target Node
	Name   string
}

// Index is member or element access with brackets, as in
// parameters('p')[0] or field('tags')['env']. Its offset is that of the
// opening bracket.
type Index struct {
	Offset int
	Target Node
	Index  Node
}

// StringLit is a single-quoted string literal; Value is unescaped.
type StringLit struct {
	Offset int
	Value  string

	boxed any // Value as an interface, made once by Parse
}

// IntLit is an integer literal, possibly negative.
type IntLit struct {
	Offset int
	Value  int64

	boxed any
}

// BoolLit is the bare literal true or false (any case). ARM documents the
// functions true() and false(); the conformance cases also use the bare
// words, as in string(true).
type BoolLit struct {
	Offset int
	Value  bool
}

// FloatLit is a number literal with a fractional part, such as 1.5. ARM
// documents integer literals only; see docs/decisions/armexpr.md.
type FloatLit struct {
	Offset int
	Value  float64

	boxed any
}

// Pos returns 0: the root starts at the opening bracket.
func (e *Expr) Pos() int { return 0 }

// Pos returns the byte offset of the function name.
func (c *FuncCall) Pos() int { return c.Offset }

// Pos returns the byte offset of the dot.
func (p *Property) Pos() int { return p.Offset }

// Pos returns the byte offset of the opening bracket.
func (x *Index) Pos() int { return x.Offset }

// Pos returns the byte offset of the opening quote.
func (s *StringLit) Pos() int { return s.Offset }

// Pos returns the byte offset of the first digit or minus sign.
func (i *IntLit) Pos() int { return i.Offset }

// Pos returns the byte offset of the first digit or minus sign.
func (f *FloatLit) Pos() int { return f.Offset }

// Pos returns the byte offset of the word.
func (b *BoolLit) Pos() int { return b.Offset }

// String renders the literal as true or false.
func (b *BoolLit) String() string { return strconv.FormatBool(b.Value) }

// String renders the expression with its brackets.
func (e *Expr) String() string { return "[" + e.X.String() + "]" }

// String renders the call with its arguments separated by ", ".
func (c *FuncCall) String() string {
	var b strings.Builder
	b.WriteString(c.Name)
	b.WriteByte('(')
	for i, a := range c.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.String())
	}
	b.WriteByte(')')
	return b.String()
}

// String renders the target followed by ".name".
func (p *Property) String() string { return p.Target.String() + "." + p.Name }

// String renders the target followed by "[index]".
func (x *Index) String() string { return x.Target.String() + "[" + x.Index.String() + "]" }

// String renders the literal quoted, doubling embedded quotes.
func (s *StringLit) String() string { return quote(s.Value) }

// String renders the integer in decimal.
func (i *IntLit) String() string { return strconv.FormatInt(i.Value, 10) }

// String renders the number so that it reads back as a float literal.
func (f *FloatLit) String() string {
	s := strconv.FormatFloat(f.Value, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// Walk visits n and its descendants depth-first, parents before children
// and arguments left to right. When visit returns false the children of
// that node are skipped.
func Walk(n Node, visit func(Node) bool) {
	if n == nil || !visit(n) {
		return
	}
	switch n := n.(type) {
	case *Expr:
		Walk(n.X, visit)
	case *FuncCall:
		for _, a := range n.Args {
			Walk(a, visit)
		}
	case *Property:
		Walk(n.Target, visit)
	case *Index:
		Walk(n.Target, visit)
		Walk(n.Index, visit)
	}
}
