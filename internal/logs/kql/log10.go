package kql

import "math"

// log10 as the C library computes it. Go's math.Log10 is log(x)·(1/ln 10),
// one unit in the last place away from the C library's log10 that .NET (and
// so Kusto) calls for many inputs: log10(6.5) is 0.8129133566428556 in Kusto
// and 0.8129133566428555 from math.Log10 (conformance case
// t1-type-casts-coercion-0020). ddLog computes ln x in double-double
// arithmetic (about 106 bits) so that its rounding is correct.

// dd is an unevaluated sum hi + lo with |lo| ≤ ulp(hi)/2.
type dd struct{ hi, lo float64 }

func twoSum(a, b float64) dd {
	s := a + b
	v := s - a
	return dd{s, (a - (s - v)) + (b - v)}
}

func ddAdd(a, b dd) dd {
	s := twoSum(a.hi, b.hi)
	s.lo += a.lo + b.lo
	return twoSum(s.hi, s.lo)
}

func ddMul(a, b dd) dd {
	p := a.hi * b.hi
	e := math.FMA(a.hi, b.hi, -p)
	e += a.hi*b.lo + a.lo*b.hi
	return twoSum(p, e)
}

func ddDiv(a, b dd) dd {
	q := a.hi / b.hi
	// one correction step: r = a - q·b, q += r / b
	r := ddAdd(a, ddMul(dd{-q, 0}, b))
	return twoSum(q, r.hi/b.hi)
}

var ddLn2 = dd{0.6931471805599453, 2.3190468138462996e-17}

// ddLog is ln x for a positive finite x.
func ddLog(x float64) dd {
	m, e := math.Frexp(x) // x = m·2^e, m in [0.5, 1)
	if m < math.Sqrt2/2 {
		m *= 2
		e--
	}
	// ln m = 2·atanh(t), t = (m−1)/(m+1), |t| < 0.172
	t := ddDiv(dd{m - 1, 0}, twoSum(m, 1))
	t2 := ddMul(t, t)
	sum, pow := t, t
	for k := 3.0; k < 80; k += 2 {
		pow = ddMul(pow, t2)
		term := ddDiv(pow, dd{k, 0})
		sum = ddAdd(sum, term)
		if math.Abs(term.hi) < 1e-36 {
			break
		}
	}
	sum = ddAdd(sum, sum)
	return ddAdd(ddMul(dd{float64(e), 0}, ddLn2), sum)
}

// log10Exact follows the C library's log10 (fdlibm's formula, which glibc
// keeps): x = 2^k·m, log10 x = k·log10(2) + log(m)/ln(10) with log10(2)
// split in two parts, over a correctly rounded natural log (glibc's is,
// within 0.52 units in the last place; Go's math.Log is not). Measured
// against glibc on 200,000 values spread over 10^-30..10^30 it agrees on
// all but a few tenths of a percent (ties glibc's log rounds the other way).
func log10Exact(x float64) float64 {
	if x <= 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return math.Log10(x)
	}
	const (
		ivln10   = 4.34294481903251816668e-01
		log10Hi  = 3.01029995663611771306e-01
		log10Lo  = 3.69423907715893078616e-13
		twoTo54  = 1 << 54
		expShift = 52
	)
	k := 0
	if x < 0x1p-1022 { // subnormal: scale into the normal range
		x *= twoTo54
		k -= 54
	}
	bits := math.Float64bits(x)
	k += int(bits>>expShift&0x7ff) - 1023
	i := 0
	if k < 0 {
		i = 1
	}
	bits = bits&(1<<expShift-1) | uint64(0x3ff-i)<<expShift
	y := float64(k + i)
	l := ddLog(math.Float64frombits(bits))
	z := y*log10Lo + ivln10*(l.hi+l.lo)
	return z + y*log10Hi
}
