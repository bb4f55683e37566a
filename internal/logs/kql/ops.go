package kql

import (
	"context"
	"fmt"
	"io"
)

// compileOp plans one tabular operator over its input and tracks whether
// the output keeps a serialized order.
func compileOp(q *qctx, e *env, in *planTable, op Op) (*planTable, error) {
	if !ingestReader(op) {
		in = stripIngest(in)
	}
	t, err := compileOp1(q, e, in, op)
	if err != nil {
		return nil, err
	}
	// what ingestion_time() reads after op (ingestion.go)
	ingest := ingestLost
	switch {
	case ingestMaker(op):
		ingest = ingestNull
	case ingestKeeper(op):
		ingest = in.ingest
	}
	if t == in {
		_, ser := op.(*Serialize)
		if ser && !in.ordered || t.ingest != ingest {
			cp := *in
			cp.ordered = cp.ordered || ser
			cp.ingest = ingest
			return &cp, nil
		}
		return t, nil
	}
	t.ingest = ingest
	// Kusto's serialize documentation lists the operators whose output is
	// not serialized (count, distinct, evaluate, facet, join, make-series,
	// mv-expand, reduce, sample, sample-distinct, summarize, top-nested);
	// every other operator keeps its input's serialization. Union and
	// partition concatenate several row sets, and are left unordered.
	switch op.(type) {
	case *Sort, *Top, *Serialize:
		t.ordered = true
	case *Summarize, *Distinct, *Count, *Join, *MakeSeries, *MvExpand, *TopNested, *Union, *Partition, *RawOp:
	default:
		t.ordered = t.ordered || in.ordered
	}
	return t, nil
}

func compileOp1(q *qctx, e *env, in *planTable, op Op) (*planTable, error) {
	sc := &scope{cols: in.cols, env: e, q: q, ingest: in.ingest}
	switch o := op.(type) {
	case *Where:
		c, err := sc.compileExpr(o.Pred)
		if err != nil {
			return nil, err
		}
		if !boolish(c.t) {
			return nil, errAt(o, "where needs a bool predicate, not %s", c.t)
		}
		f := c.f
		return streamMap(in, in.cols, func(r Row) (Row, bool) {
			v := scalarOf(f(r))
			return r, v.ok && v.T == TypeBool && v.i != 0
		}), nil
	case *Project:
		return compileProject(sc, in, o)
	case *Extend:
		return compileExtend(sc, in, o.Items, o)
	case *Summarize:
		return compileSummarize(sc, in, o)
	case *Sort:
		return compileSort(sc, in, o.Keys)
	case *Top:
		t, err := compileSort(sc, in, []SortKey{o.Key})
		if err != nil {
			return nil, err
		}
		return compileTake(sc, t, o.N)
	case *Take:
		return compileTake(sc, in, o.N)
	case *Distinct:
		return compileDistinct(sc, in, o)
	case *Count:
		return compileCount(in), nil
	case *Join:
		return compileJoin(q, e, in, o)
	case *Union:
		return compileUnion(q, e, in, o)
	case *MvExpand:
		return compileMvExpand(sc, in, o)
	case *ParseOp:
		return compileParse(sc, in, o)
	case *MakeSeries:
		return compileMakeSeries(sc, in, o)
	case *Serialize:
		if len(o.Items) == 0 {
			return in, nil
		}
		return compileExtend(sc, in, o.Items, o)
	case *Render:
		if q.render != nil {
			*q.render = *o
		}
		return in, nil
	case *Fork, *Facet:
		return nil, errNotLast(op, "operator '"+opWord(op)+"'")
	case *As:
		// later parts of the query can name the input ("... | as T1 | join (T1 | ...)")
		e.vars[o.Name] = &binding{table: in}
		return in, nil
	case *GetSchema:
		cols := []Column{{"ColumnName", TypeString}, {"ColumnOrdinal", TypeInt}, {"DataType", TypeString}, {"ColumnType", TypeString}}
		var rows []Row
		for i, c := range in.cols {
			rows = append(rows, Row{String(c.Name), Int(int64(i)), String(dotnetTypeName(c.Type)), String(c.Type.String())})
		}
		return tableOf(cols, rows), nil
	case *Search:
		return compileSearch(sc, in, o)
	case *ParseKV:
		return compileParseKV(sc, in, o)
	case *MvApply:
		return compileMvApply(q, e, in, o)
	case *TopNested:
		return compileTopNested(sc, in, o)
	case *Scan:
		return compileScan(sc, in, o)
	case *Partition:
		return compilePartition(q, e, in, o)
	case *RawOp:
		return compileRawOp(sc, in, o)
	}
	return nil, errAt(op, "unsupported operator")
}

