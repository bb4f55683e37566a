package kql

import (
	"math"
	"math/big"
	"strconv"
	"strings"
)

// parse_version turns "a.b.c.d" (one to four parts of at most eight digits,
// missing parts counting as trailing zeros) into the decimal
// a·10^24 + b·10^16 + c·10^8 + d, as the Kusto reference shows
// ("1.2.3.4" is 1,000,000,020,000,000,300,000,004); anything else is null.
// Such a decimal has up to 32 digits, more than a float64 holds, so the
// value carries its exact digits beside the float (exactDecimal): versions
// that differ only in a low part still compare, group and print apart.

func parseVersion(s string) (string, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < 4; i++ {
		p := "0"
		if i < len(parts) {
			p = parts[i]
		}
		if p == "" || len(p) > 8 || strings.Trim(p, "0123456789") != "" {
			return "", false
		}
		if b.Len() == 0 {
			p = strings.TrimLeft(p, "0")
			b.WriteString(p)
			continue
		}
		b.WriteString(strings.Repeat("0", 8-len(p)))
		b.WriteString(p)
	}
	digits := b.String()
	if digits == "" {
		return "0", true
	}
	return digits, true
}

// exactDecimal is a decimal holding an integer given by its digits. The
// digits are kept when the float64's text is not them (too many digits,
// or the exponent form reals take from 1E+15), so the value prints as
// Kusto's decimals do, in plain digits; small values are plain floats.
func exactDecimal(digits string) Value {
	f, _ := strconv.ParseFloat(digits, 64)
	v := Decimal(f)
	if formatReal(v.real()) != digits {
		v.s = digits
	}
	return v
}

// exactRat is a number's exact value: a decimal's kept digits, or the
// shortest decimal spelling of its float (as decimal arithmetic reads it).
func exactRat(v Value) (*big.Rat, bool) {
	if v.T == TypeDecimal && v.s != "" {
		return new(big.Rat).SetString(v.s)
	}
	if isIntegral(v.T) {
		return new(big.Rat).SetInt64(v.i), true
	}
	f := v.AsReal()
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, false
	}
	return new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
}

// compareExactDecimal orders two numbers when either carries exact digits.
func compareExactDecimal(a, b Value) int {
	x, ok1 := exactRat(a)
	y, ok2 := exactRat(b)
	if !ok1 || !ok2 {
		return cmpFloat(a.AsReal(), b.AsReal())
	}
	return x.Cmp(y)
}

func init() {
	register(fixed(1, 1, func(a []cexpr) (Type, bool) {
		t := concreteType(a[0].t)
		return TypeDecimal, t == TypeString || t == TypeDynamic || t == TypeUnknown
	}, func(_ Type, v []Value) Value {
		s := scalarOf(v[0])
		if s.T != TypeString {
			return Null(TypeDecimal)
		}
		digits, ok := parseVersion(s.s)
		if !ok {
			return Null(TypeDecimal)
		}
		return exactDecimal(digits)
	}), "parse_version")
}
