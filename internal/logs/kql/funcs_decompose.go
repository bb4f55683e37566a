package kql

import (
	"math"
	"sort"
	"strings"
)

// Two-segment regression, outlier scores, period detection and the
// series_decompose family. The choices Kusto does not document (where the
// split index points, the percentile interpolation, how periods are
// scored) are in docs/decisions/kql.md.

// lineFit is a least-squares line through (x0+1, ys[0]) ... over a
// segment whose first point has the zero-based index x0.
type lineFit struct {
	slope, icept, rsquare, variance, rvariance, ssr, sst float64
}

func fitSegment(ys []float64, x0 int) lineFit {
	n := float64(len(ys))
	var mx, my float64
	for i, y := range ys {
		mx += float64(x0 + i + 1)
		my += y
	}
	mx /= n
	my /= n
	var sxy, sxx, sst float64
	for i, y := range ys {
		dx, dy := float64(x0+i+1)-mx, y-my
		sxy += dx * dy
		sxx += dx * dx
		sst += dy * dy
	}
	f := lineFit{sst: sst}
	f.slope = sxy / sxx
	f.icept = my - f.slope*mx
	for i, y := range ys {
		d := y - (f.icept + f.slope*float64(x0+i+1))
		f.ssr += d * d
	}
	f.rsquare = 1 - f.ssr/sst
	f.variance = sst / (n - 1)
	f.rvariance = f.ssr / (n - 1)
	return f
}

func (f lineFit) bag() *Bag {
	b := NewBag()
	b.Set("rsquare", bagNum(f.rsquare))
	b.Set("slope", bagNum(f.slope))
	b.Set("interception", bagNum(f.icept))
	b.Set("variance", bagNum(f.variance))
	b.Set("rvariance", bagNum(f.rvariance))
	return b
}

// fit2Lines tries every split that leaves two points or more on each
// side and keeps the one with the highest total r-square; split is the
// index of the first point of the right segment.
func fit2Lines(ys []float64) *Bag {
	n := len(ys)
	b := NewBag()
	if n < 4 {
		for _, k := range []string{"rsquare", "split_idx", "variance", "rvariance", "line_fit"} {
			b.Set(k, nil)
		}
		b.Set("right", lineFit{math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), 0, 0}.bag())
		b.Set("left", lineFit{math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), 0, 0}.bag())
		return b
	}
	all := fitSegment(ys, 0)
	best, bestR := 2, math.Inf(-1)
	var left, right lineFit
	for s := 2; s <= n-2; s++ {
		l, r := fitSegment(ys[:s], 0), fitSegment(ys[s:], s)
		rs := 1 - (l.ssr+r.ssr)/all.sst
		if rs > bestR || math.IsNaN(bestR) {
			best, bestR, left, right = s, rs, l, r
		}
	}
	fit := make([]any, n)
	for i := range ys {
		f := left
		if i >= best {
			f = right
		}
		fit[i] = bagNum(f.icept + f.slope*float64(i+1))
	}
	b.Set("rsquare", bagNum(bestR))
	b.Set("split_idx", int64(best))
	b.Set("variance", bagNum(all.variance))
	b.Set("rvariance", bagNum((left.ssr+right.ssr)/float64(n-1)))
	b.Set("line_fit", fit)
	b.Set("right", right.bag())
	b.Set("left", left.bag())
	return b
}

// percentile interpolates linearly between the closest ranks of sorted
// values (p in [0, 100]).
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	pos := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return sorted[lo] + (sorted[hi]-sorted[lo])*(pos-float64(lo))
}

// outlierScores scores each point by Tukey's fences: 0 inside
// [low, high], otherwise the distance beyond the nearer fence in units of
// high - low. Missing points (NaN) score 0.
func outlierScores(xs []float64, lowP, highP float64) []float64 {
	var vals []float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			vals = append(vals, x)
		}
	}
	sort.Float64s(vals)
	out := make([]float64, len(xs))
	if len(vals) == 0 {
		return out
	}
	lo, hi := percentile(vals, lowP), percentile(vals, highP)
	iqr := hi - lo
	if iqr == 0 {
		iqr = 1
	}
	for i, x := range xs {
		switch {
		case math.IsNaN(x):
		case x > hi:
			out[i] = (x - hi) / iqr
		case x < lo:
			out[i] = (x - lo) / iqr
		}
	}
	return out
}

func outlierRange(kind string) (float64, float64, bool) {
	switch strings.ToLower(kind) {
	case "", "ctukey":
		return 10, 90, true
	case "tukey":
		return 25, 75, true
	}
	return 0, 0, false
}

