package kql

import "strings"

// ParseKV extracts typed columns from key/value text ("parse-kv s as (a:long)
// with (pair_delimiter=';', kv_delimiter='=')").
type ParseKV struct {
	At   Pos
	X    Expr
	Cols []ColDecl
	With []Assign
}

// MvApply expands arrays per row and runs a subquery over each row's
// expansion ("mv-apply x = arr on (summarize max(x))").
type MvApply struct {
	At     Pos
	Params []NamedParam
	Items  []MvItem
	Ops    []Op
}

// NestedLevel is one level of top-nested: "top-nested N of Expr by Agg".
type NestedLevel struct {
	N      Expr // nil for all
	Of     Assign
	Others Expr
	By     Assign
	Asc    bool
}

// TopNested is the top-nested operator: hierarchical top-N aggregation.
type TopNested struct {
	At     Pos
	Levels []NestedLevel
}

func (*ParseKV) opNode()   {}
func (*MvApply) opNode()   {}
func (*TopNested) opNode() {}

// Pos returns the operator's position.
func (o *ParseKV) Pos() Pos { return o.At }

// Pos returns the operator's position.
func (o *MvApply) Pos() Pos { return o.At }

// Pos returns the operator's position.
func (o *TopNested) Pos() Pos { return o.At }

// String renders the operator.
func (o *ParseKV) String() string {
	cols := make([]string, len(o.Cols))
	for i, c := range o.Cols {
		cols[i] = c.String()
	}
	return "parse-kv " + wrap(o.X, precAdd) + " as (" + strings.Join(cols, ", ") + ") with (" + assignsString(o.With) + ")"
}

// String renders the operator.
func (o *MvApply) String() string {
	m := &MvExpand{Params: o.Params, Items: o.Items}
	return "mv-apply" + strings.TrimPrefix(m.String(), "mv-expand") + " on (" + joinNodes(o.Ops, " | ") + ")"
}

// String renders the operator.
func (o *TopNested) String() string {
	parts := make([]string, len(o.Levels))
	for i, l := range o.Levels {
		s := "top-nested "
		if l.N != nil {
			s += l.N.String() + " "
		}
		s += "of " + l.Of.String()
		if l.Others != nil {
			s += " with others = " + l.Others.String()
		}
		s += " by " + l.By.String()
		if l.Asc {
			s += " asc"
		}
		parts[i] = s
	}
	return strings.Join(parts, ", ")
}
