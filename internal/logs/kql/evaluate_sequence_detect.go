package kql

import (
	"fmt"
	"sort"
)

// compileSequenceDetect plans "evaluate sequence_detect(TimelineColumn,
// MaxSequenceStepWindow, MaxSequenceSpan, Expr1, Expr2, ..., Dim1, ...)":
// per combination of the dimensions, every sequence of rows r1, r2, ...
// in timeline order where ri matches Expri, each step at most
// MaxSequenceStepWindow after the one before and the last at most
// MaxSequenceSpan after the first (the documented example lists a step
// row in several sequences). The predicates are the boolean arguments
// after the spans (named name=(predicate)); the arguments after them are
// the dimensions. Output: the dimensions, name_TimelineColumn per step,
// Duration; ordered by the steps' times.
func compileSequenceDetect(sc *scope, in *planTable, o *RawOp, args []Assign) (*planTable, error) {
	if len(args) < 4 {
		return nil, errAt(o, "sequence_detect needs a timeline column, a step window, a span and at least one predicate")
	}
	id, ok := args[0].X.(*Ident)
	tl := -1
	if ok {
		tl = colIndex(in.cols, id.Name)
	}
	if tl < 0 || in.cols[tl].Type != TypeDateTime && in.cols[tl].Type != TypeTimeSpan && !isIntegral(in.cols[tl].Type) {
		return nil, errAt(args[0].X, "sequence_detect's timeline must be a datetime, timespan or integer column of its input")
	}
	var spans [2]int64
	for i, what := range []string{"step window", "span"} {
		v, err := sc.constant(args[1+i].X, "sequence_detect's "+what)
		if err != nil {
			return nil, err
		}
		if !v.ok || !(v.T == TypeTimeSpan || isIntegral(v.T)) || v.i < 0 {
			return nil, errAt(args[1+i].X, "sequence_detect's %s must be a non-negative timespan", what)
		}
		spans[i] = v.i
	}
	type step struct {
		name string
		c    cexpr
	}
	var steps []step
	var dims []cexpr
	var cols []Column
	rest := args[3:]
	for i, a := range rest {
		c, err := sc.compileExpr(a.X)
		if err != nil {
			return nil, err
		}
		if len(dims) == 0 && c.t == TypeBool {
			name := a.Name
			if name == "" {
				name = fmt.Sprintf("Expr%d", i+1)
			}
			steps = append(steps, step{name, c})
			continue
		}
		name := a.Name
		if name == "" {
			name = derivedName(a.X)
		}
		if name == "" {
			return nil, errAt(a.X, "sequence_detect's dimension needs a name: Name = expression")
		}
		dims = append(dims, c)
		cols = append(cols, Column{Name: uniqueName(cols, name), Type: concreteType(c.t)})
	}
	if len(steps) == 0 {
		return nil, errAt(o, "sequence_detect needs at least one bool predicate")
	}
	nd := len(dims)
	for _, s := range steps {
		cols = append(cols, Column{Name: uniqueName(cols, s.name+"_"+in.cols[tl].Name), Type: in.cols[tl].Type})
	}
	durT := TypeTimeSpan
	if in.cols[tl].Type != TypeDateTime && in.cols[tl].Type != TypeTimeSpan {
		durT = in.cols[tl].Type
	}
	cols = append(cols, Column{Name: uniqueName(cols, "Duration"), Type: durT})
	return blocking(in, cols, func(q *qctx, rows []Row) ([]Row, error) {
		// per dimension group, the rows with a timeline value, in time order
		type event struct {
			t       int64
			matches []bool
		}
		groups := map[string][]event{}
		keys := map[string][]Value{}
		var order []string
		for _, r := range rows {
			tv := r[tl]
			if tv.IsNull() {
				continue
			}
			dv := make([]Value, nd)
			for j, d := range dims {
				dv[j] = scalarOf(d.f(r))
			}
			k := keyOf(dv)
			if _, ok := keys[k]; !ok {
				keys[k] = dv
				order = append(order, k)
			}
			ev := event{t: tv.i, matches: make([]bool, len(steps))}
			matched := false
			for j, s := range steps {
				v := scalarOf(s.c.f(r))
				ev.matches[j] = v.ok && v.T == TypeBool && v.i != 0
				matched = matched || ev.matches[j]
			}
			if matched {
				groups[k] = append(groups[k], ev)
			}
		}
		var out []Row
		times := make([]int64, len(steps))
		for _, k := range order {
			evs := groups[k]
			sort.SliceStable(evs, func(i, j int) bool { return evs[i].t < evs[j].t })
			var walk func(s, from int)
			walk = func(s, from int) {
				if s == len(steps) {
					r := make(Row, 0, len(cols))
					r = append(r, keys[k]...)
					for _, t := range times {
						r = append(r, Value{T: in.cols[tl].Type, ok: true, i: t})
					}
					r = append(r, Value{T: durT, ok: true, i: times[len(times)-1] - times[0]})
					out = q.keep(out, r, "sequence_detect plugin")
					return
				}
				for i := from; i < len(evs); i++ {
					if err := q.gov.tick(q.ctx); err != nil {
						panic(err)
					}
					e := evs[i]
					if s > 0 && (e.t-times[s-1] > spans[0] || e.t-times[0] > spans[1]) {
						break // later rows are later still
					}
					if e.matches[s] {
						times[s] = e.t
						walk(s+1, i+1)
					}
				}
			}
			walk(0, 0)
		}
		sort.SliceStable(out, func(i, j int) bool {
			for c := nd; c < nd+len(steps); c++ {
				if out[i][c].i != out[j][c].i {
					return out[i][c].i < out[j][c].i
				}
			}
			return false
		})
		return out, nil
	}), nil
}

// rawNamedCall parses the text of an evaluate as "name(arg, name = arg,
// ...)": the plugins whose arguments can be named. name is set whenever
// the text starts with a name, also when the rest does not parse.
func rawNamedCall(o *RawOp) (name string, args []Assign, err error) {
	toks, err := lexRawOp(o)
	if err != nil {
		return "", nil, errAt(o, "evaluate: %v", err)
	}
	if len(toks) == 0 || toks[0].kind != tIdent {
		return "", nil, errAt(o, "evaluate needs a plugin call")
	}
	name = toks[0].text
	p := &parser{src: o.Text, toks: toks}
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(*SyntaxError)
			if !ok {
				panic(r)
			}
			args, err = nil, se
		}
	}()
	p.next()
	p.expectPunct("(")
	for !p.isPunct(")") {
		args = append(args, p.parseAssign())
		if !p.acceptPunct(",") {
			break
		}
	}
	p.expectPunct(")")
	if p.peek().kind != tEOF {
		p.fail(p.peek(), "unexpected %s after %s(...)", p.peek(), name)
	}
	return name, args, nil
}
