package policy

import (
	"strings"

	"github.com/steward-gov/steward/internal/armexpr"
)

// tmpl is a JSON value holding expressions (effect details, array
// operands), with every expression parsed once at compile time; eval
// builds a fresh value per evaluation.
type tmpl struct {
	lit  any          // a value without expressions
	expr armexpr.Node // an expression string
	arr  []*tmpl
	obj  map[string]*tmpl
}

// compileTemplate parses the expressions of a value. Literal strings
// starting with "[[" are unescaped.
func compileTemplate(v any) (*tmpl, error) {
	switch x := v.(type) {
	case string:
		if !isExpression(x) {
			if strings.HasPrefix(x, "[[") {
				x = x[1:]
			}
			return &tmpl{lit: x}, nil
		}
		n, err := parseExpr(x)
		if err != nil {
			return nil, err
		}
		return &tmpl{expr: n}, nil
	case []any:
		t := &tmpl{arr: make([]*tmpl, len(x))}
		for i, e := range x {
			c, err := compileTemplate(e)
			if err != nil {
				return nil, err
			}
			t.arr[i] = c
		}
		return t, nil
	case map[string]any:
		t := &tmpl{obj: make(map[string]*tmpl, len(x))}
		for k, e := range x {
			c, err := compileTemplate(e)
			if err != nil {
				return nil, err
			}
			t.obj[k] = c
		}
		return t, nil
	}
	return &tmpl{lit: v}, nil
}

// eval builds the value with every expression evaluated.
func (t *tmpl) eval(st *state) (any, error) {
	switch {
	case t.expr != nil:
		return st.evalExpr(t.expr)
	case t.arr != nil:
		out := make([]any, len(t.arr))
		for i, c := range t.arr {
			v, err := c.eval(st)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case t.obj != nil:
		out := make(map[string]any, len(t.obj))
		for k, c := range t.obj {
			v, err := c.eval(st)
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	}
	return deepCopy(t.lit), nil
}
