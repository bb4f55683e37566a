package kql

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Type is a Kusto scalar type.
type Type uint8

// The Kusto scalar types. TypeUnknown is the type of a bare null literal
// before it meets a typed context.
const (
	TypeUnknown Type = iota
	TypeBool
	TypeInt
	TypeLong
	TypeReal
	TypeDecimal
	TypeString
	TypeDateTime
	TypeTimeSpan
	TypeGuid
	TypeDynamic
)

var typeNames = [...]string{"unknown", "bool", "int", "long", "real", "decimal", "string", "datetime", "timespan", "guid", "dynamic"}

// String returns the Kusto name of the type (long, real, datetime, ...).
func (t Type) String() string { return typeNames[t] }

// APIName returns the type's name in the Log Analytics query API.
func (t Type) APIName() string { return typeNames[t] }

// ConformanceName returns the type's name as the conformance data writes it
// (Int, Real, String, Bool, DateTime, TimeSpan, Guid, Dynamic).
func (t Type) ConformanceName() string {
	switch t {
	case TypeBool:
		return "Bool"
	case TypeInt, TypeLong:
		return "Int"
	case TypeReal, TypeDecimal:
		return "Real"
	case TypeDateTime:
		return "DateTime"
	case TypeTimeSpan:
		return "TimeSpan"
	case TypeGuid:
		return "Guid"
	case TypeDynamic:
		return "Dynamic"
	}
	return "String"
}

// isNumeric reports whether arithmetic treats t as a number.
func (t Type) isNumeric() bool {
	return t == TypeInt || t == TypeLong || t == TypeReal || t == TypeDecimal
}

// typeByName maps the type names accepted in schemas and literals.
var typeByName = map[string]Type{
	"bool": TypeBool, "boolean": TypeBool, "int": TypeInt, "int32": TypeInt, "long": TypeLong, "int64": TypeLong,
	"real": TypeReal, "double": TypeReal, "decimal": TypeDecimal, "string": TypeString, "datetime": TypeDateTime,
	"date": TypeDateTime, "timespan": TypeTimeSpan, "time": TypeTimeSpan, "guid": TypeGuid, "uniqueid": TypeGuid,
	"dynamic": TypeDynamic,
}

// Value is one typed Kusto value. The zero Value is an untyped null. A value
// of type string is never null (Kusto uses the empty string instead).
//
// The payload lives in one field chosen by the type: i for bool (0/1), int,
// long, datetime and timespan (100 ns ticks; datetimes count from
// 0001-01-01) and the IEEE bits of real and decimal, s for string and
// guid, d for dynamic.
type Value struct {
	T  Type
	ok bool
	i  int64
	s  string
	d  any
}

// Null returns the null value of type t; for string, which Kusto never
// makes null, it is the empty string.
func Null(t Type) Value {
	if t == TypeString {
		return Value{T: TypeString, ok: true}
	}
	return Value{T: t}
}

// Bool returns a bool value.
func Bool(b bool) Value {
	v := Value{T: TypeBool, ok: true}
	if b {
		v.i = 1
	}
	return v
}

// Int returns an int (32-bit) value.
func Int(n int64) Value { return Value{T: TypeInt, ok: true, i: int64(int32(n))} }

// Long returns a long value.
func Long(n int64) Value { return Value{T: TypeLong, ok: true, i: n} }

// Real returns a real value.
func Real(f float64) Value { return Value{T: TypeReal, ok: true, i: int64(math.Float64bits(f))} }

// Decimal returns a decimal value, held as a float64.
func Decimal(f float64) Value {
	// decimals are exact in Kusto; rounding to 16 significant digits hides
	// the binary representation error (2.2, not 2.1999999999999997)
	if !math.IsNaN(f) && !math.IsInf(f, 0) {
		f, _ = strconv.ParseFloat(strconv.FormatFloat(f, 'g', 16, 64), 64)
	}
	if f == 0 {
		f = 0 // decimals have no negative zero
	}
	return Value{T: TypeDecimal, ok: true, i: int64(math.Float64bits(f))}
}

// String returns a string value.
func String(s string) Value { return Value{T: TypeString, ok: true, s: s} }

// DateTime returns a datetime from 100 ns ticks since 0001-01-01.
func DateTime(ticks int64) Value { return Value{T: TypeDateTime, ok: true, i: ticks} }

