package armexpr

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Normalize turns a value decoded by encoding/json or a YAML decoder into
// the value model: integers of any Go type, json.Number and float64
// holding an integer become int64, other numbers float64, and slices and
// maps are copied with their elements normalised. Values outside the
// model are returned unchanged.
func Normalize(v any) any {
	switch v := v.(type) {
	case nil, bool, string, int64:
		return v
	case int:
		return int64(v)
	case int8:
		return int64(v)
	case int16:
		return int64(v)
	case int32:
		return int64(v)
	case uint:
		return normUint(uint64(v))
	case uint8:
		return int64(v)
	case uint16:
		return int64(v)
	case uint32:
		return int64(v)
	case uint64:
		return normUint(v)
	case float32:
		return normFloat(float64(v))
	case float64:
		return normFloat(v)
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		if f, err := v.Float64(); err == nil {
			return normFloat(f)
		}
		return v.String()
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = Normalize(e)
		}
		return out
	case []string:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = e
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = Normalize(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[fmt.Sprint(k)] = Normalize(e)
		}
		return out
	}
	return v
}

func normUint(u uint64) any {
	if u > math.MaxInt64 {
		return float64(u)
	}
	return int64(u)
}

// normFloat makes an integral float an int64 when it fits exactly.
func normFloat(f float64) any {
	if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
		return int64(f)
	}
	return f
}

// typeName is TypeName, under the name this package's code uses.
func typeName(v any) string { return TypeName(v) }

// TypeName names the type of a value of the model as ARM's error messages
// do: Null, Boolean, Integer, Float, String, Array or Object, and the Go
// type for anything outside the model.
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "Null"
	case bool:
		return "Boolean"
	case int64:
		return "Integer"
	case float64:
		return "Float"
	case string:
		return "String"
	case []any:
		return "Array"
	case map[string]any:
		return "Object"
	}
	return fmt.Sprintf("%T", v)
}

// lookup is Lookup, under the name this package's code uses.
func lookup(m map[string]any, key string) (any, bool) { return Lookup(m, key) }

// Lookup finds key in an object as ARM does: the exact spelling first (the
// common case, one map access), else any key equal to it ignoring case.
func Lookup(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// member implements ".name" access.
func member(target any, name string) (any, error) {
	m, ok := target.(map[string]any)
	if !ok {
		return nil, errorf(CodeArgumentType, "the property '%s' cannot be read from a value of type %s", name, typeName(target))
	}
	v, ok := lookup(m, name)
	if !ok {
		return nil, errorf(CodeNotFound, "the language expression property '%s' doesn't exist, available properties are '%s'", name, keyList(m))
	}
	return v, nil
}

// index implements "[i]" access on arrays and "['key']" on objects.
func index(target, idx any) (any, error) {
	switch t := target.(type) {
	case []any:
		i, ok := idx.(int64)
		if !ok {
			return nil, errorf(CodeArgumentType, "an array index must be an integer, got %s", typeName(idx))
		}
		if i < 0 || i >= int64(len(t)) {
			return nil, errorf(CodeIndexRange, "the language expression index '%d' is out of bounds of an array of length %d", i, len(t))
		}
		return t[i], nil
	case map[string]any:
		k, ok := idx.(string)
		if !ok {
			return nil, errorf(CodeArgumentType, "an object property name must be a string, got %s", typeName(idx))
		}
		return member(t, k)
	}
	return nil, errorf(CodeArgumentType, "a value of type %s cannot be indexed", typeName(target))
}

func keyList(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return strings.Join(keys, ", ")
}

func itoa(n int) string { return strconv.Itoa(n) }
