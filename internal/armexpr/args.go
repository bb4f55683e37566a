package armexpr

import "sort"

// argBool returns args[i] as a bool or a type error naming fn.
func argBool(fn string, args []any, i int) (bool, error) {
	b, ok := args[i].(bool)
	if !ok {
		return false, argTypeError(fn, i, "Boolean", args[i])
	}
	return b, nil
}

// argString returns args[i] as a string or a type error naming fn.
func argString(fn string, args []any, i int) (string, error) {
	s, ok := args[i].(string)
	if !ok {
		return "", argTypeError(fn, i, "String", args[i])
	}
	return s, nil
}

// argInt returns args[i] as an int64 or a type error naming fn.
func argInt(fn string, args []any, i int) (int64, error) {
	n, ok := args[i].(int64)
	if !ok {
		return 0, argTypeError(fn, i, "Integer", args[i])
	}
	return n, nil
}

func argTypeError(fn string, i int, want string, got any) *Error {
	return errorf(CodeArgumentType, "the template function '%s' expects its argument %d to be of type %s, got %s", fn, i+1, want, typeName(got))
}

func sortStrings(s []string) { sort.Strings(s) }
