package kql

import "math"

// beta_cdf, beta_pdf, beta_inv and welch_test. The regularized incomplete
// beta function is evaluated by its continued fraction (modified Lentz),
// on the side of the symmetry I_x(a,b) = 1 − I_{1−x}(b,a) where it
// converges fast; beta_inv inverts it by bisection, which the monotone CDF
// makes exact to the last bits. With alpha + beta of 170 or more the
// prefactor is computed from log Γ, which loses about five digits (1e-11).

// betaCF is the continued fraction of I_x(a, b) without its prefactor.
func betaCF(x, a, b float64) float64 {
	const tiny = 1e-300
	nonzero := func(v float64) float64 {
		if math.Abs(v) < tiny {
			return tiny
		}
		return v
	}
	c, d := 1.0, 1/nonzero(1-(a+b)*x/(a+1))
	f := d
	// step applies one term of the fraction and returns its factor
	step := func(num float64) float64 {
		d = 1 / nonzero(1+num*d)
		c = nonzero(1 + num/c)
		return d * c
	}
	for m := 1; m <= 10000; m++ {
		fm := float64(m)
		f *= step(fm * (b - fm) * x / ((a + 2*fm - 1) * (a + 2*fm)))
		delta := step(-(a + fm) * (a + b + fm) * x / ((a + 2*fm) * (a + 2*fm + 1)))
		f *= delta
		if math.Abs(delta-1) < 1e-16 {
			break
		}
	}
	return f
}

// betaInc is the regularized incomplete beta function I_x(a, b).
func betaInc(x, a, b float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	front := betaTerm(x, a, b, a, b)
	if x < (a+1)/(a+b+2) {
		return front * betaCF(x, a, b) / a
	}
	return 1 - front*betaCF(1-x, b, a)/b
}

func betaPDF(x, a, b float64) float64 { return betaTerm(x, a, b, a-1, b-1) }

// betaTerm is x^pa (1−x)^pb / B(a, b): with Γ itself while a + b is small
// enough for it not to overflow (more accurate), in logarithms beyond.
func betaTerm(x, a, b, pa, pb float64) float64 {
	if a+b < 170 {
		return math.Gamma(a+b) / (math.Gamma(a) * math.Gamma(b)) * math.Pow(x, pa) * math.Pow(1-x, pb)
	}
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	return math.Exp(lab - la - lb + pa*math.Log(x) + pb*math.Log1p(-x))
}

// betaInv finds x with I_x(a, b) = p by bisection.
func betaInv(p, a, b float64) float64 {
	lo, hi := 0.0, 1.0
	for i := 0; i < 200; i++ {
		mid := (lo + hi) / 2
		if mid == lo || mid == hi {
			break
		}
		if betaInc(mid, a, b) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// welchP is the two-sided p-value of Welch's t-test.
func welchP(m1, v1, c1, m2, v2, c2 float64) float64 {
	s1, s2 := v1/c1, v2/c2
	t := (m1 - m2) / math.Sqrt(s1+s2)
	df := (s1 + s2) * (s1 + s2) / (s1*s1/(c1-1) + s2*s2/(c2-1))
	return betaInc(df/(df+t*t), df/2, 0.5)
}

// numArgs reads numeric arguments; ok is false when one is null or not a
// number.
func numArgs(v []Value) ([]float64, bool) {
	out := make([]float64, len(v))
	for i, x := range v {
		s := scalarOf(x)
		if s.IsNull() || !s.T.isNumeric() {
			return nil, false
		}
		out[i] = s.AsReal()
	}
	return out, true
}

func numericArgs(a []cexpr) (Type, bool) {
	for _, x := range a {
		if t := concreteType(x.t); !t.isNumeric() && t != TypeDynamic && t != TypeUnknown {
			return TypeReal, false
		}
	}
	return TypeReal, true
}

func init() {
	validAB := func(a, b float64) bool { return a > 0 && a <= 10000 && b > 0 && b <= 10000 }
	register(fixed(3, 3, numericArgs, func(_ Type, v []Value) Value {
		n, ok := numArgs(v)
		if !ok {
			return Null(TypeReal)
		}
		if n[0] < 0 || n[0] > 1 || !validAB(n[1], n[2]) {
			return Real(math.NaN())
		}
		return Real(betaInc(n[0], n[1], n[2]))
	}), "beta_cdf")
	register(fixed(3, 3, numericArgs, func(_ Type, v []Value) Value {
		n, ok := numArgs(v)
		if !ok {
			return Null(TypeReal)
		}
		if n[0] <= 0 || n[0] >= 1 || n[1] <= 0 || n[2] <= 0 {
			return Real(math.NaN())
		}
		return Real(betaPDF(n[0], n[1], n[2]))
	}), "beta_pdf")
	// beta_inv: the page's notes and its example table disagree on which
	// invalid input is null and which NaN; the table is followed (p > 1
	// null, alpha < 0 NaN)
	register(fixed(3, 3, numericArgs, func(_ Type, v []Value) Value {
		n, ok := numArgs(v)
		if !ok || n[0] <= 0 || n[0] > 1 {
			return Null(TypeReal)
		}
		if !validAB(n[1], n[2]) {
			return Real(math.NaN())
		}
		return Real(betaInv(n[0], n[1], n[2]))
	}), "beta_inv")
	register(fixed(6, 6, numericArgs, func(_ Type, v []Value) Value {
		n, ok := numArgs(v)
		if !ok || n[2] < 2 || n[5] < 2 || n[1] < 0 || n[4] < 0 || n[1] == 0 && n[4] == 0 {
			return Null(TypeReal)
		}
		return Real(welchP(n[0], n[1], n[2], n[3], n[4], n[5]))
	}), "welch_test")
}
