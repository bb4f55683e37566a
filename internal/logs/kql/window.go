package kql

import "math"

// Window functions (row_number, prev, next, row_cumsum, row_rank_dense,
// row_rank_min, row_window_session) read neighbouring rows, so an extend or project that uses
// them runs as a blocking operator: it reads its input, then evaluates the
// items row by row with a window context that points at the current
// position. The context belongs to the compiled plan, so one plan runs one
// execution at a time.

// winCtx is the row window an extend or project evaluates against.
type winCtx struct {
	input []Row // the input rows, padded to the output width
	done  []Row // the output rows computed so far
	i     int   // the current row
	state map[*Call]*winState
}

// winState is the running state of one window-function call.
type winState struct {
	n    int64
	sum  Value
	last Value
	rank int64
	init bool
}

func (w *winCtx) stateFor(c *Call) *winState {
	s := w.state[c]
	if s == nil {
		s = &winState{}
		w.state[c] = s
	}
	return s
}

var windowFuncs = map[string]bool{
	"row_number": true, "prev": true, "next": true, "row_cumsum": true, "row_rank_dense": true, "row_rank_min": true,
	"row_window_session": true,
}

// usesWindow reports whether any item calls a window function.
func usesWindow(items []Assign) bool {
	found := false
	for _, it := range items {
		Walk(it.X, func(n Node) bool {
			if c, ok := n.(*Call); ok && windowFuncs[c.Name] {
				found = true
			}
			return !found
		})
	}
	return found
}

