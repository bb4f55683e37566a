package armexpr

func init() {
	register("union", 1, -1, fnUnion)
	register("intersection", 1, -1, fnIntersection)
}

// fnUnion merges arrays (keeping first occurrences, in order) or objects
// (later values win; nested objects are merged recursively).
func fnUnion(_ *EvalContext, a []any) (any, error) {
	switch a[0].(type) {
	case []any:
		var out []any
		for i, v := range a {
			arr, ok := v.([]any)
			if !ok {
				return nil, argTypeError("union", i, "Array", v)
			}
			for _, e := range arr {
				out = appendUnique(out, e)
			}
		}
		if out == nil {
			out = []any{}
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

func appendUnique(out []any, e any) []any {
	for _, o := range out {
		if Equal(o, e) {
			return out
		}
	}
	return append(out, e)
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
		rest := make([][]any, 0, len(a)-1)
		for i, v := range a[1:] {
			arr, ok := v.([]any)
			if !ok {
				return nil, argTypeError("intersection", i+1, "Array", v)
			}
			rest = append(rest, arr)
		}
		out := []any{}
	elements:
		for _, e := range first {
			for _, arr := range rest {
				if !containsValue(arr, e) {
					continue elements
				}
			}
			out = appendUnique(out, e)
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

func containsValue(arr []any, v any) bool {
	for _, e := range arr {
		if Equal(e, v) {
			return true
		}
	}
	return false
}
