package kql

import (
	"context"
	"fmt"
	"io"
	"iter"
	"strings"
)

// planTable is a compiled tabular expression: its output schema and a
// function that starts a fresh execution of it.
type planTable struct {
	cols []Column
	open func(q *qctx) (RowIter, error)
	// ordered marks a serialized row order (after sort, top, serialize,
	// range), which window functions require
	ordered bool
	// size, when set, gives the number of rows without producing them
	// (range knows it from its bounds), so count need not stream them
	size func() (int64, bool)
	// ingest says what ingestion_time() reads over these rows; when it is
	// ingestCarried each row holds one value more than cols (ingestion.go)
	ingest ingestState
}

func tableOf(cols []Column, rows []Row) *planTable {
	return &planTable{cols: cols, open: func(*qctx) (RowIter, error) { return &sliceIter{rows: rows}, nil }}
}

// funcIter adapts a next function to RowIter.
type funcIter struct {
	next  func(ctx context.Context) (Row, error)
	close func() error
}

func (f *funcIter) Next(ctx context.Context) (Row, error) { return f.next(ctx) }

func (f *funcIter) Close() error {
	if f.close != nil {
		return f.close()
	}
	return nil
}

// compilePipeline plans a pipeline in an environment. Its rows never carry
// the hidden ingestion time: whatever consumes them (a join, a union, the
// result) knows only their columns.
func compilePipeline(q *qctx, e *env, p *Pipeline) (*planTable, error) {
	t, err := compilePipelineKeep(q, e, p)
	if err != nil {
		return nil, err
	}
	return stripIngest(t), nil
}

