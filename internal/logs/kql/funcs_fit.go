package kql

import "math"

// Series statistics and regression returning a property bag
// (series_stats_dynamic, series_fit_line_dynamic), and array rotation.

// seriesFloats reads a numeric series: ok is false when v is not an array
// and finite is false when an element is null or not a finite number.
func seriesFloats(v Value) (xs []float64, finite, ok bool) {
	a, ok := seriesNums(v)
	if !ok {
		return nil, false, false
	}
	xs = make([]float64, len(a))
	finite = true
	for i, x := range a {
		if x == nil {
			xs[i], finite = math.NaN(), false
			continue
		}
		s := scalarOf(Dynamic(x))
		if s.IsNull() || !(s.T == TypeLong || s.T == TypeInt || s.T == TypeReal || s.T == TypeDecimal || s.T == TypeBool) {
			xs[i], finite = math.NaN(), false
			continue
		}
		xs[i] = s.AsReal()
		if math.IsNaN(xs[i]) || math.IsInf(xs[i], 0) {
			finite = false
		}
	}
	return xs, finite, true
}

// bagNum is a statistic as a bag value: null when it is not a finite
// number (an empty or single-value series has no sample variance).
func bagNum(x float64) any {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return x
}

func init() {
	// series_stats_dynamic(series [, ignore_nonfinite]): min, min_idx,
	// max, max_idx, avg, stdev, variance (sample), sum and len, in
	// Kusto's order. With a non-finite element and ignore_nonfinite
	// false (the default) the statistics are null.
	register(dynFn(1, 2, func(v []Value) Value {
		xs, finite, ok := seriesFloats(v[0])
		if !ok {
			return Null(TypeDynamic)
		}
		ignore := len(v) > 1 && !v[1].IsNull() && v[1].AsBool()
		b := NewBag()
		if !finite && !ignore {
			for _, k := range []string{"min", "min_idx", "max", "max_idx", "avg", "stdev", "variance", "sum"} {
				b.Set(k, nil)
			}
			b.Set("len", int64(len(xs)))
			return Dynamic(b)
		}
		n, sum, sum2 := 0, 0.0, 0.0
		minV, maxV := math.Inf(1), math.Inf(-1)
		minI, maxI := int64(-1), int64(-1)
		for i, x := range xs {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				continue
			}
			n++
			sum += x
			sum2 += x * x
			if x < minV {
				minV, minI = x, int64(i)
			}
			if x > maxV {
				maxV, maxI = x, int64(i)
			}
		}
		avg := sum / float64(n)
		// The sample variance from the sums, as Kusto's documented
		// example rounds it (a two-pass sum of squared deviations differs
		// in the last bit).
		fn := float64(n)
		variance := (fn*sum2 - sum*sum) / (fn * (fn - 1))
		var mi, ma any
		if n > 0 {
			mi, ma = minI, maxI
		}
		b.Set("min", bagNum(minV))
		b.Set("min_idx", mi)
		b.Set("max", bagNum(maxV))
		b.Set("max_idx", ma)
		b.Set("avg", bagNum(avg))
		b.Set("stdev", bagNum(math.Sqrt(variance)))
		b.Set("variance", bagNum(variance))
		b.Set("sum", sum)
		b.Set("len", int64(len(xs)))
		return Dynamic(b)
	}), "series_stats_dynamic")

	// series_fit_line_dynamic(series): least-squares line through the
	// points (1, y1) ... (n, yn): rsquare, slope, variance (sample, of
	// the input), rvariance (of the residuals, same denominator),
	// interception and line_fit. Null elements count as 0, as make-series
	// gaps filled by its default do.
	register(dynFn(1, 1, func(v []Value) Value {
		ys, ok := floats(v[0])
		if !ok {
			return Null(TypeDynamic)
		}
		n := float64(len(ys))
		var mx, my float64
		for i, y := range ys {
			mx += float64(i + 1)
			my += y
		}
		mx /= n
		my /= n
		var sxy, sxx, sst float64
		for i, y := range ys {
			dx, dy := float64(i+1)-mx, y-my
			sxy += dx * dy
			sxx += dx * dx
			sst += dy * dy
		}
		slope := sxy / sxx
		icept := my - slope*mx
		fit := make([]any, len(ys))
		var ssr float64
		for i, y := range ys {
			f := icept + slope*float64(i+1)
			fit[i] = bagNum(f)
			ssr += (y - f) * (y - f)
		}
		b := NewBag()
		b.Set("rsquare", bagNum(1-ssr/sst))
		b.Set("slope", bagNum(slope))
		b.Set("variance", bagNum(sst/(n-1)))
		b.Set("rvariance", bagNum(ssr/(n-1)))
		b.Set("interception", bagNum(icept))
		b.Set("line_fit", fit)
		return Dynamic(b)
	}), "series_fit_line_dynamic")

	// array_rotate_left(array, count) and array_rotate_right: a negative
	// count rotates the other way; counts beyond the length wrap.
	rotate := func(left bool) fnImpl {
		return dynFn(2, 2, func(v []Value) Value {
			a, ok := arrArg(v, 0)
			n, nok := intArg(v, 1, 0)
			if !ok || !nok || v[1].IsNull() {
				return Null(TypeDynamic)
			}
			out := make([]any, len(a))
			if len(a) == 0 {
				return Dynamic(out)
			}
			if !left {
				n = -n
			}
			k := int(((n % int64(len(a))) + int64(len(a))) % int64(len(a)))
			copy(out, a[k:])
			copy(out[len(a)-k:], a[:k])
			return Dynamic(out)
		})
	}
	register(rotate(true), "array_rotate_left")
	register(rotate(false), "array_rotate_right")
}
