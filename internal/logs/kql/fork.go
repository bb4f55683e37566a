package kql

import (
	"fmt"
	"strings"
)

// This file holds the operators that end a statement with several result
// tables (fork and facet; the funnel_sequence plugin is in
// evaluate_funnel_sequence.go) and the planning of a query's statements
// into their result tables.

// Fork runs several subqueries over the same input, each returning its
// own result table: "fork [name=](op | ...) ...".
type Fork struct {
	At   Pos
	Legs []ForkLeg
}

// ForkLeg is one subquery of fork; Name is its "name=" prefix, if any.
type ForkLeg struct {
	Name string
	Ops  []Op
}

// Facet returns, for each column, a table of the column's values and their
// counts, and first, when With is set, the input through those operators:
// "facet by c1, c2 [with (op | ...)]".
type Facet struct {
	At   Pos
	By   []string
	With []Op
}

func (*Fork) opNode()  {}
func (*Facet) opNode() {}

// Pos returns the operator's position.
func (o *Fork) Pos() Pos { return o.At }

// Pos returns the operator's position.
func (o *Facet) Pos() Pos { return o.At }

// String renders the operator.
func (o *Fork) String() string {
	var b strings.Builder
	b.WriteString("fork")
	for _, l := range o.Legs {
		b.WriteByte(' ')
		if l.Name != "" {
			b.WriteString(quoteName(l.Name) + "=")
		}
		b.WriteString("(" + joinNodes(l.Ops, " | ") + ")")
	}
	return b.String()
}

// String renders the operator.
func (o *Facet) String() string {
	names := make([]string, len(o.By))
	for i, c := range o.By {
		names[i] = quoteName(c)
	}
	s := "facet by " + strings.Join(names, ", ")
	if o.With != nil {
		s += " with (" + joinNodes(o.With, " | ") + ")"
	}
	return s
}

func (p *parser) parseFork(t token) *Fork {
	o := &Fork{At: t.pos}
	for p.isPunct("(") || p.isName() && p.peekNameEnd().text == "=" {
		var l ForkLeg
		if !p.isPunct("(") {
			l.Name, _ = p.expectName()
			p.expectPunct("=")
		}
		l.Ops = p.parseSubOps()
		o.Legs = append(o.Legs, l)
	}
	if len(o.Legs) == 0 {
		p.fail(p.peek(), "fork needs at least one subquery in parentheses, found %s", p.peek())
	}
	return o
}

// peekNameEnd returns the token after the name at the current position
// (an identifier or ['name']).
func (p *parser) peekNameEnd() token {
	if p.peek().kind == tIdent {
		return p.peekAt(1)
	}
	return p.peekAt(3)
}

func (p *parser) parseFacet(t token) *Facet {
	o := &Facet{At: t.pos}
	p.expectWord("by")
	for {
		name, _ := p.expectName()
		o.By = append(o.By, name)
		if !p.acceptPunct(",") {
			break
		}
	}
	if p.acceptWord("with") {
		o.With = p.parseSubOps()
	}
	return o
}

// resultPlan is one result table of a query: the name the query gives it
// ("" when unnamed) and its plan.
type resultPlan struct {
	name string
	t    *planTable
}

