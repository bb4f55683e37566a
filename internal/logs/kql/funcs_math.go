package kql

import (
	"math"
	mrand "math/rand/v2"
)

func init() {
	register(fixed(2, 2, binType, func(t Type, v []Value) Value { return binValue(v[0], v[1], Value{}) }), "bin", "floor")
	register(fixed(3, 3, binType, func(t Type, v []Value) Value { return binValue(v[0], v[1], v[2]) }), "bin_at")
	register(fixed(1, 2, func(a []cexpr) (Type, bool) {
		if a[0].t == TypeInt || a[0].t == TypeLong {
			return TypeLong, true
		}
		return TypeReal, a[0].t.isNumeric() || a[0].t == TypeDynamic
	}, func(t Type, v []Value) Value {
		x := scalarOf(v[0])
		if x.IsNull() {
			return Null(t)
		}
		digits := int64(0)
		if len(v) > 1 {
			d := scalarOf(v[1])
			if d.IsNull() {
				return Null(t)
			}
			digits = d.i
		}
		if t == TypeLong {
			if digits >= 0 {
				return Long(x.i)
			}
			p := int64(math.Pow10(int(-digits)))
			return Long(int64(math.Round(float64(x.i)/float64(p))) * p)
		}
		p := math.Pow10(int(digits))
		return Real(math.Round(x.AsReal()*p) / p)
	}), "round")
	register(fixed(1, 1, func(a []cexpr) (Type, bool) {
		return concreteType(a[0].t), a[0].t.isNumeric() || a[0].t == TypeTimeSpan || a[0].t == TypeDynamic
	}, func(t Type, v []Value) Value {
		x := scalarOf(v[0])
		if x.IsNull() {
			return Null(t)
		}
		switch x.T {
		case TypeReal, TypeDecimal:
			return Value{T: x.T, ok: true, i: int64(math.Float64bits(math.Abs(x.real())))}
		}
		if x.i < 0 {
			x.i = -x.i
		}
		return x
	}), "abs")
	realFn := func(f func(float64) float64) fnImpl {
		return fixed(1, 1, ret(TypeReal), func(_ Type, v []Value) Value {
			x := scalarOf(v[0])
			if x.IsNull() || !x.T.isNumeric() && x.T != TypeBool {
				return Null(TypeReal)
			}
			return Real(f(x.AsReal()))
		})
	}
	register(realFn(signum), "sign")
	register(realFn(math.Sqrt), "sqrt")
	register(realFn(math.Exp), "exp")
	register(realFn(math.Exp2), "exp2")
	register(realFn(func(x float64) float64 { return math.Pow(10, x) }), "exp10")
	register(realFn(math.Log), "log")
	register(realFn(math.Log2), "log2")
	register(realFn(log10Exact), "log10")
	register(realFn(math.Sin), "sin")
	register(realFn(math.Cos), "cos")
	register(realFn(math.Tan), "tan")
	register(realFn(math.Asin), "asin")
	register(realFn(math.Acos), "acos")
	register(realFn(math.Atan), "atan")
	register(realFn(math.Ceil), "ceiling")
	register(fixed(0, 0, ret(TypeReal), func(Type, []Value) Value { return Real(math.Pi) }), "pi")
	register(fixed(2, 2, ret(TypeReal), func(_ Type, v []Value) Value {
		a, b := scalarOf(v[0]), scalarOf(v[1])
		if a.IsNull() || b.IsNull() {
			return Null(TypeReal)
		}
		return Real(math.Pow(a.AsReal(), b.AsReal()))
	}), "pow")
	register(fixed(2, 2, ret(TypeReal), func(_ Type, v []Value) Value {
		a, b := scalarOf(v[0]), scalarOf(v[1])
		if a.IsNull() || b.IsNull() {
			return Null(TypeReal)
		}
		return Real(math.Atan2(a.AsReal(), b.AsReal()))
	}), "atan2")
	boolFn := func(f func(float64) bool) fnImpl {
		return fixed(1, 1, func(a []cexpr) (Type, bool) {
			return TypeBool, a[0].t.isNumeric() || a[0].t == TypeDynamic || a[0].t == TypeUnknown
		}, func(_ Type, v []Value) Value {
			x := scalarOf(v[0])
			if x.IsNull() {
				return Null(TypeBool)
			}
			return Bool(f(x.AsReal()))
		})
	}
	register(boolFn(math.IsNaN), "isnan")
	register(boolFn(func(x float64) bool { return math.IsInf(x, 0) }), "isinf")
	register(boolFn(func(x float64) bool { return !math.IsInf(x, 0) && !math.IsNaN(x) }), "isfinite")
}

