package kql

import "math"

// compileMakeSeries plans make-series: per group, one array per aggregate
// with a value for each step of the axis from "from" (inclusive) to "to"
// (exclusive), filled with the default where a bin has no rows.
func compileMakeSeries(sc *scope, in *planTable, o *MakeSeries) (*planTable, error) {
	axis, err := sc.compileExpr(o.On)
	if err != nil {
		return nil, err
	}
	axisName := derivedName(o.On)
	if axisName == "" {
		return nil, errAt(o.On, "make-series needs an axis column")
	}
	konst := func(x Expr) (Value, bool, error) {
		if x == nil {
			return Value{}, false, nil
		}
		c, err := sc.compileExpr(x)
		if err != nil {
			return Value{}, false, err
		}
		if !c.konst {
			return Value{}, false, errAt(x, "make-series bounds must be constants")
		}
		return scalarOf(c.f(nil)), true, nil
	}
	from, hasFrom, err := konst(o.From)
	if err != nil {
		return nil, err
	}
	to, hasTo, err := konst(o.To)
	if err != nil {
		return nil, err
	}
	step, _, err := konst(o.Step)
	if err != nil {
		return nil, err
	}
	if step.IsNull() {
		return nil, errAt(o.Step, "make-series needs a step")
	}
	if (axis.t == TypeDateTime || axis.t == TypeTimeSpan) != (step.T == TypeTimeSpan) {
		return nil, errAt(o.Step, "make-series step of type %s does not fit an axis of type %s", step.T, axis.t)
	}
	cols, keys, _, err := compileBy(sc, o.By)
	if err != nil {
		return nil, err
	}
	var specs []aggSpec
	var defaults []any
	for _, a := range o.Aggs {
		call, ok := a.X.(*Call)
		if !ok || !isAggregate(call.Name) {
			return nil, errAt(a.X, "make-series needs an aggregate function")
		}
		spec, err := compileAgg(sc, call, a.Name)
		if err != nil {
			return nil, err
		}
		specs = append(specs, spec)
		var def any = int64(0)
		if spec.cols[0].Type == TypeReal {
			def = float64(0)
		}
		if a.Default != nil {
			v, _, err := konst(a.Default)
			if err != nil {
				return nil, err
			}
			// the default takes the aggregate's type (default = 0 for avg is 0.0)
			if conv := converter(spec.cols[0].Type); conv != nil && spec.cols[0].Type != TypeDynamic {
				v = conv(v)
			}
			def = dynAny(v)
		}
		defaults = append(defaults, def)
		cols = append(cols, Column{Name: uniqueName(cols, spec.cols[0].Name), Type: TypeDynamic})
	}
	cols = append(cols, Column{Name: uniqueName(cols, axisName), Type: TypeDynamic})
	nk := len(keys)
	stepN := step.i
	realAxis := axis.t == TypeReal
	return blocking(in, cols, func(q *qctx, rows []Row) ([]Row, error) {
		// integer axes (datetime ticks) are measured from a base so that the
		// float arithmetic below stays exact
		var base int64
		switch {
		case realAxis:
		case hasFrom:
			base = from.i
		default:
			for i, r := range rows {
				if v := axis.f(r); !v.IsNull() && (i == 0 || v.i < base) {
					base = v.i
				}
			}
			if stepN > 0 {
				base -= ((base % stepN) + stepN) % stepN
			}
		}
		pos := func(v Value) float64 {
			if realAxis || v.T == TypeReal {
				return v.AsReal()
			}
			return float64(v.i - base)
		}
		stepF := float64(stepN)
		if step.T == TypeReal || realAxis {
			stepF = step.AsReal()
		}
		if !(stepF > 0) || math.IsInf(stepF, 0) {
			return nil, fmtErr("make-series step must be a positive number")
		}
		lo, hi := 0.0, 0.0
		if hasFrom {
			lo = pos(from)
		}
		if hasTo {
			hi = pos(to)
		}
		if !hasFrom || !hasTo {
			first := true
			for _, r := range rows {
				v := axis.f(r)
				if v.IsNull() {
					continue
				}
				p := pos(v)
				if !hasFrom && (first || p < lo) {
					lo = p
				}
				if !hasTo && (first || p >= hi) {
					hi = p + stepF
				}
				first = false
			}
			if !hasFrom {
				lo = floorTo(lo, stepF)
			}
		}
		if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
			return nil, fmtErr("make-series bounds must be finite")
		}
		nbins := 0
		if hi > lo {
			nbins = int(math.Ceil((hi - lo) / stepF))
		}
		if nbins > 1_000_000 {
			return nil, fmtErr("make-series would produce %d bins", nbins)
		}
		type group struct {
			key    Row
			states [][]aggState
		}
		index := map[string]int{}
		var groups []*group
		for _, r := range rows {
			v := axis.f(r)
			if v.IsNull() {
				continue
			}
			b := int((pos(v) - lo) / stepF)
			if pos(v) < lo || b >= nbins {
				continue
			}
			kv := make([]Value, nk)
			for i, k := range keys {
				kv[i] = k.f(r)
			}
			ks := keyOf(kv)
			gi, ok := index[ks]
			if !ok {
				gi = len(groups)
				index[ks] = gi
				if err := q.gov.grow("make-series operator", int64(len(specs))*int64(nbins)*32+rowBytes(kv)); err != nil {
					return nil, err
				}
				groups = append(groups, &group{key: kv, states: make([][]aggState, len(specs))})
				for i := range specs {
					groups[gi].states[i] = make([]aggState, nbins)
				}
			}
			g := groups[gi]
			for i, s := range specs {
				if g.states[i][b] == nil {
					g.states[i][b] = govern(s.newState(), q.gov)
				}
				g.states[i][b].add(r)
			}
		}
		axisVals := make([]any, nbins)
		for b := range axisVals {
			p := lo + float64(b)*stepF
			switch axis.t {
			case TypeDateTime:
				axisVals[b] = formatDateTime(base + int64(p))
			case TypeTimeSpan:
				axisVals[b] = formatTimeSpan(base + int64(p))
			case TypeReal:
				axisVals[b] = p
			default:
				axisVals[b] = base + int64(p)
			}
		}
		var out []Row
		for _, g := range groups {
			row := make(Row, len(cols))
			copy(row, g.key)
			for i := range specs {
				arr := make([]any, nbins)
				tmp := make([]Value, 1)
				for b := 0; b < nbins; b++ {
					if st := g.states[i][b]; st != nil {
						st.result(tmp)
						arr[b] = dynAny(tmp[0])
					} else {
						arr[b] = defaults[i]
					}
				}
				row[nk+i] = Dynamic(arr)
			}
			row[len(cols)-1] = Dynamic(append([]any(nil), axisVals...))
			out = append(out, row)
		}
		return out, nil
	}), nil
}

func floorTo(x, step float64) float64 {
	q := x / step
	f := float64(int64(q))
	if f > q {
		f--
	}
	return f * step
}
