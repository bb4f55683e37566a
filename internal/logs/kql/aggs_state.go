package kql

import (
	"math"
	"sort"
	"strings"
)

func sumType(t Type) Type {
	switch t {
	case TypeInt, TypeLong, TypeBool:
		return TypeLong
	case TypeReal, TypeDecimal, TypeTimeSpan:
		return t
	case TypeDynamic:
		return TypeReal
	}
	return TypeUnknown
}

type countAgg struct {
	keep func(Row) bool
	n    int64
}

func (a *countAgg) add(r Row) {
	if a.keep(r) {
		a.n++
	}
}

func (a *countAgg) result(out []Value) { out[0] = Long(a.n) }

type dcountAgg struct {
	x    func(Row) Value
	keep func(Row) bool
	seen map[string]bool
}

func (a *dcountAgg) add(r Row) {
	if !a.keep(r) {
		return
	}
	v := a.x(r)
	if v.IsNull() {
		return
	}
	a.seen[keyOf([]Value{v})] = true
}

func (a *dcountAgg) result(out []Value) { out[0] = Long(int64(len(a.seen))) }

type sumAgg struct {
	x    func(Row) Value
	keep func(Row) bool
	t    Type
	i    int64
	f    float64
}

func (a *sumAgg) add(r Row) {
	if !a.keep(r) {
		return
	}
	v := scalarOf(a.x(r))
	if v.IsNull() {
		return
	}
	if a.t == TypeReal || a.t == TypeDecimal {
		a.f += v.AsReal()
	} else {
		a.i += v.i
	}
}

func (a *sumAgg) result(out []Value) {
	switch a.t {
	case TypeReal:
		out[0] = Real(a.f)
	case TypeDecimal:
		out[0] = Decimal(a.f)
	default:
		out[0] = Value{T: a.t, ok: true, i: a.i}
	}
}

type avgAgg struct {
	x    func(Row) Value
	keep func(Row) bool
	t    Type
	sum  float64
	isum int64 // integer inputs are summed in 64 bits, wrapping as Kusto's do
	ints bool
	dec  bool
	n    int64
}

func (a *avgAgg) add(r Row) {
	if !a.keep(r) {
		return
	}
	v := scalarOf(a.x(r))
	if v.IsNull() {
		return
	}
	if v.T == TypeTimeSpan || v.T == TypeDateTime {
		a.sum += float64(v.i)
	} else if v.T == TypeDecimal {
		a.sum += v.AsReal()
		a.dec = true
	} else if isIntegral(v.T) {
		a.isum += v.i
		a.ints = true
	} else {
		a.sum += v.AsReal()
	}
	a.n++
}

func (a *avgAgg) result(out []Value) {
	if a.t != TypeReal {
		if a.n == 0 {
			out[0] = Null(a.t)
			return
		}
		out[0] = Value{T: a.t, ok: true, i: int64(math.Round(a.sum / float64(a.n)))}
		return
	}
	out[0] = Real((a.sum + float64(a.isum)) / float64(a.n))
	if a.t == TypeReal && a.dec {
		out[0] = Decimal((a.sum + float64(a.isum)) / float64(a.n))
	}
}

type minMaxAgg struct {
	x    func(Row) Value
	keep func(Row) bool
	sign int
	best Value
}

func (a *minMaxAgg) add(r Row) {
	if !a.keep(r) {
		return
	}
	v := a.x(r)
	if v.IsNull() {
		return
	}
	if a.best.IsNull() || isNaNValue(v) {
		a.best = v
		return
	}
	if isNaNValue(a.best) {
		return
	}
	if c, ok := compareValues(v, a.best); ok && c*a.sign > 0 {
		a.best = v
	}
}

// isNaNValue reports a real NaN; Kusto's min, max, arg_min and arg_max
// return NaN when a group holds one.
func isNaNValue(v Value) bool {
	if v.T == TypeDynamic {
		v = scalarOf(v)
	}
	return (v.T == TypeReal || v.T == TypeDecimal) && v.ok && v.real() != v.real()
}

func (a *minMaxAgg) result(out []Value) { out[0] = a.best }

type listAgg struct {
	governed
	x     func(Row) Value
	keep  func(Row) bool
	limit int64
	nulls bool
	seen  map[string]bool
	items []any
}

