package armexpr

import (
	"strings"
	"testing"
)

// TestLambdaFunctions evaluates the lambda functions with the examples'
// shapes of Microsoft's template-functions-lambda page.
func TestLambdaFunctions(t *testing.T) {
	cases := []struct{ expr, want string }{
		{"[filter(createArray(1, 2, 3, 4), lambda('n', greater(lambdaVariables('n'), 2)))]", "[3,4]"},
		{"[map(createArray('a', 'b'), lambda('s', toUpper(lambdaVariables('s'))))]", `["A","B"]`},
		{"[map(createArray('a', 'b'), lambda('s', 'i', concat(lambdaVariables('s'), string(lambdaVariables('i')))))]", `["a0","b1"]`},
		{"[reduce(createArray(1, 2, 3), 10, lambda('cur', 'next', add(lambdaVariables('cur'), lambdaVariables('next'))))]", "16"},
		{"[sort(createArray(3, 1, 2), lambda('a', 'b', less(lambdaVariables('a'), lambdaVariables('b'))))]", "[1,2,3]"},
		{"[toObject(createArray('x', 'y'), lambda('k', lambdaVariables('k')), lambda('k', length(lambdaVariables('k'))))]", `{"x":1,"y":1}`},
		{"[groupBy(createArray('apple', 'avocado', 'banana'), lambda('s', substring(lambdaVariables('s'), 0, 1)))]", `{"a":["apple","avocado"],"b":["banana"]}`},
		{"[mapValues(createObject('a', 1, 'b', 2), lambda('v', mul(lambdaVariables('v'), 10)))]", `{"a":10,"b":20}`},
		{"[map(createArray(createArray(1, 2)), lambda('row', map(lambdaVariables('row'), lambda('c', add(lambdaVariables('c'), length(lambdaVariables('row')))))))]", "[[3,4]]"},
	}
	for _, c := range cases {
		v, err := EvalString(c.expr, nil)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if got, _ := toJSON(v); got != c.want {
			t.Errorf("%s = %s, want %s", c.expr, got, c.want)
		}
	}
	for _, bad := range []string{
		"[lambda('x', 1)]",
		"[lambdaVariables('x')]",
		"[filter(createArray(1), lambda('n', 'not a bool'))]",
		"[filter(createArray(1), 'not a lambda')]",
		"[map(createArray(1), lambda('a', 'b', 'c', 1))]",
	} {
		if _, err := EvalString(bad, nil); err == nil {
			t.Errorf("%s evaluated", bad)
		} else if !strings.Contains(err.Error(), "lambda") && !strings.Contains(err.Error(), "Boolean") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
