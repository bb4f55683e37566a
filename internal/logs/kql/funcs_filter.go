package kql

import "math"

// Signal-processing series functions: series_fir, series_iir and
// series_pearson_correlation.

// floats reads a dynamic array as float64s; null elements are 0.
func floats(v Value) ([]float64, bool) {
	a, ok := seriesNums(v)
	if !ok {
		return nil, false
	}
	out := make([]float64, len(a))
	for i, x := range a {
		if x != nil {
			out[i] = scalarOf(Dynamic(x)).AsReal()
		}
	}
	return out, true
}

func allIntegral(a []any) bool {
	for _, x := range a {
		if _, ok := x.(int64); !ok {
			return false
		}
	}
	return true
}

func init() {
	register(dynFn(2, 4, func(v []Value) Value {
		x, ok1 := floats(v[0])
		f, ok2 := floats(v[1])
		if !ok1 || !ok2 || len(f) == 0 {
			return Null(TypeDynamic)
		}
		normalize := true
		if len(v) > 2 {
			if b := scalarOf(v[2]); b.T == TypeBool && b.ok {
				normalize = b.i != 0
			}
		}
		center := false
		if len(v) > 3 {
			if b := scalarOf(v[3]); b.T == TypeBool && b.ok {
				center = b.i != 0
			}
		}
		if normalize {
			sum := 0.0
			for _, c := range f {
				sum += c
			}
			if sum != 0 {
				for i := range f {
					f[i] /= sum
				}
			}
		}
		shift := 0
		if center {
			shift = len(f) / 2
		}
		xa, _ := seriesNums(v[0])
		fa, _ := seriesNums(v[1])
		ints := !normalize && allIntegral(xa) && allIntegral(fa)
		out := make([]any, len(x))
		for n := range x {
			y := 0.0
			for k, c := range f {
				if j := n - k + shift; j >= 0 && j < len(x) {
					y += c * x[j]
				}
			}
			if ints {
				out[n] = int64(y)
			} else {
				out[n] = y
			}
		}
		return Dynamic(out)
	}), "series_fir")
	register(dynFn(3, 3, func(v []Value) Value {
		x, ok1 := floats(v[0])
		b, ok2 := floats(v[1])
		a, ok3 := floats(v[2])
		if !ok1 || !ok2 || !ok3 || len(a) == 0 || a[0] == 0 {
			return Null(TypeDynamic)
		}
		y := make([]float64, len(x))
		out := make([]any, len(x))
		for n := range x {
			acc := 0.0
			for k, c := range b {
				if n-k >= 0 {
					acc += c * x[n-k]
				}
			}
			for k := 1; k < len(a); k++ {
				if n-k >= 0 {
					acc -= a[k] * y[n-k]
				}
			}
			y[n] = acc / a[0]
			out[n] = y[n]
		}
		return Dynamic(out)
	}), "series_iir")
	register(fixed(2, 2, ret(TypeReal), func(_ Type, v []Value) Value {
		x, ok1 := floats(v[0])
		y, ok2 := floats(v[1])
		if !ok1 || !ok2 || len(x) != len(y) || len(x) == 0 {
			return Null(TypeReal)
		}
		n := float64(len(x))
		var mx, my float64
		for i := range x {
			mx += x[i]
			my += y[i]
		}
		mx /= n
		my /= n
		var sxy, sxx, syy float64
		for i := range x {
			dx, dy := x[i]-mx, y[i]-my
			sxy += dx * dy
			sxx += dx * dx
			syy += dy * dy
		}
		return Real(sxy / (math.Sqrt(sxx) * math.Sqrt(syy)))
	}), "series_pearson_correlation")
}