func (a *listAgg) add(r Row) {
	if !a.keep(r) || int64(len(a.items)) >= a.limit {
		return
	}
	v := a.x(r)
	if v.IsNull() && !a.nulls && v.T != TypeDynamic {
		return
	}
	if arr, ok := v.d.([]any); ok && v.T == TypeDynamic && a.seen == nil {
		// make_list appends the elements of an array input
		a.hold(16 * int64(len(arr)))
		a.items = append(a.items, arr...)
		return
	}
	if a.seen != nil {
		if arr, ok := v.d.([]any); ok && v.T == TypeDynamic {
			for _, e := range arr {
				k := jsonCompact(e)
				if !a.seen[k] {
					a.seen[k] = true
					a.items = append(a.items, e)
				}
			}
			return
		}
		k := keyOf([]Value{v})
		if a.seen[k] {
			return
		}
		a.seen[k] = true
	}
	a.hold(valueBytes(v))
	a.items = append(a.items, dynAny(v))
}

func (a *listAgg) result(out []Value) { out[0] = Dynamic(a.items) }

type bagAgg struct {
	governed
	x    func(Row) Value
	keep func(Row) bool
	bag  *Bag
}

func (a *bagAgg) add(r Row) {
	if !a.keep(r) {
		return
	}
	v := a.x(r)
	if b, ok := v.d.(*Bag); ok && v.T == TypeDynamic {
		for _, k := range b.Keys {
			if _, dup := a.bag.M[k]; !dup {
				a.hold(int64(64 + len(k)))
				a.bag.Set(k, b.M[k])
			}
		}
	}
}

func (a *bagAgg) result(out []Value) { out[0] = Dynamic(a.bag) }

type varAgg struct {
	governed
	x    func(Row) Value
	keep func(Row) bool
	kind string
	vals []float64
}

func (a *varAgg) add(r Row) {
	if !a.keep(r) {
		return
	}
	v := scalarOf(a.x(r))
	if v.IsNull() {
		return
	}
	a.hold(8)
	a.vals = append(a.vals, v.AsReal())
}

func (a *varAgg) result(out []Value) {
	n := float64(len(a.vals))
	if n == 0 {
		out[0] = Real(0)
		return
	}
	var mean float64
	for _, v := range a.vals {
		mean += v
	}
	mean /= n
	var ss float64
	for _, v := range a.vals {
		ss += (v - mean) * (v - mean)
	}
	pop := strings.HasSuffix(a.kind, "p") || a.kind == "variancepif"
	var variance float64
	switch {
	case pop:
		variance = ss / n
	case n > 1:
		variance = ss / (n - 1)
	}
	// Kusto reports variance rounded to ten decimal places, and stdev as
	// the square root of that rounded variance (the conformance data shows
	// both).
	variance = math.Round(variance*1e10) / 1e10
	if strings.HasPrefix(a.kind, "stdev") {
		out[0] = Real(math.Sqrt(variance))
		return
	}
	out[0] = Real(variance)
}

type anyAgg struct {
	x   func(Row) Value
	v   Value
	set bool
}

func (a *anyAgg) add(r Row) {
	if !a.set {
		v := a.x(r)
		if !v.IsNull() {
			a.v, a.set = v, true
		}
	}
}

func (a *anyAgg) result(out []Value) { out[0] = a.v }

type pctAgg struct {
	governed
	x    func(Row) Value
	ps   []float64
	t    Type
	vals []Value
}

func (a *pctAgg) add(r Row) {
	v := a.x(r)
	if !v.IsNull() {
		a.hold(valueBytes(v))
		a.vals = append(a.vals, v)
	}
}

// result uses the nearest-rank method Kusto documents for percentile.
func (a *pctAgg) result(out []Value) {
	sort.SliceStable(a.vals, func(i, j int) bool { c, _ := compareValues(a.vals[i], a.vals[j]); return c < 0 })
	for k, p := range a.ps {
		if len(a.vals) == 0 {
			out[k] = Null(a.t)
			continue
		}
		rank := int(math.Ceil(p/100*float64(len(a.vals)))) - 1
		if rank < 0 {
			rank = 0
		}
		if rank >= len(a.vals) {
			rank = len(a.vals) - 1
		}
		out[k] = a.vals[rank]
	}
}

// governed is embedded by the aggregation states that keep a value per
// input row (lists, sets, bags, percentiles, variances): what they keep is
// counted against the query's memory budget.
type governed struct{ g *governor }

func (a *governed) govern(g *governor) { a.g = g }

func (a *governed) hold(n int64) {
	if a.g != nil {
		a.g.mustGrow("summarize operator", n)
	}
}

// govern hands the query's governor to an aggregation state that keeps
// values.
func govern(st aggState, g *governor) aggState {
	if gs, ok := st.(interface{ govern(*governor) }); ok {
		gs.govern(g)
	}
	return st
}
