package kql

import "math"

// series_fit_poly(y [, x, degree]) fits a polynomial of the given degree (1
// by default) by least squares, x being 1..n when not given (the
// reference's default), and returns the columns rsquare, coefficients
// (highest power first), variance, rvariance and poly_fit, with the same
// conventions as series_fit_line: null y elements count as 0, variance is
// the sample variance of y and rvariance the residuals' sum of squares over
// the same n − 1. With degree 1 the fit is series_fit_line's line (the
// reference's second example). The system is solved by Householder QR, which
// stays accurate where the normal equations of a high degree do not.

// maxPolyDegree bounds the degree: the reference's examples go up to 8.
const maxPolyDegree = 16

// polyFit returns the coefficients c[0] + c[1]·x + ... + c[d]·x^d; ok is
// false when the system is rank-deficient.
func polyFit(xs, ys []float64, d int) ([]float64, bool) {
	n, m := len(xs), d+1
	a := make([][]float64, n) // a[i][j] = xs[i]^j
	for i, x := range xs {
		a[i] = make([]float64, m)
		p := 1.0
		for j := 0; j < m; j++ {
			a[i][j] = p
			p *= x
		}
	}
	b := append([]float64(nil), ys...)
	for k := 0; k < m; k++ {
		var norm float64
		for i := k; i < n; i++ {
			norm = math.Hypot(norm, a[i][k])
		}
		if norm == 0 {
			return nil, false
		}
		if a[k][k] > 0 {
			norm = -norm
		}
		// v = a[k:,k] - norm·e1, applied as I - 2vvᵀ/vᵀv
		v := make([]float64, n-k)
		for i := k; i < n; i++ {
			v[i-k] = a[i][k]
		}
		v[0] -= norm
		var vv float64
		for _, x := range v {
			vv += x * x
		}
		if vv == 0 {
			return nil, false
		}
		for j := k; j < m; j++ {
			var s float64
			for i := k; i < n; i++ {
				s += v[i-k] * a[i][j]
			}
			s *= 2 / vv
			for i := k; i < n; i++ {
				a[i][j] -= s * v[i-k]
			}
		}
		var s float64
		for i := k; i < n; i++ {
			s += v[i-k] * b[i]
		}
		s *= 2 / vv
		for i := k; i < n; i++ {
			b[i] -= s * v[i-k]
		}
	}
	c := make([]float64, m)
	for k := m - 1; k >= 0; k-- {
		if math.Abs(a[k][k]) < 1e-12*math.Abs(a[0][0]) {
			return nil, false
		}
		s := b[k]
		for j := k + 1; j < m; j++ {
			s -= a[k][j] * c[j]
		}
		c[k] = s / a[k][k]
	}
	return c, true
}

func init() {
	multiCols["series_fit_poly"] = multiColFn{impl: "series_fit_poly/bag", fields: []mcField{
		{"rsquare", []string{"rsquare"}, TypeReal}, {"coefficients", []string{"coefficients"}, TypeDynamic},
		{"variance", []string{"variance"}, TypeReal}, {"rvariance", []string{"rvariance"}, TypeReal},
		{"poly_fit", []string{"poly_fit"}, TypeDynamic},
	}}
	register(dynFn(1, 3, func(v []Value) Value {
		ys, ok := floats(v[0])
		if !ok {
			return Null(TypeDynamic)
		}
		xs := make([]float64, len(ys))
		for i := range xs {
			xs[i] = float64(i + 1)
		}
		if len(v) > 1 && !v[1].IsNull() {
			if xs, ok = floats(v[1]); !ok || len(xs) != len(ys) {
				return Null(TypeDynamic)
			}
		}
		d, ok := intArg(v, 2, 1)
		if !ok || d < 1 || d > maxPolyDegree || int(d) >= len(ys) {
			return Null(TypeDynamic)
		}
		c, ok := polyFit(xs, ys, int(d))
		if !ok {
			return Null(TypeDynamic)
		}
		n := float64(len(ys))
		var my float64
		for _, y := range ys {
			my += y
		}
		my /= n
		fit := make([]any, len(ys))
		var sst, ssr float64
		for i, x := range xs {
			f := 0.0
			for j := len(c) - 1; j >= 0; j-- {
				f = f*x + c[j]
			}
			fit[i] = bagNum(f)
			sst += (ys[i] - my) * (ys[i] - my)
			ssr += (ys[i] - f) * (ys[i] - f)
		}
		coeffs := make([]any, len(c))
		for j := range c {
			coeffs[j] = bagNum(c[len(c)-1-j])
		}
		b := NewBag()
		b.Set("rsquare", bagNum(1-ssr/sst))
		b.Set("coefficients", coeffs)
		b.Set("variance", bagNum(sst/(n-1)))
		b.Set("rvariance", bagNum(ssr/(n-1)))
		b.Set("poly_fit", fit)
		return Dynamic(b)
	}), "series_fit_poly/bag")
}