// compileWindow compiles a window function call against the scope's window.
func (s *scope) compileWindow(x *Call) (cexpr, error) {
	w := s.win
	if w == nil {
		return cexpr{}, errAt(x, "%s is only allowed in extend or project over serialized rows", x.Name)
	}
	args, err := s.compileArgs(x.Args)
	if err != nil {
		return cexpr{}, err
	}
	restart := func(i int) func(Row) bool {
		if i >= len(args) {
			return func(Row) bool { return false }
		}
		f := args[i].f
		return func(r Row) bool { v := scalarOf(f(r)); return v.ok && v.T == TypeBool && v.i != 0 }
	}
	switch x.Name {
	case "row_number":
		start := int64(1)
		if len(args) > 0 {
			if !args[0].konst {
				return cexpr{}, errAt(x, "row_number's start must be a constant")
			}
			start = scalarOf(args[0].f(nil)).i
		}
		rs := restart(1)
		return cexpr{t: TypeLong, f: func(r Row) Value {
			st := w.stateFor(x)
			if !st.init || rs(r) {
				st.n, st.init = start, true
			} else {
				st.n++
			}
			return Long(st.n)
		}}, nil
	case "prev", "next":
		if len(args) < 1 {
			return cexpr{}, errAt(x, "%s needs a column", x.Name)
		}
		off := int64(1)
		if len(args) > 1 {
			v, err := constValue(args[1], x, x.Name+"'s offset")
			if err != nil {
				return cexpr{}, err
			}
			off = v.i
		}
		if x.Name == "next" {
			off = -off
		}
		def := Null(args[0].t)
		var deff func(Row) Value
		if len(args) > 2 {
			// the default must be a constant (agent-window-series-scan-0043)
			if !args[2].konst {
				return cexpr{}, errAt(x, "%s's default must be a constant", x.Name)
			}
			deff = args[2].f
		}
		f := args[0].f
		t := args[0].t
		return cexpr{t: concreteType(t), f: func(r Row) Value {
			j := w.i - int(off)
			var src Row
			switch {
			case j >= 0 && j < len(w.done):
				src = w.done[j]
			case j >= 0 && j < len(w.input):
				src = w.input[j]
			}
			if src == nil {
				if deff != nil {
					return deff(r)
				}
				return def
			}
			return f(src)
		}}, nil
	case "row_cumsum":
		if len(args) < 1 {
			return cexpr{}, errAt(x, "row_cumsum needs a value")
		}
		t := sumType(args[0].t)
		if t == TypeUnknown {
			return cexpr{}, errAt(x, "row_cumsum cannot add %s values", args[0].t)
		}
		f := args[0].f
		rs := restart(1)
		return cexpr{t: t, f: func(r Row) Value {
			st := w.stateFor(x)
			if !st.init || rs(r) {
				st.sum, st.init = Value{T: t, ok: true}, true
			}
			v := scalarOf(f(r))
			if !v.IsNull() {
				st.sum = arith("+", t, st.sum, v)
			}
			return st.sum
		}}, nil
	case "row_rank_dense", "row_rank_min":
		if len(args) < 1 {
			return cexpr{}, errAt(x, "%s needs a value", x.Name)
		}
		f := args[0].f
		rs := restart(1)
		dense := x.Name == "row_rank_dense"
		return cexpr{t: TypeLong, f: func(r Row) Value {
			st := w.stateFor(x)
			v := f(r)
			if !st.init || rs(r) {
				st.init, st.n, st.rank, st.last = true, 1, 1, v
				return Long(1)
			}
			st.n++
			eq, ok := valuesEqual(v, st.last)
			same := ok && eq || v.IsNull() && st.last.IsNull()
			if !same {
				if dense {
					st.rank++
				} else {
					st.rank = st.n
				}
			}
			st.last = v
			return Long(st.rank)
		}}, nil
	case "row_window_session":
		// row_window_session(value, maxFromFirst, maxBetweenNeighbours
		// [, restart]): the value that starts each row's session; a row
		// starts a new one when it is further than maxFromFirst from the
		// session's first value or maxBetweenNeighbours from the row
		// before, or when restart is true
		if len(args) < 3 {
			return cexpr{}, errAt(x, "row_window_session needs a value and two maximum distances")
		}
		t := concreteType(args[0].t)
		if !t.isNumeric() && t != TypeDateTime && t != TypeTimeSpan {
			return cexpr{}, errAt(x, "row_window_session needs datetime, timespan or numeric values, not %s", t)
		}
		for _, a := range args[1:3] {
			if !a.konst {
				return cexpr{}, errAt(x, "row_window_session's distances must be constants")
			}
		}
		dist := func(a, b Value) float64 {
			if t == TypeDateTime || t == TypeTimeSpan {
				return math.Abs(float64(a.i - b.i))
			}
			return math.Abs(a.AsReal() - b.AsReal())
		}
		span := func(v Value) float64 {
			v = scalarOf(v)
			if v.T == TypeTimeSpan || v.T == TypeDateTime || isIntegral(v.T) && (t == TypeDateTime || t == TypeTimeSpan) {
				return float64(v.i)
			}
			return v.AsReal()
		}
		maxFirst, maxNext := span(args[1].f(nil)), span(args[2].f(nil))
		f := args[0].f
		rs := restart(3)
		return cexpr{t: t, f: func(r Row) Value {
			st := w.stateFor(x)
			v := scalarOf(f(r))
			if v.IsNull() {
				return Null(t)
			}
			if !st.init || rs(r) || dist(v, st.sum) > maxFirst || dist(v, st.last) > maxNext {
				st.init, st.sum = true, v
			}
			st.last = v
			return withType(st.sum, t)
		}}, nil
	}
	return cexpr{}, errAt(x, "unknown window function %s", x.Name)
}

// windowed turns a per-row function into a blocking operator that runs it
// with the window context positioned on each row in turn.
// With inputOnly (project), prev and next read input rows; otherwise
// (extend) they read the finished output rows before the current one,
// through view when it is set (to put a carried ingestion time back
// where the input row has it).
func windowed(in *planTable, cols []Column, width int, w *winCtx, f func(r Row) Row, inputOnly bool, view func(Row) Row) *planTable {
	return blocking(in, cols, func(_ *qctx, rows []Row) ([]Row, error) {
		w.state = map[*Call]*winState{}
		w.input = make([]Row, len(rows))
		for i, r := range rows {
			p := make(Row, width)
			copy(p, r)
			w.input[i] = p
		}
		w.done = make([]Row, 0, len(rows))
		out := make([]Row, 0, len(rows))
		for i, r := range rows {
			w.i = i
			o := f(r)
			out = append(out, o)
			if !inputOnly {
				if view != nil {
					w.done = append(w.done, view(o))
				} else {
					w.done = append(w.done, o)
				}
			}
		}
		return out, nil
	})
}
