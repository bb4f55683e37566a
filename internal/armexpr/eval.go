package armexpr

import (
	"fmt"
	"strings"
	"time"
)

// Eval evaluates a parsed expression. Calls go first to ec.Host, then to
// the library; if is evaluated lazily (only the chosen branch runs) and is
// never offered to the host. Errors are *Error values carrying the
// position of the call or accessor that failed.
func Eval(n Node, ec *EvalContext) (v any, err error) {
	if ec == nil {
		ec = &EvalContext{}
	}
	defer func() {
		// Functions return errors rather than panic; this catches a bug in
		// one so that it cannot take down a policy evaluation.
		if r := recover(); r != nil {
			// No position: the node that failed is not known here, and n
			// itself may be the broken value (a typed nil).
			v, err = nil, &Error{Code: CodeInvalidArgument, Pos: -1, Message: fmt.Sprintf("internal evaluation error: %v", r)}
		}
	}()
	return eval(n, &evalState{ec: ec})
}

// EvalString evaluates s when it is an expression; otherwise s is a
// literal and is returned as is, except that a leading "[[" becomes "[".
func EvalString(s string, ec *EvalContext) (any, error) {
	if !IsExpression(s) {
		if strings.HasPrefix(s, "[[") {
			return s[1:], nil
		}
		return s, nil
	}
	n, err := Parse(s)
	if err != nil {
		return nil, err
	}
	return Eval(n, ec)
}

// Call calls the library function name (case-insensitive) with evaluated
// arguments. The host is not consulted.
func Call(name string, args []any, ec *EvalContext) (any, error) {
	if ec == nil {
		ec = &EvalContext{}
	}
	fn := lookupFunction(strings.ToLower(name))
	if fn == nil {
		return nil, errorf(CodeUnknownFunction, "the template function '%s' is not known", name)
	}
	return fn.invoke(ec, args)
}

// now returns the evaluation time: ec.Now, or the wall clock in UTC.
func (ec *EvalContext) now() time.Time {
	if ec.Now.IsZero() {
		return time.Now().UTC()
	}
	return ec.Now.UTC()
}

func eval(n Node, st *evalState) (any, error) {
	switch n := n.(type) {
	case *Expr:
		return eval(n.X, st)
	case *StringLit:
		// Literals carry their value boxed by Parse, so that evaluating
		// them does not allocate; hand-built nodes are boxed here.
		if n.boxed != nil {
			return n.boxed, nil
		}
		return n.Value, nil
	case *IntLit:
		if n.boxed != nil {
			return n.boxed, nil
		}
		return n.Value, nil
	case *FloatLit:
		if n.boxed != nil {
			return n.boxed, nil
		}
		return n.Value, nil
	case *BoolLit:
		return n.Value, nil
	case *FuncCall:
		return evalCall(n, st)
	case *Property:
		target, err := eval(n.Target, st)
		if err != nil {
			return nil, err
		}
		v, err := member(target, n.Name)
		return v, at(err, n.Offset)
	case *Index:
		target, err := eval(n.Target, st)
		if err != nil {
			return nil, err
		}
		idx, err := eval(n.Index, st)
		if err != nil {
			return nil, err
		}
		v, err := index(target, idx)
		return v, at(err, n.Offset)
	case nil:
		return nil, &Error{Code: CodeParse, Pos: -1, Message: "no expression to evaluate"}
	}
	return nil, &Error{Code: CodeParse, Pos: n.Pos(), Message: fmt.Sprintf("unknown node %T", n)}
}

func evalCall(c *FuncCall, st *evalState) (any, error) {
	ec := st.ec
	lower, fn := c.lower, c.fn
	if lower == "" {
		// A Call built by hand rather than by Parse; nodes are not
		// modified during evaluation so that trees can be shared.
		lower = strings.ToLower(c.Name)
		fn = lookupFunction(lower)
	}
	if fn != nil && fn.lazy != nil {
		v, err := fn.lazy(c, st)
		return v, at(err, c.Offset)
	}
	args := st.take(len(c.Args))
	defer st.release(args)
	for i, a := range c.Args {
		v, err := eval(a, st)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	if ec.Host != nil {
		v, handled, err := ec.Host(lower, args)
		if handled {
			if err == nil {
				err = st.spend(v)
			}
			return v, at(err, c.Offset)
		}
	}
	if fn == nil {
		return nil, &Error{Code: CodeUnknownFunction, Pos: c.Offset, Message: fmt.Sprintf("the template function '%s' is not known", c.Name)}
	}
	v, err := fn.invoke(ec, args)
	if err == nil {
		err = st.spend(v)
	}
	return v, at(err, c.Offset)
}

// at gives err the position pos when it is an *Error without one, and
// wraps any other error (a host's) as an *Error with code CodeHost.
func at(err error, pos int) error {
	if err == nil {
		return nil
	}
	e, ok := err.(*Error)
	if !ok {
		return &Error{Code: CodeHost, Pos: pos, Message: err.Error(), cause: err}
	}
	if e.Pos < 0 {
		e.Pos = pos
	}
	return e
}

// maxEvalBytes bounds the memory one evaluation may build, counted as
// the sizes of the strings, arrays and objects its calls return. Single
// functions that can grow their input a lot (padLeft, replace, format,
// join, concat) also check their own result against maxStringResult.
const maxEvalBytes = 64 << 20

// evalState is the per-evaluation state: the caller's context and the
// memory budget spent so far.
//
// Argument lists are carved from one arena per evaluation rather than
// allocated per call: calls nest like a stack, so each call takes the
// slots above its caller's and gives them back when it returns. A frame
// keeps its own slice even when a deeper call grows the arena, because
// growing starts a new backing array instead of moving the old one.
type evalState struct {
	ec    *EvalContext
	spent int
	// lambdas are the parameters of the lambdas being evaluated,
	// innermost last.
	lambdas []map[string]any
	top     int
	arena   []any
	buf     [6]any
}

// take returns n argument slots.
func (st *evalState) take(n int) []any {
	if st.arena == nil {
		st.arena = st.buf[:]
	}
	if st.top+n > len(st.arena) {
		st.arena = make([]any, max(2*len(st.arena), st.top+n))
	}
	args := st.arena[st.top : st.top+n : st.top+n]
	st.top += n
	return args
}

// release gives back the slots of the latest take, clearing them so the
// arena holds no values after the call.
func (st *evalState) release(args []any) {
	clear(args)
	st.top -= len(args)
}

// spend charges the shallow size of a call's result to the budget.
func (st *evalState) spend(v any) error {
	switch v := v.(type) {
	case string:
		st.spent += len(v)
	case []any:
		st.spent += 16 * len(v)
	case map[string]any:
		st.spent += 48 * len(v)
	default:
		return nil
	}
	if st.spent > maxEvalBytes {
		return errorf(CodeLimitExceeded, "the expression builds more than %d bytes of values", maxEvalBytes)
	}
	return nil
}
