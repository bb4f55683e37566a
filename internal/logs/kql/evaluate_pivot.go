package kql

import (
	"context"
	"strings"
)

// pivotAggs are the aggregations the pivot plugin documents; zeroFill are
// those whose empty cells read 0 (the documented examples show 0 for
// count() and sum()), the others are null.
var pivotAggs = map[string]bool{
	"min": true, "max": true, "take_any": true, "sum": true, "dcount": true, "avg": true,
	"stdev": true, "variance": true, "make_list": true, "make_bag": true, "make_set": true, "count": true,
}

var pivotZeroFill = map[string]bool{"count": true, "dcount": true, "sum": true}

// compilePivot turns the distinct values of one column into columns:
// pivot(column [, aggregation] [, column1, ...]). The rows are grouped by
// the listed columns (by default every column but the pivoted one and those
// the aggregation reads) and each cell holds the aggregation over its
// group and pivot value. Like bag_unpack, the schema depends on the data,
// so the input is read while planning. Groups and pivot columns keep the
// order in which they first appear.
func compilePivot(sc *scope, in *planTable, at Node, call *Call) (*planTable, error) {
	if len(call.Args) < 1 {
		return nil, errAt(at, "pivot needs the column to rotate")
	}
	pid, ok := call.Args[0].(*Ident)
	if !ok || colIndex(in.cols, pid.Name) < 0 {
		return nil, errAt(at, "pivot's first argument must be a column of its input")
	}
	agg := &Call{At: call.At, Name: "count"}
	rest := call.Args[1:]
	if len(rest) > 0 {
		if c, ok := rest[0].(*Call); ok {
			agg, rest = c, rest[1:]
		}
	}
	if !pivotAggs[agg.Name] {
		return nil, errAt(agg, "pivot cannot aggregate with %s(): use min, max, take_any, sum, dcount, avg, stdev, variance, make_list, make_bag, make_set or count", agg.Name)
	}
	var groups []Expr
	for _, a := range rest {
		id, ok := a.(*Ident)
		if !ok || colIndex(in.cols, id.Name) < 0 {
			return nil, errAt(a, "pivot's grouping arguments must be columns of its input")
		}
		groups = append(groups, id)
	}
	if len(rest) == 0 {
		used := map[string]bool{pid.Name: true}
		walkIdents(agg, func(name string) { used[name] = true })
		for _, c := range in.cols {
			if !used[c.Name] {
				groups = append(groups, &Ident{At: call.At, Name: c.Name})
			}
		}
	}
	sum := &Summarize{At: call.At, Aggs: []Assign{{Name: "pivot value", X: agg}}}
	for _, g := range groups {
		sum.By = append(sum.By, Assign{X: g})
	}
	sum.By = append(sum.By, Assign{X: pid})
	t, err := compileSummarize(sc, in, sum)
	if err != nil {
		return nil, err
	}
	rows, err := runPlan(sc.q, t)
	if err != nil {
		return nil, err
	}
	ng := len(groups)
	valType := t.cols[ng+1].Type
	cols := append([]Column(nil), t.cols[:ng]...)
	pivotCol := map[string]int{}
	rowOf := map[string]int{}
	var out []Row
	fill := Null(valType)
	if pivotZeroFill[agg.Name] {
		fill = castTo(Long(0), valType)
	}
	for _, r := range rows {
		name := stringOf(r[ng])
		ci, ok := pivotCol[name]
		if !ok {
			ci = len(cols)
			pivotCol[name] = ci
			cols = append(cols, Column{Name: uniqueName(cols, pivotName(name)), Type: valType})
		}
		key := groupKey(r[:ng])
		ri, ok := rowOf[key]
		if !ok {
			ri = len(out)
			rowOf[key] = ri
			out = append(out, append(Row(nil), r[:ng]...))
		}
		for len(out[ri]) <= ci {
			out[ri] = append(out[ri], fill)
		}
		out[ri][ci] = r[ng+1]
	}
	for i := range out {
		for len(out[i]) < len(cols) {
			out[i] = append(out[i], fill)
		}
	}
	return tableOf(cols, out), nil
}

// pivotName is the column a pivot value becomes; an empty value is named
// as Kusto names unnamed columns.
func pivotName(s string) string {
	if s == "" {
		return "Column1"
	}
	return s
}

// groupKey identifies a group by its values' types and texts.
func groupKey(vals []Value) string {
	var b strings.Builder
	for _, v := range vals {
		b.WriteString(v.T.String())
		b.WriteByte(0)
		b.WriteString(v.Text())
		b.WriteByte(0)
	}
	return b.String()
}

// walkIdents calls f with every column name an expression reads.
func walkIdents(x Expr, f func(string)) {
	switch e := x.(type) {
	case *Ident:
		f(e.Name)
	case *Call:
		for _, a := range e.Args {
			walkIdents(a, f)
		}
	case *Unary:
		walkIdents(e.X, f)
	case *Binary:
		walkIdents(e.L, f)
		walkIdents(e.R, f)
	case *Member:
		walkIdents(e.X, f)
	case *Index:
		walkIdents(e.X, f)
		walkIdents(e.Idx, f)
	}
}

// compileNarrow unpivots every row into (Row, Column, Value) triples, the
// row number counting from 0 and the value as a string. It streams, so the
// governor's limits apply to its output as to any operator's.
func compileNarrow(sc *scope, in *planTable, at Node, call *Call) (*planTable, error) {
	if len(call.Args) != 0 {
		return nil, errAt(at, "narrow takes no arguments")
	}
	cols := []Column{{Name: "Row", Type: TypeLong}, {Name: "Column", Type: TypeString}, {Name: "Value", Type: TypeString}}
	return &planTable{cols: cols, open: func(q *qctx) (RowIter, error) {
		it, err := in.open(q)
		if err != nil {
			return nil, err
		}
		return &narrowIter{in: it, cols: in.cols, row: -1}, nil
	}}, nil
}

type narrowIter struct {
	in   RowIter
	cols []Column
	cur  Row
	row  int64
	col  int
}

func (n *narrowIter) Next(ctx context.Context) (Row, error) {
	for n.cur == nil || n.col >= len(n.cols) {
		r, err := n.in.Next(ctx)
		if err != nil {
			return nil, err
		}
		n.cur, n.col = r, 0
		n.row++
	}
	j := n.col
	n.col++
	return Row{Long(n.row), String(n.cols[j].Name), String(stringOf(n.cur[j]))}, nil
}

func (n *narrowIter) Close() error { return n.in.Close() }