// seriesOrNaN reads a series with null and non-numeric elements as NaN.
func seriesOrNaN(v Value) ([]float64, bool) {
	xs, _, ok := seriesFloats(v)
	return xs, ok
}

// detectPeriods scores each period p in [minP, maxP] by the
// autocorrelation of the mean-removed series at lag p and returns the
// local maxima with a positive score, best first (ties: shorter first),
// leaving out the multiples of a shorter period that scores nearly as well.
func detectPeriods(xs []float64, minP, maxP, count int) (periods []int, scores []float64) {
	n := len(xs)
	mean, denom, count0 := centred(xs)
	if count0 < 4 || count <= 0 || denom == 0 {
		return nil, nil
	}
	if minP < 2 {
		minP = 2
	}
	if maxP > n/2 {
		maxP = n / 2
	}
	if maxP < minP {
		return nil, nil
	}
	r := make([]float64, maxP+2)
	top := min(maxP+1, n-1)
	all := lagScores(xs, mean, denom, top)
	for p := max(minP-1, 1); p <= top; p++ {
		r[p] = all[p]
	}
	type cand struct {
		p int
		s float64
	}
	var cs []cand
	for p := minP; p <= maxP; p++ {
		s := r[p]
		if s <= 0 {
			continue
		}
		if (p-1 >= 1 && r[p-1] > s) || (p+1 < len(r) && p+1 < n && r[p+1] > s) {
			continue
		}
		cs = append(cs, cand{p, math.Min(s, 1)})
	}
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].s != cs[j].s {
			return cs[i].s > cs[j].s
		}
		return cs[i].p < cs[j].p
	})
	// a multiple of a shorter period that scores nearly as well (90%) is
	// that period seen twice, not a period of its own
	for _, c := range cs {
		multiple := false
		for _, d := range cs {
			if d.p < c.p && c.p%d.p == 0 && d.s >= 0.9*c.s {
				multiple = true
				break
			}
		}
		if multiple {
			continue
		}
		periods = append(periods, c.p)
		scores = append(scores, c.s)
		if len(periods) == count {
			break
		}
	}
	return periods, scores
}

// centred returns the mean of the points of xs that are not missing
// (NaN), the sum of their squared deviations, and their count.
func centred(xs []float64) (mean, denom float64, count int) {
	for _, x := range xs {
		if !math.IsNaN(x) {
			mean += x
			count++
		}
	}
	if count == 0 {
		return 0, 0, 0
	}
	mean /= float64(count)
	for _, x := range xs {
		if !math.IsNaN(x) {
			denom += (x - mean) * (x - mean)
		}
	}
	return mean, denom, count
}

// lagScore is the autocorrelation of xs at lag p, mean removed and
// divided by the variance sum denom, over the pairs where neither point is
// missing (NaN).
func lagScore(xs []float64, mean, denom float64, p int) float64 {
	n := len(xs)
	var s float64
	for i := 0; i+p < n; i++ {
		if math.IsNaN(xs[i]) || math.IsNaN(xs[i+p]) {
			continue
		}
		s += (xs[i] - mean) * (xs[i+p] - mean)
	}
	// scale by the overlap so that long lags are not penalised for
	// having fewer pairs
	return s / denom * float64(n) / float64(n-p)
}

// decomposition holds series_decompose's four series.
type decomposition struct {
	baseline, seasonal, trend, residual []float64
}

// decompose splits xs into seasonal, trend and residual components,
// learning from all but the last test points. period -1 detects the
// period (score at least threshold), 0 means no seasonality.
func decompose(xs []float64, period int, trend string, test int, threshold float64) (decomposition, bool) {
	n := len(xs)
	train := n - test
	if test < 0 || train < 1 {
		return decomposition{}, false
	}
	d := decomposition{
		baseline: make([]float64, n), seasonal: make([]float64, n),
		trend: make([]float64, n), residual: make([]float64, n),
	}
	if period < 0 {
		period = 0
		if ps, ss := detectPeriods(xs[:train], 4, train/2, 1); len(ps) > 0 && ss[0] >= threshold {
			period = ps[0]
		}
	}
	if period > 0 {
		phase := make([][]float64, period)
		for i := 0; i < train; i++ {
			if !math.IsNaN(xs[i]) {
				phase[i%period] = append(phase[i%period], xs[i])
			}
		}
		med := make([]float64, period)
		for j, vs := range phase {
			sort.Float64s(vs)
			if len(vs) > 0 {
				med[j] = percentile(vs, 50)
			}
		}
		for i := range xs {
			d.seasonal[i] = med[i%period]
		}
	}
	var ys []float64
	var idx []int
	for i := 0; i < train; i++ {
		if !math.IsNaN(xs[i]) {
			ys = append(ys, xs[i]-d.seasonal[i])
			idx = append(idx, i)
		}
	}
	switch trend {
	case "avg":
		var m float64
		for _, y := range ys {
			m += y
		}
		if len(ys) > 0 {
			m /= float64(len(ys))
		}
		for i := range xs {
			d.trend[i] = m
		}
	case "linefit":
		slope, icept := regress(idx, ys)
		for i := range xs {
			d.trend[i] = icept + slope*float64(i)
		}
	case "none":
	default:
		return decomposition{}, false
	}
	for i, x := range xs {
		d.baseline[i] = d.seasonal[i] + d.trend[i]
		d.residual[i] = x - d.baseline[i]
	}
	return d, true
}

