package kql

import (
	"strings"
)

// aggState accumulates one group's values for one aggregate call and writes
// its output columns.
type aggState interface {
	add(r Row)
	result(out []Value)
}

// aggSpec is a compiled aggregate call: its output columns and a factory
// for per-group state.
type aggSpec struct {
	cols     []Column
	newState func() aggState
}

// aggPrefix gives the default column-name prefix of each aggregate
// (Kusto names an unnamed sum(x) "sum_x").
var aggPrefix = map[string]string{
	"count": "count", "countif": "countif", "dcount": "dcount", "dcountif": "dcountif", "sum": "sum", "sumif": "sumif",
	"avg": "avg", "avgif": "avgif", "min": "min", "max": "max", "minif": "minif", "maxif": "maxif",
	"make_set": "set", "make_list": "list", "make_set_if": "set", "make_list_if": "list", "make_list_with_nulls": "list",
	"make_bag": "bag", "make_bag_if": "bag", "stdev": "stdev", "stdevp": "stdevp", "variance": "variance", "variancep": "variancep",
	"stdevif": "stdevif", "varianceif": "varianceif", "variancepif": "variancepif", "take_any": "any", "any": "any", "count_distinct": "count_distinct",
	"percentile": "percentile", "percentiles": "percentile", "arg_max": "max", "arg_min": "min", "hll": "hll",
	"countifs": "countif", "binary_all_and": "binary_all_and", "binary_all_or": "binary_all_or",
}

func isAggregate(name string) bool { _, ok := aggPrefix[name]; return ok }

