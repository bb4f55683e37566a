package kql

import (
	"math"
	"strconv"
	"strings"
)

// converter returns the to<type>() conversion for a type.
func converter(t Type) func(Value) Value {
	switch t {
	case TypeString:
		return toStringValue
	case TypeLong:
		return func(v Value) Value { return toLongValue(v, false) }
	case TypeInt:
		return func(v Value) Value { return toLongValue(v, true) }
	case TypeReal:
		return func(v Value) Value { return toRealValue(v, TypeReal) }
	case TypeDecimal:
		return func(v Value) Value { return toRealValue(v, TypeDecimal) }
	case TypeBool:
		return toBoolValue
	case TypeDateTime:
		return toDateTimeValue
	case TypeTimeSpan:
		return toTimeSpanValue
	case TypeGuid:
		return toGuidValue
	case TypeDynamic:
		return toDynamicValue
	}
	return nil
}

// stringOf is tostring(): empty for null, True/False for bools, compact
// JSON for dynamic arrays and bags.
func stringOf(v Value) string {
	if v.IsNull() {
		return ""
	}
	switch v.T {
	case TypeReal:
		f := v.real()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return formatReal(f)
		}
		return jsonReal(f)
	case TypeDecimal:
		return v.Text()
	case TypeDynamic:
		switch x := v.d.(type) {
		case string:
			return x
		case float64:
			return jsonReal(x)
		case bool:
			if x {
				return "true"
			}
			return "false"
		}
		return jsonCompact(v.d)
	}
	return v.Plain()
}

func toStringValue(v Value) Value { return String(stringOf(v)) }

func toLongValue(v Value, int32 bool) Value {
	t := TypeLong
	if int32 {
		t = TypeInt
	}
	v = scalarOf(v)
	if v.IsNull() {
		return Null(t)
	}
	var n int64
	switch v.T {
	case TypeInt, TypeLong, TypeBool, TypeDateTime, TypeTimeSpan:
		n = v.i
	case TypeReal, TypeDecimal:
		f := v.real()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return Null(t)
		}
		// out-of-range reals saturate
		switch {
		case int32 && f >= math.MaxInt32:
			return Int(math.MaxInt32)
		case int32 && f <= math.MinInt32:
			return Int(math.MinInt32)
		case f >= math.MaxInt64:
			n = math.MaxInt64
		case f <= math.MinInt64:
			n = math.MinInt64
		default:
			n = int64(f)
		}
	case TypeString:
		s := strings.TrimSpace(v.s)
		s = strings.TrimPrefix(s, "+")
		var err error
		if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
			var u uint64
			u, err = strconv.ParseUint(s[2:], 16, 64)
			n = int64(u)
			if int32 && err == nil && u > math.MaxUint32 {
				return Null(t)
			}
			if int32 && err == nil {
				n = int64(uint32(u))
			}
		} else {
			n, err = strconv.ParseInt(s, 10, 64)
			if int32 && err == nil && (n > math.MaxInt32 || n < math.MinInt32) {
				return Null(t)
			}
		}
		if err != nil {
			return Null(t)
		}
	default:
		return Null(t)
	}
	if int32 {
		return Int(n)
	}
	return Long(n)
}

func toRealValue(v Value, t Type) Value {
	v = scalarOf(v)
	if v.IsNull() {
		return Null(t)
	}
	var f float64
	switch v.T {
	case TypeInt, TypeLong, TypeBool, TypeTimeSpan, TypeDateTime:
		f = float64(v.i)
	case TypeReal, TypeDecimal:
		f = v.real()
	case TypeString:
		s := strings.TrimSpace(v.s)
		if strings.ContainsAny(s, "xX_") {
			return Null(t)
		}
		var ok bool
		// an out-of-range number ("1e400") is an infinity, not an error
		if f, ok = parseRealText(s); !ok && !math.IsInf(f, 0) {
			return Null(t)
		}
	default:
		return Null(t)
	}
	if t == TypeDecimal {
		return Decimal(f)
	}
	return Value{T: t, ok: true, i: int64(math.Float64bits(f))}
}

func toBoolValue(v Value) Value {
	fromDynamic := v.T == TypeDynamic
	v = scalarOf(v)
	if v.IsNull() {
		return Null(TypeBool)
	}
	switch v.T {
	case TypeBool:
		return v
	case TypeInt, TypeLong:
		return Bool(v.i != 0)
	case TypeReal, TypeDecimal:
		return Bool(v.real() != 0)
	case TypeString:
		// exact spellings only: " true" and "1.0" are null
		// (agent-type-casts-coercion-0058)
		switch strings.ToLower(v.s) {
		case "true":
			return Bool(true)
		case "false":
			return Bool(false)
		}
		if n, err := strconv.ParseInt(v.s, 10, 64); err == nil {
			return Bool(n != 0)
		}
		// a string inside dynamic converts like tolong, hex included
		// (agent-type-casts-coercion-0014#2)
		if n := toLongValue(v, false); fromDynamic && n.ok {
			return Bool(n.i != 0)
		}
	}
	return Null(TypeBool)
}

func toDateTimeValue(v Value) Value {
	v = scalarOf(v)
	if v.IsNull() {
		return Null(TypeDateTime)
	}
	switch v.T {
	case TypeDateTime:
		return v
	case TypeString:
		if t, ok := parseDateTime(v.s); ok {
			return DateTime(t)
		}
	case TypeInt, TypeLong:
		return dateChecked(v.i)
	case TypeReal, TypeDecimal:
		return dateChecked(int64(v.real()))
	}
	return Null(TypeDateTime)
}

func toTimeSpanValue(v Value) Value {
	v = scalarOf(v)
	if v.IsNull() {
		return Null(TypeTimeSpan)
	}
	switch v.T {
	case TypeTimeSpan:
		return v
	case TypeInt, TypeLong:
		return TimeSpan(v.i)
	case TypeReal, TypeDecimal:
		return TimeSpan(int64(v.real()))
	case TypeString:
		if t, ok := parseTimeSpan(v.s); ok {
			return TimeSpan(t)
		}
	}
	return Null(TypeTimeSpan)
}

func toGuidValue(v Value) Value {
	v = scalarOf(v)
	if v.IsNull() {
		return Null(TypeGuid)
	}
	switch v.T {
	case TypeGuid:
		return v
	case TypeString:
		if g, ok := parseGuid(v.s); ok {
			return Guid(g)
		}
	}
	return Null(TypeGuid)
}

// toDynamicValue is todynamic()/parse_json(): strings holding JSON are
// parsed, anything else is wrapped.
func toDynamicValue(v Value) Value {
	if v.T == TypeString {
		if strings.TrimSpace(v.s) == "" {
			return Null(TypeDynamic)
		}
		d, err := ParseJSON(v.s)
		if err != nil {
			return Dynamic(v.s)
		}
		return Dynamic(d)
	}
	if v.T == TypeDynamic {
		if s, ok := v.d.(string); ok {
			if d, err := ParseJSON(s); err == nil {
				return Dynamic(d)
			}
		}
	}
	return toDynamic(v)
}
