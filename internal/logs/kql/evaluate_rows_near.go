package kql

import (
	"context"
	"math"
)

// compileRowsNear plans "evaluate rows_near(Condition, NumRows [,
// RowsAfter])": the rows of a serialized input that are within NumRows
// before, or RowsAfter (NumRows when omitted) after, a row where Condition
// is true, each once, in input order. It streams, holding at most NumRows
// rows.
func compileRowsNear(sc *scope, in *planTable, at Node, call *Call) (*planTable, error) {
	if !in.ordered {
		return nil, errAt(at, "rows_near needs serialized rows (add sort, serialize or top)")
	}
	if len(call.Args) < 2 || len(call.Args) > 3 {
		return nil, errAt(at, "rows_near takes a condition, the number of rows and optionally the number of rows after")
	}
	cond, err := sc.compileExpr(call.Args[0])
	if err != nil {
		return nil, err
	}
	if !boolish(cond.t) {
		return nil, errAt(call.Args[0], "rows_near needs a bool condition, not %s", cond.t)
	}
	a := &pluginArgs{sc: sc, in: in, at: at, name: "rows_near", args: call.Args}
	before, err := a.integer(1, "number of rows", 0, 0, math.MaxInt32)
	if err != nil {
		return nil, err
	}
	after := before
	if len(call.Args) == 3 {
		if after, err = a.integer(2, "number of rows after", 0, 0, math.MaxInt32); err != nil {
			return nil, err
		}
	}
	return &planTable{cols: in.cols, open: func(q *qctx) (RowIter, error) {
		it, err := in.open(q)
		if err != nil {
			return nil, err
		}
		// ring holds the last rows not output yet (at most before of them),
		// the oldest at head; ready the rows to output
		var ring, ready []Row
		head := 0
		afterLeft := 0
		return &funcIter{next: func(ctx context.Context) (Row, error) {
			for len(ready) == 0 {
				r, err := it.Next(ctx)
				if err != nil {
					return nil, err // io.EOF included: the rows left in ring are not near a match
				}
				if err := q.gov.tick(ctx); err != nil {
					return nil, err
				}
				v := scalarOf(cond.f(r))
				switch {
				case v.ok && v.T == TypeBool && v.i != 0:
					ready = append(append(append(ready, ring[head:]...), ring[:head]...), r)
					ring, head = ring[:0], 0
					afterLeft = after
				case afterLeft > 0:
					ready = append(ready, r)
					afterLeft--
				case before > 0 && len(ring) < before:
					if len(ring) == cap(ring) {
						// the ring grows to before rows at most: count it as it grows
						if err := q.gov.grow("rows_near plugin", rowBytes(r)*int64(len(ring)+1)); err != nil {
							return nil, err
						}
					}
					ring = append(ring, r)
				case before > 0:
					ring[head] = r
					head = (head + 1) % before
				}
			}
			r := ready[0]
			ready = ready[1:]
			return r, nil
		}, close: it.Close}, nil
	}}, nil
}
