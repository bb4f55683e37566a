package abac

import (
	"fmt"
	"strings"
	"time"
)

// Env is what a condition is evaluated against: the action being performed,
// its suboperation, and attribute values by source. Attribute names are
// matched case-insensitively. Comparing an attribute the request does not
// carry is an evaluation error, so the condition fails whatever negations
// surround it, as Azure fails the access check; Exists tests for presence.
type Env struct {
	// Action is the action being performed, such as
	// "Microsoft.Authorization/roleAssignments/write".
	Action string
	// SubOperation is the request's suboperation, if any.
	SubOperation string
	// Now is the time @Environment[UtcNow] reports when that attribute is
	// not set explicitly. The caller injects it; the zero time leaves
	// UtcNow missing.
	Now   time.Time
	attrs map[Source]map[string][]string
}

// Set gives an attribute its values, replacing earlier ones.
func (e *Env) Set(src Source, name string, values ...string) {
	if e.attrs == nil {
		e.attrs = map[Source]map[string][]string{}
	}
	m := e.attrs[src]
	if m == nil {
		m = map[string][]string{}
		e.attrs[src] = m
	}
	m[strings.ToLower(name)] = values
}

// Lookup returns an attribute's values and whether it is present.
func (e *Env) Lookup(src Source, name string) ([]string, bool) {
	if v, ok := e.attrs[src][strings.ToLower(name)]; ok {
		return v, true
	}
	// The 2021 condition format reads the suboperation as an attribute,
	// @Request[subOperation], where later ones use SubOperationMatches.
	if src == Request && strings.EqualFold(name, "subOperation") && e.SubOperation != "" {
		return []string{e.SubOperation}, true
	}
	if src == Environment && strings.EqualFold(name, "UtcNow") && !e.Now.IsZero() {
		return []string{e.Now.UTC().Format(time.RFC3339Nano)}, true
	}
	return nil, false
}

// EvalError reports a comparison that could not be made, such as a
// Numeric operator applied to an attribute whose value is not an integer.
// Access checks treat it as a condition that is not met.
type EvalError struct {
	Pos int
	Msg string
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("condition evaluation error at offset %d: %s", e.Pos, e.Msg)
}

// Eval evaluates a parsed condition. AND and OR short-circuit from the left,
// so an error in a branch that does not need evaluating is not reported.
func Eval(x Expr, env *Env) (bool, error) {
	switch x := x.(type) {
	case *Binary:
		l, err := Eval(x.X, env)
		if err != nil {
			return false, err
		}
		if x.Op == And && !l || x.Op == Or && l {
			return l, nil
		}
		return Eval(x.Y, env)
	case *Not:
		v, err := Eval(x.X, env)
		return !v && err == nil, err
	case *Paren:
		return Eval(x.X, env)
	case *ActionMatches:
		return MatchAction(x.Pattern, env.Action), nil
	case *SubOperationMatches:
		return env.SubOperation != "" && MatchAction(x.Pattern, env.SubOperation), nil
	case *Exists:
		v, ok := env.Lookup(x.Attr.Source, x.Attr.Name)
		return ok && len(v) > 0, nil
	case *Comparison:
		return evalComparison(x, env)
	}
	return false, &EvalError{Pos: 0, Msg: fmt.Sprintf("unknown expression %T", x)}
}

func operandValues(o Operand, env *Env) ([]string, error) {
	switch o := o.(type) {
	case *Attribute:
		v, ok := env.Lookup(o.Source, o.Name)
		if !ok || len(v) == 0 {
			return nil, &EvalError{Pos: o.AttrPos, Msg: fmt.Sprintf("attribute %s is not available for this request (test it with Exists)", o)}
		}
		return v, nil
	case *Literal:
		return []string{o.Value}, nil
	case *Set:
		v := make([]string, len(o.Elems))
		for i, e := range o.Elems {
			v[i] = e.Value
		}
		return v, nil
	}
	return nil, &EvalError{Pos: o.Pos(), Msg: fmt.Sprintf("unknown operand %T", o)}
}

func evalComparison(c *Comparison, env *Env) (bool, error) {
	l, err := operandValues(c.Left, env)
	if err != nil {
		return false, err
	}
	r, err := operandValues(c.Right, env)
	if err != nil {
		return false, err
	}
	cmp := func(a, b string) (bool, error) {
		ok, err := c.Op.cmp(a, b)
		if err != nil {
			return false, &EvalError{Pos: c.OpPos, Msg: fmt.Sprintf("%s: %v", c.Op.Spelling, err)}
		}
		return ok, nil
	}
	// anyOf/allOf over the right-hand side for one left value.
	overRight := func(a string, all bool) (bool, error) {
		for _, b := range r {
			ok, err := cmp(a, b)
			if err != nil {
				return false, err
			}
			if ok != all {
				return ok, nil
			}
		}
		return all, nil
	}
	overLeft := func(allLeft, allRight bool) (bool, error) {
		for _, a := range l {
			ok, err := overRight(a, allRight)
			if err != nil {
				return false, err
			}
			if ok != allLeft {
				return ok, nil
			}
		}
		return allLeft, nil
	}
	switch c.Op.Quantifier {
	case ForAnyOfAnyValues:
		return overLeft(false, false)
	case ForAllOfAnyValues:
		return overLeft(true, false)
	case ForAnyOfAllValues:
		return overLeft(false, true)
	case ForAllOfAllValues:
		return overLeft(true, true)
	}
	if len(l) != 1 || len(r) != 1 {
		return false, &EvalError{Pos: c.OpPos, Msg: fmt.Sprintf("%s compares single values but got %d and %d; use a cross-product form such as ForAnyOfAnyValues:%s", c.Op.Spelling, len(l), len(r), c.Op.Name)}
	}
	return cmp(l[0], r[0])
}
