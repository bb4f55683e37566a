package kql

import (
	"fmt"
	"strings"
)

// compileArgMax is compileArgMaxBy without by-columns.
func compileArgMax(sc *scope, call *Call, name string, max bool) (aggSpec, error) {
	return compileArgMaxBy(sc, call, name, max, nil)
}

// compileArgMaxBy compiles arg_max/arg_min. Its columns are the maximised
// expression and then the returned ones; "*" returns every input column
// except the by-columns and the maximised column.
func compileArgMaxBy(sc *scope, call *Call, name string, max bool, byCols map[string]bool) (aggSpec, error) {
	if len(call.Args) < 1 {
		return aggSpec{}, errAt(call, "%s needs at least one argument", call.Name)
	}
	target, err := sc.compileExpr(call.Args[0])
	if err != nil {
		return aggSpec{}, err
	}
	prefix := "min"
	if max {
		prefix = "max"
	}
	tname := name
	if tname == "" {
		tname = derivedName(call.Args[0])
	}
	if tname == "" {
		tname = prefix + "_"
	}
	cols := []Column{{Name: tname, Type: concreteType(target.t)}}
	var rets []cexpr
	targetCol := ""
	if id, ok := call.Args[0].(*Ident); ok {
		targetCol = id.Name
	}
	for i, a := range call.Args[1:] {
		if _, ok := a.(*Star); ok {
			for ci, c := range sc.cols {
				if byCols[c.Name] || c.Name == targetCol {
					continue
				}
				ci := ci
				cols = append(cols, Column{Name: c.Name, Type: c.Type})
				rets = append(rets, cexpr{t: c.Type, f: func(r Row) Value { return r[ci] }})
			}
			continue
		}
		c, err := sc.compileExpr(a)
		if err != nil {
			return aggSpec{}, err
		}
		n := derivedName(a)
		if n == "" {
			n = fmt.Sprintf("%s_%s_arg%d", prefix, strings.TrimSuffix(tname, "_"), i+1)
		}
		cols = append(cols, Column{Name: n, Type: concreteType(c.t)})
		rets = append(rets, c)
	}
	// make names unique within the aggregate (later collisions are resolved
	// against the whole output by compileSummarize)
	for i := 1; i < len(cols); i++ {
		cols[i].Name = uniqueName(cols[:i], cols[i].Name)
	}
	sign := -1
	if max {
		sign = 1
	}
	tf := target.f
	return aggSpec{cols: cols, newState: func() aggState {
		return &argMaxAgg{target: tf, rets: rets, sign: sign}
	}}, nil
}

type argMaxAgg struct {
	target func(Row) Value
	rets   []cexpr
	sign   int
	best   Value
	row    Row
	have   bool
}

func (a *argMaxAgg) add(r Row) {
	v := a.target(r)
	if !a.have {
		a.best, a.row, a.have = v, r, true
		return
	}
	// fast path for the common case of a non-null integer-like key
	// (TimeGenerated): compare the payloads directly
	if v.ok && a.best.ok && v.T == a.best.T && (v.T == TypeDateTime || v.T == TypeLong || v.T == TypeInt || v.T == TypeTimeSpan) {
		if a.sign > 0 && v.i > a.best.i || a.sign < 0 && v.i < a.best.i {
			a.best, a.row = v, r
		}
		return
	}
	if v.IsNull() {
		return
	}
	if isNaNValue(a.best) {
		return
	}
	if a.best.IsNull() || isNaNValue(v) {
		a.best, a.row = v, r
		return
	}
	if c, ok := compareValues(v, a.best); ok && c*a.sign > 0 {
		a.best, a.row = v, r
	}
}

func (a *argMaxAgg) result(out []Value) {
	if !a.have {
		for i := range out {
			out[i] = Value{}
		}
		return
	}
	out[0] = a.best
	for i, c := range a.rets {
		out[i+1] = c.f(a.row)
	}
}
