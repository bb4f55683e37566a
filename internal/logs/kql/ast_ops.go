package kql

import "strings"

// Where keeps the rows for which Pred is true ("where" or "filter").
type Where struct {
	At   Pos
	Pred Expr
}

// Project is project, project-away, project-keep, project-rename or
// project-reorder (Word); Items are assignments or names.
type Project struct {
	At    Pos
	Word  string
	Items []Assign
}

// Extend adds or replaces computed columns.
type Extend struct {
	At    Pos
	Items []Assign
}

// Summarize groups rows by By and computes Aggs per group.
type Summarize struct {
	At     Pos
	Params []NamedParam
	Aggs   []Assign
	By     []Assign
}

// Sort orders rows ("sort by" or "order by", Word).
type Sort struct {
	At   Pos
	Word string
	Keys []SortKey
}

// Top is "top N by key".
type Top struct {
	At  Pos
	N   Expr
	Key SortKey
}

// Take keeps the first N rows ("take" or "limit", Word).
type Take struct {
	At   Pos
	Word string
	N    Expr
}

// Distinct keeps unique combinations of Items (a lone *Star means all).
type Distinct struct {
	At    Pos
	Items []Expr
}

// Count replaces the input with one row holding its row count.
type Count struct{ At Pos }

// Join combines the input with Right on the On conditions; Word is "join" or
// "lookup".
type Join struct {
	At     Pos
	Word   string
	Params []NamedParam
	Right  Expr
	On     []Expr
}

// SeriesAgg is one make-series aggregate with its default fill value.
type SeriesAgg struct {
	Assign
	Default Expr
}

// MakeSeries builds arrays of aggregates over an axis.
type MakeSeries struct {
	At             Pos
	Params         []NamedParam
	Aggs           []SeriesAgg
	On             Expr
	From, To, Step Expr
	By             []Assign
}

// MvItem is one mv-expand column with an optional "to typeof(T)".
type MvItem struct {
	Assign
	To string
}

// MvExpand expands dynamic arrays or bags into rows.
type MvExpand struct {
	At     Pos
	Params []NamedParam
	Items  []MvItem
	Limit  Expr
}

// PatternPart is one piece of a parse pattern: a literal string, a column
// capture (Col with optional Type) or a "*" wildcard.
type PatternPart struct {
	Lit  *Lit
	Col  string
	Type string
	Star bool
}

// ParseOp extracts columns from a string expression with a pattern ("parse" or
// "parse-where", Word).
type ParseOp struct {
	At      Pos
	Word    string
	Params  []NamedParam
	X       Expr
	Pattern []PatternPart
}

// Render is a visualization hint kept as metadata; Text is the rest of the
// operator as written.
type Render struct {
	At    Pos
	Chart string
	Text  string
}

// Serialize marks the row order as fixed and may add columns.
type Serialize struct {
	At    Pos
	Items []Assign
}

// GetSchema replaces the input with its schema.
type GetSchema struct{ At Pos }

// As names the input for later reference (union withsource names).
type As struct {
	At   Pos
	Name string
}

// Search keeps the rows matching a search predicate: bare string terms
// match any column, col:"term" one column, other predicates as in where.
type Search struct {
	At     Pos
	Params []NamedParam
	Pred   Expr
}

func (*Search) opNode() {}

// Pos returns the operator's position.
func (o *Search) Pos() Pos { return o.At }

// String renders the operator.
func (o *Search) String() string { return "search " + paramsString(o.Params) + o.Pred.String() }

// RawOp is an operator the parser accepts but keeps as text (evaluate,
// scan, top-nested, ...); the planner rejects the ones it cannot run.
type RawOp struct {
	At     Pos
	Name   string
	Text   string
	TextAt Pos // where Text starts in the query
}

func (*Where) opNode()      {}
func (*Project) opNode()    {}
func (*Extend) opNode()     {}
func (*Summarize) opNode()  {}
func (*Sort) opNode()       {}
func (*Top) opNode()        {}
func (*Take) opNode()       {}
func (*Distinct) opNode()   {}
func (*Count) opNode()      {}
func (*Join) opNode()       {}
func (*MakeSeries) opNode() {}
func (*MvExpand) opNode()   {}
func (*ParseOp) opNode()    {}
func (*Render) opNode()     {}
func (*Serialize) opNode()  {}
func (*GetSchema) opNode()  {}
func (*As) opNode()         {}
func (*RawOp) opNode()      {}

// Pos returns the operator's position.
func (o *Where) Pos() Pos { return o.At }

// Pos returns the operator's position.
func (o *Project) Pos() Pos { return o.At }

// Pos returns the operator's position.
func (o *Extend) Pos() Pos { return o.At }

