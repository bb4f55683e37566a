package kql

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// keyOf encodes values as a map key that distinguishes types and nulls.
func keyOf(vals []Value) string { return string(appendKey(nil, vals)) }

// appendKey appends the key encoding of vals to b; summarize reuses one
// buffer so that looking up an existing group does not allocate.
func appendKey(b []byte, vals []Value) []byte {
	for _, v := range vals {
		v = scalarOfKey(v)
		b = append(b, byte(v.T))
		if v.IsNull() {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		switch v.T {
		case TypeString, TypeGuid:
			b = binary.AppendUvarint(b, uint64(len(v.s)))
			b = append(b, v.s...)
		case TypeDynamic:
			s := jsonCompact(v.d)
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		case TypeDecimal: // with the digits a float64 cannot hold, if any
			b = binary.LittleEndian.AppendUint64(b, uint64(v.i))
			b = binary.AppendUvarint(b, uint64(len(v.s)))
			b = append(b, v.s...)
		default:
			b = binary.LittleEndian.AppendUint64(b, uint64(v.i))
		}
	}
	return b
}

// scalarOfKey normalises int to long so that equal numbers group together.
func scalarOfKey(v Value) Value {
	if v.T == TypeInt {
		v.T = TypeLong
	}
	return v
}

// summarizeName is the default name of an unnamed by-expression: the column
// it reads, also through bin() and floor().
func summarizeName(x Expr) string {
	if n := derivedName(x); n != "" {
		return n
	}
	if c, ok := x.(*Call); ok && (c.Name == "bin" || c.Name == "floor" || c.Name == "bin_at" || conversionFns[c.Name] && len(c.Args) == 1) && len(c.Args) > 0 {
		return summarizeName(c.Args[0])
	}
	return ""
}

// conversionFns are looked through when naming by-expressions and aggregate
// arguments: "by tostring(tag)" is named tag, sum(toint(d.v)) sum_v.
var conversionFns = map[string]bool{
	"tostring": true, "toint": true, "tolong": true, "todouble": true, "toreal": true, "tobool": true,
	"todatetime": true, "totimespan": true, "todecimal": true, "toguid": true,
}

// uniqueName appends 1, 2, ... to name until no column uses it.
func uniqueName(cols []Column, name string) string {
	if colIndex(cols, name) < 0 {
		return name
	}
	for i := 1; ; i++ {
		n := fmt.Sprintf("%s%d", name, i)
		if colIndex(cols, n) < 0 {
			return n
		}
	}
}

// sumAggSlot is one aggregate call of a summarize, with where its columns
// land in the output row.
type sumAggSlot struct {
	spec aggSpec
	at   int // first output column, or -1 for a hidden slot of a postExpr
	post int // the postExpr a hidden slot feeds
	hidx int // its index among that expression's hidden columns
}

// postExpr is an aggregate item that wraps aggregate calls in a scalar
// expression (summarize x = 100.0 * countif(p) / count()).
type postExpr struct {
	c       cexpr
	at      int
	nhidden int
}

// compileBy compiles the by-expressions of summarize and make-series: their
// output columns, evaluators, and the input columns named plainly.
func compileBy(sc *scope, by []Assign) (cols []Column, keys []cexpr, byCols map[string]bool, err error) {
	byCols = map[string]bool{}
	namer := columnNamer{taken: func(n string) bool { return colIndex(cols, n) >= 0 }}
	for _, b := range by {
		c, err := sc.compileExpr(b.X)
		if err != nil {
			return nil, nil, nil, err
		}
		name := b.Name
		if name == "" {
			name = summarizeName(b.X)
		}
		if name == "" {
			name = namer.next()
		}
		if id, ok := b.X.(*Ident); ok {
			byCols[id.Name] = true
		}
		cols = append(cols, Column{Name: uniqueName(cols, name), Type: concreteType(c.t)})
		keys = append(keys, c)
	}
	return cols, keys, byCols, nil
}

func compileSummarize(sc *scope, in *planTable, o *Summarize) (*planTable, error) {
	cols, keys, byCols, err := compileBy(sc, o.By)
	if err != nil {
		return nil, err
	}
	namer := columnNamer{taken: func(n string) bool { return colIndex(cols, n) >= 0 }}
	var slots []sumAggSlot
	var posts []postExpr
	hidden := 0
	for _, a := range o.Aggs {
		call, isCall := a.X.(*Call)
		if isCall && isAggregate(call.Name) {
			sub := &scope{cols: sc.cols, env: sc.env, q: sc.q, ingest: sc.ingest}
			var spec aggSpec
			var err error
			if call.Name == "arg_max" || call.Name == "arg_min" {
				spec, err = compileArgMaxBy(sub, call, a.Name, call.Name == "arg_max", byCols)
			} else {
				spec, err = compileAgg(sub, call, a.Name)
			}
			if err != nil {
				return nil, err
			}
			at := len(cols)
			for _, c := range spec.cols {
				name := c.Name
				if name == "" || strings.HasSuffix(name, "_") && name == c.Name && colIndex(cols, name) >= 0 {
					name = uniqueName(cols, name)
				}
				cols = append(cols, Column{Name: uniqueName(cols, name), Type: c.Type})
			}
			slots = append(slots, sumAggSlot{spec: spec, at: at})
			continue
		}
		// an expression over aggregates: compute each aggregate into a hidden
		// slot, then evaluate the expression over those slots
		var hiddenCols []Column
		var err error
		x := rewriteExpr(a.X, func(e Expr) Expr {
			c, ok := e.(*Call)
			if !ok || !isAggregate(c.Name) || err != nil {
				return e
			}
			spec, e2 := compileAgg(&scope{cols: sc.cols, env: sc.env, q: sc.q, ingest: sc.ingest}, c, "")
			if e2 != nil {
				err = e2
				return e
			}
			name := fmt.Sprintf("__agg%d", hidden)
			hidden++
			slots = append(slots, sumAggSlot{spec: spec, at: -1, post: len(posts), hidx: len(hiddenCols)})
			hiddenCols = append(hiddenCols, Column{Name: name, Type: spec.cols[0].Type})
			return &Ident{At: c.At, Name: name}
		})
		if err != nil {
			return nil, err
		}
		if len(hiddenCols) == 0 {
			return nil, errAt(a.X, "summarize needs an aggregate function here")
		}
		c, err := (&scope{cols: hiddenCols, env: sc.env, q: sc.q}).compileExpr(x)
		if err != nil {
			return nil, err
		}
		name := a.Name
		if name == "" {
			name = namer.next()
		}
		posts = append(posts, postExpr{c: c, at: len(cols), nhidden: len(hiddenCols)})
		cols = append(cols, Column{Name: uniqueName(cols, name), Type: concreteType(c.t)})
	}
	grouped := len(o.By) > 0
	nk := len(keys)
	ncol := len(cols)
	// summarize consumes its input as a stream: only the groups' states
	// are kept, never the input rows
	return &planTable{cols: cols, open: func(q *qctx) (RowIter, error) {
		it, err := in.open(q)
		if err != nil {
			return nil, err
		}
		defer it.Close()
		type group struct {
			key    Row
			states []aggState
		}
		index := map[string]int{}
		var groups []*group
		newGroup := func(key Row) *group {
			g := &group{key: key, states: make([]aggState, len(slots))}
			for i, s := range slots {
				g.states[i] = govern(s.spec.newState(), q.gov)
			}
			return g
		}
		kv := make([]Value, nk)
		var buf []byte
		for {
			r, err := it.Next(q.ctx)
			if err == errStop {
				break
			}
			if err != nil {
				return nil, err
			}
			if err := q.gov.tick(q.ctx); err != nil {
				return nil, err
			}
			for i, k := range keys {
				kv[i] = k.f(r)
			}
			var g *group
			if !grouped {
				if len(groups) == 0 {
					groups = append(groups, newGroup(nil))
				}
				g = groups[0]
			} else {
				buf = appendKey(buf[:0], kv)
				gi, ok := index[string(buf)]
				if !ok {
					gi = len(groups)
					index[string(buf)] = gi
					key := make(Row, nk)
					for i := range kv {
						key[i] = withType(kv[i], cols[i].Type)
					}
					groups = append(groups, newGroup(key))
					if err := q.gov.grow("summarize operator", int64(2*len(buf)+64*len(slots))+rowBytes(key)); err != nil {
						return nil, err
					}
				}
				g = groups[gi]
			}
			for _, st := range g.states {
				st.add(r)
			}
		}
		if !grouped && len(groups) == 0 {
			groups = append(groups, newGroup(nil))
		}
		out := make([]Row, 0, len(groups))
		for _, g := range groups {
			row := make(Row, ncol)
			copy(row, g.key)
			hiddenVals := make([]Row, len(posts))
			for i, p := range posts {
				hiddenVals[i] = make(Row, p.nhidden)
			}
			for i, s := range slots {
				if s.at >= 0 {
					g.states[i].result(row[s.at : s.at+len(s.spec.cols)])
					continue
				}
				g.states[i].result(hiddenVals[s.post][s.hidx : s.hidx+1])
			}
			for pi, p := range posts {
				row[p.at] = withType(p.c.f(hiddenVals[pi]), cols[p.at].Type)
			}
			for i := range row {
				row[i] = withType(row[i], cols[i].Type)
			}
			out = append(out, row)
		}
		return &sliceIter{rows: out}, nil
	}}, nil
}
