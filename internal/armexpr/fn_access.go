package armexpr

func init() {
	register("tryGet", 2, -1, fnTryGet)
	register("indexFromEnd", 2, 2, func(_ *EvalContext, a []any) (any, error) {
		v, ok, err := fromEnd("indexFromEnd", a)
		if err == nil && !ok {
			n, _ := a[0].([]any)
			err = errorf(CodeIndexRange, "the reverse index %v is out of bounds of an array of length %d", a[1], len(n))
		}
		return v, err
	})
	register("tryIndexFromEnd", 2, 2, func(_ *EvalContext, a []any) (any, error) {
		v, _, _ := fromEnd("tryIndexFromEnd", a)
		return v, nil
	})
}

// fnTryGet follows keys and indices from its first argument and returns
// null, rather than an error, as soon as one does not apply.
func fnTryGet(_ *EvalContext, a []any) (any, error) {
	cur := a[0]
	for _, k := range a[1:] {
		switch c := cur.(type) {
		case map[string]any:
			key, ok := k.(string)
			if !ok {
				return nil, nil
			}
			if cur, ok = lookup(c, key); !ok {
				return nil, nil
			}
		case []any:
			i, ok := k.(int64)
			if !ok || i < 0 || i >= int64(len(c)) {
				return nil, nil
			}
			cur = c[i]
		default:
			return nil, nil
		}
	}
	return cur, nil
}

// fromEnd returns the element reverseIndex places from the end of an
// array (1 is the last); ok is false when the index is out of range.
func fromEnd(fn string, a []any) (v any, ok bool, err error) {
	arr, isArr := a[0].([]any)
	if !isArr {
		return nil, false, argTypeError(fn, 0, "Array", a[0])
	}
	i, err := argInt(fn, a, 1)
	if err != nil {
		return nil, false, err
	}
	if i < 1 || i > int64(len(arr)) {
		return nil, false, nil
	}
	return arr[int64(len(arr))-i], true, nil
}
