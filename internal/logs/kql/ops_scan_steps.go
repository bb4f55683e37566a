package kql

import (
	"context"
	"io"
	"strings"
)

// scanRef is one "step.column" reference in a scan's conditions or
// assignments: the value of column col (an input column or a declared
// variable) in the state entry of step step.
type scanRef struct{ step, col int }

// scanSeq is the state of one step: an active sequence holds, for each
// step up to this one, the extended record that last matched it (nil
// while that step has not matched in the sequence).
type scanSeq struct {
	active bool
	id     int64
	vals   []Row
}

// compiledStep is a step ready to run: its condition and assignments read
// the evaluation row [input | declared defaults | referenced state values].
type compiledStep struct {
	cond    cexpr
	assigns []scanAssign
	output  string
}

type scanAssign struct {
	pos int
	c   cexpr
}

// compileScan plans the scan operator with Kusto's documented matching
// logic: each record is tried against the steps from the last to the
// first; step k matches when the previous step holds a sequence and the
// condition holds with that state (the sequence moves up to step k), or
// when step k holds a sequence itself (or is the first step) and the
// condition holds with its own state. A bare declared variable is its
// default; step.column reads the state, and a step that has not matched
// yet reads as the declared default (null for input columns).
func compileScan(sc *scope, in *planTable, o *Scan) (*planTable, error) {
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
			dv, err := sc.constant(d.Default, "a scan variable's default")
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
	width := nin + nv
	if o.MatchID != "" {
		if colIndex(cols, o.MatchID) >= 0 {
			return nil, errAt(o, "scan's match id column %s collides with a column", o.MatchID)
		}
		cols = append(cols, Column{Name: o.MatchID, Type: TypeLong})
	}
	stepIndex := map[string]int{}
	for i, st := range o.Steps {
		stepIndex[st.Name] = i
	}
	// step.column references become columns of the evaluation row
	var refs []scanRef
	refSlot := map[scanRef]int{}
	evalCols := append([]Column(nil), cols[:width]...)
	var refErr error
	rewrite := func(e Expr) Expr {
		return rewriteExpr(e, func(x Expr) Expr {
			m, ok := x.(*Member)
			if !ok {
				return x
			}
			id, ok := m.X.(*Ident)
			if !ok {
				return x
			}
			si, ok := stepIndex[id.Name]
			if !ok || colIndex(in.cols, id.Name) >= 0 {
				return x
			}
			ci := colIndex(cols[:width], m.Name)
			if ci < 0 {
				if refErr == nil {
					refErr = errAt(m, "scan step %s has no column %s", id.Name, m.Name)
				}
				return x
			}
			ref := scanRef{si, ci}
			slot, ok := refSlot[ref]
			if !ok {
				slot = len(evalCols)
				refSlot[ref] = slot
				refs = append(refs, ref)
				evalCols = append(evalCols, Column{Name: "\x00scan " + id.Name + "." + m.Name, Type: cols[ci].Type})
			}
			return &Ident{At: m.At, Name: evalCols[slot].Name}
		})
	}
	var rewritten []ScanStep
	for _, st := range o.Steps {
		if usesWindow([]Assign{{X: st.Cond}}) || usesWindow(st.Assigns) {
			return nil, errAt(o, "window functions are not allowed inside scan")
		}
		r := ScanStep{Name: st.Name, Output: st.Output, Cond: rewrite(st.Cond)}
		for _, a := range st.Assigns {
			r.Assigns = append(r.Assigns, Assign{Name: a.Name, Names: a.Names, X: rewrite(a.X)})
		}
		rewritten = append(rewritten, r)
	}
	if refErr != nil {
		return nil, refErr
	}
	esc := &scope{cols: evalCols, env: sc.env, q: sc.q}
	steps := make([]compiledStep, len(rewritten))
	anyLast := false
	for i, st := range rewritten {
		cond, err := esc.compileExpr(st.Cond)
		if err != nil {
			return nil, err
		}
		if !boolish(cond.t) {
			return nil, errAt(o.Steps[i].Cond, "scan step %s needs a bool condition, not %s", st.Name, cond.t)
		}
		cs := compiledStep{cond: cond, output: st.Output}
		if cs.output == "" {
			cs.output = "all"
		}
		anyLast = anyLast || cs.output == "last"
		for _, a := range st.Assigns {
			pos := colIndex(cols[:width], a.Name)
			if pos < nin {
				return nil, errAt(o.Steps[i].Cond, "scan can only assign declared variables, not %s", a.Name)
			}
			c, err := esc.compileExpr(a.X)
			if err != nil {
				return nil, err
			}
			cs.assigns = append(cs.assigns, scanAssign{pos: pos, c: c})
		}
		steps[i] = cs
	}
	run := &scanRun{steps: steps, refs: refs, defaults: defaults, cols: cols, nin: nin, width: width,
		evalWidth: len(evalCols), matchID: o.MatchID != "", anyLast: anyLast}
	return &planTable{cols: cols, ordered: in.ordered, open: func(q *qctx) (RowIter, error) {
		it, err := in.open(q)
		if err != nil {
			return nil, err
		}
		return run.iter(q, it), nil
	}}, nil
}

// scanRun holds what one execution of a compiled scan needs.
type scanRun struct {
	steps     []compiledStep
	refs      []scanRef
	defaults  []Value
	cols      []Column
	nin       int
	width     int
	evalWidth int
	matchID   bool
	anyLast   bool
}

