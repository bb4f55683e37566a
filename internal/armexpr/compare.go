package armexpr

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Equal reports whether two values of the value model are equal the way
// ARM's equals function sees them: numbers by value (1 equals 1.0),
// strings case-sensitively, arrays element-wise and objects by their keys
// (case-insensitively) and values.
func Equal(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case bool:
		bb, ok := b.(bool)
		return ok && a == bb
	case string:
		bs, ok := b.(string)
		return ok && a == bs
	case int64, float64:
		x, _, okA := number(a)
		y, _, okB := number(b)
		return okA && okB && x == y
	case []any:
		bb, ok := b.([]any)
		if !ok || len(a) != len(bb) {
			return false
		}
		for i := range a {
			if !Equal(a[i], bb[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		bb, ok := b.(map[string]any)
		if !ok || len(a) != len(bb) {
			return false
		}
		for k, v := range a {
			w, ok := lookup(bb, k)
			if !ok || !Equal(v, w) {
				return false
			}
		}
		return true
	}
	return false
}

// number returns v as a float64, whether it is an integer, and whether it
// is a number at all.
func number(v any) (f float64, isInt bool, ok bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true, true
	case float64:
		return n, false, true
	}
	return 0, false, false
}

// compareValues orders two numbers or two strings (ordinally); other
// combinations are a type error naming fn.
func compareValues(fn string, a, b any) (int, error) {
	if x, ok := a.(int64); ok {
		if y, ok := b.(int64); ok {
			switch {
			case x < y:
				return -1, nil
			case x > y:
				return 1, nil
			}
			return 0, nil
		}
	}
	if x, _, ok := number(a); ok {
		if y, _, ok := number(b); ok {
			switch {
			case x < y:
				return -1, nil
			case x > y:
				return 1, nil
			case x == y:
				return 0, nil
			}
			return 0, errorf(CodeInvalidArgument, "the template function '%s' cannot compare NaN", fn)
		}
	}
	if x, ok := a.(string); ok {
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), nil
		}
	}
	return 0, errorf(CodeArgumentType, "the template function '%s' expects two integers or two strings, got %s and %s", fn, typeName(a), typeName(b))
}

// foldRune appends the case fold of r to dst. It lower-cases after
// upper-casing so that characters with several forms meet, and expands
// the German sharp s to "ss", which .NET's invariant ignore-case
// comparison treats as equal.
func foldRune(dst []byte, r rune) []byte {
	switch r {
	case 'ß', 'ẞ':
		return append(dst, 's', 's')
	}
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return append(dst, byte(r))
	}
	return utf8.AppendRune(dst, unicode.ToLower(unicode.ToUpper(r)))
}

// fold returns s case-folded, with a table mapping each byte offset of
// the result that starts a rune of s to that rune's index in s (and
// len(result) to the rune count). Offsets inside one rune's fold map to -1.
func fold(s string, withIndex bool) (string, []int) {
	out := make([]byte, 0, len(s))
	var idx []int
	n := 0
	for _, r := range s {
		start := len(out)
		out = foldRune(out, r)
		if withIndex {
			for len(idx) < start {
				idx = append(idx, -1)
			}
			idx = append(idx, n)
			for len(idx) < len(out) {
				idx = append(idx, -1)
			}
		}
		n++
	}
	if withIndex {
		idx = append(idx, n)
	}
	return string(out), idx
}

// indexFold finds needle in s ignoring case and returns the rune index of
// the first (last when fromEnd) match that starts and ends on rune
// boundaries of s, or -1.
func indexFold(s, needle string, fromEnd bool) int {
	fs, idx := fold(s, true)
	fn, _ := fold(needle, false)
	if fromEnd {
		for end := len(fs); end >= 0; {
			i := strings.LastIndex(fs[:end], fn)
			if i < 0 {
				return -1
			}
			if idx[i] >= 0 && idx[i+len(fn)] >= 0 {
				return idx[i]
			}
			end = i + len(fn) - 1
			if end < 0 {
				return -1
			}
		}
		return -1
	}
	for start := 0; start <= len(fs); {
		i := strings.Index(fs[start:], fn)
		if i < 0 {
			return -1
		}
		i += start
		if idx[i] >= 0 && idx[i+len(fn)] >= 0 {
			return idx[i]
		}
		start = i + 1
	}
	return -1
}

// hasPrefixFold and hasSuffixFold compare ignoring case.
func hasPrefixFold(s, prefix string) bool {
	fs, _ := fold(s, false)
	fp, _ := fold(prefix, false)
	return strings.HasPrefix(fs, fp)
}

func hasSuffixFold(s, suffix string) bool {
	fs, _ := fold(s, false)
	fp, _ := fold(suffix, false)
	return strings.HasSuffix(fs, fp)
}

// isIntegral reports whether f holds an integer that fits an int64.
func isIntegral(f float64) bool {
	return f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63
}

func equalFoldKey(a, b string) bool { return strings.EqualFold(a, b) }