// compilePipelineKeep plans a pipeline whose rows may still carry the
// hidden ingestion time, for the pipeline that continues it (a tabular
// let or subquery named as a pipeline's source).
func compilePipelineKeep(q *qctx, e *env, p *Pipeline) (*planTable, error) {
	ops := p.Ops
	var t *planTable
	var err error
	if es, ok := p.Source.(*ExprSource); ok {
		if id, ok := es.X.(*Ident); ok && e.lookup(id.Name) == nil {
			t, ops, err = planScan(q, e, id, ops)
		} else {
			t, err = compileTabExprKeep(q, e, es.X)
		}
	} else {
		t, err = compileSource(q, e, p.Source)
	}
	if err != nil {
		return nil, err
	}
	for _, op := range ops {
		if t, err = compileOp(q, e, t, op); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// compileTabExprKeep is compileTabExpr for a pipeline's source: a
// subquery or a tabular let keeps the rows' hidden ingestion time for the
// operators that follow.
func compileTabExprKeep(q *qctx, e *env, x Expr) (*planTable, error) {
	switch n := x.(type) {
	case *SubQuery:
		return compilePipelineKeep(q, e, n.Q)
	case *Ident:
		if b := e.lookup(n.Name); b != nil && b.tab != nil {
			return compilePipelineKeep(q, b.tabEnv, b.tab)
		} else if b != nil && b.fn != nil {
			return callTabular(q, e, n, b, nil, true)
		}
	case *Call:
		if b := e.lookup(n.Name); b != nil && b.fn != nil {
			return callTabular(q, e, n, b, n.Args, true)
		}
	}
	return compileTabExpr(q, e, x)
}

// compileTabExpr plans an expression that names or computes a table: a let
// name, a subquery, materialize(), or a call of a tabular function.
func compileTabExpr(q *qctx, e *env, x Expr) (*planTable, error) {
	switch n := x.(type) {
	case *SubQuery:
		return compilePipeline(q, e, n.Q)
	case *Ident:
		b := e.lookup(n.Name)
		switch {
		case b == nil:
			t, _, err := planScan(q, e, n, nil)
			if err != nil {
				return nil, err
			}
			return stripIngest(t), nil
		case b.table != nil:
			return b.table, nil
		case b.tab != nil:
			return compilePipeline(q, b.tabEnv, b.tab)
		case b.fn != nil:
			return callTabular(q, e, n, b, nil, false)
		}
		return nil, errAt(n, "'%s' is a scalar, not a table", n.Name)
	case *Call:
		switch n.Name {
		case "materialize", "view":
			if len(n.Args) != 1 {
				return nil, errAt(n, "%s takes one tabular argument", n.Name)
			}
			t, err := compileTabExpr(q, e, n.Args[0])
			if err != nil {
				return nil, err
			}
			return materialize(q, t)
		case "table":
			if len(n.Args) == 1 {
				if l, ok := n.Args[0].(*Lit); ok && l.Val.T == TypeString {
					return compileTabExpr(q, e, &Ident{At: n.At, Name: l.Val.s})
				}
			}
		}
		if b := e.lookup(n.Name); b != nil && b.fn != nil {
			return callTabular(q, e, n, b, n.Args, false)
		}
		return nil, errAt(n, "unknown tabular function '%s'", n.Name)
	}
	return nil, errAt(x, "expected a tabular expression")
}

// materialize runs a plan once and keeps its rows.
func materialize(q *qctx, t *planTable) (*planTable, error) {
	it, err := t.open(q)
	if err != nil {
		return nil, err
	}
	rows, err := q.drain(it, "materialize operator")
	if err != nil {
		return nil, err
	}
	return tableOf(t.cols, rows), nil
}

// callTabular plans a call of a user-defined tabular function; with keep
// its rows may carry the hidden ingestion time (a pipeline's source).
func callTabular(q *qctx, e *env, call Node, b *binding, args []Expr, keep bool) (*planTable, error) {
	f := b.fn
	if err := q.gov.enter(call, f, funcName(call)); err != nil {
		return nil, err
	}
	defer q.gov.leave(f)
	fe := b.fnEnv.child()
	for i, p := range f.Params {
		if strings.HasPrefix(p.Type, "(") {
			if i >= len(args) {
				return nil, errAt(call, "missing tabular argument %s", p.Name)
			}
			t, err := compileTabExpr(q, e, args[i])
			if err != nil {
				return nil, err
			}
			fe.vars[p.Name] = &binding{table: t}
			continue
		}
		var c cexpr
		var err error
		switch {
		case i < len(args):
			c, err = (&scope{env: e, q: q}).compileExpr(args[i])
		case p.Default != nil:
			c, err = (&scope{env: b.fnEnv, q: q}).compileExpr(p.Default)
		default:
			return nil, errAt(call, "missing argument %s", p.Name)
		}
		if err != nil {
			return nil, err
		}
		if !c.konst {
			return nil, errAt(call, "arguments of a tabular function must be constants")
		}
		c = convertTo(c, typeByName[strings.ToLower(p.Type)])
		fe.vars[p.Name] = &binding{scalar: &c}
	}
	for _, l := range f.Lets {
		if err := bindLet(q, fe, l); err != nil {
			return nil, err
		}
	}
	if keep {
		return compileTabExprKeep(q, fe, f.Result)
	}
	return compileTabExpr(q, fe, f.Result)
}

// bindLet adds a let statement to an environment. Scalar lets are compiled
// once (constants fold); tabular lets are re-planned at each use.
func bindLet(q *qctx, e *env, l *Let) error {
	if l.Func != nil {
		e.vars[l.Name] = &binding{fn: l.Func, fnEnv: e}
		return nil
	}
	if isTabular(e, l.Value) {
		if sq, ok := l.Value.(*SubQuery); ok {
			e.vars[l.Name] = &binding{tab: sq.Q, tabEnv: e}
			return nil
		}
		t, err := compileTabExpr(q, e, l.Value)
		if err != nil {
			return err
		}
		e.vars[l.Name] = &binding{table: t}
		return nil
	}
	if c, ok := l.Value.(*Call); ok && c.Name == "__param" {
		v := Null(typeByName[strings.ToLower(c.Args[0].(*Ident).Name)])
		ce := constExpr(v)
		e.vars[l.Name] = &binding{scalar: &ce}
		return nil
	}
	c, err := (&scope{env: e, q: q}).compileExpr(l.Value)
	if err != nil {
		return err
	}
	c = fold(c)
	e.vars[l.Name] = &binding{scalar: &c}
	return nil
}

// isTabular decides whether a let value is a table.
func isTabular(e *env, x Expr) bool {
	switch n := x.(type) {
	case *SubQuery:
		return true
	case *Ident:
		b := e.lookup(n.Name)
		return b != nil && (b.tab != nil || b.table != nil || b.fn != nil && resultIsTabular(b.fn))
	case *Call:
		if n.Name == "materialize" || n.Name == "view" {
			return true
		}
		b := e.lookup(n.Name)
		return b != nil && b.fn != nil && resultIsTabular(b.fn)
	}
	return false
}

func resultIsTabular(f *FuncDef) bool {
	_, ok := f.Result.(*SubQuery)
	if ok {
		return true
	}
	if id, ok := f.Result.(*Ident); ok {
		for _, p := range f.Params {
			if p.Name == id.Name && strings.HasPrefix(p.Type, "(") {
				return true
			}
		}
	}
	return false
}

// streamMap builds a streaming operator that maps each input row to zero or
// one output row.
func streamMap(in *planTable, cols []Column, f func(Row) (Row, bool)) *planTable {
	return &planTable{cols: cols, open: func(q *qctx) (RowIter, error) {
		it, err := in.open(q)
		if err != nil {
			return nil, err
		}
		return &funcIter{next: func(ctx context.Context) (Row, error) {
			for {
				r, err := it.Next(ctx)
				if err != nil {
					return nil, err
				}
				if out, ok := f(r); ok {
					return out, nil
				}
			}
		}, close: it.Close}, nil
	}}
}

// blocking builds an operator that reads all of its input and then emits
// computed rows.
func blocking(in *planTable, cols []Column, f func(q *qctx, rows []Row) ([]Row, error)) *planTable {
	return &planTable{cols: cols, open: func(q *qctx) (RowIter, error) {
		rows, err := q.readAll(in)
		if err != nil {
			return nil, err
		}
		out, err := f(q, rows)
		if err != nil {
			return nil, err
		}
		return &sliceIter{rows: out}, nil
	}}
}

var errStop = io.EOF

func unknownColumn(n Node, name string) error {
	return errAt(n, "unknown column '%s'", name)
}

func fmtErr(format string, args ...any) error { return fmt.Errorf(format, args...) }

// drain reads an iterator to the end under the governor: each row kept is
// counted against the memory budget (what names the operator for the
// error), and the context is checked as rows arrive.
func (q *qctx) drain(it RowIter, what string) ([]Row, error) {
	defer it.Close()
	var out []Row
	for {
		r, err := it.Next(q.ctx)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if err := q.gov.grow(what, rowBytes(r)); err != nil {
			return nil, err
		}
		if err := q.gov.tick(q.ctx); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
}

// keep appends r to rows a blocking operator builds, counting it against
// the memory budget and checking the context; over budget or cancelled it
// panics with the governor's *LimitError (returned by the recover points).
func (q *qctx) keep(rows []Row, r Row, what string) []Row {
	q.gov.mustGrow(what, rowBytes(r))
	if err := q.gov.tick(q.ctx); err != nil {
		panic(err)
	}
	return append(rows, r)
}

// streamingOutput builds an operator that reads all of its input and then
// produces rows one at a time through yield (join's output can be the
// product of its sides: it is never held, so result truncation or a take
// ends it early). gen returns when yield reports false.
func streamingOutput(in *planTable, cols []Column, gen func(q *qctx, rows []Row, yield func(Row) bool) error) *planTable {
	return &planTable{cols: cols, open: func(q *qctx) (RowIter, error) {
		rows, err := q.readAll(in)
		if err != nil {
			return nil, err
		}
		var genErr error
		next, stop := iter.Pull(func(yield func(Row) bool) {
			genErr = gen(q, rows, func(r Row) bool {
				if err := q.gov.tick(q.ctx); err != nil {
					genErr = err
					return false
				}
				return yield(r)
			})
		})
		return &funcIter{next: func(context.Context) (Row, error) {
			r, ok := next()
			if !ok {
				if genErr != nil {
					return nil, genErr
				}
				return nil, io.EOF
			}
			return r, nil
		}, close: func() error { stop(); return nil }}, nil
	}}
}

// readAll runs a blocking operator's input and keeps its rows, counted.
func (q *qctx) readAll(in *planTable) ([]Row, error) {
	it, err := in.open(q)
	if err != nil {
		return nil, err
	}
	return q.drain(it, "operator's input")
}
