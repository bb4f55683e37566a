package kql

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// planScan plans a table reference against the Source, pushing down the
// leading where conjuncts the Source can apply and, when every filter was
// pushed, a take limit, the order and limit of a top or of a sort followed
// by a take (for a Source that is an Orderer), or the column list of a
// following plain project. It returns the operators that are left to run.
func planScan(q *qctx, e *env, id *Ident, ops []Op) (*planTable, []Op, error) {
	if q.source == nil {
		return nil, nil, errAt(id, "unknown table or name '%s' (no table store is attached)", id.Name)
	}
	cols, err := q.source.Schema(q.ctx, id.Name)
	if errors.Is(err, ErrNoTable) {
		return nil, nil, errAt(id, "unknown table or name '%s'", id.Name)
	}
	if err != nil {
		return nil, nil, err
	}
	req := ScanRequest{Table: id.Name}
	// the rows carry the records' ingestion time when the query asks for
	// it and the source keeps it; otherwise ingestion_time() is null
	ingest := ingestNull
	if its, ok := q.source.(IngestionTimeSource); ok && q.wantIngest && its.HasIngestionTime(id.Name) {
		req.IngestionTime, ingest = true, ingestCarried
	}
	rest := append([]Op(nil), ops...)
	allPushed := true
	for len(rest) > 0 {
		w, ok := rest[0].(*Where)
		if !ok {
			break
		}
		var keep []Expr
		for _, c := range splitAnd(w.Pred) {
			if f, ok := toFilter(c, cols, constFilterValue(q, e)); ok && q.source.CanFilter(id.Name, f) {
				req.Filters = append(req.Filters, f)
			} else if f, ok := ingestFilter(c, constFilterValue(q, e)); ok && req.IngestionTime && q.source.CanFilter(id.Name, f) {
				req.Filters = append(req.Filters, f)
			} else {
				keep = append(keep, c)
			}
		}
		if len(keep) > 0 {
			rest[0] = &Where{At: w.At, Pred: joinAnd(keep)}
			allPushed = false
			break
		}
		rest = rest[1:]
	}
	if allPushed && len(rest) > 0 {
		switch o := rest[0].(type) {
		case *Take:
			if n, ok := literalLimit(o.N); ok {
				req.Limit = n
			}
		case *Top:
			// The top operator stays in the plan and sorts the N rows.
			if n, ok := literalLimit(o.N); ok {
				if keys, ok := orderKeys(q.source, id.Name, []SortKey{o.Key}, cols); ok {
					req.Order, req.Limit = keys, n
				}
			}
		case *Sort:
			// "sort | take N" is a top: the sort stays in the plan.
			if len(rest) > 1 {
				if tk, ok := rest[1].(*Take); ok {
					if n, ok := literalLimit(tk.N); ok {
						if keys, ok := orderKeys(q.source, id.Name, o.Keys, cols); ok {
							req.Order, req.Limit = keys, n
						}
					}
				}
			}
		case *Project:
			if names, ok := plainProject(o, cols); ok && o.Word == "project" {
				req.Columns = names
				narrowed := make([]Column, len(names))
				for i, n := range names {
					narrowed[i] = cols[colIndex(cols, n)]
				}
				cols = narrowed
			}
		}
	}
	src := q.source
	return &planTable{cols: cols, ingest: ingest, open: func(q *qctx) (RowIter, error) {
		return src.Scan(q.ctx, req)
	}}, rest, nil
}

// literalLimit returns the row count of a take or top written as a
// positive integer literal.
func literalLimit(x Expr) (int64, bool) {
	l, ok := x.(*Lit)
	if !ok || !isIntegral(l.Val.T) || l.Val.i <= 0 {
		return 0, false
	}
	return l.Val.i, true
}

// orderKeys translates sort keys into an order the source can apply: every
// key must be a plain column the source can order by.
func orderKeys(src Source, table string, keys []SortKey, cols []Column) ([]OrderKey, bool) {
	o, ok := src.(Orderer)
	if !ok || len(keys) == 0 {
		return nil, false
	}
	out := make([]OrderKey, len(keys))
	for i, k := range keys {
		id, ok := k.X.(*Ident)
		if !ok || colIndex(cols, id.Name) < 0 {
			return nil, false
		}
		out[i] = OrderKey{Column: id.Name, Asc: k.Asc, NullsFirst: k.NullsFirst}
		if !o.CanOrder(table, out[i]) {
			return nil, false
		}
	}
	return out, true
}

// plainProject returns the distinct source columns a project reads when
// every item is a column or a rename of one.
func plainProject(p *Project, cols []Column) ([]string, bool) {
	var names []string
	seen := map[string]bool{}
	for _, it := range p.Items {
		id, ok := it.X.(*Ident)
		if !ok || colIndex(cols, id.Name) < 0 {
			return nil, false
		}
		if !seen[id.Name] {
			seen[id.Name] = true
			names = append(names, id.Name)
		}
	}
	return names, true
}

func splitAnd(e Expr) []Expr {
	if b, ok := e.(*Binary); ok && b.Op == "and" {
		return append(splitAnd(b.L), splitAnd(b.R)...)
	}
	return []Expr{e}
}

