package armexpr

import (
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Limits of range(), as ARM documents them: at most 10000 integers, and
// start+count within a 32-bit signed integer.
const (
	maxRangeCount = 10000
	maxRangeEnd   = math.MaxInt32
)

func init() {
	arith := func(name string, ints func(x, y int64) (int64, error), floats func(x, y float64) (float64, error)) {
		register(name, 2, 2, func(_ *EvalContext, a []any) (any, error) {
			x, xi, ok := number(a[0])
			if !ok {
				return nil, argTypeError(name, 0, "Integer", a[0])
			}
			y, yi, ok := number(a[1])
			if !ok {
				return nil, argTypeError(name, 1, "Integer", a[1])
			}
			if xi && yi {
				return ints(a[0].(int64), a[1].(int64))
			}
			return floats(x, y)
		})
	}
	arith("add", func(x, y int64) (int64, error) {
		s := x + y
		if (s > x) != (y > 0) {
			return 0, overflow("add")
		}
		return s, nil
	}, func(x, y float64) (float64, error) { return x + y, nil })
	arith("sub", func(x, y int64) (int64, error) {
		d := x - y
		if (d < x) != (y > 0) {
			return 0, overflow("sub")
		}
		return d, nil
	}, func(x, y float64) (float64, error) { return x - y, nil })
	arith("mul", mulInt, func(x, y float64) (float64, error) { return x * y, nil })
	arith("div", func(x, y int64) (int64, error) {
		if y == 0 {
			return 0, errorf(CodeInvalidArgument, "the template function 'div' cannot divide by zero")
		}
		if x == math.MinInt64 && y == -1 {
			return 0, overflow("div")
		}
		return x / y, nil
	}, func(x, y float64) (float64, error) {
		if y == 0 {
			return 0, errorf(CodeInvalidArgument, "the template function 'div' cannot divide by zero")
		}
		return x / y, nil
	})
	arith("mod", func(x, y int64) (int64, error) {
		if y == 0 {
			return 0, errorf(CodeInvalidArgument, "the template function 'mod' cannot divide by zero")
		}
		if y == -1 {
			return 0, nil
		}
		return x % y, nil
	}, func(x, y float64) (float64, error) {
		if y == 0 {
			return 0, errorf(CodeInvalidArgument, "the template function 'mod' cannot divide by zero")
		}
		return math.Mod(x, y), nil
	})
	register("min", 1, -1, func(_ *EvalContext, a []any) (any, error) { return extreme("min", a, -1) })
	register("max", 1, -1, func(_ *EvalContext, a []any) (any, error) { return extreme("max", a, 1) })
	register("int", 1, 1, fnInt)
	register("float", 1, 1, fnFloat)
	register("range", 2, 2, fnRange)
}

func overflow(fn string) *Error {
	return errorf(CodeInvalidArgument, "the result of the template function '%s' overflows a 64-bit integer", fn)
}

func mulInt(x, y int64) (int64, error) {
	if x == 0 || y == 0 {
		return 0, nil
	}
	neg := (x < 0) != (y < 0)
	ux, uy := uint64(x), uint64(y)
	if x < 0 {
		ux = -ux
	}
	if y < 0 {
		uy = -uy
	}
	hi, lo := bits.Mul64(ux, uy)
	if hi != 0 || (!neg && lo > math.MaxInt64) || (neg && lo > 1<<63) {
		return 0, overflow("mul")
	}
	if neg {
		return int64(-lo), nil
	}
	return int64(lo), nil
}

// extreme returns the minimum (dir -1) or maximum (dir 1) of its number
// arguments or of the one array it is given.
func extreme(fn string, a []any, dir int) (any, error) {
	vals := a
	if len(a) == 1 {
		if arr, ok := a[0].([]any); ok {
			vals = arr
		}
	}
	if len(vals) == 0 {
		return nil, errorf(CodeInvalidArgument, "the template function '%s' needs at least one value, got an empty array", fn)
	}
	best := vals[0]
	for i, v := range vals {
		if _, _, ok := number(v); !ok {
			return nil, argTypeError(fn, i, "Integer", v)
		}
		c, err := compareValues(fn, v, best)
		if err != nil {
			return nil, err
		}
		if c*dir > 0 {
			best = v
		}
	}
	return best, nil
}

// fnInt converts integers, floats (truncating) and numeric strings.
func fnInt(_ *EvalContext, a []any) (any, error) {
	switch v := a[0].(type) {
	case int64:
		return v, nil
	case float64:
		if t := math.Trunc(v); isIntegral(t) {
			return int64(t), nil
		}
	case string:
		s := strings.TrimSpace(v)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && isIntegral(math.Trunc(f)) && !strings.ContainsAny(s, "xXpP_") {
			return int64(math.Trunc(f)), nil
		}
		return nil, errorf(CodeInvalidArgument, "the template function 'int' cannot convert the string %q to an integer", v)
	}
	return nil, argTypeError("int", 0, "Integer or String", a[0])
}

// fnFloat converts numbers and numeric strings to a float.
func fnFloat(_ *EvalContext, a []any) (any, error) {
	switch v := a[0].(type) {
	case int64:
		return float64(v), nil
	case float64:
		return v, nil
	case string:
		s := strings.TrimSpace(v)
		if f, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "xXpP_") && !math.IsInf(f, 0) && f == f {
			return f, nil
		}
		return nil, errorf(CodeInvalidArgument, "the template function 'float' cannot convert the string %q to a number", v)
	}
	return nil, argTypeError("float", 0, "Integer, Float or String", a[0])
}

func fnRange(_ *EvalContext, a []any) (any, error) {
	start, err := argInt("range", a, 0)
	if err != nil {
		return nil, err
	}
	count, err := argInt("range", a, 1)
	if err != nil {
		return nil, err
	}
	switch {
	case count < 0:
		return nil, errorf(CodeInvalidArgument, "the count given to 'range' must not be negative, got %d", count)
	case count > maxRangeCount:
		return nil, errorf(CodeLimitExceeded, "the count %d given to 'range' exceeds maximum of %d", count, maxRangeCount)
	case start > maxRangeEnd-count || start < math.MinInt32:
		return nil, errorf(CodeLimitExceeded, "the sum of start %d and count %d given to 'range' exceeds maximum of %d", start, count, maxRangeEnd)
	}
	out := make([]any, count)
	for i := range out {
		out[i] = start + int64(i)
	}
	return out, nil
}
