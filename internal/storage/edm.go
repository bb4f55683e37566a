package storage

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// EdmType is the type of an entity property, as the Table service names it.
type EdmType string

// The property types of the Table service.
const (
	EdmString   EdmType = "Edm.String"
	EdmInt32    EdmType = "Edm.Int32"
	EdmInt64    EdmType = "Edm.Int64"
	EdmDouble   EdmType = "Edm.Double"
	EdmBoolean  EdmType = "Edm.Boolean"
	EdmDateTime EdmType = "Edm.DateTime"
	EdmGuid     EdmType = "Edm.Guid"
	EdmBinary   EdmType = "Edm.Binary"
)

// Value is a typed property value. Exactly the field of its Type is
// meaningful: S (String, Guid), I (Int32, Int64), F (Double), B (Boolean),
// T (DateTime), Bin (Binary).
type Value struct {
	Type EdmType
	S    string
	I    int64
	F    float64
	B    bool
	T    time.Time
	Bin  []byte
}

// Limits of the Table service.
const (
	maxEntityBytes  = 1 << 20
	maxProperties   = 252 // plus PartitionKey, RowKey and Timestamp
	maxPropertyName = 255
	maxValueBytes   = 64 << 10
	maxKeyBytes     = 1024
)

// minDateTime is the earliest DateTime the service stores (1601-01-01).
var minDateTime = time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)

// dateTimeLayout is how the service writes DateTime values: seven
// fractional digits and Z.
const dateTimeLayout = "2006-01-02T15:04:05.0000000Z"

func formatDateTime(t time.Time) string { return t.UTC().Format(dateTimeLayout) }

// parseDateTime reads an ISO 8601 UTC time as clients send it.
func parseDateTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999", "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 date and time", s)
}

// size is the value's contribution to the entity size, as the service
// counts it.
func (v Value) size() int {
	switch v.Type {
	case EdmString:
		return 4 + 2*utf16Len(v.S)
	case EdmBinary:
		return 4 + len(v.Bin)
	case EdmInt32:
		return 4
	case EdmBoolean:
		return 1
	case EdmGuid:
		return 16
	}
	return 8 // Int64, Double, DateTime
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// decodeValue reads a JSON property value, typed by its @odata.type
// annotation when there is one.
func decodeValue(raw json.RawMessage, annotation string) (Value, error) {
	raw = bytes.TrimSpace(raw)
	var str *string
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return Value{}, err
		}
		str = &s
	}
	switch EdmType(annotation) {
	case "":
		switch {
		case str != nil:
			return Value{Type: EdmString, S: *str}, nil
		case string(raw) == "true" || string(raw) == "false":
			return Value{Type: EdmBoolean, B: string(raw) == "true"}, nil
		}
		if i, err := strconv.ParseInt(string(raw), 10, 32); err == nil {
			return Value{Type: EdmInt32, I: i}, nil
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return Value{}, fmt.Errorf("unsupported JSON value")
		}
		return Value{Type: EdmDouble, F: f}, nil
	case EdmString:
		if str == nil {
			return Value{}, fmt.Errorf("an Edm.String must be a JSON string")
		}
		return Value{Type: EdmString, S: *str}, nil
	case EdmInt32:
		s := string(raw)
		if str != nil {
			s = *str
		}
		i, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return Value{}, fmt.Errorf("%q is not an Edm.Int32", s)
		}
		return Value{Type: EdmInt32, I: i}, nil
	case EdmInt64:
		s := string(raw)
		if str != nil {
			s = *str
		}
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return Value{}, fmt.Errorf("%q is not an Edm.Int64", s)
		}
		return Value{Type: EdmInt64, I: i}, nil
	case EdmDouble:
		if str != nil {
			switch *str {
			case "NaN":
				return Value{Type: EdmDouble, F: math.NaN()}, nil
			case "Infinity", "INF":
				return Value{Type: EdmDouble, F: math.Inf(1)}, nil
			case "-Infinity", "-INF":
				return Value{Type: EdmDouble, F: math.Inf(-1)}, nil
			}
			f, err := strconv.ParseFloat(*str, 64)
			if err != nil {
				return Value{}, fmt.Errorf("%q is not an Edm.Double", *str)
			}
			return Value{Type: EdmDouble, F: f}, nil
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return Value{}, fmt.Errorf("not an Edm.Double")
		}
		return Value{Type: EdmDouble, F: f}, nil
	case EdmBoolean:
		switch string(raw) {
		case "true", `"true"`:
			return Value{Type: EdmBoolean, B: true}, nil
		case "false", `"false"`:
			return Value{Type: EdmBoolean}, nil
		}
		return Value{}, fmt.Errorf("not an Edm.Boolean")
	case EdmDateTime:
		if str == nil {
			return Value{}, fmt.Errorf("an Edm.DateTime must be a JSON string")
		}
		t, err := parseDateTime(*str)
		if err != nil {
			return Value{}, err
		}
		if t.Before(minDateTime) {
			return Value{}, fmt.Errorf("Edm.DateTime values start at 1601-01-01")
		}
		return Value{Type: EdmDateTime, T: t}, nil
	case EdmGuid:
		if str == nil {
			return Value{}, fmt.Errorf("an Edm.Guid must be a JSON string")
		}
		g, err := uuid.Parse(*str)
		if err != nil {
			return Value{}, fmt.Errorf("%q is not an Edm.Guid", *str)
		}
		return Value{Type: EdmGuid, S: g.String()}, nil
	case EdmBinary:
		if str == nil {
			return Value{}, fmt.Errorf("an Edm.Binary must be a base64 JSON string")
		}
		b, err := base64.StdEncoding.DecodeString(*str)
		if err != nil {
			return Value{}, fmt.Errorf("an Edm.Binary must be base64")
		}
		return Value{Type: EdmBinary, Bin: b}, nil
	}
	return Value{}, fmt.Errorf("unknown type %q", annotation)
}

// jsonValue is the value as the service writes it in JSON: Int64 as a
// string, DateTime in seven-digit form, Binary in base64, non-finite
// doubles as strings.
func (v Value) jsonValue() any {
	switch v.Type {
	case EdmString, EdmGuid:
		return v.S
	case EdmInt32:
		return v.I
	case EdmInt64:
		return strconv.FormatInt(v.I, 10)
	case EdmDouble:
		switch {
		case math.IsNaN(v.F):
			return "NaN"
		case math.IsInf(v.F, 1):
			return "Infinity"
		case math.IsInf(v.F, -1):
			return "-Infinity"
		}
		return v.F
	case EdmBoolean:
		return v.B
	case EdmDateTime:
		return formatDateTime(v.T)
	case EdmBinary:
		return base64.StdEncoding.EncodeToString(v.Bin)
	}
	return nil
}

// annotated reports whether minimal metadata carries the value's type: the
// types JSON cannot tell apart from a string or a number.
func (v Value) annotated() bool {
	switch v.Type {
	case EdmString, EdmInt32, EdmBoolean:
		return false
	}
	return true
}

// String renders the value for tables printed to people.
func (v Value) String() string {
	if v.Type == EdmString || v.Type == EdmGuid {
		return v.S
	}
	return strings.Trim(fmt.Sprint(v.jsonValue()), `"`)
}