func joinAnd(es []Expr) Expr {
	x := es[0]
	for _, e := range es[1:] {
		x = &Binary{At: e.Pos(), Op: "and", L: x, R: e}
	}
	return x
}

var flippable = map[string]string{"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

// toFilter recognises "column op literal" predicates a Source may apply.
func toFilter(e Expr, cols []Column, konst func(Expr) (Value, bool)) (Filter, bool) {
	isCol := func(x Expr) (string, bool) {
		id, ok := x.(*Ident)
		return idName(id, ok), ok && colIndex(cols, id.Name) >= 0
	}
	lit := func(x Expr) (Value, bool) {
		if l, ok := x.(*Lit); ok {
			return l.Val, !l.Val.IsNull()
		}
		return konst(x)
	}
	switch n := e.(type) {
	case *Binary:
		if _, ok := binaryOps[n.Op]; !ok {
			return Filter{}, false
		}
		if c, ok := isCol(n.L); ok {
			if v, ok := lit(n.R); ok {
				return Filter{Column: c, Op: n.Op, Values: []Value{v}}, true
			}
		}
		if c, ok := isCol(n.R); ok {
			if v, ok := lit(n.L); ok {
				if f, ok := flippable[n.Op]; ok {
					return Filter{Column: c, Op: f, Values: []Value{v}}, true
				}
			}
		}
	case *InExpr:
		if n.Op != "in" && n.Op != "!in" {
			return Filter{}, false
		}
		c, ok := isCol(n.X)
		if !ok {
			return Filter{}, false
		}
		var vals []Value
		for _, x := range n.List {
			v, ok := lit(x)
			if !ok || v.T == TypeDynamic {
				return Filter{}, false
			}
			vals = append(vals, v)
		}
		return Filter{Column: c, Op: n.Op, Values: vals}, true
	case *Between:
		c, ok := isCol(n.X)
		lo, ok1 := lit(n.Lo)
		hi, ok2 := lit(n.Hi)
		if !ok || !ok1 || !ok2 || n.Not || lo.T != hi.T {
			return Filter{}, false
		}
		return Filter{Column: c, Op: "between", Values: []Value{lo, hi}}, true
	}
	return Filter{}, false
}

// constFilterValue evaluates an expression that reads no column and is constant
// for the query (ago(1h), now() - 1d, a scalar let), so that a filter on it
// reaches the source like a literal; anything else is not constant.
func constFilterValue(q *qctx, e *env) func(Expr) (Value, bool) {
	return func(x Expr) (Value, bool) {
		c, err := (&scope{env: e, q: q}).compileExpr(x)
		if err != nil || !c.konst {
			return Value{}, false
		}
		v := c.f(nil)
		return v, !v.IsNull()
	}
}

func idName(id *Ident, ok bool) string {
	if !ok {
		return ""
	}
	return id.Name
}

func compileSource(q *qctx, e *env, s SourceNode) (*planTable, error) {
	switch n := s.(type) {
	case *Datatable:
		return compileDatatable(n)
	case *Print:
		return compilePrint(q, e, n)
	case *Range:
		return compileRange(q, e, n)
	case *Union:
		return compileUnion(q, e, nil, n)
	}
	return nil, errAt(s, "unsupported source")
}

func compileDatatable(d *Datatable) (*planTable, error) {
	cols := make([]Column, len(d.Cols))
	for i, c := range d.Cols {
		cols[i] = Column{Name: c.Name, Type: typeByName[strings.ToLower(c.Type)]}
	}
	if len(cols) == 0 || len(d.Vals)%len(cols) != 0 {
		return nil, errAt(d, "datatable has %d values for %d columns", len(d.Vals), len(cols))
	}
	rows := make([]Row, 0, len(d.Vals)/len(cols))
	for i := 0; i < len(d.Vals); i += len(cols) {
		r := make(Row, len(cols))
		for j := range cols {
			x := d.Vals[i+j]
			l, ok := x.(*Lit)
			if !ok {
				return nil, errAt(x, "datatable values must be literals")
			}
			v, ok := coerceLiteral(l.Val, cols[j].Type)
			if !ok {
				return nil, errAt(x, "value %s does not fit column %s of type %s", l.Text, cols[j].Name, cols[j].Type)
			}
			r[j] = v
		}
		rows = append(rows, r)
	}
	t := tableOf(cols, rows)
	t.ingest = ingestNull // not a table's records: ingestion_time() is null
	return t, nil
}

// coerceLiteral fits a literal into a column type the way datatable does.
func coerceLiteral(v Value, t Type) (Value, bool) {
	if v.T == t {
		return v, true
	}
	if t == TypeDynamic {
		return toDynamic(v), true
	}
	if !v.ok {
		if t == TypeString {
			return Value{}, false
		}
		return Null(t), v.T == TypeUnknown
	}
	switch {
	case t == TypeInt && isIntegral(v.T) && v.T != TypeBool:
		return Int(v.i), true
	case t == TypeLong && isIntegral(v.T) && v.T != TypeBool:
		return Long(v.i), true
	case t == TypeReal && v.T.isNumeric():
		return Real(v.AsReal()), true
	case t == TypeDecimal && v.T.isNumeric():
		return Decimal(v.AsReal()), true
	case t == TypeGuid && v.T == TypeString:
		if g, ok := parseGuid(v.s); ok {
			return Guid(g), true
		}
	}
	return Value{}, false
}

func compilePrint(q *qctx, e *env, p *Print) (*planTable, error) {
	sc := &scope{env: e, q: q}
	items, err := expandMulti(p.Items, true)
	if err != nil {
		return nil, err
	}
	cols, exprs, err := compileItems(sc, p, items, func(i int) string { return fmt.Sprintf("print_%d", i) })
	if err != nil {
		return nil, err
	}
	return &planTable{cols: cols, ingest: ingestNull, open: func(*qctx) (RowIter, error) {
		r := make(Row, len(exprs))
		for i, c := range exprs {
			r[i] = withType(c.f(nil), cols[i].Type)
		}
		return &sliceIter{rows: []Row{r}}, nil
	}}, nil
}

// concreteType gives an untyped null expression a column type.
func concreteType(t Type) Type {
	if t == TypeUnknown {
		return TypeString
	}
	return t
}

// withType stamps a value with its column's type (nulls of unknown type).
func withType(v Value, t Type) Value {
	if v.T == t {
		return v
	}
	if !v.ok {
		return Null(t)
	}
	if t == TypeDynamic {
		return toDynamic(v)
	}
	if t == TypeLong && v.T == TypeInt || t == TypeInt && v.T == TypeLong {
		v.T = t
	}
	return v
}

func checkUnique(n Node, cols []Column) error {
	seen := map[string]bool{}
	for _, c := range cols {
		if seen[c.Name] {
			return errAt(n, "duplicate column name '%s'", c.Name)
		}
		seen[c.Name] = true
	}
	return nil
}

func compileRange(q *qctx, e *env, r *Range) (*planTable, error) {
	sc := &scope{env: e, q: q}
	var vals [3]Value
	for i, x := range []Expr{r.From, r.To, r.Step} {
		c, err := sc.compileExpr(x)
		if err != nil {
			return nil, err
		}
		if !c.konst {
			return nil, errAt(x, "range bounds must be constants")
		}
		vals[i] = scalarOf(c.f(nil))
	}
	from, to, step := vals[0], vals[1], vals[2]
	t := from.T
	if from.IsNull() || to.IsNull() || step.IsNull() {
		return tableOf([]Column{{Name: r.Name, Type: concreteType(t)}}, nil), nil
	}
	if t == TypeInt {
		t = TypeLong
	}
	if to.T == TypeReal || step.T == TypeReal {
		if t == TypeLong {
			t = TypeReal
		}
	}
	cols := []Column{{Name: r.Name, Type: t}}
	size := func() (int64, bool) {
		if t == TypeReal || step.i == 0 {
			return 0, false
		}
		lo, hi, s := from.i, to.i, step.i
		if s < 0 {
			lo, hi, s = to.i, from.i, -s
		}
		if hi < lo {
			return 0, true
		}
		n := int64((uint64(hi)-uint64(lo))/uint64(s)) + 1
		return n, n > 0
	}
	// range streams its values: nothing is held, and cancellation stops it
	return &planTable{cols: cols, ordered: true, size: size, ingest: ingestNull, open: func(*qctx) (RowIter, error) {
		var next func() (Value, bool)
		switch t {
		case TypeLong, TypeDateTime, TypeTimeSpan:
			s := step.i
			if s == 0 {
				return nil, fmtErr("range step must not be zero")
			}
			v, end, done := from.i, to.i, false
			next = func() (Value, bool) {
				if done || s > 0 && v > end || s < 0 && v < end {
					return Value{}, false
				}
				out := Value{T: t, ok: true, i: v}
				if nv := v + s; (s > 0) != (nv > v) {
					done = true // overflow
				} else {
					v = nv
				}
				return out, true
			}
		case TypeReal:
			s := step.AsReal()
			if s == 0 || s != s {
				return nil, fmtErr("range step must be a non-zero number")
			}
			v, end := from.AsReal(), to.AsReal()
			next = func() (Value, bool) {
				if s > 0 && v > end || s < 0 && v < end {
					return Value{}, false
				}
				out := Real(v)
				v += s
				return out, true
			}
		default:
			return nil, fmtErr("range over %s is not supported", t)
		}
		// rows are cut from slabs of 1024 values: one allocation per
		// slab instead of one per row
		n := 0
		var slab []Value
		return &funcIter{next: func(ctx context.Context) (Row, error) {
			n++
			if n&0xFFF == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			v, ok := next()
			if !ok {
				return nil, io.EOF
			}
			if len(slab) == 0 {
				slab = make([]Value, 1024)
			}
			r := Row(slab[:1:1])
			r[0] = v
			slab = slab[1:]
			return r, nil
		}}, nil
	}}, nil
}
