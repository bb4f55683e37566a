package policy

import (
	"fmt"
	"strings"

	"github.com/steward-gov/steward/internal/armexpr"
)

// operand is a compiled value: a literal, or an expression (or a
// structure holding expressions) with its constant value when folded.
type operand struct {
	raw      any
	expr     armexpr.Node
	deep     *tmpl // raw is an array or object holding expressions
	val      any
	folded   bool
	paramDep bool  // the folded value depends on the bound parameters
	prep     *rhs  // val prepared for the operator
	foldErr  error // the error of a parameter-only expression that cannot be folded
}

// unescapeLiteral turns a leading "[[" into "[" in literal strings,
// inside arrays and objects too.
func unescapeLiteral(v any) any {
	return mapStrings(v, func(s string) string {
		if strings.HasPrefix(s, "[[") {
			return s[1:]
		}
		return s
	})
}

// operand compiles a value that may be or contain expressions, folding it
// to a constant when it depends on nothing but (bound) parameters.
func (c *compiler) operand(v any, path string) (*operand, error) {
	o := &operand{raw: v}
	exprs := 0
	var info exprInfo
	var walk func(v any, path string) error
	walk = func(v any, path string) error {
		switch x := v.(type) {
		case string:
			if !isExpression(x) {
				return nil
			}
			exprs++
			n, err := parseExpr(x)
			if err != nil {
				return cerr(path, "%v", err)
			}
			if err := c.lim.functions(n, path); err != nil {
				return err
			}
			in, err := analyzeExpr(n)
			if err != nil && !c.inDetails {
				return cerr(path, "%v", err)
			}
			for _, fa := range in.fieldArgs {
				if _, ok := c.p.fields[strings.ToLower(fa)]; !ok {
					f, err := compileField(fa, c.p.aliases)
					if err != nil {
						return cerr(path, "field(%q): %v", fa, err)
					}
					c.p.fields[strings.ToLower(fa)] = f
				}
			}
			info.usesParams = info.usesParams || in.usesParams
			info.usesContext = info.usesContext || in.usesContext
			if o.expr == nil {
				o.expr = n
			}
		case []any:
			for i, e := range x {
				if err := walk(e, path+"["+itoa(i)+"]"); err != nil {
					return err
				}
			}
		case map[string]any:
			for k, e := range x {
				if err := walk(e, path+"."+k); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(v, path); err != nil {
		return nil, err
	}
	if exprs == 0 {
		o.val, o.folded, o.expr = unescapeLiteral(v), true, nil
		return o, nil
	}
	if s, ok := v.(string); !ok || !isExpression(s) {
		o.expr = nil
		t, err := compileTemplate(v)
		if err != nil {
			return nil, cerr(path, "%v", err)
		}
		o.deep = t
	}
	o.paramDep = info.usesParams
	if info.usesContext || (info.usesParams && !c.p.paramsBound) {
		return o, nil
	}
	val, err := o.eval(c.cst)
	if err != nil {
		// It depends on nothing but parameters, so it fails the same way
		// for every resource (a parameter without a value): keep the
		// error, formatted once, for the evaluations.
		ee := &EvalError{Path: path, Err: err}
		ee.msg = ee.Error()
		o.foldErr = ee
		return o, nil
	}
	o.val, o.folded = val, true
	return o, nil
}

// value returns the operand's value in a state.
func (o *operand) value(st *state) (any, error) {
	if o.folded && !(o.paramDep && st.paramsOverride) {
		return o.val, nil
	}
	if o.foldErr != nil && !st.paramsOverride {
		return nil, o.foldErr
	}
	return o.eval(st)
}

func (o *operand) eval(st *state) (any, error) {
	if o.deep != nil {
		return o.deep.eval(st)
	}
	if o.expr == nil {
		return o.val, nil
	}
	return st.evalExpr(o.expr)
}

// prepared returns the operand prepared for an operator.
func (o *operand) prepared(st *state, op Operator, loc bool) (*rhs, error) {
	if o.prep != nil && !(o.paramDep && st.paramsOverride) {
		return o.prep, nil
	}
	v, err := o.value(st)
	if err != nil {
		return nil, err
	}
	if v == nil && op != OpEquals && op != OpNotEquals && op != OpIn && op != OpNotIn && o.expr != nil {
		return nil, fmt.Errorf("the value of %s is null", op)
	}
	return prepareRHS(op, v, loc)
}

// fieldByName returns the compiled field for a name used by field().
func (p *Policy) fieldByName(name string) (*fieldRef, error) {
	if f, ok := p.fields[strings.ToLower(name)]; ok {
		return f, nil
	}
	if f, ok := p.dynFields.Load(name); ok {
		return f.(*fieldRef), nil
	}
	f, err := compileField(name, p.aliases)
	if err != nil {
		return nil, err
	}
	p.dynFields.Store(name, f)
	return f, nil
}
