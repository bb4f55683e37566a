package kql

import "sort"

// The tdigest scalar functions under the names the Kusto reference's
// scalar function list gives them: merge_tdigest (tdigest_merge's scalar
// form), percentile_array_tdigest, and rank_tdigest, the number of values
// at or below a value (its rank: 685 in 1..1000, the reference's example).
// Steward's sketches are exact (see aggs_more.go), so the rank is exact.

func init() {
	register(funcs["tdigest_merge"], "merge_tdigest")
	register(funcs["percentiles_array_tdigest"], "percentile_array_tdigest")
	register(fixed(2, 2, ret(TypeLong), func(_ Type, v []Value) Value {
		vals := sketchFloats(v[0])
		x := scalarOf(v[1])
		if len(vals) == 0 || x.IsNull() || !x.T.isNumeric() && x.T != TypeDateTime && x.T != TypeTimeSpan {
			return Null(TypeLong)
		}
		f := x.AsReal()
		if x.T == TypeDateTime || x.T == TypeTimeSpan {
			f = float64(x.i)
		}
		return Long(int64(sort.Search(len(vals), func(i int) bool { return vals[i] > f })))
	}), "rank_tdigest")
}
