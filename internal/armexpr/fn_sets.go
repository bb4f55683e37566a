package armexpr

import "strconv"

func init() {
	register("union", 1, -1, fnUnion)
	register("intersection", 1, -1, fnIntersection)
}

// fnUnion merges arrays (keeping first occurrences, in order) or objects
// (later values win; nested objects are merged recursively).
func fnUnion(_ *EvalContext, a []any) (any, error) {
	switch a[0].(type) {
	case []any:
		out := []any{}
		var seen valueSet
		for i, v := range a {
			arr, ok := v.([]any)
			if !ok {
				return nil, argTypeError("union", i, "Array", v)
			}
			for _, e := range arr {
				if seen.add(e) {
					out = append(out, e)
				}
			}
		}
		return out, nil
	case map[string]any:
		out := map[string]any{}
		for i, v := range a {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, argTypeError("union", i, "Object", v)
			}
			mergeInto(out, m)
		}
		return out, nil
	}
	return nil, argTypeError("union", 0, "Array or Object", a[0])
}

// valueSet holds values by Equal: scalars in a map under a key that is
// the same for equal values, arrays and objects in a list.
type valueSet struct {
	scalars    map[string]struct{}
	composites []any
}

// add inserts v and reports whether it was new.
func (s *valueSet) add(v any) bool {
	if s.has(v) {
		return false
	}
	if k, ok := scalarKey(v); ok {
		if s.scalars == nil {
			s.scalars = map[string]struct{}{}
		}
		s.scalars[k] = struct{}{}
	} else {
		s.composites = append(s.composites, v)
	}
	return true
}

func (s *valueSet) has(v any) bool {
	if k, ok := scalarKey(v); ok {
		_, found := s.scalars[k]
		return found
	}
	for _, c := range s.composites {
		if Equal(c, v) {
			return true
		}
	}
	return false
}

// scalarKey returns a key equal for scalars that Equal calls equal.
func scalarKey(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "z", true
	case bool:
		if v {
			return "t", true
		}
		return "f", true
	case string:
		return "s" + v, true
	case int64:
		return "n" + strconv.FormatInt(v, 10), true
	case float64:
		if isIntegral(v) {
			return "n" + strconv.FormatInt(int64(v), 10), true
		}
		return "d" + strconv.FormatFloat(v, 'g', -1, 64), true
	}
	return "", false
}

func newValueSet(arr []any) *valueSet {
	s := &valueSet{}
	for _, e := range arr {
		s.add(e)
	}
	return s
}

// mergeInto copies src into dst, merging objects found under the same key
// (ignoring case) and replacing everything else.
func mergeInto(dst, src map[string]any) {
	for k, v := range src {
		key := k
		for dk := range dst {
			if dk != k && equalFoldKey(dk, k) {
				key = dk
				break
			}
		}
		if vm, ok := v.(map[string]any); ok {
			if dm, ok := dst[key].(map[string]any); ok {
				merged := make(map[string]any, len(dm)+len(vm))
				mergeInto(merged, dm)
				mergeInto(merged, vm)
				dst[key] = merged
				continue
			}
		}
		dst[key] = v
	}
}

// fnIntersection keeps array elements (or object entries, by key and
// value) present in every argument.
func fnIntersection(_ *EvalContext, a []any) (any, error) {
	switch first := a[0].(type) {
	case []any:
		rest := make([]*valueSet, 0, len(a)-1)
		for i, v := range a[1:] {
			arr, ok := v.([]any)
			if !ok {
				return nil, argTypeError("intersection", i+1, "Array", v)
			}
			rest = append(rest, newValueSet(arr))
		}
		out := []any{}
		var seen valueSet
	elements:
		for _, e := range first {
			for _, set := range rest {
				if !set.has(e) {
					continue elements
				}
			}
			if seen.add(e) {
				out = append(out, e)
			}
		}
		return out, nil
	case map[string]any:
		rest := make([]map[string]any, 0, len(a)-1)
		for i, v := range a[1:] {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, argTypeError("intersection", i+1, "Object", v)
			}
			rest = append(rest, m)
		}
		out := map[string]any{}
	entries:
		for k, v := range first {
			for _, m := range rest {
				w, ok := lookup(m, k)
				if !ok || !Equal(v, w) {
					continue entries
				}
			}
			out[k] = v
		}
		return out, nil
	}
	return nil, argTypeError("intersection", 0, "Array or Object", a[0])
}
