package kql

import (
	"math"
	"sort"
)

// More aggregations: take_anyif, count_distinctif, percentiles_array, the
// binary_all_* reductions, and the sketches hll/tdigest with their merge
// and read functions. Steward's sketches are exact (the distinct values and
// the sorted values), so dcount_hll and percentile_tdigest give the exact
// answer where Kusto's estimate may differ slightly; a sketch is a dynamic
// value that only these functions read.

const (
	hllKey     = "steward_hll"
	tdigestKey = "steward_tdigest"
)

func init() {
	for n, prefix := range map[string]string{
		"take_anyif": "any", "count_distinctif": "count_distinctif", "percentiles_array": "percentiles",
		"binary_all_xor": "binary_all_xor", "tdigest": "tdigest", "hll_merge": "hll_merge",
		"tdigest_merge": "tdigest_merge", "hll_if": "hll_if",
	} {
		aggPrefix[n] = prefix
	}
}

// compileMoreAgg compiles the aggregations of this file; ok is false for
// any other name.
func compileMoreAgg(call *Call, args []cexpr, name string, pred func(int) func(Row) bool) (spec aggSpec, ok bool, err error) {
	fn := call.Name
	one := func(t Type, mk func() aggState) (aggSpec, bool, error) {
		return aggSpec{cols: []Column{{Name: name, Type: t}}, newState: mk}, true, nil
	}
	need := func(n int) error {
		if len(args) < n {
			return errAt(call, "%s needs %d argument(s)", fn, n)
		}
		return nil
	}
	switch fn {
	case "take_anyif":
		if err := need(2); err != nil {
			return aggSpec{}, true, err
		}
		x, p, t := args[0].f, pred(1), concreteType(args[0].t)
		return one(t, func() aggState { return &anyIfAgg{keep: p, anyAgg: anyAgg{x: x, v: Null(t)}} })
	case "count_distinctif":
		if err := need(2); err != nil {
			return aggSpec{}, true, err
		}
		x, p := args[0].f, pred(1)
		return one(TypeLong, func() aggState { return &dcountAgg{x: x, keep: p, seen: map[string]bool{}} })
	case "percentiles_array":
		if err := need(2); err != nil {
			return aggSpec{}, true, err
		}
		var ps []float64
		for _, a := range args[1:] {
			if !a.konst {
				return aggSpec{}, true, errAt(call, "percentiles_array needs constant percentages")
			}
			v := a.f(nil)
			if arr, ok := seriesNums(v); ok {
				for _, e := range arr {
					ps = append(ps, scalarOf(Dynamic(e)).AsReal())
				}
				continue
			}
			ps = append(ps, scalarOf(v).AsReal())
		}
		x, t := args[0].f, concreteType(args[0].t)
		return one(TypeDynamic, func() aggState { return &pctArrayAgg{pctAgg: pctAgg{x: x, ps: ps, t: t}} })
	case "binary_all_and", "binary_all_or", "binary_all_xor":
		if err := need(1); err != nil {
			return aggSpec{}, true, err
		}
		if !isIntegral(args[0].t) {
			return aggSpec{}, true, errAt(call, "%s needs long values, not %s", fn, args[0].t)
		}
		x := args[0].f
		return one(TypeLong, func() aggState { return &bitsAgg{x: x, op: fn} })
	case "hll", "hll_if":
		if err := need(1); err != nil {
			return aggSpec{}, true, err
		}
		x, p := args[0].f, pred(99)
		if fn == "hll_if" {
			p = pred(1)
		}
		return one(TypeDynamic, func() aggState { return &hllAgg{x: x, keep: p, seen: map[string]any{}} })
	case "hll_merge":
		if err := need(1); err != nil {
			return aggSpec{}, true, err
		}
		x := args[0].f
		return one(TypeDynamic, func() aggState { return &hllAgg{merge: true, x: x, keep: pred(99), seen: map[string]any{}} })
	case "tdigest", "tdigest_merge":
		if err := need(1); err != nil {
			return aggSpec{}, true, err
		}
		x := args[0].f
		return one(TypeDynamic, func() aggState { return &tdigestAgg{merge: fn == "tdigest_merge", x: x} })
	}
	return aggSpec{}, false, nil
}

type anyIfAgg struct {
	keep func(Row) bool
	anyAgg
}

func (a *anyIfAgg) add(r Row) {
	if a.keep(r) {
		a.anyAgg.add(r)
	}
}

type pctArrayAgg struct{ pctAgg }

func (a *pctArrayAgg) result(out []Value) {
	vals := make([]Value, len(a.ps))
	a.pctAgg.result(vals)
	arr := make([]any, len(vals))
	for i, v := range vals {
		if !v.IsNull() {
			arr[i] = dynAny(v)
		}
	}
	out[0] = Dynamic(arr)
}

type bitsAgg struct {
	x   func(Row) Value
	op  string
	acc int64
	set bool
}

func (a *bitsAgg) add(r Row) {
	v := scalarOf(a.x(r))
	if v.IsNull() {
		return
	}
	if !a.set {
		a.acc, a.set = v.i, true
		return
	}
	switch a.op {
	case "binary_all_and":
		a.acc &= v.i
	case "binary_all_or":
		a.acc |= v.i
	default:
		a.acc ^= v.i
	}
}

func (a *bitsAgg) result(out []Value) {
	if !a.set {
		out[0] = Null(TypeLong)
		return
	}
	out[0] = Long(a.acc)
}

// hllAgg keeps the distinct values; merge reads sketches instead.
type hllAgg struct {
	governed
	merge bool
	x     func(Row) Value
	keep  func(Row) bool
	seen  map[string]any
}

