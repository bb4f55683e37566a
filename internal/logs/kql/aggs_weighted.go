package kql

import (
	"math"
	"sort"
	"strings"
)

// Weighted percentiles: percentilew(x, w, p), percentilesw(x, w, p...) and
// percentilesw_array(x, w, p...), each value counting as if it appeared w
// times (the reference: "treat each value ... as if it was repeated
// BucketSize times"), with percentile()'s nearest-rank method and naming.
// Rows with a null value, or a null or non-positive weight, count for
// nothing.

func init() {
	for n, p := range map[string]string{"percentilew": "percentile", "percentilesw": "percentile", "percentilesw_array": "percentiles"} {
		aggPrefix[n] = p
	}
}

type wpctAgg struct {
	governed
	x, w  func(Row) Value
	ps    []float64
	t     Type
	vals  []Value
	ws    []int64
	total int64
	array bool
}

func (a *wpctAgg) add(r Row) {
	v, w := a.x(r), scalarOf(a.w(r))
	if v.IsNull() || w.IsNull() || w.i <= 0 {
		return
	}
	a.hold(valueBytes(v) + 8)
	a.vals = append(a.vals, v)
	a.ws = append(a.ws, w.i)
	a.total += w.i
}

func (a *wpctAgg) result(out []Value) {
	idx := make([]int, len(a.vals))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { c, _ := compareValues(a.vals[idx[i]], a.vals[idx[j]]); return c < 0 })
	res := make([]Value, len(a.ps))
	for k, p := range a.ps {
		res[k] = Null(a.t)
		if a.total == 0 {
			continue
		}
		rank := int64(math.Ceil(p / 100 * float64(a.total)))
		rank = max(1, min(rank, a.total))
		var cum int64
		for _, i := range idx {
			if cum += a.ws[i]; cum >= rank {
				res[k] = a.vals[i]
				break
			}
		}
	}
	if !a.array {
		copy(out, res)
		return
	}
	arr := make([]any, len(res))
	for i, v := range res {
		if !v.IsNull() {
			arr[i] = dynAny(v)
		}
	}
	out[0] = Dynamic(arr)
}

// compileAddedAgg compiles the weighted percentiles and buildschema; ok is
// false for any other aggregation.
func compileAddedAgg(call *Call, args []cexpr, name, defName string) (spec aggSpec, ok bool, err error) {
	fn := call.Name
	if fn == "buildschema" {
		if len(args) != 1 || concreteType(args[0].t) != TypeDynamic {
			return aggSpec{}, true, errAt(call, "buildschema takes one dynamic value")
		}
		x := args[0].f
		return aggSpec{cols: []Column{{Name: name, Type: TypeDynamic}}, newState: func() aggState { return &schemaAgg{x: x} }}, true, nil
	}
	if fn != "percentilew" && fn != "percentilesw" && fn != "percentilesw_array" {
		return aggSpec{}, false, nil
	}
	if len(args) < 3 || fn == "percentilew" && len(args) != 3 {
		return aggSpec{}, true, errAt(call, "%s takes a value, a weight and percentages", fn)
	}
	if t := concreteType(args[1].t); !isIntegral(t) || t == TypeBool {
		return aggSpec{}, true, errAt(call, "%s: the weight must be a long, not %s", fn, t)
	}
	var ps []float64
	for _, a := range args[2:] {
		if !a.konst {
			return aggSpec{}, true, errAt(call, "%s needs constant percentages", fn)
		}
		v := a.f(nil)
		if arr, isArr := seriesNums(v); isArr && fn == "percentilesw_array" {
			for _, e := range arr {
				ps = append(ps, scalarOf(Dynamic(e)).AsReal())
			}
			continue
		}
		ps = append(ps, scalarOf(v).AsReal())
	}
	x, w, t := args[0].f, args[1].f, concreteType(args[0].t)
	st := func(array bool) func() aggState {
		return func() aggState { return &wpctAgg{x: x, w: w, ps: ps, t: t, array: array} }
	}
	if fn == "percentilesw_array" {
		return aggSpec{cols: []Column{{Name: name, Type: TypeDynamic}}, newState: st(true)}, true, nil
	}
	var cols []Column
	for _, p := range ps {
		cn := name
		if fn == "percentilesw" && !(name != defName && len(ps) == 1) || name == defName {
			cn = defName + "_" + strings.ReplaceAll(formatReal(p), ".", "_")
		}
		cols = append(cols, Column{Name: cn, Type: t})
	}
	return aggSpec{cols: cols, newState: st(false)}, true, nil
}
