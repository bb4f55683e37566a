package kql

import (
	"fmt"
	"strings"
)

// Scan is the scan operator with one step: rows matching the step's
// condition are output with the declared variables set by its assignments.
// In an assignment a bare variable is its declared default and
// step.variable is the value from the previous match.
type Scan struct {
	At      Pos
	Declare []Param
	Steps   []ScanStep
}

// ScanStep is "step name: condition => assignments;".
type ScanStep struct {
	Name    string
	Cond    Expr
	Assigns []Assign
}

func (*Scan) opNode() {}

// Pos returns the operator's position.
func (o *Scan) Pos() Pos { return o.At }

// String renders the operator.
func (o *Scan) String() string {
	decl := make([]string, len(o.Declare))
	for i, d := range o.Declare {
		decl[i] = quoteName(d.Name) + ":" + d.Type
		if d.Default != nil {
			decl[i] += " = " + d.Default.String()
		}
	}
	var steps []string
	for _, s := range o.Steps {
		st := "step " + quoteName(s.Name) + ": " + s.Cond.String()
		if len(s.Assigns) > 0 {
			st += " => " + assignsString(s.Assigns)
		}
		steps = append(steps, st+";")
	}
	return "scan declare (" + strings.Join(decl, ", ") + ") with (" + strings.Join(steps, " ") + ")"
}

func (p *parser) parseScan(t token) *Scan {
	o := &Scan{At: t.pos}
	p.expectWord("declare")
	p.expectPunct("(")
	for !p.isPunct(")") {
		nameTok := p.peek()
		name, _ := p.expectName()
		if keywordNames[name] {
			p.fail(nameTok, "'%s' is a keyword and cannot name a scan variable", name)
		}
		p.expectPunct(":")
		d := Param{Name: name, Type: p.parseTypeName()}
		if p.acceptPunct("=") {
			d.Default = p.parseExpr()
		}
		o.Declare = append(o.Declare, d)
		if !p.acceptPunct(",") {
			break
		}
	}
	p.expectPunct(")")
	p.expectWord("with")
	p.expectPunct("(")
	for p.isWord("step") {
		p.next()
		name, _ := p.expectName()
		p.expectPunct(":")
		st := ScanStep{Name: name, Cond: p.parseExpr()}
		if p.acceptPunct("=>") {
			st.Assigns = p.parseAssigns()
		}
		p.expectPunct(";")
		o.Steps = append(o.Steps, st)
	}
	if len(o.Steps) == 0 {
		p.fail(p.peek(), "scan needs at least one step")
	}
	p.expectPunct(")")
	return o
}

func compileScan(sc *scope, in *planTable, o *Scan) (*planTable, error) {
	if len(o.Steps) != 1 {
		return nil, errAt(o, "scan with more than one step is not supported")
	}
	step := o.Steps[0]
	nin := len(in.cols)
	cols := append([]Column(nil), in.cols...)
	var defaults []Value
	for _, d := range o.Declare {
		t := typeByName[strings.ToLower(d.Type)]
		if t == TypeUnknown {
			return nil, errAt(o, "unknown type %s", d.Type)
		}
		v := Null(t)
		if d.Default != nil {
			c, err := sc.compileExpr(d.Default)
			if err != nil {
				return nil, err
			}
			dv, err := constValue(c, d.Default, "a scan variable's default")
			if err != nil {
				return nil, err
			}
			v = castTo(dv, t)
		}
		if colIndex(cols, d.Name) >= 0 {
			return nil, errAt(o, "scan variable %s collides with a column", d.Name)
		}
		cols = append(cols, Column{Name: d.Name, Type: t})
		defaults = append(defaults, v)
	}
	nv := len(defaults)
	// the evaluation row: input, the variables' defaults, the step's state
	evalCols := append([]Column(nil), cols...)
	for i := 0; i < nv; i++ {
		evalCols = append(evalCols, Column{Name: fmt.Sprintf("__state_%s", cols[nin+i].Name), Type: cols[nin+i].Type})
	}
	rewrite := func(e Expr) Expr {
		return rewriteExpr(e, func(x Expr) Expr {
			if m, ok := x.(*Member); ok {
				if id, ok := m.X.(*Ident); ok && id.Name == step.Name {
					return &Ident{At: m.At, Name: "__state_" + m.Name}
				}
			}
			return x
		})
	}
	if usesWindow([]Assign{{X: step.Cond}}) || usesWindow(step.Assigns) {
		return nil, errAt(o, "window functions are not allowed inside scan")
	}
	esc := &scope{cols: evalCols, env: sc.env, q: sc.q}
	cond, err := esc.compileExpr(rewrite(step.Cond))
	if err != nil {
		return nil, err
	}
	type assign struct {
		pos int
		c   cexpr
	}
	var assigns []assign
	for _, a := range step.Assigns {
		pos := colIndex(cols, a.Name)
		if pos < nin {
			return nil, errAt(a.X, "scan can only assign declared variables")
		}
		c, err := esc.compileExpr(rewrite(a.X))
		if err != nil {
			return nil, err
		}
		assigns = append(assigns, assign{pos: pos, c: c})
	}
	width := len(evalCols)
	return blocking(in, cols, func(_ *qctx, rows []Row) ([]Row, error) {
		state := append([]Value(nil), defaults...)
		var out []Row
		for _, r := range rows {
			ev := make(Row, width)
			copy(ev, r)
			copy(ev[nin:], defaults)
			copy(ev[nin+nv:], state)
			v := scalarOf(cond.f(ev))
			if !(v.ok && v.T == TypeBool && v.i != 0) {
				continue
			}
			res := make(Row, nin+nv)
			copy(res, r)
			copy(res[nin:], state)
			for _, a := range assigns {
				res[a.pos] = castTo(a.c.f(ev), cols[a.pos].Type)
			}
			copy(state, res[nin:])
			out = append(out, res)
		}
		return out, nil
	}), nil
}