func dotnetTypeName(t Type) string {
	switch t {
	case TypeBool:
		return "System.SByte"
	case TypeInt:
		return "System.Int32"
	case TypeLong:
		return "System.Int64"
	case TypeReal:
		return "System.Double"
	case TypeDecimal:
		return "System.Data.SqlTypes.SqlDecimal"
	case TypeDateTime:
		return "System.DateTime"
	case TypeTimeSpan:
		return "System.TimeSpan"
	case TypeGuid:
		return "System.Guid"
	case TypeDynamic:
		return "System.Object"
	}
	return "System.String"
}

// derivedName is the column name Kusto gives an unnamed expression that
// refers to one column or property; "" when it has none.
func derivedName(x Expr) string {
	switch n := x.(type) {
	case *Ident:
		return n.Name
	case *Member:
		return n.Name
	case *Index:
		if l, ok := n.Idx.(*Lit); ok && l.Val.T == TypeString {
			return l.Val.s
		}
	}
	return ""
}

// columnNamer hands out Column1, Column2, ... for unnamed expressions,
// skipping names already taken.
type columnNamer struct {
	n     int
	taken func(string) bool
}

func (c *columnNamer) next() string {
	for {
		c.n++
		name := fmt.Sprintf("Column%d", c.n)
		if c.taken == nil || !c.taken(name) {
			return name
		}
	}
}

func compileTake(sc *scope, in *planTable, n Expr) (*planTable, error) {
	c, err := sc.compileExpr(n)
	if err != nil {
		return nil, err
	}
	v, err := constValue(c, n, "take's row count")
	if err != nil {
		return nil, err
	}
	if !isIntegral(v.T) {
		return nil, errAt(n, "take needs a constant integer")
	}
	limit := v.i
	return &planTable{cols: in.cols, open: func(q *qctx) (RowIter, error) {
		it, err := in.open(q)
		if err != nil {
			return nil, err
		}
		var seen int64
		return &funcIter{next: func(ctx context.Context) (Row, error) {
			if seen >= limit {
				return nil, io.EOF
			}
			seen++
			return it.Next(ctx)
		}, close: it.Close}, nil
	}}, nil
}

func compileDistinct(sc *scope, in *planTable, o *Distinct) (*planTable, error) {
	var items []Assign
	if len(o.Items) == 1 {
		if _, ok := o.Items[0].(*Star); ok {
			for _, c := range in.cols {
				items = append(items, Assign{X: &Ident{At: o.At, Name: c.Name}})
			}
		}
	}
	if items == nil {
		for _, x := range o.Items {
			items = append(items, Assign{X: x})
		}
	}
	return compileSummarize(sc, in, &Summarize{At: o.At, By: items})
}

// compileCount counts its input as it streams by: nothing is held, so
// counting a hundred million rows costs time, not memory.
func compileCount(in *planTable) *planTable {
	cols := []Column{{Name: "Count", Type: TypeLong}}
	return &planTable{cols: cols, open: func(q *qctx) (RowIter, error) {
		it, err := in.open(q)
		if err != nil {
			return nil, err
		}
		done := false
		return &funcIter{next: func(ctx context.Context) (Row, error) {
			if done {
				return nil, io.EOF
			}
			if in.size != nil {
				if n, ok := in.size(); ok {
					done = true
					return Row{Long(n)}, nil
				}
			}
			var n int64
			for {
				_, err := it.Next(ctx)
				if err == io.EOF {
					break
				}
				if err != nil {
					return nil, err
				}
				if err := q.gov.tick(ctx); err != nil {
					return nil, err
				}
				n++
			}
			done = true
			return Row{Long(n)}, nil
		}, close: it.Close}, nil
	}}
}
