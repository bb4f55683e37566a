package armexpr

import (
	"sort"
	"strings"
)

// The lambda functions of ARM templates: filter, map, reduce, sort,
// toObject, groupBy and mapValues take lambda('name', ..., body) as an
// argument, and lambdaVariables('name') reads a lambda's parameter in its
// body. They evaluate their lambda's body once per element, so they are
// lazy: the body is a node, not a value.
func init() {
	lazy := func(name string, min, max int, fn func(c *FuncCall, st *evalState) (any, error)) {
		f := register(name, min, max, nil)
		f.lazy = func(c *FuncCall, st *evalState) (any, error) {
			if len(c.Args) < min || (max >= 0 && len(c.Args) > max) {
				return nil, errorf(CodeArgumentCount, "the template function '%s' %s", name, f.arity(len(c.Args)))
			}
			return fn(c, st)
		}
	}
	lazy("lambda", 2, -1, func(*FuncCall, *evalState) (any, error) {
		return nil, errorf(CodeInvalidArgument, "the template function 'lambda' can only be an argument of filter, map, reduce, sort, toObject, groupBy or mapValues")
	})
	lazy("lambdaVariables", 1, 1, func(c *FuncCall, st *evalState) (any, error) {
		v, err := eval(c.Args[0], st)
		if err != nil {
			return nil, err
		}
		name, ok := v.(string)
		if !ok {
			return nil, errorf(CodeArgumentType, "the template function 'lambdaVariables' expects a string, got %s", typeName(v))
		}
		for i := len(st.lambdas) - 1; i >= 0; i-- {
			if val, ok := st.lambdas[i][strings.ToLower(name)]; ok {
				return val, nil
			}
		}
		return nil, errorf(CodeInvalidArgument, "the lambda variable '%s' is not defined here", name)
	})
	lazy("filter", 2, 2, func(c *FuncCall, st *evalState) (any, error) {
		arr, lam, err := arrayAndLambda("filter", c, st, 0, 1, 1)
		if err != nil {
			return nil, err
		}
		out := []any{}
		for i, e := range arr {
			keep, err := lam.call(st, e, int64(i))
			if err != nil {
				return nil, err
			}
			b, ok := keep.(bool)
			if !ok {
				return nil, errorf(CodeArgumentType, "the lambda of 'filter' must return a Boolean, got %s", typeName(keep))
			}
			if b {
				out = append(out, e)
			}
		}
		return out, nil
	})
	lazy("map", 2, 2, func(c *FuncCall, st *evalState) (any, error) {
		arr, lam, err := arrayAndLambda("map", c, st, 0, 1, 1)
		if err != nil {
			return nil, err
		}
		out := make([]any, len(arr))
		for i, e := range arr {
			if out[i], err = lam.call(st, e, int64(i)); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
	lazy("reduce", 3, 3, func(c *FuncCall, st *evalState) (any, error) {
		arr, lam, err := arrayAndLambda("reduce", c, st, 0, 2, 2)
		if err != nil {
			return nil, err
		}
		acc, err := eval(c.Args[1], st)
		if err != nil {
			return nil, err
		}
		for i, e := range arr {
			if acc, err = lam.call(st, acc, e, int64(i)); err != nil {
				return nil, err
			}
		}
		return acc, nil
	})
	lazy("sort", 2, 2, func(c *FuncCall, st *evalState) (any, error) {
		arr, lam, err := arrayAndLambda("sort", c, st, 0, 1, 2)
		if err != nil {
			return nil, err
		}
		out := append([]any(nil), arr...)
		var serr error
		sort.SliceStable(out, func(i, j int) bool {
			if serr != nil {
				return false
			}
			v, err := lam.call(st, out[i], out[j])
			if err != nil {
				serr = err
				return false
			}
			b, ok := v.(bool)
			if !ok {
				serr = errorf(CodeArgumentType, "the lambda of 'sort' must return a Boolean, got %s", typeName(v))
			}
			return b
		})
		return out, serr
	})
	lazy("toObject", 2, 3, func(c *FuncCall, st *evalState) (any, error) {
		arr, keyFn, err := arrayAndLambda("toObject", c, st, 0, 1, 1)
		if err != nil {
			return nil, err
		}
		var valFn *lambdaFn
		if len(c.Args) == 3 {
			if valFn, err = lambdaArg("toObject", c.Args[2], 1); err != nil {
				return nil, err
			}
		}
		out := make(map[string]any, len(arr))
		for _, e := range arr {
			k, err := keyFn.call(st, e)
			if err != nil {
				return nil, err
			}
			ks, ok := k.(string)
			if !ok {
				return nil, errorf(CodeArgumentType, "the key lambda of 'toObject' must return a string, got %s", typeName(k))
			}
			v := e
			if valFn != nil {
				if v, err = valFn.call(st, e); err != nil {
					return nil, err
				}
			}
			out[ks] = v
		}
		return out, nil
	})
	lazy("groupBy", 2, 2, func(c *FuncCall, st *evalState) (any, error) {
		arr, lam, err := arrayAndLambda("groupBy", c, st, 0, 1, 1)
		if err != nil {
			return nil, err
		}
		out := map[string]any{}
		for _, e := range arr {
			k, err := lam.call(st, e)
			if err != nil {
				return nil, err
			}
			ks, ok := k.(string)
			if !ok {
				return nil, errorf(CodeArgumentType, "the lambda of 'groupBy' must return a string, got %s", typeName(k))
			}
			g, _ := out[ks].([]any)
			out[ks] = append(g, e)
		}
		return out, nil
	})
	lazy("mapValues", 2, 2, func(c *FuncCall, st *evalState) (any, error) {
		v, err := eval(c.Args[0], st)
		if err != nil {
			return nil, err
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, errorf(CodeArgumentType, "the first argument of 'mapValues' must be an object, got %s", typeName(v))
		}
		lam, err := lambdaArg("mapValues", c.Args[1], 1)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(obj))
		for k, e := range obj {
			if out[k], err = lam.call(st, e); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
}

// lambdaFn is a lambda argument: its parameter names and body.
type lambdaFn struct {
	params []string
	body   Node
}

// lambdaArg reads lambda('a', ..., body) from a call's argument node. A
// lambda may declare fewer parameters than the function offers (map's
// index is optional), never more than max.
func lambdaArg(fn string, n Node, max int) (*lambdaFn, error) {
	if e, ok := n.(*Expr); ok {
		n = e.X
	}
	call, ok := n.(*FuncCall)
	if !ok || !strings.EqualFold(call.Name, "lambda") || len(call.Args) < 2 {
		return nil, errorf(CodeArgumentType, "the template function '%s' expects a lambda('name', expression) argument", fn)
	}
	params := call.Args[:len(call.Args)-1]
	if len(params) > max {
		return nil, errorf(CodeArgumentCount, "the lambda of '%s' takes at most %d parameter(s), got %d", fn, max, len(params))
	}
	out := &lambdaFn{body: call.Args[len(call.Args)-1]}
	for _, p := range params {
		s, ok := p.(*StringLit)
		if !ok {
			return nil, errorf(CodeArgumentType, "the parameters of a lambda must be string literals")
		}
		out.params = append(out.params, strings.ToLower(s.Value))
	}
	return out, nil
}

// arrayAndLambda evaluates the array argument and reads the lambda one.
func arrayAndLambda(fn string, c *FuncCall, st *evalState, arrIdx, lamIdx, maxParams int) ([]any, *lambdaFn, error) {
	v, err := eval(c.Args[arrIdx], st)
	if err != nil {
		return nil, nil, err
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, nil, errorf(CodeArgumentType, "the first argument of '%s' must be an array, got %s", fn, typeName(v))
	}
	if fn == "map" || fn == "filter" {
		maxParams = 2 // the element and, optionally, its index
	}
	lam, err := lambdaArg(fn, c.Args[lamIdx], maxParams+boolInt(fn == "reduce"))
	return arr, lam, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// maxLambdaDepth bounds nested lambdas.
const maxLambdaDepth = 32

// call evaluates the body with the parameters bound to args (extra
// arguments, such as an index the lambda does not name, are dropped).
func (l *lambdaFn) call(st *evalState, args ...any) (any, error) {
	if len(st.lambdas) >= maxLambdaDepth {
		return nil, errorf(CodeLimitExceeded, "lambdas nest deeper than %d", maxLambdaDepth)
	}
	scope := make(map[string]any, len(l.params))
	for i, p := range l.params {
		if i < len(args) {
			scope[p] = args[i]
		}
	}
	st.lambdas = append(st.lambdas, scope)
	defer func() { st.lambdas = st.lambdas[:len(st.lambdas)-1] }()
	v, err := eval(l.body, st)
	if err != nil {
		return nil, err
	}
	if err := st.spend(v); err != nil {
		return nil, err
	}
	return v, nil
}
