package armexpr

func init() {
	f := register("if", 3, 3, func(_ *EvalContext, args []any) (any, error) {
		c, err := argBool("if", args, 0)
		if err != nil {
			return nil, err
		}
		if c {
			return args[1], nil
		}
		return args[2], nil
	})
	f.lazy = lazyIf
}

// lazyIf evaluates the condition and then only the branch it selects, as
// ARM documents, so the other branch may be invalid for this input.
func lazyIf(c *FuncCall, st *evalState) (any, error) {
	if len(c.Args) != 3 {
		return nil, errorf(CodeArgumentCount, "the template function 'if' expects exactly 3 arguments, got %d", len(c.Args))
	}
	cond, err := eval(c.Args[0], st)
	if err != nil {
		return nil, err
	}
	b, ok := cond.(bool)
	if !ok {
		return nil, errorf(CodeArgumentType, "the first argument of 'if' must be a Boolean, got %s", typeName(cond))
	}
	if b {
		return eval(c.Args[1], st)
	}
	return eval(c.Args[2], st)
}
