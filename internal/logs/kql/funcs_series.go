package kql

import "math"

// Series functions work on dynamic arrays of numbers, as make-series
// produces them. Nulls are gaps that the fill functions close.

func seriesNums(v Value) ([]any, bool) {
	if v.T != TypeDynamic || !v.ok {
		return nil, false
	}
	a, ok := v.d.([]any)
	return a, ok
}

func isGap(x any) bool { return x == nil }

func init() {
	register(dynFn(1, 2, func(v []Value) Value {
		a, ok := seriesNums(v[0])
		if !ok {
			return Null(TypeDynamic)
		}
		out := append([]any{}, a...)
		var last any
		for i, x := range out {
			if isGap(x) {
				out[i] = last
			} else {
				last = x
			}
		}
		return Dynamic(out)
	}), "series_fill_forward")
	register(dynFn(1, 2, func(v []Value) Value {
		a, ok := seriesNums(v[0])
		if !ok {
			return Null(TypeDynamic)
		}
		out := append([]any{}, a...)
		var next any
		for i := len(out) - 1; i >= 0; i-- {
			if isGap(out[i]) {
				out[i] = next
			} else {
				next = out[i]
			}
		}
		return Dynamic(out)
	}), "series_fill_backward")
	register(dynFn(2, 3, func(v []Value) Value {
		a, ok := seriesNums(v[0])
		if !ok {
			return Null(TypeDynamic)
		}
		c := dynAny(v[1])
		out := append([]any{}, a...)
		for i, x := range out {
			if isGap(x) {
				out[i] = c
			}
		}
		return Dynamic(out)
	}), "series_fill_const")
	register(dynFn(1, 3, func(v []Value) Value {
		a, ok := seriesNums(v[0])
		if !ok {
			return Null(TypeDynamic)
		}
		out := append([]any{}, a...)
		prev := -1
		for i, x := range out {
			if isGap(x) {
				continue
			}
			if prev >= 0 && i-prev > 1 {
				p, q := scalarOf(Dynamic(out[prev])).AsReal(), scalarOf(Dynamic(x)).AsReal()
				for k := prev + 1; k < i; k++ {
					out[k] = p + (q-p)*float64(k-prev)/float64(i-prev)
				}
			}
			prev = i
		}
		return Dynamic(out)
	}), "series_fill_linear")
	arith2 := func(f func(a, b float64) float64, intOK bool) fnImpl {
		return dynFn(2, 2, func(v []Value) Value {
			a, ok1 := seriesNums(v[0])
			b, ok2 := seriesNums(v[1])
			if !ok1 && !ok2 {
				return Null(TypeDynamic)
			}
			n := max(len(a), len(b))
			at := func(s []any, ok bool, i int, x Value) (Value, bool) {
				if !ok {
					return scalarOf(x), !x.IsNull()
				}
				if i >= len(s) || s[i] == nil {
					return Value{}, false
				}
				return scalarOf(Dynamic(s[i])), true
			}
			out := make([]any, n)
			for i := range out {
				x, okx := at(a, ok1, i, v[0])
				y, oky := at(b, ok2, i, v[1])
				if !okx || !oky {
					continue
				}
				r := f(x.AsReal(), y.AsReal())
				if intOK && isIntegral(x.T) && isIntegral(y.T) && r == math.Trunc(r) && math.Abs(r) < 1<<53 {
					out[i] = int64(r)
				} else {
					out[i] = r
				}
			}
			return Dynamic(out)
		})
	}
	register(arith2(func(a, b float64) float64 { return a + b }, true), "series_add")
	register(arith2(func(a, b float64) float64 { return a - b }, true), "series_subtract")
	register(arith2(func(a, b float64) float64 { return a * b }, true), "series_multiply")
	register(arith2(func(a, b float64) float64 { return a / b }, false), "series_divide")
	cmp := func(f func(a, b float64) bool) fnImpl {
		g := arith2(func(a, b float64) float64 {
			if f(a, b) {
				return 1
			}
			return 0
		}, true)
		return func(call *Call, args []cexpr) (cexpr, error) {
			c, err := g(call, args)
			if err != nil {
				return c, err
			}
			inner := c.f
			return fold(cexpr{t: TypeDynamic, konst: c.konst, f: func(r Row) Value {
				v := inner(r)
				a, ok := seriesNums(v)
				if !ok {
					return v
				}
				out := make([]any, len(a))
				for i, x := range a {
					if x != nil {
						out[i] = x == any(int64(1))
					}
				}
				return Dynamic(out)
			}}), nil
		}
	}
	register(cmp(func(a, b float64) bool { return a > b }), "series_greater")
	register(cmp(func(a, b float64) bool { return a >= b }), "series_greater_equals")
	register(cmp(func(a, b float64) bool { return a < b }), "series_less")
	register(cmp(func(a, b float64) bool { return a <= b }), "series_less_equals")
	register(cmp(func(a, b float64) bool { return a == b }), "series_equals")
	register(cmp(func(a, b float64) bool { return a != b }), "series_not_equals")
	register(dynFn(2, 3, func(v []Value) Value {
		start, stop := scalarOf(v[0]), scalarOf(v[1])
		step := Long(1)
		if len(v) > 2 {
			step = scalarOf(v[2])
		}
		if start.IsNull() || stop.IsNull() || step.IsNull() {
			return Null(TypeDynamic)
		}
		var out []any
		const maxElems = 1 << 20
		switch {
		case isIntegral(start.T) && isIntegral(stop.T) && isIntegral(step.T):
			if step.i == 0 {
				return Null(TypeDynamic)
			}
			for x := start.i; (step.i > 0 && x <= stop.i) || (step.i < 0 && x >= stop.i); x += step.i {
				out = append(out, x)
				if len(out) > maxElems {
					return Null(TypeDynamic)
				}
			}
		case start.T == TypeDateTime || start.T == TypeTimeSpan:
			if step.i <= 0 {
				return Null(TypeDynamic)
			}
			for x := start.i; x <= stop.i; x += step.i {
				out = append(out, dynAny(Value{T: start.T, ok: true, i: x}))
				if len(out) > maxElems {
					return Null(TypeDynamic)
				}
			}
		default:
			s := step.AsReal()
			if s == 0 || math.IsNaN(s) {
				return Null(TypeDynamic)
			}
			for x := start.AsReal(); (s > 0 && x <= stop.AsReal()) || (s < 0 && x >= stop.AsReal()); x += s {
				out = append(out, x)
				if len(out) > maxElems {
					return Null(TypeDynamic)
				}
			}
		}
		if out == nil {
			out = []any{}
		}
		return Dynamic(out)
	}), "range")
}