// regress fits y = slope*x + icept through the points (xs[i], ys[i]).
func regress(xs []int, ys []float64) (slope, icept float64) {
	n := float64(len(ys))
	if n == 0 {
		return 0, 0
	}
	var mx, my float64
	for i, y := range ys {
		mx += float64(xs[i])
		my += y
	}
	mx /= n
	my /= n
	var sxy, sxx float64
	for i, y := range ys {
		dx := float64(xs[i]) - mx
		sxy += dx * (y - my)
		sxx += dx * dx
	}
	if sxx == 0 {
		return 0, my
	}
	slope = sxy / sxx
	return slope, my - slope*mx
}

func numsAny(xs []float64) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = bagNum(x)
	}
	return out
}

// decomposeArgs reads the optional (seasonality, trend, test points,
// seasonality threshold) arguments starting at v[from]; order lists which
// of them the function takes, in its order.
func decomposeArgs(v []Value, from int, order []string) (period int, trend string, test int, threshold float64, ok bool) {
	period, trend, threshold = -1, "avg", 0.6
	for k, name := range order {
		i := from + k
		if i >= len(v) || v[i].IsNull() && v[i].T != TypeString {
			continue
		}
		x := scalarOf(v[i])
		switch name {
		case "seasonality":
			if !isIntegral(x.T) || x.i < -1 {
				return 0, "", 0, 0, false
			}
			period = int(x.i)
		case "trend":
			if x.T != TypeString {
				return 0, "", 0, 0, false
			}
			if x.s != "" {
				trend = strings.ToLower(x.s)
			}
		case "test":
			if !isIntegral(x.T) || x.i < 0 {
				return 0, "", 0, 0, false
			}
			test = int(x.i)
		case "threshold":
			threshold = x.AsReal()
		}
	}
	return period, trend, test, threshold, true
}

