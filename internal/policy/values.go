package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/steward-gov/steward/internal/armexpr"
)

// Values follow armexpr's model: nil, bool, int64, float64, string, []any
// and map[string]any. A value that is absent (a missing property) is
// distinct from a JSON null: lookups report it with a separate boolean.

// MaxDocumentSize caps the size of a JSON document (definition, resource,
// alias table entry) the parsers accept.
const MaxDocumentSize = 32 << 20

// decodeJSON decodes data into the value model, keeping integers exact.
func decodeJSON(data []byte) (any, error) {
	if len(data) > MaxDocumentSize {
		return nil, fmt.Errorf("document is %d bytes, more than the %d allowed", len(data), MaxDocumentSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	return Normalize(v), nil
}

// Normalize converts values decoded by encoding/json (with or without
// UseNumber) or gopkg.in/yaml.v3 into the value model: integral numbers
// become int64, other numbers float64, and nested arrays and objects are
// normalised in place.
func Normalize(v any) any {
	switch x := v.(type) {
	case nil, bool, string, int64:
		return v
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x)
		}
		return x
	case float32:
		return Normalize(float64(x))
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case uint64:
		if x > math.MaxInt64 {
			return float64(x)
		}
		return int64(x)
	case uint:
		return int64(x)
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i
		}
		f, _ := strconv.ParseFloat(string(x), 64)
		return Normalize(f)
	case []any:
		for i := range x {
			x[i] = Normalize(x[i])
		}
		return x
	case map[string]any:
		for k, e := range x {
			x[k] = Normalize(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = Normalize(e)
		}
		return m
	default:
		return v
	}
}

// getPath walks a dotted path of plain keys.
func getPath(v any, keys ...string) (any, bool) {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = armexpr.Lookup(m, k); !ok {
			return nil, false
		}
	}
	return v, true
}

// stringAt returns the string at key, or "".
func stringAt(m map[string]any, key string) string {
	v, _ := armexpr.Lookup(m, key)
	s, _ := v.(string)
	return s
}

// toFloat reports the numeric value of an int64 or float64.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// formatValue renders a value compactly for explanations and messages.
func formatValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// deepCopy copies arrays and objects so results never alias documents.
func deepCopy(v any) any { return mapStrings(v, nil) }

// mapStrings copies a value, replacing each string s by f(s) (when f is
// not nil), inside arrays and objects too.
func mapStrings(v any, f func(string) string) any {
	switch x := v.(type) {
	case string:
		if f != nil {
			return f(x)
		}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = mapStrings(e, f)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = mapStrings(e, f)
		}
		return out
	}
	return v
}

// sortedKeys returns an object's keys in order, for deterministic output.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
