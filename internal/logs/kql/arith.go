package kql

import (
	"math"
	"math/big"
)

// arithType is the static result type of an arithmetic operator.
func arithType(op string, a, b Type) (Type, bool) {
	if a == TypeUnknown {
		a = b
	}
	if b == TypeUnknown {
		b = a
	}
	if a == TypeDynamic || b == TypeDynamic {
		// Kusto rejects arithmetic on dynamic values without a cast
		// (agent-dynamic-json-0033)
		return TypeUnknown, false
	}
	if a.isNumeric() && b.isNumeric() {
		switch {
		case a == TypeDecimal || b == TypeDecimal:
			return TypeDecimal, true
		case a == TypeReal || b == TypeReal:
			return TypeReal, true
		}
		// int arithmetic widens to long, as gettype(toint(1) / toint(2)) shows
		return TypeLong, true
	}
	switch {
	case a == TypeDateTime && b == TypeDateTime && op == "-":
		return TypeTimeSpan, true
	case a == TypeDateTime && b == TypeTimeSpan && (op == "+" || op == "-"):
		return TypeDateTime, true
	case a == TypeTimeSpan && b == TypeDateTime && op == "+":
		return TypeDateTime, true
	case a == TypeTimeSpan && b == TypeTimeSpan:
		switch op {
		case "+", "-", "%":
			return TypeTimeSpan, true
		case "/":
			return TypeReal, true
		}
	case a == TypeTimeSpan && b.isNumeric() && (op == "*" || op == "/"):
		return TypeTimeSpan, true
	case a.isNumeric() && b == TypeTimeSpan && op == "*":
		return TypeTimeSpan, true
	}
	return TypeUnknown, false
}

// arith evaluates an arithmetic operator with Kusto's null rules: any null
// operand gives null; integer division by zero gives null.
func arith(op string, t Type, a, b Value) Value {
	a, b = scalarOf(a), scalarOf(b)
	if a.IsNull() || b.IsNull() {
		if t == TypeDynamic {
			return Null(TypeDynamic)
		}
		return Null(t)
	}
	rt := t
	if t == TypeDynamic {
		var ok bool
		if rt, ok = arithType(op, a.T, b.T); !ok {
			return Null(TypeDynamic)
		}
		return toDynamic(arith(op, rt, a, b))
	}
	switch rt {
	case TypeInt, TypeLong:
		x, y := a.i, b.i
		var n int64
		switch op {
		case "+":
			n = x + y
		case "-":
			n = x - y
		case "*":
			n = x * y
		case "/":
			if y == 0 {
				return Null(rt)
			}
			n = x / y
		case "%":
			if y == 0 {
				return Null(rt)
			}
			// Kusto's modulo is never negative: -7 % 3 is 2, 5 % -3 is 2
			n = x % y
			if n < 0 {
				if y < 0 {
					n -= y
				} else {
					n += y
				}
			}
		}
		if rt == TypeInt {
			return Int(n)
		}
		return Long(n)
	case TypeReal, TypeDecimal:
		x, y := a.AsReal(), b.AsReal()
		if rt == TypeDecimal {
			if v, ok := decimalArith(op, a, b); ok {
				return v
			}
		}
		var f float64
		switch op {
		case "+":
			f = x + y
		case "-":
			f = x - y
		case "*":
			f = x * y
		case "/":
			f = x / y
		case "%":
			f = math.Mod(x, y)
			if f < 0 {
				f += math.Abs(y)
			}
		}
		if a.T == TypeTimeSpan && b.T == TypeTimeSpan {
			f = float64(a.i) / float64(b.i)
		}
		if rt == TypeDecimal {
			return Decimal(f)
		}
		return Value{T: rt, ok: true, i: int64(math.Float64bits(f))}
	case TypeDateTime:
		if a.T == TypeTimeSpan {
			a, b = b, a
		}
		if op == "-" {
			return dateChecked(a.i - b.i)
		}
		return dateChecked(a.i + b.i)
	case TypeTimeSpan:
		switch {
		case a.T == TypeDateTime:
			return TimeSpan(a.i - b.i)
		case a.T == TypeTimeSpan && b.T == TypeTimeSpan:
			switch op {
			case "+":
				return TimeSpan(a.i + b.i)
			case "-":
				return TimeSpan(a.i - b.i)
			case "%":
				if b.i == 0 {
					return Null(TypeTimeSpan)
				}
				return TimeSpan(a.i % b.i)
			}
		case a.T == TypeTimeSpan:
			if op == "*" {
				return TimeSpan(int64(float64(a.i) * b.AsReal()))
			}
			d := b.AsReal()
			if d == 0 {
				return Null(TypeTimeSpan)
			}
			return TimeSpan(int64(float64(a.i) / d))
		default:
			return TimeSpan(int64(a.AsReal() * float64(b.i)))
		}
	}
	return Null(rt)
}

// decimalArith computes a decimal operation exactly, on the shortest
// decimal spelling of each operand, and rounds the result to the nearest
// float64: decimal(10) / 3 is 3.3333333333333335 and 1.1 + 2.2 is 3.3, as in
// Kusto (agent-type-casts-coercion-0020#2, -0047). A decimal carrying more
// digits than a float64 (parse_version's) takes part with all of them, and
// an integral result keeps its digits the same way.
func decimalArith(op string, a, b Value) (Value, bool) {
	rx, ok1 := exactRat(scalarOf(a))
	ry, ok2 := exactRat(scalarOf(b))
	if !ok1 || !ok2 {
		return Value{}, false
	}
	var r big.Rat
	switch op {
	case "+":
		r.Add(rx, ry)
	case "-":
		r.Sub(rx, ry)
	case "*":
		r.Mul(rx, ry)
	case "/":
		if ry.Sign() == 0 {
			return Value{}, false
		}
		r.Quo(rx, ry)
	default:
		return Value{}, false
	}
	if r.IsInt() && (a.s != "" || b.s != "") {
		return exactDecimal(r.Num().String()), true
	}
	f, _ := r.Float64()
	return Value{T: TypeDecimal, ok: true, i: int64(math.Float64bits(f))}, true
}

// dateChecked returns a datetime, or null outside 0001-01-01 to 9999-12-31.
func dateChecked(ticks int64) Value {
	if ticks < 0 || ticks > maxDateTicks {
		return Null(TypeDateTime)
	}
	return DateTime(ticks)
}

// toDynamic wraps a typed value as a dynamic one.
func toDynamic(v Value) Value {
	if v.IsNull() {
		return Null(TypeDynamic)
	}
	switch v.T {
	case TypeDynamic:
		return v
	case TypeBool:
		return Dynamic(v.i != 0)
	case TypeInt, TypeLong:
		return Dynamic(v.i)
	case TypeReal:
		f := v.real()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			// JSON has no NaN or Infinity: Kusto stores them as strings
			return Dynamic(formatReal(f))
		}
		return Dynamic(f)
	case TypeDecimal:
		return Dynamic(v.Text())
	case TypeString, TypeGuid:
		return Dynamic(v.s)
	case TypeDateTime:
		return Dynamic(formatDateTime(v.i))
	case TypeTimeSpan:
		return Dynamic(formatTimeSpan(v.i))
	}
	return Null(TypeDynamic)
}

// dynAny returns the dynamic payload a typed value would have inside an
// array or bag.
func dynAny(v Value) any {
	return toDynamic(v).d
}
