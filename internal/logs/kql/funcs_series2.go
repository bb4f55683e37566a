package kql

import "math"

// series_fft, series_ifft, series_seasonal and series_periods_validate.

// seasonalThreshold is the score series_seasonal needs to accept a detected
// period (the reference page: series_periods_detect with a threshold of 0.7).
const seasonalThreshold = 0.7

// minSeasonalCycles is how many times a period must repeat in the series
// for series_seasonal to detect it.
const minSeasonalCycles = 3

// maxValidatePeriods is how many periods series_periods_validate accepts.
const maxValidatePeriods = 16

// minPeriodPoints is the shortest period the period functions consider.
const minPeriodPoints = 4

// complexSeries reads a transform's input: the real parts and, when given,
// the imaginary parts, which must be as long. Null and non-numeric
// elements count as 0, as in the filter functions; anything that is not an
// array is no series (null).
func complexSeries(v []Value) ([]complex128, bool) {
	re, ok := floats(v[0])
	if !ok {
		return nil, false
	}
	var im []float64
	if len(v) > 1 && !v[1].IsNull() {
		if im, ok = floats(v[1]); !ok || len(im) != len(re) {
			return nil, false
		}
	}
	x := make([]complex128, len(re))
	for i, r := range re {
		x[i] = complex(r, 0)
		if im != nil {
			x[i] = complex(r, im[i])
		}
	}
	return x, true
}

// transformFn is series_fft or series_ifft: a bag of the real and the
// imaginary parts, which the several-column rewrite spreads over two
// columns. The governor is told the size of the work and of the result.
func transformFn(name string, inverse bool) func(g *governor) fnImpl {
	return func(g *governor) fnImpl {
		return dynFn(1, 2, func(v []Value) Value {
			n := 0
			if a, ok := seriesNums(v[0]); ok {
				n = len(a)
			}
			g.alloc(name+" function", 16*(3*int64(n)+fftWork(n)))
			x, ok := complexSeries(v)
			if !ok {
				return Null(TypeDynamic)
			}
			fft(x, inverse)
			re, im := make([]float64, len(x)), make([]float64, len(x))
			for i, c := range x {
				re[i], im[i] = real(c), imag(c)
			}
			return pairBag("real", numsAny(re), "imag", numsAny(im))
		})
	}
}

// pairBag is the bag of a two-column function's two values.
func pairBag(k1 string, v1 any, k2 string, v2 any) Value {
	b := NewBag()
	b.Set(k1, v1)
	b.Set(k2, v2)
	return Dynamic(b)
}

// validatePeriod scores one period for series_periods_validate: 0 outside
// [4, n/2], else the autocorrelation at that lag as series_periods_detect
// scores it (between the two nearest whole lags for a fractional period),
// clipped to [0, 1]; an autocorrelation inside the band white noise stays
// in 95% of the time (±1.96/√n) is no evidence of a period and scores 0.
func validatePeriod(xs []float64, mean, denom float64, p float64) float64 {
	n := len(xs)
	if math.IsNaN(p) || p < minPeriodPoints || p > float64(n)/2 || denom == 0 {
		return 0
	}
	lo := int(math.Floor(p))
	s := lagScore(xs, mean, denom, lo)
	if frac := p - float64(lo); frac > 0 {
		s += frac * (lagScore(xs, mean, denom, lo+1) - s)
	}
	if s < 1.96/math.Sqrt(float64(n)) {
		return 0
	}
	return math.Min(1, s)
}

func init() {
	multiCols["series_fft"] = multiColFn{impl: "series_fft/bag", fields: fields(TypeDynamic, "real", "imag")}
	multiCols["series_ifft"] = multiColFn{impl: "series_ifft/bag", fields: fields(TypeDynamic, "real", "imag")}
	multiCols["series_periods_validate"] = multiColFn{impl: "series_periods_validate/bag", fields: fields(TypeDynamic, "periods", "scores")}
	governedFuncs["series_fft/bag"] = transformFn("series_fft", false)
	governedFuncs["series_ifft/bag"] = transformFn("series_ifft", true)

	// series_periods_validate(series, period1 [, period2, ...]): up to 16
	// periods; the periods come back as given, as reals
	register(dynFn(2, 1+maxValidatePeriods, func(v []Value) Value {
		xs, ok := seriesOrNaN(v[0])
		if !ok {
			return Null(TypeDynamic)
		}
		mean, denom, _ := centred(xs)
		periods, scores := make([]any, len(v)-1), make([]any, len(v)-1)
		for i, pv := range v[1:] {
			p := scalarOf(pv)
			if p.IsNull() || !p.T.isNumeric() {
				return Null(TypeDynamic)
			}
			periods[i] = p.AsReal()
			scores[i] = validatePeriod(xs, mean, denom, p.AsReal())
		}
		return pairBag("periods", periods, "scores", scores)
	}), "series_periods_validate/bag")

	// series_seasonal(series [, period]): -1 (the default) detects the
	// period, 0 means no seasonality (zeros), a positive period is used as
	// given; the component is the median of each phase across the periods
	register(dynFn(1, 2, func(v []Value) Value {
		xs, ok := seriesOrNaN(v[0])
		period, pok := intArg(v, 1, -1)
		if !ok || !pok || period < -1 {
			return Null(TypeDynamic)
		}
		if period == -1 {
			// a period is looked for among those that repeat at least
			// three times: the median of each phase then has three values
			// to choose from (see decisions/kql.md)
			period = 0
			if ps, ss := detectPeriods(xs, minPeriodPoints, len(xs)/minSeasonalCycles, 1); len(ps) > 0 && ss[0] >= seasonalThreshold {
				period = int64(ps[0])
			}
		}
		d, ok := decompose(xs, int(period), "none", 0, seasonalThreshold)
		if !ok {
			return Null(TypeDynamic)
		}
		return Dynamic(numsAny(d.seasonal))
	}), "series_seasonal")
}
