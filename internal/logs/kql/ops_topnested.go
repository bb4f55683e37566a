package kql

import "sort"

// topLevel is one compiled top-nested clause.
type topLevel struct {
	n      int64 // -1 for all values
	of     cexpr
	agg    aggSpec
	asc    bool
	others *Value // the "with others" value, nil without it
	keyT   Type
	aggT   Type
}

// constant compiles e, which must be a constant, and gives its value.
func (s *scope) constant(e Expr, what string) (Value, error) {
	c, err := s.compileExpr(e)
	if err != nil {
		return Value{}, err
	}
	return constValue(c, e, what)
}

// compileTopNested plans top-nested: each clause partitions the rows of
// the level above by its expression, keeps the top N partitions by its
// aggregate and goes on inside each of them. With "with others = V" a
// clause adds one record (value V) aggregating the rows of the partitions
// that did not make its top; the clauses below it give that record their
// own others value and aggregate over the same rows, or null when they
// have no "with others" (the documented StormEvents example). Records
// come in depth-first order, then the others records, deepest first.
func compileTopNested(sc *scope, in *planTable, o *TopNested) (*planTable, error) {
	var levels []topLevel
	var cols []Column
	for _, l := range o.Levels {
		lv := topLevel{n: -1, asc: l.Asc}
		if l.N != nil {
			v, err := sc.constant(l.N, "top-nested's count")
			if err != nil {
				return nil, err
			}
			if !v.T.isNumeric() || !v.ok || v.T == TypeReal {
				return nil, errAt(l.N, "top-nested's count must be an integer")
			}
			lv.n = v.i
			if lv.n < 0 {
				return nil, errAt(l.N, "top-nested's count cannot be negative")
			}
		}
		of, err := sc.compileExpr(l.Of.X)
		if err != nil {
			return nil, err
		}
		lv.of = of
		lv.keyT = concreteType(of.t)
		name := l.Of.Name
		if name == "" {
			name = derivedName(l.Of.X)
		}
		if l.Others != nil {
			v, err := sc.constant(l.Others, "top-nested's others value")
			if err != nil {
				return nil, err
			}
			if v.T != lv.keyT && !(v.T.isNumeric() && lv.keyT.isNumeric()) {
				return nil, errAt(l.Others, "top-nested's others value is %s but %s is %s", v.T, name, lv.keyT)
			}
			v = castTo(v, lv.keyT)
			lv.others = &v
		}
		call, ok := l.By.X.(*Call)
		if !ok || !isAggregate(call.Name) {
			return nil, errAt(l.By.X, "top-nested needs an aggregate after by")
		}
		aggName := l.By.Name
		if aggName == "" {
			aggName = "aggregated_" + name
		}
		lv.agg, err = compileAgg(sc, call, aggName)
		if err != nil {
			return nil, err
		}
		lv.aggT = lv.agg.cols[0].Type
		cols = append(cols, Column{Name: uniqueName(cols, name), Type: lv.keyT})
		cols = append(cols, Column{Name: uniqueName(cols, aggName), Type: lv.aggT})
		levels = append(levels, lv)
	}
	// othersBelow[d]: some clause at depth d or deeper has "with others"
	othersBelow := make([]bool, len(levels)+1)
	for d := len(levels) - 1; d >= 0; d-- {
		othersBelow[d] = othersBelow[d+1] || levels[d].others != nil
	}
	return blocking(in, cols, func(q *qctx, rows []Row) ([]Row, error) {
		aggregate := func(lv topLevel, rows []Row) Value {
			st := govern(lv.agg.newState(), q.gov)
			for _, r := range rows {
				st.add(r)
			}
			out := make([]Value, 1)
			st.result(out)
			return out[0]
		}
		// buckets[0] holds full records; buckets[d+1] the others records
		// that start at depth d
		buckets := make([][]Row, len(levels)+1)
		var walk func(rows []Row, depth int, prefix Row) error
		walk = func(rows []Row, depth int, prefix Row) error {
			if depth == len(levels) {
				buckets[0] = q.keep(buckets[0], append(Row(nil), prefix...), "top-nested operator")
				return nil
			}
			lv := levels[depth]
			type group struct {
				key  Value
				rows []Row
				st   aggState
				agg  Value
			}
			index := map[string]*group{}
			var groups []*group
			for _, r := range rows {
				k := lv.of.f(r)
				ks := keyOf([]Value{k})
				g := index[ks]
				if g == nil {
					g = &group{key: k, st: govern(lv.agg.newState(), q.gov)}
					index[ks] = g
					groups = append(groups, g)
				}
				g.rows = append(g.rows, r)
				g.st.add(r)
			}
			for _, g := range groups {
				tmp := make([]Value, 1)
				g.st.result(tmp)
				g.agg = tmp[0]
			}
			sort.SliceStable(groups, func(i, j int) bool {
				return sortCompare(groups[i].agg, groups[j].agg, lv.asc, false) < 0
			})
			var rest []*group
			if lv.n >= 0 && int64(len(groups)) > lv.n {
				groups, rest = groups[:lv.n], groups[lv.n:]
			}
			for _, g := range groups {
				if err := walk(g.rows, depth+1, append(prefix[:len(prefix):len(prefix)], g.key, g.agg)); err != nil {
					return err
				}
			}
			if len(rest) == 0 || !othersBelow[depth] {
				return nil
			}
			var restRows []Row
			for _, g := range rest {
				restRows = append(restRows, g.rows...)
			}
			rec := append(Row(nil), prefix...)
			for d := depth; d < len(levels); d++ {
				l := levels[d]
				if l.others == nil {
					rec = append(rec, Null(l.keyT), Null(l.aggT))
					continue
				}
				rec = append(rec, *l.others, aggregate(l, restRows))
			}
			buckets[depth+1] = q.keep(buckets[depth+1], rec, "top-nested operator")
			return nil
		}
		if err := walk(rows, 0, nil); err != nil {
			return nil, err
		}
		out := buckets[0]
		for d := len(levels); d >= 1; d-- {
			out = append(out, buckets[d]...)
		}
		return out, nil
	}), nil
}