// compileStatements plans a query's tabular statements into their result
// tables, in statement order. resets collects the functions that clear
// the inputs shared by several tables before each execution.
func compileStatements(q *qctx, e *env, query *Query, resets *[]func()) ([]resultPlan, error) {
	var out []resultPlan
	for _, p := range append([]*Pipeline{query.Body}, query.Batch...) {
		rs, err := compileStatement(q, e, p, resets)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

// compileStatement plans one tabular statement. A trailing fork, facet or
// funnel_sequence makes several tables of the statement's input (read
// once per execution); otherwise the statement is one table, named by a
// trailing "as".
func compileStatement(q *qctx, e *env, p *Pipeline, resets *[]func()) ([]resultPlan, error) {
	n := len(p.Ops)
	if n == 0 || !severalTables(p.Ops[n-1]) {
		t, err := compilePipeline(q, e, p)
		if err != nil {
			return nil, err
		}
		return []resultPlan{{name: trailingAs(p.Ops), t: t}}, nil
	}
	in, err := compilePipeline(q, e, &Pipeline{Source: p.Source, Ops: p.Ops[:n-1]})
	if err != nil {
		return nil, err
	}
	last := p.Ops[n-1]
	if o, ok := last.(*RawOp); ok {
		// the plugin reads its input once for its three tables
		return compileFunnelSequence(&scope{cols: in.cols, env: e, q: q}, in, o, resets)
	}
	shared, reset := shareInput(in, opWord(last)+" operator")
	*resets = append(*resets, reset)
	if o, ok := last.(*Fork); ok {
		return compileFork(q, e, shared, o)
	}
	return compileFacet(q, e, shared, last.(*Facet))
}

// severalTables reports whether an operator returns several tables.
func severalTables(op Op) bool {
	switch o := op.(type) {
	case *Fork, *Facet:
		return true
	case *RawOp:
		call, ok := rawCall(o)
		return o.Name == "evaluate" && ok && call.Name == "funnel_sequence"
	}
	return false
}

// errNotLast refuses an operator returning several tables where its
// output would feed another operator or a subquery: Kusto's result
// tables of fork and facet cannot be referenced further.
func errNotLast(at Node, what string) error {
	return errAt(at, "%s returns several result tables, so it must be the last operator of a query statement (its tables cannot be piped further, nor used in a let, a subquery or a fork leg)", what)
}

// trailingAs is the name a statement's last operator "as Name" gives its
// result.
func trailingAs(ops []Op) string {
	if n := len(ops); n > 0 {
		if a, ok := ops[n-1].(*As); ok {
			return a.Name
		}
	}
	return ""
}

// opWord is an operator's keyword, as its source begins.
func opWord(op Op) string {
	w, _, _ := strings.Cut(op.String(), " ")
	return w
}

// shareInput reads in once per execution, under the governor, for the
// several tables computed from it; reset forgets the rows before the next
// execution.
func shareInput(in *planTable, what string) (*planTable, func()) {
	var rows []Row
	read := false
	t := &planTable{cols: in.cols, ordered: in.ordered, open: func(q *qctx) (RowIter, error) {
		if !read {
			it, err := in.open(q)
			if err != nil {
				return nil, err
			}
			r, err := q.drain(it, what)
			if err != nil {
				return nil, err
			}
			rows, read = r, true
		}
		return &sliceIter{rows: rows}, nil
	}}
	return t, func() { rows, read = nil, false }
}

// forkLegOps are the operators the fork page lists as supported in a leg,
// with the aliases of the same operators.
var forkLegOps = map[string]bool{
	"as": true, "count": true, "extend": true, "parse": true, "where": true, "filter": true, "take": true, "limit": true,
	"project": true, "project-away": true, "project-keep": true, "project-rename": true, "project-reorder": true,
	"summarize": true, "top": true, "top-nested": true, "sort": true, "order": true, "mv-expand": true, "reduce": true,
}

func compileFork(q *qctx, e *env, in *planTable, o *Fork) ([]resultPlan, error) {
	out := make([]resultPlan, 0, len(o.Legs))
	for _, l := range o.Legs {
		t := in
		for _, op := range l.Ops {
			if w := opWord(op); !forkLegOps[w] {
				return nil, errAt(op, "operator '%s' is not supported in a fork subquery (supported: as, count, extend, parse, where, take, project, project-away, project-keep, project-rename, project-reorder, summarize, top, top-nested, sort, mv-expand, reduce)", w)
			}
			var err error
			if t, err = compileOp(q, e, t, op); err != nil {
				return nil, err
			}
		}
		name := l.Name
		if name == "" {
			name = trailingAs(l.Ops)
		}
		out = append(out, resultPlan{name: name, t: t})
	}
	return out, nil
}

// compileFacet plans the with table (unnamed) first, then one table per
// column named after it: the column's values and their counts
// (count_<column>), as "summarize count() by column" orders them.
func compileFacet(q *qctx, e *env, in *planTable, o *Facet) ([]resultPlan, error) {
	var out []resultPlan
	if o.With != nil {
		t := in
		for _, op := range o.With {
			var err error
			if t, err = compileOp(q, e, t, op); err != nil {
				return nil, err
			}
		}
		out = append(out, resultPlan{t: t})
	}
	for _, c := range o.By {
		if colIndex(in.cols, c) < 0 {
			return nil, unknownColumn(o, c)
		}
		s := &Summarize{At: o.At, Aggs: []Assign{{Name: "count_" + c, X: &Call{At: o.At, Name: "count"}}},
			By: []Assign{{X: &Ident{At: o.At, Name: c}}}}
		t, err := compileOp(q, e, in, s)
		if err != nil {
			return nil, err
		}
		out = append(out, resultPlan{name: c, t: t})
	}
	return out, nil
}

// SeveralTablesError is returned where one result table is expected (Run,
// Plan.Open) and the query returns several: a fork, a facet, the
// funnel_sequence plugin or several tabular statements.
type SeveralTablesError struct{ N int }

// Error says how many tables the query returns and what returns several.
func (e *SeveralTablesError) Error() string {
	return fmt.Sprintf("the query returns %d result tables (fork, facet, funnel_sequence or several statements), and one table is expected here", e.N)
}
