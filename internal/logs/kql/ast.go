package kql

import (
	"fmt"
	"strings"
)

// Node is any element of the syntax tree. Pos is where the node starts in the
// query text; String renders the node as KQL that parses back to the same
// tree.
type Node interface {
	Pos() Pos
	String() string
}

// Expr is a scalar expression.
type Expr interface {
	Node
	exprNode()
}

// Query is a whole query: let statements followed by one tabular
// expression statement, or by several (a batch) separated by ";", each of
// which returns its own result tables.
type Query struct {
	Lets []*Let
	Body *Pipeline
	// Batch holds the tabular statements after the first one.
	Batch []*Pipeline
}

// Pos returns the position of the first statement.
func (q *Query) Pos() Pos {
	if len(q.Lets) > 0 {
		return q.Lets[0].At
	}
	return q.Body.Pos()
}

// String renders the statements separated by "; ".
func (q *Query) String() string {
	var b strings.Builder
	for _, l := range q.Lets {
		b.WriteString(l.String())
		b.WriteString("; ")
	}
	b.WriteString(q.Body.String())
	for _, p := range q.Batch {
		b.WriteString("; ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Let binds a name to a scalar expression, a tabular expression (Value is a
// *SubQuery) or a function (Func).
type Let struct {
	At    Pos
	Name  string
	Value Expr
	Func  *FuncDef
}

// Pos returns where the let keyword is.
func (l *Let) Pos() Pos { return l.At }

// String renders "let name = value".
func (l *Let) String() string {
	if l.Func != nil {
		return "let " + quoteName(l.Name) + " = " + l.Func.String()
	}
	return "let " + quoteName(l.Name) + " = " + exprOrTabString(l.Value)
}

// FuncDef is a user-defined function: typed parameters and a body of lets
// and one scalar or tabular result.
type FuncDef struct {
	At     Pos
	Params []Param
	Lets   []*Let
	Result Expr
}

// Param is one function parameter; Type "(*)" marks a tabular parameter.
type Param struct {
	Name    string
	Type    string
	Default Expr
}

// Pos returns where the parameter list starts.
func (f *FuncDef) Pos() Pos { return f.At }

// String renders "(params) { body }".
func (f *FuncDef) String() string {
	var b strings.Builder
	b.WriteByte('(')
	for i, p := range f.Params {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteName(p.Name) + ":" + p.Type)
		if p.Default != nil {
			b.WriteString(" = " + p.Default.String())
		}
	}
	b.WriteString(") { ")
	for _, l := range f.Lets {
		b.WriteString(l.String() + "; ")
	}
	b.WriteString(exprOrTabString(f.Result))
	b.WriteString(" }")
	return b.String()
}

// exprOrTabString renders a let value: a subquery without its parentheses so
// that "let t = T | where x" keeps its shape.
func exprOrTabString(e Expr) string {
	if s, ok := e.(*SubQuery); ok {
		return s.Q.String()
	}
	return e.String()
}

// Pipeline is a tabular source followed by operators joined with "|".
type Pipeline struct {
	Source SourceNode
	Ops    []Op
}

// Pos returns the source's position.
func (p *Pipeline) Pos() Pos { return p.Source.Pos() }

// String renders "source | op | op".
func (p *Pipeline) String() string {
	var b strings.Builder
	b.WriteString(p.Source.String())
	for _, o := range p.Ops {
		b.WriteString(" | ")
		b.WriteString(o.String())
	}
	return b.String()
}

// SourceNode is the start of a pipeline: a table or let name, datatable, print,
// range, union or a parenthesised subquery.
type SourceNode interface {
	Node
	sourceNode()
}

// Op is a tabular operator after a "|".
type Op interface {
	Node
	opNode()
}

// quoteName renders an identifier, bracketing it when it is not a plain name
// or collides with a keyword.
func quoteName(s string) string {
	if s == "" {
		return "['']"
	}
	plain := true
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9' || i == 0 && r == '$') {
			plain = false
			break
		}
	}
	if plain && s != "$" && !reserved[strings.ToLower(s)] {
		return s
	}
	return "[" + quoteString(s) + "]"
}

// quoteString renders s as a single-quoted KQL string literal.
func quoteString(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// reserved lists words that cannot be bare column names in expressions.
var reserved = map[string]bool{
	"and": true, "or": true, "by": true, "on": true, "with": true, "true": true, "false": true,
	"null": true, "asc": true, "desc": true, "nulls": true, "first": true, "last": true, "to": true,
	"from": true, "step": true, "of": true, "in": true, "between": true, "kind": true, "not": true,
	"typeof": true, "let": true, "datatable": true, "print": true, "range": true, "union": true,
	"has": true, "contains": true, "startswith": true, "endswith": true, "matches": true,
	"default": true, "limit": true, "where": true, "project": true, "extend": true, "summarize": true,
	"count": false, "as": true, "like": true, "has_cs": true, "contains_cs": true,
}

func joinNodes[T Node](xs []T, sep string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = x.String()
	}
	return strings.Join(parts, sep)
}