// Pos returns the operator's position.
func (o *Summarize) Pos() Pos { return o.At }

// Pos returns the operator's position.
func (o *Sort) Pos() Pos { return o.At }

// Pos returns the operator's position.
func (o *Top) Pos() Pos { return o.At }

// Pos returns the operator's position.
func (o *Take) Pos() Pos { return o.At }

// Pos returns the operator's position.
func (o *Distinct) Pos() Pos { return o.At }

// Pos returns the operator's position.
func (o *Count) Pos() Pos { return o.At }

// Pos returns the operator's position.
func (o *Join) Pos() Pos { return o.At }

// Pos returns the operator's position.
func (o *MakeSeries) Pos() Pos { return o.At }

// Pos returns the operator's position.
func (o *MvExpand) Pos() Pos { return o.At }

// Pos returns the operator's position.
func (o *ParseOp) Pos() Pos { return o.At }

// Pos returns the operator's position.
func (o *Render) Pos() Pos { return o.At }

// Pos returns the operator's position.
func (o *Serialize) Pos() Pos { return o.At }

// Pos returns the operator's position.
func (o *GetSchema) Pos() Pos { return o.At }

// Pos returns the operator's position.
func (o *As) Pos() Pos { return o.At }

// Pos returns the operator's position.
func (o *RawOp) Pos() Pos { return o.At }

// String renders the operator.
func (o *Where) String() string { return "where " + o.Pred.String() }

// String renders the operator.
func (o *Project) String() string { return o.Word + " " + assignsString(o.Items) }

// String renders the operator.
func (o *Extend) String() string { return "extend " + assignsString(o.Items) }

// String renders the operator.
func (o *Summarize) String() string {
	s := "summarize " + paramsString(o.Params) + assignsString(o.Aggs)
	if len(o.By) > 0 {
		s += " by " + assignsString(o.By)
	}
	return s
}

// String renders the operator.
func (o *Sort) String() string { return o.Word + " by " + joinNodes(o.Keys, ", ") }

// String renders the operator.
func (o *Top) String() string { return "top " + o.N.String() + " by " + o.Key.String() }

// String renders the operator.
func (o *Take) String() string { return o.Word + " " + o.N.String() }

// String renders the operator.
func (o *Distinct) String() string { return "distinct " + joinNodes(o.Items, ", ") }

// String renders the operator.
func (o *Count) String() string { return "count" }

// String renders the operator.
func (o *Join) String() string {
	return o.Word + " " + paramsString(o.Params) + "(" + exprOrTabString(o.Right) + ") on " + joinNodes(o.On, ", ")
}

// String renders the operator.
func (o *MakeSeries) String() string {
	var b strings.Builder
	b.WriteString("make-series " + paramsString(o.Params))
	for i, a := range o.Aggs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.Assign.String())
		if a.Default != nil {
			b.WriteString(" default = " + a.Default.String())
		}
	}
	b.WriteString(" on " + o.On.String())
	if o.From != nil {
		b.WriteString(" from " + o.From.String())
	}
	if o.To != nil {
		b.WriteString(" to " + o.To.String())
	}
	b.WriteString(" step " + o.Step.String())
	if len(o.By) > 0 {
		b.WriteString(" by " + assignsString(o.By))
	}
	return b.String()
}

// String renders the operator.
func (o *MvExpand) String() string {
	var b strings.Builder
	b.WriteString("mv-expand " + paramsString(o.Params))
	for i, it := range o.Items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(it.Assign.String())
		if it.To != "" {
			b.WriteString(" to typeof(" + it.To + ")")
		}
	}
	if o.Limit != nil {
		b.WriteString(" limit " + o.Limit.String())
	}
	return b.String()
}

// String renders the operator.
func (o *ParseOp) String() string {
	var b strings.Builder
	b.WriteString(o.Word + " " + paramsString(o.Params) + o.X.String() + " with")
	for _, p := range o.Pattern {
		switch {
		case p.Lit != nil:
			b.WriteString(" " + p.Lit.String())
		case p.Star:
			b.WriteString(" *")
		default:
			b.WriteString(" " + quoteName(p.Col))
			if p.Type != "" {
				b.WriteString(":" + p.Type)
			}
		}
	}
	return b.String()
}

// String renders the operator.
func (o *Render) String() string { return strings.TrimSpace("render " + o.Chart + " " + o.Text) }

// String renders the operator.
func (o *Serialize) String() string { return strings.TrimSpace("serialize " + assignsString(o.Items)) }

// String renders the operator.
func (o *GetSchema) String() string { return "getschema" }

// String renders the operator.
func (o *As) String() string { return "as " + quoteName(o.Name) }

// String renders the operator as written.
func (o *RawOp) String() string { return strings.TrimSpace(o.Name + " " + o.Text) }
