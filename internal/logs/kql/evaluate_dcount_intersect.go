package kql

import "fmt"

// compileDcountIntersect plans "evaluate dcount_intersect(hll_1, hll_2
// [, ...])" (2 to 16 hll() values): each row gets s0 = dcount(S1), s1 =
// dcount(S1 ∩ S2), ..., s(n-1) = dcount(S1 ∩ ... ∩ Sn). Steward's hll()
// keeps the distinct values, so the counts are exact. The input columns
// are kept before s0, s1, ...; it streams.
func compileDcountIntersect(sc *scope, in *planTable, at Node, call *Call) (*planTable, error) {
	if len(call.Args) < 2 || len(call.Args) > 16 {
		return nil, errAt(at, "dcount_intersect takes 2 to 16 hll() values, not %d", len(call.Args))
	}
	args, err := sc.compileArgs(call.Args)
	if err != nil {
		return nil, err
	}
	cols := append([]Column(nil), in.cols...)
	for i, a := range args {
		if a.t != TypeDynamic && a.t != TypeUnknown {
			return nil, errAt(call.Args[i], "dcount_intersect needs hll() values, not %s", a.t)
		}
		cols = append(cols, Column{Name: uniqueName(cols, fmt.Sprintf("s%d", i)), Type: TypeLong})
	}
	nin := len(in.cols)
	return streamMap(in, cols, func(r Row) (Row, bool) {
		out := make(Row, len(cols))
		copy(out, r)
		var common map[string]bool
		for i, a := range args {
			next := map[string]bool{}
			for _, e := range sketchItems(scalarOf(a.f(r)), hllKey) {
				k := keyOf([]Value{scalarOf(Dynamic(e))})
				if common == nil || common[k] {
					next[k] = true
				}
			}
			common = next
			out[nin+i] = Long(int64(len(common)))
		}
		return out, true
	}), nil
}
