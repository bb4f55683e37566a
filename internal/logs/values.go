package logs

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/logs/kql"
)

// epochTicks is 1970-01-01 in kql's datetime ticks (100 ns since 0001-01-01).
const epochTicks = 621355968000000000

// Ticks converts a time to kql datetime ticks.
func Ticks(t time.Time) int64 {
	return epochTicks + t.Unix()*10_000_000 + int64(t.Nanosecond())/100
}

// TimeOf converts kql datetime ticks to a time.
func TimeOf(ticks int64) time.Time {
	d := ticks - epochTicks
	return time.Unix(d/10_000_000, (d%10_000_000)*100).UTC()
}

var isoDateTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$`)

// parseDateTime parses the ISO 8601 forms ingestion accepts; times without
// a zone are UTC.
func parseDateTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if !isoDateTime.MatchString(s) {
		return time.Time{}, false
	}
	s = strings.Replace(s, " ", "T", 1)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04",
		"2006-01-02T15:04Z07:00", "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

var guidForms = regexp.MustCompile(`^(?i)\{?([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})\}?$`)

// parseGuid returns the canonical dashed lower-case form of a GUID written
// with or without dashes and braces.
func parseGuid(s string) (string, bool) {
	m := guidForms.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return "", false
	}
	return strings.ToLower(strings.Join(m[1:], "-")), true
}

// coerce converts a decoded JSON value (nil, bool, json.Number, string,
// []any, *kql.Bag) to a value of type t. ok is false when the value cannot
// be converted; a JSON null gives the type's null.
func coerce(x any, t kql.Type) (kql.Value, bool) {
	if x == nil {
		if t == kql.TypeString {
			return kql.String(""), true
		}
		return kql.Null(t), true
	}
	switch t {
	case kql.TypeString:
		switch v := x.(type) {
		case string:
			return kql.String(v), true
		case json.Number:
			return kql.String(v.String()), true
		case bool:
			return kql.String(strconv.FormatBool(v)), true
		}
		return kql.String(kql.Dynamic(toKQL(x)).Plain()), true
	case kql.TypeDynamic:
		return kql.Dynamic(toKQL(x)), true
	case kql.TypeBool:
		switch v := x.(type) {
		case bool:
			return kql.Bool(v), true
		case string:
			if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
				return kql.Bool(b), true
			}
		case json.Number:
			if f, err := v.Float64(); err == nil {
				return kql.Bool(f != 0), true
			}
		}
	case kql.TypeInt, kql.TypeLong:
		var n int64
		var err error
		switch v := x.(type) {
		case json.Number:
			if n, err = v.Int64(); err != nil {
				f, ferr := v.Float64()
				if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<62 {
					return kql.Null(t), false
				}
				n = int64(f)
			}
		case string:
			if n, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
				return kql.Null(t), false
			}
		case bool:
			if v {
				n = 1
			}
		default:
			return kql.Null(t), false
		}
		if t == kql.TypeInt {
			if n != int64(int32(n)) {
				return kql.Null(t), false
			}
			return kql.Int(n), true
		}
		return kql.Long(n), true
	case kql.TypeReal, kql.TypeDecimal:
		var f float64
		var err error
		switch v := x.(type) {
		case json.Number:
			f, err = v.Float64()
		case string:
			f, err = strconv.ParseFloat(strings.TrimSpace(v), 64)
		default:
			return kql.Null(t), false
		}
		if err != nil {
			return kql.Null(t), false
		}
		if t == kql.TypeDecimal {
			return kql.Decimal(f), true
		}
		return kql.Real(f), true
	case kql.TypeDateTime:
		if s, ok := x.(string); ok {
			if tm, ok := parseDateTime(s); ok {
				return kql.DateTime(Ticks(tm)), true
			}
		}
	case kql.TypeTimeSpan:
		switch v := x.(type) {
		case string:
			if d, err := time.ParseDuration(v); err == nil {
				return kql.TimeSpan(int64(d / 100)), true
			}
			if d, ok := parseClockSpan(v); ok {
				return kql.TimeSpan(d), true
			}
		case json.Number:
			if n, err := v.Int64(); err == nil {
				return kql.TimeSpan(n), true
			}
		}
	case kql.TypeGuid:
		if s, ok := x.(string); ok {
			if g, ok := parseGuid(s); ok {
				return kql.Guid(g), true
			}
		}
	}
	return kql.Null(t), false
}

var clockSpan = regexp.MustCompile(`^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$`)

// parseClockSpan parses .NET's [-][d.]hh:mm:ss[.fffffff] into ticks.
func parseClockSpan(s string) (int64, bool) {
	m := clockSpan.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, false
	}
	num := func(x string) int64 { n, _ := strconv.ParseInt(x, 10, 64); return n }
	frac := m[6] + strings.Repeat("0", 7-len(m[6]))
	t := ((num(m[2])*24+num(m[3]))*3600+num(m[4])*60+num(m[5]))*10_000_000 + num(frac)
	if m[1] == "-" {
		t = -t
	}
	return t, true
}

// toKQL turns decoded JSON into the Go values kql.Dynamic holds.
func toKQL(x any) any {
	switch v := x.(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n
		}
		f, _ := v.Float64()
		return f
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = toKQL(e)
		}
		return out
	case *kql.Bag:
		out := kql.NewBag()
		for _, k := range v.Keys {
			out.Set(k, toKQL(v.M[k]))
		}
		return out
	}
	return x
}

// maxJSONDepth bounds the nesting of a request body or stored dynamic.
const maxJSONDepth = 100

// parseJSON decodes a whole document keeping object keys in order (as
// *kql.Bag) and numbers as json.Number, so that coerce sees a number's
// text as written.
func parseJSON(b []byte) (any, error) {
	return kql.DecodeJSON(bytes.NewReader(b), kql.JSONOptions{KeepNumbers: true, MaxDepth: maxJSONDepth})
}

// sqlArg converts a value to what its SQL column holds.
func sqlArg(v kql.Value) any {
	if v.IsNull() {
		if v.T == kql.TypeString {
			return ""
		}
		return nil
	}
	switch v.T {
	case kql.TypeBool:
		if v.AsBool() {
			return int64(1)
		}
		return int64(0)
	case kql.TypeInt, kql.TypeLong, kql.TypeDateTime, kql.TypeTimeSpan:
		return v.AsInt()
	case kql.TypeReal, kql.TypeDecimal:
		return v.AsReal()
	case kql.TypeString, kql.TypeGuid:
		return v.AsString()
	case kql.TypeDynamic:
		return v.Plain()
	}
	return nil
}