// scanExec is one execution: the steps' states and the output queue.
// Output rows wait in the queue only behind a step with output=last whose
// latest match may still be replaced by a later one in the same series.
type scanExec struct {
	*scanRun
	q       *qctx
	state   []scanSeq
	pending []int64 // absolute queue index of an output=last step's latest match, -1 for none
	queue   []Row   // rows from absolute index base; nil entries were replaced
	base    int64
	nextID  int64
	ev      Row
	// queued is the bytes of the rows in the queue; counted the most it
	// has been (what the governor was told)
	queued, counted int64
}

func (s *scanRun) iter(q *qctx, in RowIter) RowIter {
	x := &scanExec{scanRun: s, q: q, state: make([]scanSeq, len(s.steps)), pending: make([]int64, len(s.steps)),
		ev: make(Row, s.evalWidth)}
	for i := range x.pending {
		x.pending[i] = -1
	}
	done := false
	return &funcIter{next: func(ctx context.Context) (Row, error) {
		for {
			if r, ok := x.pop(done); ok {
				return r, nil
			}
			if done {
				return nil, io.EOF
			}
			r, err := in.Next(ctx)
			if err == io.EOF {
				done = true
				continue
			}
			if err != nil {
				return nil, err
			}
			if err := q.gov.tick(ctx); err != nil {
				return nil, err
			}
			if err := x.record(r); err != nil {
				return nil, err
			}
		}
	}, close: in.Close}
}

// pop returns the next row that can leave the queue: every row before the
// earliest pending output=last match (all of them once the input ended).
func (x *scanExec) pop(done bool) (Row, bool) {
	limit := x.base + int64(len(x.queue))
	if !done {
		for _, p := range x.pending {
			if p >= 0 && p < limit {
				limit = p
			}
		}
	}
	for x.base < limit {
		r := x.queue[0]
		x.queue = x.queue[1:]
		x.base++
		if r != nil {
			if x.anyLast {
				x.queued -= rowBytes(r)
			}
			return r, true
		}
	}
	return nil, false
}

// load fills the evaluation row for record r with the state st.
func (x *scanExec) load(r Row, st *scanSeq) Row {
	ev := x.ev
	copy(ev, r)
	copy(ev[x.nin:], x.defaults)
	for i, ref := range x.refs {
		var v Value
		switch {
		case st.active && st.vals[ref.step] != nil:
			v = st.vals[ref.step][ref.col]
		case ref.col >= x.nin:
			v = x.defaults[ref.col-x.nin]
		default:
			v = Null(x.cols[ref.col].Type)
		}
		ev[x.width+i] = v
	}
	return ev
}

func (x *scanExec) matches(k int, r Row, st *scanSeq) bool {
	v := scalarOf(x.steps[k].cond.f(x.load(r, st)))
	return v.ok && v.T == TypeBool && v.i != 0
}

// extend computes step k's assignments for r (the evaluation row is
// loaded): declared variables a step does not assign are their defaults.
func (x *scanExec) extend(k int, r Row, id int64) Row {
	n := x.width
	if x.matchID {
		n++
	}
	res := make(Row, n)
	copy(res, r)
	copy(res[x.nin:], x.defaults)
	for _, a := range x.steps[k].assigns {
		res[a.pos] = castTo(a.c.f(x.ev), x.cols[a.pos].Type)
	}
	if x.matchID {
		res[x.width] = Long(id)
	}
	return res
}

// emit queues step k's output for res; newSeries says whether the match
// starts a new series of matches of step k (for output=last).
func (x *scanExec) emit(k int, res Row, newSeries bool) {
	switch x.steps[k].output {
	case "none":
		return
	case "last":
		if p := x.pending[k]; !newSeries && p >= x.base {
			x.queued -= rowBytes(x.queue[p-x.base])
			x.queue[p-x.base] = nil
		}
		x.pending[k] = x.base + int64(len(x.queue))
	}
	if x.anyLast {
		// rows can wait in the queue behind an output=last match: count
		// the most the queue ever held
		x.queued += rowBytes(res)
		if x.queued > x.counted {
			x.q.gov.mustGrow("scan operator", x.queued-x.counted)
			x.counted = x.queued
		}
	}
	x.queue = append(x.queue, res)
}

// record runs one input record through the steps, last to first.
func (x *scanExec) record(r Row) (err error) {
	defer func() {
		if p := recover(); p != nil {
			le, ok := p.(*LimitError)
			if !ok {
				panic(p)
			}
			err = le
		}
	}()
	n := len(x.steps)
	for k := n - 1; k >= 0; k-- {
		// Check 1: the previous step holds a sequence that r continues
		if k > 0 && x.state[k-1].active && x.matches(k, r, &x.state[k-1]) {
			seq := x.state[k-1]
			x.state[k-1] = scanSeq{}
			res := x.extend(k, r, seq.id)
			seq.vals[k] = res[:x.width]
			x.state[k] = seq
			x.endSeries(k - 1)
			x.emit(k, res, true)
			continue
		}
		// Check 2: the step holds a sequence itself, or is the first step
		st := &x.state[k]
		if !(st.active || k == 0) || !x.matches(k, r, st) {
			continue
		}
		fresh := !st.active
		if fresh {
			*st = scanSeq{active: true, id: x.nextID, vals: make([]Row, n)}
			x.nextID++
		}
		res := x.extend(k, r, st.id)
		st.vals[k] = res[:x.width]
		x.emit(k, res, fresh)
	}
	return nil
}

// endSeries closes the series of step k's matches: its latest output=last
// match is final.
func (x *scanExec) endSeries(k int) {
	if k >= 0 {
		x.pending[k] = -1
	}
}
