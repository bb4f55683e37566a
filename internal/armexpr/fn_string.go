package armexpr

import (
	"strings"
	"unicode/utf8"
)

// maxStringResult bounds strings that functions such as padLeft build from
// a length argument, so that one expression cannot exhaust memory.
const maxStringResult = 4 << 20

func init() {
	register("toLower", 1, 1, func(_ *EvalContext, a []any) (any, error) {
		s, err := argString("toLower", a, 0)
		return strings.ToLower(s), err
	})
	register("toUpper", 1, 1, func(_ *EvalContext, a []any) (any, error) {
		s, err := argString("toUpper", a, 0)
		return strings.ToUpper(s), err
	})
	register("trim", 1, 1, func(_ *EvalContext, a []any) (any, error) {
		s, err := argString("trim", a, 0)
		return strings.TrimSpace(s), err
	})
	register("string", 1, 1, func(_ *EvalContext, a []any) (any, error) { return toText(a[0]) })
	register("split", 2, 2, fnSplit)
	register("substring", 2, 3, fnSubstring)
	register("replace", 3, 3, fnReplace)
	register("startsWith", 2, 2, func(_ *EvalContext, a []any) (any, error) {
		s, p, err := twoStrings("startsWith", a)
		return err == nil && hasPrefixFold(s, p), err
	})
	register("endsWith", 2, 2, func(_ *EvalContext, a []any) (any, error) {
		s, p, err := twoStrings("endsWith", a)
		return err == nil && hasSuffixFold(s, p), err
	})
	register("indexOf", 2, 2, func(_ *EvalContext, a []any) (any, error) {
		s, p, err := twoStrings("indexOf", a)
		if err != nil {
			return nil, err
		}
		return int64(indexFold(s, p, false)), nil
	})
	register("lastIndexOf", 2, 2, func(_ *EvalContext, a []any) (any, error) {
		s, p, err := twoStrings("lastIndexOf", a)
		if err != nil {
			return nil, err
		}
		return int64(indexFold(s, p, true)), nil
	})
	register("padLeft", 2, 3, fnPadLeft)
}

func twoStrings(fn string, a []any) (string, string, error) {
	s, err := argString(fn, a, 0)
	if err != nil {
		return "", "", err
	}
	p, err := argString(fn, a, 1)
	return s, p, err
}

// fnSplit splits on one delimiter or on any of an array of delimiters;
// an empty delimiter never matches.
func fnSplit(_ *EvalContext, a []any) (any, error) {
	s, err := argString("split", a, 0)
	if err != nil {
		return nil, err
	}
	var delims []string
	switch d := a[1].(type) {
	case string:
		delims = []string{d}
	case []any:
		for i, e := range d {
			ds, ok := e.(string)
			if !ok {
				return nil, errorf(CodeArgumentType, "the template function 'split' expects delimiter %d to be a String, got %s", i+1, typeName(e))
			}
			delims = append(delims, ds)
		}
	default:
		return nil, argTypeError("split", 1, "String or Array", a[1])
	}
	var out []any
	start := 0
	for i := 0; i < len(s); {
		matched := 0
		for _, d := range delims {
			if d != "" && strings.HasPrefix(s[i:], d) {
				matched = len(d)
				break
			}
		}
		if matched == 0 {
			i++
			continue
		}
		out = append(out, s[start:i])
		i += matched
		start = i
	}
	return append(out, s[start:]), nil
}

// fnSubstring takes characters (runes) from startIndex, length of them or
// all that remain; indices outside the string are errors, as in ARM.
func fnSubstring(_ *EvalContext, a []any) (any, error) {
	s, err := argString("substring", a, 0)
	if err != nil {
		return nil, err
	}
	start, err := argInt("substring", a, 1)
	if err != nil {
		return nil, err
	}
	r := []rune(s)
	n := int64(len(r))
	length := n - start
	if len(a) == 3 {
		if length, err = argInt("substring", a, 2); err != nil {
			return nil, err
		}
	}
	if start < 0 || start > n {
		return nil, errorf(CodeIndexRange, "the index parameter of 'substring' is %d, which is outside the string of length %d", start, n)
	}
	if length < 0 || length > n-start {
		return nil, errorf(CodeIndexRange, "the length parameter of 'substring' is %d; the start index %d plus the length must not exceed the string length %d", length, start, n)
	}
	return string(r[start : start+length]), nil
}

func fnReplace(_ *EvalContext, a []any) (any, error) {
	s, err := argString("replace", a, 0)
	if err != nil {
		return nil, err
	}
	old, err := argString("replace", a, 1)
	if err != nil {
		return nil, err
	}
	repl, err := argString("replace", a, 2)
	if err != nil {
		return nil, err
	}
	if old == "" {
		return nil, errorf(CodeInvalidArgument, "the template function 'replace' cannot replace an empty string")
	}
	if n := strings.Count(s, old); len(s)+n*(len(repl)-len(old)) > maxStringResult {
		return nil, tooLong("replace")
	}
	return strings.ReplaceAll(s, old, repl), nil
}

// fnPadLeft pads a string or integer on the left to totalLength runes
// with one padding character (a space by default).
func fnPadLeft(_ *EvalContext, a []any) (any, error) {
	var s string
	switch v := a[0].(type) {
	case string:
		s = v
	case int64:
		s, _ = toText(v)
	default:
		return nil, argTypeError("padLeft", 0, "String or Integer", a[0])
	}
	total, err := argInt("padLeft", a, 1)
	if err != nil {
		return nil, err
	}
	pad := " "
	if len(a) == 3 {
		if pad, err = argString("padLeft", a, 2); err != nil {
			return nil, err
		}
		if utf8.RuneCountInString(pad) != 1 {
			return nil, errorf(CodeInvalidArgument, "the padding character of 'padLeft' must be exactly one character, got %q", pad)
		}
	}
	if total > maxStringResult {
		return nil, errorf(CodeLimitExceeded, "the total length %d given to 'padLeft' exceeds the maximum of %d", total, maxStringResult)
	}
	have := int64(utf8.RuneCountInString(s))
	if total <= have {
		return s, nil
	}
	return strings.Repeat(pad, int(total-have)) + s, nil
}

func tooLong(fn string) *Error {
	return errorf(CodeLimitExceeded, "the result of the template function '%s' would be longer than %d bytes", fn, maxStringResult)
}