func binType(a []cexpr) (Type, bool) {
	t := a[0].t
	switch {
	case t == TypeDateTime && (a[1].t == TypeTimeSpan || a[1].t == TypeUnknown):
		return TypeDateTime, true
	case t == TypeTimeSpan:
		return TypeTimeSpan, true
	case t == TypeInt || t == TypeLong:
		if a[1].t == TypeReal {
			return TypeReal, true
		}
		return TypeLong, true
	case t == TypeReal || t == TypeDecimal || t == TypeDynamic || t == TypeUnknown:
		return TypeReal, true
	}
	return TypeUnknown, false
}

// binInt rounds x down to a multiple of s > 0 counted from at (0 when at
// is null).
func binInt(x, s int64, at Value) int64 {
	origin := int64(0)
	if at.ok {
		origin = scalarOf(at).i
	}
	return origin + floorDiv(x-origin, s)*s
}

// floorDiv is x / y rounded toward negative infinity (Go's / truncates
// toward zero).
func floorDiv(x, y int64) int64 {
	q := x / y
	if x%y != 0 && (x < 0) != (y < 0) {
		q--
	}
	return q
}

// binValue rounds v down to a multiple of size (measured from at); datetime
// bins count from 0001-01-01, which is Kusto's origin.
func binValue(v, size, at Value) Value {
	v, size = scalarOf(v), scalarOf(size)
	if v.IsNull() || size.IsNull() {
		return Null(v.T)
	}
	switch v.T {
	case TypeDateTime, TypeTimeSpan:
		s := size.i
		if size.T == TypeReal {
			s = int64(size.real())
		}
		if s <= 0 {
			return Null(v.T)
		}
		return Value{T: v.T, ok: true, i: binInt(v.i, s, at)}
	case TypeInt, TypeLong:
		if size.T == TypeReal || size.T == TypeDecimal {
			f := size.real()
			if f <= 0 {
				return Null(TypeReal)
			}
			return Real(math.Floor(float64(v.i)/f) * f)
		}
		s := size.i
		if s <= 0 {
			return Null(TypeLong)
		}
		return Long(binInt(v.i, s, at))
	}
	f := size.AsReal()
	if f <= 0 || math.IsNaN(f) {
		return Null(TypeReal)
	}
	origin := 0.0
	if at.ok {
		origin = scalarOf(at).AsReal()
	}
	return Real(math.Floor((v.AsReal()-origin)/f)*f + origin)
}

func init() {
	// rand() is a real in [0, 1); rand(N) a long in [0, N-1]. Neither is
	// constant, so neither is folded.
	register(func(call *Call, args []cexpr) (cexpr, error) {
		switch len(args) {
		case 0:
			return cexpr{t: TypeReal, f: func(Row) Value { return Real(mrand.Float64()) }}, nil
		case 1:
			if !isIntegral(args[0].t) {
				return cexpr{}, errAt(call, "rand takes an integer range, not %s", args[0].t)
			}
			n := args[0].f
			return cexpr{t: TypeLong, f: func(r Row) Value {
				v := scalarOf(n(r))
				if v.IsNull() || v.i <= 0 {
					return Null(TypeLong)
				}
				return Long(mrand.Int64N(v.i))
			}}, nil
		}
		return cexpr{}, errAt(call, "rand takes 0 or 1 argument(s), got %d", len(args))
	}, "rand")
}

// signum is -1, 0 or 1 by the sign of x.
func signum(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}
