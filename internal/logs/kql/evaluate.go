package kql

import "sort"

// compileEvaluate plans the evaluate operator: the bag_unpack, pivot,
// narrow, basket, diffpatterns, autocluster, rows_near, sequence_detect,
// dcount_intersect and ipv4_lookup plugins.
func compileEvaluate(sc *scope, in *planTable, o *RawOp) (*planTable, error) {
	// plugins whose arguments can be named (name = value)
	if name, args, err := rawNamedCall(o); name == "sequence_detect" || name == "ipv4_lookup" {
		if err != nil {
			return nil, err
		}
		if name == "ipv4_lookup" {
			return compileIPv4Lookup(sc, in, o, args)
		}
		return compileSequenceDetect(sc, in, o, args)
	}
	call, ok := rawCall(o)
	if !ok {
		return nil, errAt(o, "evaluate needs a plugin call")
	}
	switch call.Name {
	case "bag_unpack":
		return compileBagUnpack(sc, in, o, call)
	case "pivot":
		return compilePivot(sc, in, o, call)
	case "narrow":
		return compileNarrow(sc, in, o, call)
	case "basket":
		return compileBasket(sc, in, o, call)
	case "diffpatterns":
		return compileDiffPatterns(sc, in, o, call)
	case "autocluster":
		return compileAutocluster(sc, in, o, call)
	case "rows_near":
		return compileRowsNear(sc, in, o, call)
	case "dcount_intersect":
		return compileDcountIntersect(sc, in, o, call)
	case "sliding_window_counts":
		return compileSlidingWindowCounts(sc, in, o, call)
	case "active_users_count":
		return compileActiveUsersCount(sc, in, o, call)
	case "session_count":
		return compileSessionCount(sc, in, o, call)
	case "rolling_percentile":
		return compileRollingPercentile(sc, in, o, call)
	case "activity_counts_metrics":
		return compileActivityCountsMetrics(sc, in, o, call)
	case "activity_metrics":
		return compileActivityMetrics(sc, in, o, call)
	case "activity_engagement":
		return compileActivityEngagement(sc, in, o, call)
	case "new_activity_metrics":
		return compileNewActivityMetrics(sc, in, o, call)
	case "funnel_sequence_completion":
		return compileFunnelSequenceCompletion(sc, in, o, call)
	case "funnel_sequence":
		return nil, errNotLast(o, "evaluate plugin 'funnel_sequence'")
	}
	return nil, errAt(o, "evaluate plugin '%s' is not supported", call.Name)
}

// compileBagUnpack expands a dynamic bag column into one column per key.
// The output schema depends on the data, so the input is read while
// planning; column types are inferred from the values (long, real, string,
// bool, else dynamic).
func compileBagUnpack(sc *scope, in *planTable, at Node, call *Call) (*planTable, error) {
	if len(call.Args) < 1 {
		return nil, errAt(at, "bag_unpack needs a column")
	}
	id, ok := call.Args[0].(*Ident)
	if !ok || sc.col(id.Name) < 0 || in.cols[sc.col(id.Name)].Type != TypeDynamic {
		return nil, errAt(at, "bag_unpack needs a dynamic column")
	}
	src := sc.col(id.Name)
	prefix := ""
	if len(call.Args) > 1 {
		l, ok := call.Args[1].(*Lit)
		if !ok || l.Val.T != TypeString {
			return nil, errAt(at, "bag_unpack's prefix must be a string")
		}
		prefix = l.Val.s
	}
	t, err := materialize(sc.q, in)
	if err != nil {
		return nil, err
	}
	rows, err := runPlan(sc.q, t)
	if err != nil {
		return nil, err
	}
	var keys []string
	types := map[string]Type{}
	for _, r := range rows {
		b, ok := r[src].d.(*Bag)
		if !ok || r[src].T != TypeDynamic {
			continue
		}
		for _, k := range b.Keys {
			vt := inferType(b.M[k])
			old, seen := types[k]
			switch {
			case !seen:
				keys = append(keys, k)
				types[k] = vt
			case old == TypeUnknown:
				types[k] = vt
			case vt != TypeUnknown && vt != old:
				if old.isNumeric() && vt.isNumeric() {
					types[k] = TypeReal
				} else {
					types[k] = TypeDynamic
				}
			}
		}
	}
	// Kusto orders the unpacked columns by name, not by their order in
	// the bags (the plugin's documented example turns {"Name", "Age"}
	// into the columns Age, Name).
	sort.Strings(keys)
	var cols []Column
	var keep []int
	for i, c := range in.cols {
		if i != src {
			cols = append(cols, c)
			keep = append(keep, i)
		}
	}
	first := len(cols)
	for _, k := range keys {
		typ := types[k]
		if typ == TypeUnknown {
			typ = TypeDynamic
		}
		cols = append(cols, Column{Name: uniqueName(cols, prefix+k), Type: typ})
	}
	out := make([]Row, len(rows))
	for n, r := range rows {
		o := make(Row, len(cols))
		for j, i := range keep {
			o[j] = r[i]
		}
		b, _ := r[src].d.(*Bag)
		for j, k := range keys {
			c := cols[first+j]
			v := Null(c.Type)
			if b != nil {
				if x, ok := b.M[k]; ok {
					v = castTo(scalarOf(Dynamic(x)), c.Type)
					if c.Type == TypeDynamic {
						v = Dynamic(x)
					}
				}
			}
			o[first+j] = v
		}
		out[n] = o
	}
	return tableOf(cols, out), nil
}

// inferType gives the column type bag_unpack uses for a JSON value.
func inferType(x any) Type {
	switch x.(type) {
	case nil:
		return TypeUnknown
	case bool:
		return TypeBool
	case int64:
		return TypeLong
	case float64:
		return TypeReal
	case string:
		return TypeString
	}
	return TypeDynamic
}
