package armexpr

import (
	"sort"
	"strings"
	"unicode/utf8"
)

func init() {
	register("array", 1, 1, func(_ *EvalContext, a []any) (any, error) {
		if arr, ok := a[0].([]any); ok {
			return arr, nil
		}
		return []any{a[0]}, nil
	})
	register("createArray", 0, -1, func(_ *EvalContext, a []any) (any, error) {
		return append([]any{}, a...), nil
	})
	register("createObject", 0, -1, fnCreateObject)
	register("empty", 1, 1, fnEmpty)
	register("length", 1, 1, fnLength)
	register("first", 1, 1, func(_ *EvalContext, a []any) (any, error) { return firstOrLast("first", a[0], false) })
	register("last", 1, 1, func(_ *EvalContext, a []any) (any, error) { return firstOrLast("last", a[0], true) })
	register("contains", 2, 2, fnContains)
	register("concat", 0, -1, fnConcat)
	register("skip", 2, 2, func(_ *EvalContext, a []any) (any, error) { return skipTake("skip", a, true) })
	register("take", 2, 2, func(_ *EvalContext, a []any) (any, error) { return skipTake("take", a, false) })
	register("join", 2, 2, fnJoin)
	register("items", 1, 1, fnItems)
	register("null", 0, 0, func(*EvalContext, []any) (any, error) { return nil, nil })
}

// fnCreateObject builds an object from key/value pairs; non-string keys
// are converted with string().
func fnCreateObject(_ *EvalContext, a []any) (any, error) {
	if len(a)%2 != 0 {
		return nil, errorf(CodeArgumentCount, "the template function 'createObject' expected an even number of arguments, got %d", len(a))
	}
	out := make(map[string]any, len(a)/2)
	for i := 0; i < len(a); i += 2 {
		k, err := toText(a[i])
		if err != nil {
			return nil, argTypeError("createObject", i, "String", a[i])
		}
		out[k] = a[i+1]
	}
	return out, nil
}

// fnEmpty is true for null and for an empty string, array or object.
func fnEmpty(_ *EvalContext, a []any) (any, error) {
	switch v := a[0].(type) {
	case nil:
		return true, nil
	case string:
		return v == "", nil
	case []any:
		return len(v) == 0, nil
	case map[string]any:
		return len(v) == 0, nil
	}
	return false, nil
}

func fnLength(_ *EvalContext, a []any) (any, error) {
	switch v := a[0].(type) {
	case string:
		return int64(utf8.RuneCountInString(v)), nil
	case []any:
		return int64(len(v)), nil
	case map[string]any:
		return int64(len(v)), nil
	}
	return nil, argTypeError("length", 0, "String, Array or Object", a[0])
}

// firstOrLast returns an array's first or last element (null when it is
// empty) or a string's first or last character ("" when it is empty).
func firstOrLast(fn string, v any, last bool) (any, error) {
	switch v := v.(type) {
	case []any:
		if len(v) == 0 {
			return nil, nil
		}
		if last {
			return v[len(v)-1], nil
		}
		return v[0], nil
	case string:
		if v == "" {
			return "", nil
		}
		if last {
			r, _ := utf8.DecodeLastRuneInString(v)
			return string(r), nil
		}
		r, _ := utf8.DecodeRuneInString(v)
		return string(r), nil
	}
	return nil, argTypeError(fn, 0, "Array or String", v)
}

// fnContains tests array membership (by equals), object keys (ignoring
// case) or substrings (case-sensitively, as ARM documents).
func fnContains(_ *EvalContext, a []any) (any, error) {
	switch c := a[0].(type) {
	case []any:
		for _, e := range c {
			if Equal(e, a[1]) {
				return true, nil
			}
		}
		return false, nil
	case map[string]any:
		k, err := toText(a[1])
		if err != nil {
			return nil, err
		}
		_, ok := lookup(c, k)
		return ok, nil
	case string:
		s, err := toText(a[1])
		if err != nil {
			return nil, err
		}
		return strings.Contains(c, s), nil
	}
	return nil, argTypeError("contains", 0, "Array, Object or String", a[0])
}