func (a *hllAgg) put(v Value) {
	k := keyOf([]Value{v})
	if _, ok := a.seen[k]; !ok {
		a.hold(valueBytes(v))
		a.seen[k] = dynAny(v)
	}
}

func (a *hllAgg) add(r Row) {
	if !a.keep(r) {
		return
	}
	v := a.x(r)
	if v.IsNull() {
		return
	}
	if a.merge {
		for _, e := range sketchItems(v, hllKey) {
			a.put(scalarOf(Dynamic(e)))
		}
		return
	}
	a.put(v)
}

func (a *hllAgg) result(out []Value) { out[0] = Dynamic(hllSketch(a.seen)) }

func hllSketch(seen map[string]any) *Bag {
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	items := make([]any, len(keys))
	for i, k := range keys {
		items[i] = seen[k]
	}
	b := NewBag()
	b.Set(hllKey, items)
	return b
}

// sketchItems reads a sketch made by hll() or tdigest(); anything else
// holds nothing.
func sketchItems(v Value, key string) []any {
	if v.T != TypeDynamic || !v.ok {
		return nil
	}
	b, ok := v.d.(*Bag)
	if !ok {
		return nil
	}
	items, _ := b.M[key].([]any)
	return items
}

type tdigestAgg struct {
	governed
	merge bool
	x     func(Row) Value
	vals  []float64
}

func (a *tdigestAgg) add(r Row) {
	v := a.x(r)
	if v.IsNull() {
		return
	}
	if a.merge {
		for _, e := range sketchItems(v, tdigestKey) {
			a.hold(8)
			a.vals = append(a.vals, scalarOf(Dynamic(e)).AsReal())
		}
		return
	}
	s := scalarOf(v)
	if !s.T.isNumeric() && s.T != TypeDateTime && s.T != TypeTimeSpan {
		return
	}
	a.hold(8)
	a.vals = append(a.vals, s.AsReal())
}

func (a *tdigestAgg) result(out []Value) { out[0] = Dynamic(tdigestSketch(a.vals)) }

func tdigestSketch(vals []float64) *Bag {
	sort.Float64s(vals)
	items := make([]any, len(vals))
	for i, x := range vals {
		items[i] = x
	}
	b := NewBag()
	b.Set(tdigestKey, items)
	return b
}

// nearestRank is the nearest-rank percentile of sorted values, as
// percentile() computes it.
func nearestRank(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	rank := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	rank = max(0, min(rank, len(sorted)-1))
	return sorted[rank]
}

func sketchFloats(v Value) []float64 {
	items := sketchItems(v, tdigestKey)
	out := make([]float64, len(items))
	for i, e := range items {
		out[i] = scalarOf(Dynamic(e)).AsReal()
	}
	return out
}

func init() {
	register(fixed(1, 1, ret(TypeLong), func(_ Type, v []Value) Value {
		if v[0].IsNull() {
			return Null(TypeLong)
		}
		return Long(int64(len(sketchItems(v[0], hllKey))))
	}), "dcount_hll")
	register(dynFn(1, -1, func(v []Value) Value {
		seen := map[string]any{}
		for _, s := range v {
			for _, e := range sketchItems(s, hllKey) {
				sv := scalarOf(Dynamic(e))
				seen[keyOf([]Value{sv})] = e
			}
		}
		return Dynamic(hllSketch(seen))
	}), "hll_merge")
	register(dynFn(1, -1, func(v []Value) Value {
		var all []float64
		for _, s := range v {
			all = append(all, sketchFloats(s)...)
		}
		return Dynamic(tdigestSketch(all))
	}), "tdigest_merge")
	// percentile_tdigest(sketch, p [, typeof(T)])
	register(func(call *Call, args []cexpr) (cexpr, error) {
		if len(args) < 2 || len(args) > 3 {
			return cexpr{}, errAt(call, "percentile_tdigest takes 2 or 3 arguments, got %d", len(args))
		}
		t := TypeReal
		if len(args) == 3 {
			tn, ok := typeArgName(call.Args[2])
			if !ok {
				return cexpr{}, errAt(call, "percentile_tdigest's third argument must be typeof(T)")
			}
			t = typeByName[tn]
		}
		return evalN(t, args[:2], func(t Type, v []Value) Value {
			vals := sketchFloats(v[0])
			p := scalarOf(v[1])
			if len(vals) == 0 || p.IsNull() {
				return Null(t)
			}
			x := nearestRank(vals, p.AsReal())
			switch t {
			case TypeLong, TypeInt:
				return castTo(Long(int64(x)), t)
			case TypeDateTime:
				return DateTime(int64(x))
			case TypeTimeSpan:
				return TimeSpan(int64(x))
			}
			return Real(x)
		}), nil
	}, "percentile_tdigest")
	register(dynFn(2, -1, func(v []Value) Value {
		vals := sketchFloats(v[0])
		var out []any
		for _, pv := range v[1:] {
			ps := []any{dynAny(pv)}
			if arr, ok := seriesNums(pv); ok {
				ps = arr
			}
			for _, p := range ps {
				if len(vals) == 0 {
					out = append(out, nil)
					continue
				}
				out = append(out, nearestRank(vals, scalarOf(Dynamic(p)).AsReal()))
			}
		}
		return Dynamic(out)
	}), "percentiles_array_tdigest")
	// percentrank_tdigest(sketch, value): the share of values at or below
	register(fixed(2, 2, ret(TypeReal), func(_ Type, v []Value) Value {
		vals := sketchFloats(v[0])
		x := scalarOf(v[1])
		if len(vals) == 0 || x.IsNull() {
			return Null(TypeReal)
		}
		n := sort.Search(len(vals), func(i int) bool { return vals[i] > x.AsReal() })
		return Real(100 * float64(n) / float64(len(vals)))
	}), "percentrank_tdigest")
}