func init() {
	register(dynFn(1, 1, func(v []Value) Value {
		ys, ok := floats(v[0])
		if !ok {
			return Null(TypeDynamic)
		}
		return Dynamic(fit2Lines(ys))
	}), "series_fit_2lines_dynamic")

	// series_outliers(series [, kind, ignore_val, min_percentile, max_percentile])
	register(dynFn(1, 5, func(v []Value) Value {
		xs, ok := seriesOrNaN(v[0])
		if !ok {
			return Null(TypeDynamic)
		}
		kind := ""
		if len(v) > 1 {
			kind = scalarOf(v[1]).s
		}
		lo, hi, ok := outlierRange(kind)
		if !ok {
			return Null(TypeDynamic)
		}
		if len(v) > 2 && !v[2].IsNull() {
			ignore := scalarOf(v[2]).AsReal()
			for i, x := range xs {
				if x == ignore {
					xs[i] = math.NaN()
				}
			}
		}
		if strings.EqualFold(kind, "ctukey") || kind == "" {
			if len(v) > 3 && !v[3].IsNull() {
				lo = scalarOf(v[3]).AsReal()
			}
			if len(v) > 4 && !v[4].IsNull() {
				hi = scalarOf(v[4]).AsReal()
			}
			if lo < 2 || hi > 98 || lo >= hi {
				return Null(TypeDynamic)
			}
		}
		return Dynamic(numsAny(outlierScores(xs, lo, hi)))
	}), "series_outliers")

	// series_periods_detect(series, min_period, max_period, num_periods)
	register(dynFn(4, 4, func(v []Value) Value {
		xs, ok := seriesOrNaN(v[0])
		minP, ok1 := intArg(v, 1, 0)
		maxP, ok2 := intArg(v, 2, 0)
		count, ok3 := intArg(v, 3, 0)
		if !ok || !ok1 || !ok2 || !ok3 {
			return Null(TypeDynamic)
		}
		// A period has at least 4 points (the page's "Important" note);
		// its example searches from 0.
		ps, ss := detectPeriods(xs, max(int(minP), 4), int(maxP), int(count))
		periods, scores := make([]any, len(ps)), make([]any, len(ss))
		for i := range ps {
			periods[i], scores[i] = int64(ps[i]), ss[i]
		}
		return pairBag("periods", periods, "scores", scores)
	}), "series_periods_detect/bag")

	// series_decompose(series [, seasonality, trend, test_points, threshold])
	register(dynFn(1, 5, func(v []Value) Value {
		xs, ok := seriesOrNaN(v[0])
		p, tr, test, th, aok := decomposeArgs(v, 1, []string{"seasonality", "trend", "test", "threshold"})
		if !ok || !aok {
			return Null(TypeDynamic)
		}
		d, ok := decompose(xs, p, tr, test, th)
		if !ok {
			return Null(TypeDynamic)
		}
		b := NewBag()
		b.Set("baseline", numsAny(d.baseline))
		b.Set("seasonal", numsAny(d.seasonal))
		b.Set("trend", numsAny(d.trend))
		b.Set("residual", numsAny(d.residual))
		return Dynamic(b)
	}), "series_decompose/bag")

	// series_decompose_anomalies(series [, threshold, seasonality, trend,
	// test_points, ad_method, seasonality_threshold])
	register(dynFn(1, 7, func(v []Value) Value {
		xs, ok := seriesOrNaN(v[0])
		k := 1.5
		if len(v) > 1 && !v[1].IsNull() {
			k = scalarOf(v[1]).AsReal()
		}
		p, tr, test, th, aok := decomposeArgs(v, 2, []string{"seasonality", "trend", "test", "method", "threshold"})
		method := ""
		if len(v) > 5 {
			method = scalarOf(v[5]).s
		}
		lo, hi, mok := outlierRange(method)
		if !ok || !aok || !mok {
			return Null(TypeDynamic)
		}
		d, ok := decompose(xs, p, tr, test, th)
		if !ok {
			return Null(TypeDynamic)
		}
		scores := outlierScores(d.residual, lo, hi)
		flags := make([]any, len(scores))
		for i, s := range scores {
			switch {
			case s > k:
				flags[i] = int64(1)
			case s < -k:
				flags[i] = int64(-1)
			default:
				flags[i] = int64(0)
			}
		}
		b := NewBag()
		b.Set("ad_flag", flags)
		b.Set("ad_score", numsAny(scores))
		b.Set("baseline", numsAny(d.baseline))
		return Dynamic(b)
	}), "series_decompose_anomalies/bag")

	// series_decompose_forecast(series, points [, seasonality, trend, threshold])
	register(dynFn(2, 5, func(v []Value) Value {
		xs, ok := seriesOrNaN(v[0])
		points, pok := intArg(v, 1, 0)
		p, tr, _, th, aok := decomposeArgs(v, 2, []string{"seasonality", "trend", "threshold"})
		if !ok || !pok || !aok || points < 0 {
			return Null(TypeDynamic)
		}
		d, ok := decompose(xs, p, tr, int(points), th)
		if !ok {
			return Null(TypeDynamic)
		}
		return Dynamic(numsAny(d.baseline))
	}), "series_decompose_forecast")

	// Element-wise math over a series; nulls stay null.
	unary := func(f func(float64) float64) fnImpl {
		return dynFn(1, 1, func(v []Value) Value {
			a, ok := seriesNums(v[0])
			if !ok {
				return Null(TypeDynamic)
			}
			out := make([]any, len(a))
			for i, x := range a {
				if x == nil {
					continue
				}
				s := scalarOf(Dynamic(x))
				if s.IsNull() {
					continue
				}
				out[i] = bagNum(f(s.AsReal()))
			}
			return Dynamic(out)
		})
	}
	for name, f := range map[string]func(float64) float64{
		"series_abs": math.Abs, "series_acos": math.Acos, "series_asin": math.Asin,
		"series_atan": math.Atan, "series_ceiling": math.Ceil, "series_cos": math.Cos,
		"series_exp": math.Exp, "series_floor": math.Floor, "series_log": math.Log,
		"series_sin": math.Sin, "series_tan": math.Tan,
		"series_sign": signum,
	} {
		register(unary(f), name)
	}
}