// aggregate-call argument helper: compiled args with the predicate split off
// for the *if forms.
func compileAgg(sc *scope, call *Call, name string) (aggSpec, error) {
	fn := call.Name
	argName := ""
	if len(call.Args) > 0 {
		argName = summarizeName(call.Args[0])
		if c, ok := call.Args[0].(*Call); ok && !conversionFns[c.Name] {
			argName = ""
		}
	}
	defName := aggPrefix[fn] + "_" + argName
	if name == "" {
		name = defName
	}
	if fn == "arg_max" || fn == "arg_min" {
		return compileArgMax(sc, call, name, fn == "arg_max")
	}
	var args []cexpr
	for _, a := range call.Args {
		if _, ok := a.(*Star); ok {
			continue
		}
		c, err := sc.compileExpr(a)
		if err != nil {
			return aggSpec{}, err
		}
		args = append(args, c)
	}
	need := func(n int) error {
		if len(args) < n {
			return errAt(call, "%s needs %d argument(s)", fn, n)
		}
		return nil
	}
	one := func(t Type, mk func() aggState) (aggSpec, error) {
		return aggSpec{cols: []Column{{Name: name, Type: t}}, newState: mk}, nil
	}
	pred := func(i int) func(Row) bool {
		if i >= len(args) {
			return func(Row) bool { return true }
		}
		p := args[i].f
		return func(r Row) bool { v := scalarOf(p(r)); return v.ok && v.T == TypeBool && v.i != 0 }
	}
	switch fn {
	case "count":
		return one(TypeLong, func() aggState { return &countAgg{keep: func(Row) bool { return true }} })
	case "countif":
		if err := need(1); err != nil {
			return aggSpec{}, err
		}
		p := pred(0)
		return one(TypeLong, func() aggState { return &countAgg{keep: p} })
	case "dcount", "dcountif", "count_distinct":
		if err := need(1); err != nil {
			return aggSpec{}, err
		}
		x, p := args[0].f, pred(1)
		if fn != "dcountif" {
			p = pred(99)
		}
		return one(TypeLong, func() aggState { return &dcountAgg{x: x, keep: p, seen: map[string]bool{}} })
	case "sum", "sumif":
		if err := need(1); err != nil {
			return aggSpec{}, err
		}
		t := sumType(args[0].t)
		if t == TypeUnknown {
			return aggSpec{}, errAt(call, "sum cannot add %s values", args[0].t)
		}
		x, p := args[0].f, pred(1)
		if fn == "sum" {
			p = pred(99)
		}
		return one(t, func() aggState { return &sumAgg{x: x, keep: p, t: t} })
	case "avg", "avgif":
		if err := need(1); err != nil {
			return aggSpec{}, err
		}
		x, p := args[0].f, pred(1)
		if fn == "avg" {
			p = pred(99)
		}
		if !args[0].t.isNumeric() && args[0].t != TypeDynamic && args[0].t != TypeTimeSpan && args[0].t != TypeDateTime && args[0].t != TypeBool {
			return aggSpec{}, errAt(call, "avg cannot average %s values", args[0].t)
		}
		t := TypeReal
		if args[0].t == TypeTimeSpan || args[0].t == TypeDateTime {
			t = args[0].t
		}
		return one(t, func() aggState { return &avgAgg{x: x, keep: p, t: t} })
	case "min", "max", "minif", "maxif":
		if err := need(1); err != nil {
			return aggSpec{}, err
		}
		x, p := args[0].f, pred(1)
		if len(fn) == 3 {
			p = pred(99)
		}
		t := concreteType(args[0].t)
		sign := 1
		if strings.HasPrefix(fn, "min") {
			sign = -1
		}
		return one(t, func() aggState { return &minMaxAgg{x: x, keep: p, sign: sign, best: Null(t)} })
	case "make_list", "make_list_if", "make_list_with_nulls", "make_set", "make_set_if":
		if err := need(1); err != nil {
			return aggSpec{}, err
		}
		x := args[0].f
		p := pred(99)
		limitArg := 1
		if strings.HasSuffix(fn, "_if") {
			p = pred(1)
			limitArg = 2
		}
		limit := int64(1 << 20)
		if len(args) > limitArg && args[limitArg].konst {
			if v := scalarOf(args[limitArg].f(nil)); isIntegral(v.T) && v.ok {
				limit = v.i
			}
		}
		set := strings.HasPrefix(fn, "make_set")
		nulls := fn == "make_list_with_nulls"
		return one(TypeDynamic, func() aggState {
			a := &listAgg{x: x, keep: p, limit: limit, nulls: nulls, items: []any{}}
			if set {
				a.seen = map[string]bool{}
			}
			return a
		})
	case "make_bag", "make_bag_if":
		if err := need(1); err != nil {
			return aggSpec{}, err
		}
		x, p := args[0].f, pred(99)
		if fn == "make_bag_if" {
			p = pred(1)
		}
		return one(TypeDynamic, func() aggState { return &bagAgg{x: x, keep: p, bag: NewBag()} })
	case "stdev", "stdevp", "variance", "variancep", "stdevif", "varianceif", "variancepif":
		if err := need(1); err != nil {
			return aggSpec{}, err
		}
		x, p := args[0].f, pred(1)
		if !strings.HasSuffix(fn, "if") {
			p = pred(99)
		}
		return one(TypeReal, func() aggState { return &varAgg{x: x, keep: p, kind: fn} })
	case "take_any", "any":
		if err := need(1); err != nil {
			return aggSpec{}, err
		}
		if argName != "" && name == defName {
			name = argName
		}
		x := args[0].f
		t := concreteType(args[0].t)
		return one(t, func() aggState { return &anyAgg{x: x, v: Null(t)} })
	case "percentile", "percentiles":
		if err := need(2); err != nil {
			return aggSpec{}, err
		}
		x := args[0].f
		t := concreteType(args[0].t)
		var ps []float64
		var cols []Column
		for i, a := range args[1:] {
			if !a.konst {
				return aggSpec{}, errAt(call, "percentile needs constant percentages")
			}
			pv := a.f(nil).AsReal()
			ps = append(ps, pv)
			cn := name
			if fn == "percentiles" || name == defName {
				cn = defName + "_" + strings.ReplaceAll(formatReal(pv), ".", "_")
				if fn == "percentiles" && name != defName && i == 0 && len(args) == 2 {
					cn = name
				}
			}
			cols = append(cols, Column{Name: cn, Type: t})
		}
		return aggSpec{cols: cols, newState: func() aggState { return &pctAgg{x: x, ps: ps, t: t} }}, nil
	}
	if spec, ok, err := compileMoreAgg(call, args, name, pred); ok {
		return spec, err
	}
	if spec, ok, err := compileAddedAgg(call, args, name, defName); ok {
		return spec, err
	}
	return aggSpec{}, errAt(call, "unknown aggregate function '%s'", fn)
}