// fnConcat joins arrays when the first argument is an array and strings
// otherwise, converting numbers and booleans with string().
func fnConcat(_ *EvalContext, a []any) (any, error) {
	if len(a) > 0 {
		if _, ok := a[0].([]any); ok {
			out := []any{}
			for i, v := range a {
				switch v := v.(type) {
				case []any:
					out = append(out, v...)
				case nil:
				default:
					return nil, argTypeError("concat", i, "Array", v)
				}
			}
			return out, nil
		}
	}
	var b strings.Builder
	for i, v := range a {
		switch v.(type) {
		case []any, map[string]any:
			return nil, argTypeError("concat", i, "String", v)
		case nil:
			continue
		}
		s, err := toText(v)
		if err != nil {
			return nil, err
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// skipTake implements skip and take on arrays and strings; counts below
// zero act as zero and counts past the end as the length.
func skipTake(fn string, a []any, skip bool) (any, error) {
	n, err := argInt(fn, a, 1)
	if err != nil {
		return nil, err
	}
	clamp := func(length int) int {
		switch {
		case n < 0:
			return 0
		case n > int64(length):
			return length
		}
		return int(n)
	}
	switch v := a[0].(type) {
	case []any:
		k := clamp(len(v))
		if skip {
			return append([]any{}, v[k:]...), nil
		}
		return append([]any{}, v[:k]...), nil
	case string:
		r := []rune(v)
		k := clamp(len(r))
		if skip {
			return string(r[k:]), nil
		}
		return string(r[:k]), nil
	}
	return nil, argTypeError(fn, 0, "Array or String", a[0])
}

func fnJoin(_ *EvalContext, a []any) (any, error) {
	arr, ok := a[0].([]any)
	if !ok {
		return nil, argTypeError("join", 0, "Array", a[0])
	}
	sep, err := argString("join", a, 1)
	if err != nil {
		return nil, err
	}
	parts := make([]string, len(arr))
	size := len(sep) * len(arr)
	for i, e := range arr {
		if parts[i], err = toText(e); err != nil {
			return nil, err
		}
		if size += len(parts[i]); size > maxStringResult {
			return nil, tooLong("join")
		}
	}
	return strings.Join(parts, sep), nil
}

// fnItems turns an object into an array of {key, value} objects sorted by
// key, as ARM documents.
func fnItems(_ *EvalContext, a []any) (any, error) {
	m, ok := a[0].(map[string]any)
	if !ok {
		return nil, argTypeError("items", 0, "Object", a[0])
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if c := strings.Compare(strings.ToLower(keys[i]), strings.ToLower(keys[j])); c != 0 {
			return c < 0
		}
		return keys[i] < keys[j]
	})
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = map[string]any{"key": k, "value": m[k]}
	}
	return out, nil
}

func init() {
	register("objectKeys", 1, 1, func(_ *EvalContext, a []any) (any, error) {
		items, err := fnItems(nil, a)
		if err != nil {
			return nil, err
		}
		list := items.([]any)
		for i, it := range list {
			list[i] = it.(map[string]any)["key"]
		}
		return list, nil
	})
	register("shallowMerge", 1, 1, func(_ *EvalContext, a []any) (any, error) {
		arr, ok := a[0].([]any)
		if !ok {
			return nil, argTypeError("shallowMerge", 0, "Array", a[0])
		}
		out := map[string]any{}
		for i, e := range arr {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, errorf(CodeArgumentType, "the template function 'shallowMerge' expects an array of objects; element %d is %s", i, typeName(e))
			}
			for k, v := range m {
				for ok := range out {
					if ok != k && equalFoldKey(ok, k) {
						delete(out, ok)
					}
				}
				out[k] = v
			}
		}
		return out, nil
	})
}