// DateTimeOf returns the datetime of a time.Time (truncated to 100 ns).
func DateTimeOf(t time.Time) Value { return DateTime(timeToTicks(t.UTC())) }

// Time returns a datetime value as a UTC time.Time.
func (v Value) Time() time.Time { return ticksToTime(v.i) }

// TimeSpan returns a timespan of ticks (100 ns).
func TimeSpan(ticks int64) Value { return Value{T: TypeTimeSpan, ok: true, i: ticks} }

// Guid returns a guid value from its canonical lower-case text.
func Guid(s string) Value { return Value{T: TypeGuid, ok: true, s: strings.ToLower(s)} }

// Dynamic returns a dynamic value holding a JSON-like Go value: nil, bool,
// int64, float64, string, []any or *Bag.
func Dynamic(x any) Value { return Value{T: TypeDynamic, ok: true, d: x} }

// IsNull reports whether v is null. A dynamic holding JSON null is null too.
func (v Value) IsNull() bool { return !v.ok || (v.T == TypeDynamic && v.d == nil) }

// AsBool returns the boolean payload (false for null).
func (v Value) AsBool() bool { return v.ok && v.i != 0 }

// AsInt returns the integer payload of an int, long, datetime or timespan.
func (v Value) AsInt() int64 { return v.i }

// AsReal returns the value as a float64 where it is numeric.
func (v Value) AsReal() float64 {
	switch v.T {
	case TypeReal, TypeDecimal:
		return v.real()
	case TypeInt, TypeLong, TypeBool:
		return float64(v.i)
	}
	return math.NaN()
}

// AsString returns the string or guid payload.
func (v Value) AsString() string { return v.s }

// AsDynamic returns the dynamic payload.
func (v Value) AsDynamic() any { return v.d }

// Text renders v the way Kusto's text output does (and the conformance data
// records it): null, True/False, shortest round-trip reals with .NET
// exponent style, ISO datetimes with seven fractional digits, [-][d.]hh:mm:ss
// timespans, quoted strings and guids, indented JSON for dynamic.
func (v Value) Text() string {
	if v.T == TypeDynamic {
		if !v.ok {
			return "null"
		}
		return jsonIndent(v.d)
	}
	if !v.ok {
		if v.T == TypeString {
			return "''"
		}
		return "null"
	}
	switch v.T {
	case TypeBool:
		if v.i != 0 {
			return "True"
		}
		return "False"
	case TypeInt, TypeLong:
		return strconv.FormatInt(v.i, 10)
	case TypeReal, TypeDecimal:
		if v.s != "" { // a decimal with more digits than a float64 holds
			return v.s
		}
		return formatReal(v.real())
	case TypeString, TypeGuid:
		return "'" + v.s + "'"
	case TypeDateTime:
		return formatDateTime(v.i)
	case TypeTimeSpan:
		return formatTimeSpan(v.i)
	}
	return "null"
}

// Plain renders v without string quotes and with compact JSON for dynamic,
// as tostring() and table output do.
func (v Value) Plain() string {
	if v.IsNull() {
		return ""
	}
	switch v.T {
	case TypeString, TypeGuid:
		return v.s
	case TypeDynamic:
		if s, ok := v.d.(string); ok {
			return s
		}
		return jsonCompact(v.d)
	}
	return v.Text()
}

// formatReal renders a float the way .NET's shortest round-trip format does:
// plain digits for exponents from -4 to 14, otherwise d.dddE+XX.
func formatReal(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	if f == 0 {
		if math.Signbit(f) {
			return "-0"
		}
		return "0"
	}
	if s, ok := expNotation(f, -4, 15, "E"); ok {
		return s
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// expNotation renders f's shortest digits as d.dddE+XX (with at least two
// exponent digits) when its decimal exponent is below lo or at least hi.
func expNotation(f float64, lo, hi int, e string) (string, bool) {
	mant, expStr, _ := strings.Cut(strconv.FormatFloat(f, 'e', -1, 64), "e")
	exp, _ := strconv.Atoi(expStr)
	if exp >= lo && exp < hi {
		return "", false
	}
	sign := "+"
	if exp < 0 {
		sign = "-"
		exp = -exp
	}
	es := strconv.Itoa(exp)
	if len(es) < 2 {
		es = "0" + es
	}
	return mant + e + sign + es, true
}

// real returns the float payload of a real or decimal.
func (v Value) real() float64 { return math.Float64frombits(uint64(v.i)) }
