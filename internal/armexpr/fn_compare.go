package armexpr

import "strings"

func init() {
	register("equals", 2, 2, func(_ *EvalContext, a []any) (any, error) { return Equal(a[0], a[1]), nil })
	order := func(name string, ok func(c int) bool) {
		register(name, 2, 2, func(_ *EvalContext, a []any) (any, error) {
			c, err := compareValues(name, a[0], a[1])
			if err != nil {
				return nil, err
			}
			return ok(c), nil
		})
	}
	order("less", func(c int) bool { return c < 0 })
	order("lessOrEquals", func(c int) bool { return c <= 0 })
	order("greater", func(c int) bool { return c > 0 })
	order("greaterOrEquals", func(c int) bool { return c >= 0 })
	register("coalesce", 1, -1, func(_ *EvalContext, a []any) (any, error) {
		for _, v := range a {
			if v != nil {
				return v, nil
			}
		}
		return nil, nil
	})
	register("and", 2, -1, func(_ *EvalContext, a []any) (any, error) { return allBool("and", a, false) })
	register("or", 2, -1, func(_ *EvalContext, a []any) (any, error) { return allBool("or", a, true) })
	register("not", 1, 1, func(_ *EvalContext, a []any) (any, error) {
		b, err := argBool("not", a, 0)
		return !b, err
	})
	register("true", 0, 0, func(*EvalContext, []any) (any, error) { return true, nil })
	register("false", 0, 0, func(*EvalContext, []any) (any, error) { return false, nil })
	register("bool", 1, 1, fnBool)
}

// allBool checks every argument is a Boolean and returns stop if any
// equals it (and: stop=false, or: stop=true).
func allBool(fn string, a []any, stop bool) (any, error) {
	found := false
	for i := range a {
		b, err := argBool(fn, a, i)
		if err != nil {
			return nil, err
		}
		if b == stop {
			found = true
		}
	}
	if found {
		return stop, nil
	}
	return !stop, nil
}

// fnBool converts Booleans, the strings true/false (any case) and 1/0,
// and integers (non-zero is true).
func fnBool(_ *EvalContext, a []any) (any, error) {
	switch v := a[0].(type) {
	case bool:
		return v, nil
	case int64:
		return v != 0, nil
	case float64:
		return v != 0, nil
	case string:
		switch {
		case strings.EqualFold(v, "true") || v == "1":
			return true, nil
		case strings.EqualFold(v, "false") || v == "0":
			return false, nil
		}
		return nil, errorf(CodeInvalidArgument, "the template function 'bool' cannot convert the string %q to a Boolean", v)
	}
	return nil, argTypeError("bool", 0, "Boolean, String or Integer", a[0])
}
