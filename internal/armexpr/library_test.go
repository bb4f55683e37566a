package armexpr

import (
	"errors"
	"math"
	"sort"
	"testing"
)

// TestLibraryReturnsErrorsNotPanics calls every library function with
// every combination of up to three awkward arguments; each call must
// return a value or an *Error.
func TestLibraryReturnsErrorsNotPanics(t *testing.T) {
	values := []any{
		nil, true, int64(0), int64(-1), int64(math.MaxInt64), int64(math.MinInt64), 2.5, math.NaN(),
		"", "a,b", "2024-01-15T12:00:00Z", "{0}", "10.0.0.0/8", "P1D",
		[]any{}, []any{int64(1), "x"}, map[string]any{}, map[string]any{"k": []any{nil}},
	}
	names := Functions()
	sort.Strings(names)
	ec := &EvalContext{}
	var call func(name string, args []any)
	call = func(name string, args []any) {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("%s%v panicked: %v", name, args, r)
			}
		}()
		if _, err := Call(name, args, ec); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("%s%v returned %T, want *Error", name, args, err)
			}
		}
	}
	for _, name := range names {
		call(name, nil)
		for _, a := range values {
			call(name, []any{a})
			for _, b := range values {
				call(name, []any{a, b})
				for _, c := range values {
					call(name, []any{a, b, c})
				}
			}
		}
	}
}
