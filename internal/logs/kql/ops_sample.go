package kql

import (
	"context"
	mrand "math/rand/v2"
	"strings"
)

// rawCall parses the text after an operator as one call, f(args).
func rawCall(o *RawOp) (*Call, bool) {
	toks, err := lexRawOp(o)
	if err != nil {
		return nil, false
	}
	p := &parser{src: o.Text, toks: toks}
	var call *Call
	func() {
		defer func() {
			if r := recover(); r != nil {
				call = nil
			}
		}()
		call, _ = p.parsePostfix().(*Call)
	}()
	return call, call != nil && p.peek().kind == tEOF
}

// compileSample plans "sample N" (N rows picked at random) and
// "sample-distinct N of column" (N distinct values of a column, picked at
// random). The input is read through the governor.
func compileSample(sc *scope, in *planTable, o *RawOp) (*planTable, error) {
	text := strings.TrimSpace(o.Text)
	distinct := strings.HasPrefix(text, "-distinct")
	if distinct {
		text = strings.TrimSpace(strings.TrimPrefix(text, "-distinct"))
	}
	toks, err := lex(text)
	if err != nil {
		return nil, errAt(o, "sample: %v", err)
	}
	p := &parser{src: text, toks: toks}
	var nExpr, col Expr
	perr := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = errAt(o, "sample needs a row count: sample N, or sample-distinct N of column")
			}
		}()
		nExpr = p.parseExpr()
		if distinct {
			p.expectWord("of")
			col = p.parseExpr()
		}
		if p.peek().kind != tEOF {
			panic("trailing")
		}
		return nil
	}()
	if perr != nil {
		return nil, perr
	}
	nc, err := (&scope{env: sc.env, q: sc.q}).compileExpr(nExpr)
	if err != nil {
		return nil, err
	}
	nv := scalarOf(nc.f(nil))
	if !nc.konst || !isIntegral(nv.T) || nv.IsNull() || nv.i < 0 {
		return nil, errAt(o, "sample needs a constant, non-negative row count")
	}
	n := int(nv.i)
	if !distinct {
		return &planTable{cols: in.cols, open: func(q *qctx) (RowIter, error) {
			rows, err := runPlan(q, in)
			if err != nil {
				return nil, err
			}
			mrand.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
			return &sliceIter{rows: rows[:min(n, len(rows))]}, nil
		}}, nil
	}
	cc, err := (&scope{cols: in.cols, env: sc.env, q: sc.q}).compileExpr(col)
	if err != nil {
		return nil, err
	}
	name := derivedName(col)
	if name == "" {
		name = "Column1"
	}
	cols := []Column{{Name: name, Type: concreteType(cc.t)}}
	return &planTable{cols: cols, open: func(q *qctx) (RowIter, error) {
		rows, err := runPlan(q, in)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		var vals []Row
		for _, r := range rows {
			v := cc.f(r)
			k := keyOf([]Value{v})
			if !seen[k] {
				seen[k] = true
				vals = append(vals, Row{withType(v, cols[0].Type)})
			}
		}
		mrand.Shuffle(len(vals), func(i, j int) { vals[i], vals[j] = vals[j], vals[i] })
		return &sliceIter{rows: vals[:min(n, len(vals))]}, nil
	}}, nil
}

// invokeInput names the piped table while an invoke's function is planned;
// no query can spell a name with a space.
const invokeInput = "invoke input"

// compileInvoke plans "T | invoke f(args)": f's first, tabular parameter
// receives T.
func compileInvoke(sc *scope, in *planTable, o *RawOp) (*planTable, error) {
	call, ok := rawCall(o)
	if !ok {
		return nil, errAt(o, "invoke needs a function call: invoke f(...)")
	}
	b := sc.env.lookup(call.Name)
	if b == nil || b.fn == nil {
		return nil, errAt(o, "invoke: '%s' is not a function defined by let", call.Name)
	}
	if len(b.fn.Params) == 0 || !strings.HasPrefix(b.fn.Params[0].Type, "(") {
		return nil, errAt(o, "invoke: the first parameter of '%s' must be a table", call.Name)
	}
	e := sc.env.child()
	e.vars[invokeInput] = &binding{table: in}
	args := append([]Expr{&Ident{At: call.At, Name: invokeInput}}, call.Args...)
	return callTabular(sc.q, e, call, b, args, false)
}

// compileConsume reads its input to the end and returns no rows.
func compileConsume(in *planTable, o *RawOp) (*planTable, error) {
	if t := strings.TrimSpace(o.Text); t != "" && !strings.HasPrefix(t, "decodeblocks") {
		return nil, errAt(o, "consume takes no arguments but decodeblocks")
	}
	return &planTable{cols: in.cols, open: func(q *qctx) (RowIter, error) {
		it, err := in.open(q)
		if err != nil {
			return nil, err
		}
		return &consumeIter{in: it}, nil
	}}, nil
}

type consumeIter struct{ in RowIter }

func (c *consumeIter) Next(ctx context.Context) (Row, error) {
	for {
		if _, err := c.in.Next(ctx); err != nil {
			return nil, err
		}
	}
}

func (c *consumeIter) Close() error { return c.in.Close() }
