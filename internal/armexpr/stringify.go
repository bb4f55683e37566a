package armexpr

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// toText converts a value the way string() does: strings as they are,
// numbers in invariant culture, booleans and null in lower case, and
// arrays and objects as compact JSON.
func toText(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "null", nil
	case string:
		return v, nil
	case bool:
		if v {
			return "true", nil
		}
		return "false", nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case float64:
		return formatFloat(v), nil
	case []any, map[string]any:
		return toJSON(v)
	}
	return "", errorf(CodeArgumentType, "a value of type %s cannot be converted to a string", typeName(v))
}

// toJSON renders v as compact JSON without HTML escaping. Object keys come
// out sorted: the value model does not keep ARM's insertion order.
func toJSON(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", errorf(CodeInvalidArgument, "the value cannot be serialised to JSON: %v", err)
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// formatFloat renders f as .NET's default double formatting does: the
// shortest round-tripping digits, in exponent notation when the decimal
// exponent is below -5 or at least 15.
func formatFloat(f float64) string {
	if f != f {
		return "NaN"
	}
	s := strconv.FormatFloat(f, 'e', -1, 64)
	mant, expText, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expText)
	if exp >= -5 && exp < 15 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	sign := "+"
	if exp < 0 {
		sign, exp = "-", -exp
	}
	e := strconv.Itoa(exp)
	if len(e) < 2 {
		e = "0" + e
	}
	return mant + "E" + sign + e
}
