package kql

import (
	"strings"
)

// Dynamic literals written in a query may hold typed Kusto literals beside
// JSON: datetime(...), timespan(...) and its shorthand (1h, 30m), real(...),
// long(...), int(...), guid(...), bool(...), decimal(...) and a nested
// dynamic(...) (the reference's dynamic data type page: "dynamic literals
// that appear in the query text itself may also include other Kusto literals
// with types: datetime, timespan, real, long, guid, bool, and dynamic").
// typedDynamicJSON rewrites such a literal into JSON, each typed literal
// replaced by the JSON form the engine gives that value inside dynamic
// (datetimes and timespans as their text, guids as strings); ok is false
// when there is nothing to rewrite or a typed literal is not valid.
func typedDynamicJSON(s string) (string, bool) {
	var b strings.Builder
	changed := false
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"':
			j := jsonStringEnd(s, i)
			if j < 0 {
				return "", false
			}
			b.WriteString(s[i : j+1])
			i = j + 1
		case isWordByte(c):
			j := i
			for j < len(s) && (isWordByte(s[j]) || isDigitByte(s[j])) {
				j++
			}
			word := s[i:j]
			k := j
			for k < len(s) && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r') {
				k++
			}
			_, typed := typeByName[word]
			if !typed || word == "string" || k >= len(s) || s[k] != '(' {
				b.WriteString(word) // true, false, null
				i = j
				continue
			}
			end, ok := closingParen(s, k)
			if !ok {
				return "", false
			}
			inner := s[k+1 : end]
			var js string
			if typeByName[word] == TypeDynamic {
				js, ok = dynamicInnerJSON(inner)
			} else {
				js, ok = typedJSON(word, inner)
			}
			if !ok {
				return "", false
			}
			b.WriteString(js)
			changed = true
			i = end + 1
		case isDigitByte(c) || (c == '-' || c == '+') && i+1 < len(s) && isDigitByte(s[i+1]):
			j := i + 1
			for j < len(s) && (isDigitByte(s[j]) || s[j] == '.') {
				j++
			}
			k := j
			for k < len(s) && (s[k] >= 'a' && s[k] <= 'z' || s[k] >= 'A' && s[k] <= 'Z') {
				k++
			}
			unit := strings.ToLower(s[j:k])
			if unit == "" || unit == "e" {
				// a JSON number (exponents included)
				k = j
				for k < len(s) && (isAlnumByte(s[k]) || s[k] == '.' || s[k] == '+' || s[k] == '-') {
					k++
				}
				b.WriteString(s[i:k])
				i = k
				continue
			}
			ticks, ok := parseTimeSpan(s[i:k])
			if !ok {
				return "", false
			}
			b.WriteString(jsonCompact(formatTimeSpan(ticks)))
			changed = true
			i = k
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), changed
}

// jsonStringEnd is the index of the quote closing the JSON string that
// starts at i, or -1.
func jsonStringEnd(s string, i int) int {
	j := i + 1
	for j < len(s) && s[j] != '"' {
		if s[j] == '\\' {
			j++
		}
		j++
	}
	if j >= len(s) {
		return -1
	}
	return j
}

func isWordByte(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// closingParen finds the parenthesis closing the one at open, skipping
// quoted strings.
func closingParen(s string, open int) (int, bool) {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '"', '\'':
			q := s[i]
			for i++; i < len(s) && s[i] != q; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return i, true
			}
		}
	}
	return 0, false
}

// typedJSON is the JSON of one typed literal's value inside dynamic.
func typedJSON(typ, inner string) (string, bool) {
	v, msg := typedLiteralValue(typ, inner)
	if msg != "" {
		return "", false
	}
	if v.IsNull() {
		return "null", true
	}
	return jsonCompact(dynAny(v)), true
}

// dynamicInnerJSON is the JSON of a nested dynamic(...) literal.
func dynamicInnerJSON(inner string) (string, bool) {
	v, msg := typedLiteralValue("dynamic", inner)
	if msg != "" {
		return "", false
	}
	if v.IsNull() {
		return "null", true
	}
	return jsonCompact(v.d), true
}
