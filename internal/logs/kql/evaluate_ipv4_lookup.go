package kql

import "context"

// compileIPv4Lookup plans "evaluate ipv4_lookup(LookupTable,
// SourceIPv4Key, LookupKey [, return_unmatched])": each input row joined
// with the lookup rows whose key (an address or a prefix such as
// 10.0.0.0/8) holds the row's address (itself possibly a prefix: it must
// fall wholly inside); the columns are the input's, then the lookup
// table's (renamed when the names collide). Without return_unmatched (or
// with false) rows that match nothing are dropped; with true they are kept
// with nulls. A row matching several lookup rows is output once per match.
// The input streams; the lookup table is held, indexed by prefix length.
func compileIPv4Lookup(sc *scope, in *planTable, o *RawOp, args []Assign) (*planTable, error) {
	if len(args) < 3 || len(args) > 4 {
		return nil, errAt(o, "ipv4_lookup takes a lookup table, the input's address column, the lookup table's key column and optionally return_unmatched")
	}
	for i, a := range args[:3] {
		if a.Name != "" {
			return nil, errAt(a.X, "ipv4_lookup's argument %d cannot be named", i+1)
		}
	}
	lt, err := compileTabExpr(sc.q, sc.env, args[0].X)
	if err != nil {
		return nil, err
	}
	colArg := func(a Assign, cols []Column, what string) (int, error) {
		id, ok := a.X.(*Ident)
		if ok {
			if i := colIndex(cols, id.Name); i >= 0 && cols[i].Type == TypeString {
				return i, nil
			}
		}
		return -1, errAt(a.X, "ipv4_lookup's %s must be a string column", what)
	}
	src, err := colArg(args[1], in.cols, "source key")
	if err != nil {
		return nil, err
	}
	key, err := colArg(args[2], lt.cols, "lookup key")
	if err != nil {
		return nil, err
	}
	unmatched := false
	if len(args) == 4 {
		if args[3].Name != "" && args[3].Name != "return_unmatched" {
			return nil, errAt(args[3].X, "ipv4_lookup has no argument '%s'", args[3].Name)
		}
		v, err := sc.constant(args[3].X, "ipv4_lookup's return_unmatched")
		if err != nil {
			return nil, err
		}
		if v.T != TypeBool || !v.ok {
			return nil, errAt(args[3].X, "ipv4_lookup's return_unmatched must be true or false")
		}
		unmatched = v.i != 0
	}
	cols := append([]Column(nil), in.cols...)
	for _, c := range lt.cols {
		cols = append(cols, Column{Name: uniqueName(cols, c.Name), Type: c.Type})
	}
	nulls := make(Row, len(lt.cols))
	for i, c := range lt.cols {
		nulls[i] = Null(c.Type)
	}
	return &planTable{cols: cols, open: func(q *qctx) (RowIter, error) {
		lrows, err := q.readAll(lt)
		if err != nil {
			return nil, err
		}
		// index[p] maps a /p network address to the lookup rows with that key
		var index [33]map[uint32][]int
		for i, r := range lrows {
			addr, p, ok := ipv4Of(r[key].s)
			if !ok || r[key].IsNull() {
				continue
			}
			if index[p] == nil {
				index[p] = map[uint32][]int{}
			}
			index[p][mask4(addr, p)] = append(index[p][mask4(addr, p)], i)
		}
		it, err := in.open(q)
		if err != nil {
			return nil, err
		}
		var ready []Row
		return &funcIter{next: func(ctx context.Context) (Row, error) {
			for len(ready) == 0 {
				r, err := it.Next(ctx)
				if err != nil {
					return nil, err
				}
				if err := q.gov.tick(ctx); err != nil {
					return nil, err
				}
				addr, sp, ok := ipv4Of(r[src].s)
				if ok && !r[src].IsNull() {
					for p := 0; p <= sp; p++ {
						for _, li := range index[p][mask4(addr, p)] {
							ready = append(ready, joinRow(r, lrows[li], len(cols)))
						}
					}
				}
				if len(ready) == 0 && unmatched {
					ready = append(ready, joinRow(r, nulls, len(cols)))
				}
			}
			r := ready[0]
			ready = ready[1:]
			return r, nil
		}, close: it.Close}, nil
	}}, nil
}

// joinRow is the left row followed by the right row.
func joinRow(l, r Row, n int) Row {
	out := make(Row, 0, n)
	return append(append(out, l...), r...)
}
