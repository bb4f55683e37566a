package kql

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"
)

// compileOp plans one tabular operator over its input and tracks whether
// the output keeps a serialized order.
func compileOp(q *qctx, e *env, in *planTable, op Op) (*planTable, error) {
	t, err := compileOp1(q, e, in, op)
	if err != nil {
		return nil, err
	}
	if t == in {
		if _, ok := op.(*Serialize); ok && !in.ordered {
			cp := *in
			cp.ordered = true
			return &cp, nil
		}
		return t, nil
	}
	switch op.(type) {
	case *Sort, *Top, *Serialize:
		t.ordered = true
	case *Where, *Project, *Extend, *Take, *ParseOp, *MvExpand, *Search:
		t.ordered = in.ordered
	}
	return t, nil
}

func compileOp1(q *qctx, e *env, in *planTable, op Op) (*planTable, error) {
	sc := &scope{cols: in.cols, env: e, q: q}
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
		cols := []Column{{Name: "Count", Type: TypeLong}}
		return blocking(in, cols, func(_ *qctx, rows []Row) ([]Row, error) {
			return []Row{{Long(int64(len(rows)))}}, nil
		}), nil
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
	case *As:
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

func compileProject(sc *scope, in *planTable, o *Project) (*planTable, error) {
	switch o.Word {
	case "project-away", "project-keep":
		keep := o.Word == "project-keep"
		var idx []int
		var cols []Column
		for i, c := range in.cols {
			m, err := matchesAny(o.Items, c.Name, in.cols)
			if err != nil {
				return nil, err
			}
			if m == keep {
				idx = append(idx, i)
				cols = append(cols, c)
			}
		}
		for _, it := range o.Items {
			name := it.X.(*Ident).Name
			if !strings.Contains(name, "*") && colIndex(in.cols, name) < 0 {
				return nil, unknownColumn(it.X, name)
			}
		}
		return remap(in, cols, idx), nil
	case "project-rename":
		cols := append([]Column(nil), in.cols...)
		for _, it := range o.Items {
			id, ok := it.X.(*Ident)
			if !ok || it.Name == "" {
				return nil, errAt(it.X, "project-rename needs new = old")
			}
			i := colIndex(in.cols, id.Name)
			if i < 0 {
				return nil, unknownColumn(id, id.Name)
			}
			cols[i].Name = it.Name
		}
		if err := checkUnique(o, cols); err != nil {
			return nil, err
		}
		idx := make([]int, len(cols))
		for i := range idx {
			idx[i] = i
		}
		return remap(in, cols, idx), nil
	case "project-reorder":
		var idx []int
		used := map[int]bool{}
		for _, it := range o.Items {
			name := it.X.(*Ident).Name
			found := false
			for i, c := range in.cols {
				if !used[i] && wildMatch(name, c.Name) {
					idx = append(idx, i)
					used[i] = true
					found = true
				}
			}
			if !found && !strings.Contains(name, "*") {
				return nil, unknownColumn(it.X, name)
			}
		}
		for i := range in.cols {
			if !used[i] {
				idx = append(idx, i)
			}
		}
		cols := make([]Column, len(idx))
		for k, i := range idx {
			cols[k] = in.cols[i]
		}
		return remap(in, cols, idx), nil
	}
	var cols []Column
	var exprs []cexpr
	namer := columnNamer{}
	var win *winCtx
	if usesWindow(o.Items) {
		if !in.ordered {
			return nil, errAt(o, "window functions need serialized rows (add sort, serialize or top)")
		}
		win = &winCtx{}
		sc = &scope{cols: sc.cols, env: sc.env, q: sc.q, win: win}
	}
	for _, it := range o.Items {
		c, err := sc.compileExpr(it.X)
		if err != nil {
			return nil, err
		}
		name := it.Name
		if name == "" {
			name = derivedName(it.X)
		}
		if name == "" {
			name = namer.next()
		}
		cols = append(cols, Column{Name: name, Type: concreteType(c.t)})
		exprs = append(exprs, c)
	}
	if err := checkUnique(o, cols); err != nil {
		return nil, err
	}
	row := func(r Row) Row {
		out := make(Row, len(exprs))
		for i, c := range exprs {
			out[i] = withType(c.f(r), cols[i].Type)
		}
		return out
	}
	if win != nil {
		return windowed(in, cols, len(in.cols), win, row, true), nil
	}
	return streamMap(in, cols, func(r Row) (Row, bool) { return row(r), true }), nil
}

func matchesAny(items []Assign, name string, _ []Column) (bool, error) {
	for _, it := range items {
		id, ok := it.X.(*Ident)
		if !ok {
			return false, errAt(it.X, "expected a column name")
		}
		if wildMatch(id.Name, name) {
			return true, nil
		}
	}
	return false, nil
}

func wildMatch(pattern, name string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == name
	}
	ok, _ := path.Match(pattern, name)
	return ok
}

// remap projects columns by index.
func remap(in *planTable, cols []Column, idx []int) *planTable {
	return streamMap(in, cols, func(r Row) (Row, bool) {
		out := make(Row, len(idx))
		for k, i := range idx {
			out[k] = r[i]
		}
		return out, true
	})
}

func compileExtend(sc *scope, in *planTable, items []Assign, at Node) (*planTable, error) {
	cols := append([]Column(nil), in.cols...)
	type slot struct {
		pos int
		c   cexpr
	}
	var slots []slot
	namer := columnNamer{taken: func(n string) bool { return colIndex(cols, n) >= 0 }}
	cur := &scope{cols: in.cols, env: sc.env, q: sc.q}
	var win *winCtx
	if usesWindow(items) {
		if !in.ordered {
			return nil, errAt(at, "window functions need serialized rows (add sort, serialize or top)")
		}
		win = &winCtx{}
		cur.win = win
	}
	for _, it := range items {
		// later items see earlier ones by name
		cur.cols = cols
		c, err := cur.compileExpr(it.X)
		if err != nil {
			return nil, err
		}
		name := it.Name
		if name == "" {
			name = derivedName(it.X)
			if name == "" || colIndex(cols, name) >= 0 && !isColumnRef(it.X) {
				name = namer.next()
			}
		}
		t := concreteType(c.t)
		if i := colIndex(cols, name); i >= 0 {
			cols[i].Type = t
			slots = append(slots, slot{i, c})
		} else {
			cols = append(cols, Column{Name: name, Type: t})
			slots = append(slots, slot{len(cols) - 1, c})
		}
	}
	n := len(cols)
	nin := len(in.cols)
	row := func(r Row) Row {
		// new columns are visible to later items at once; replaced input
		// columns keep their input value until every item is computed
		// ("extend a = c, c = a" swaps, nested-pipelines-let-cte-0021#3)
		out := make(Row, n)
		copy(out, r)
		var late []Value
		for _, s := range slots {
			v := withType(s.c.f(out), cols[s.pos].Type)
			if s.pos < nin {
				late = append(late, v)
				continue
			}
			out[s.pos] = v
		}
		k := 0
		for _, s := range slots {
			if s.pos < nin {
				out[s.pos] = late[k]
				k++
			}
		}
		return out
	}
	if win != nil {
		return windowed(in, cols, n, win, row, false), nil
	}
	return streamMap(in, cols, func(r Row) (Row, bool) { return row(r), true }), nil
}

func isColumnRef(x Expr) bool { _, ok := x.(*Ident); return ok }

func compileTake(sc *scope, in *planTable, n Expr) (*planTable, error) {
	c, err := sc.compileExpr(n)
	if err != nil {
		return nil, err
	}
	v := scalarOf(c.f(nil))
	if !c.konst || !isIntegral(v.T) {
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
