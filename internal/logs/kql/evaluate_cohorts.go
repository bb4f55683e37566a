package kql

import (
	"math"
	"sort"
)

// This file holds the cohort and funnel plugins: new_activity_metrics and
// funnel_sequence_completion.

// compileNewActivityMetrics plans "evaluate new_activity_metrics(IdColumn,
// TimelineColumn, Start, End, Window [, Cohort] [, dim...])": for each
// cohort window f (the ids first seen in f, from Start on) and each window
// t from f to End, the ids of t not seen up to f (dcount_new_values; for
// t = f, the cohort), the cohort's ids seen again in t
// (dcount_retained_values) or not (dcount_churn_values), and their shares
// of the cohort. Cohort (a point of the timeline) keeps the cohort of its
// window alone. The ids of the Lookback table (its column named as
// IdColumn) count as seen before Start: they belong to no cohort and are
// never new.
func compileNewActivityMetrics(sc *scope, in *planTable, o *RawOp, call *Call) (*planTable, error) {
	args := call.Args
	// the optional Lookback table comes last
	var lookback *planTable
	if len(args) > 5 && isTabular(sc.env, args[len(args)-1]) {
		var err error
		if lookback, err = compileTabExpr(sc.q, sc.env, args[len(args)-1]); err != nil {
			return nil, err
		}
		args = args[:len(args)-1]
	}
	// the optional Cohort comes right after Window, a point of the timeline
	cohortAt := -1
	if len(args) > 5 {
		if _, isCol := args[5].(*Ident); !isCol || colIndex(in.cols, args[5].(*Ident).Name) < 0 {
			cohortAt = 5
		}
	}
	rest := args
	if cohortAt >= 0 {
		rest = append(append([]Expr{}, args[:5]...), args[6:]...)
	}
	w, err := readWindowArgs(sc, in, o, &Call{At: call.At, Name: call.Name, Args: rest}, false, "IdColumn, TimelineColumn, Start, End, Window", "window")
	if err != nil {
		return nil, err
	}
	seenBefore := -1 // the Lookback table's id column
	if lookback != nil {
		idName := in.cols[w.id].Name
		if seenBefore = colIndex(lookback.cols, idName); seenBefore < 0 {
			return nil, errAt(call.Args[len(call.Args)-1], "new_activity_metrics' Lookback table needs the id column '%s'", idName)
		}
	}
	cohort := int64(-1)
	if cohortAt >= 0 {
		a := &usageArgs{pluginArgs: pluginArgs{sc: sc, in: in, at: o, name: call.Name, args: args}, tl: w.tl}
		c, err := a.point(cohortAt, "cohort")
		if err != nil {
			return nil, err
		}
		if c < w.start || c > w.end {
			return nil, errAt(args[cohortAt], "new_activity_metrics' cohort must be between its start and end")
		}
		cohort = w.index(w.start, c)
	}
	const what = "new_activity_metrics plugin"
	tl := in.cols[w.tl]
	cols := w.withDims([]Column{{Name: "from_" + tl.Name, Type: tl.Type}, {Name: "to_" + tl.Name, Type: tl.Type},
		{Name: "dcount_new_values", Type: TypeLong}, {Name: "dcount_retained_values", Type: TypeLong},
		{Name: "dcount_churn_values", Type: TypeLong}, {Name: "retention_rate", Type: TypeReal}, {Name: "churn_rate", Type: TypeReal}})
	var seen map[string]bool // the Lookback table's ids: never new
	return w.perGroup(in, o, cols, 0, what, func(q *qctx, g *usageGroup, iw *idWindows, start int64, out []Row) ([]Row, error) {
		if lookback != nil && seen == nil {
			rows, err := runPlan(q, lookback)
			if err != nil {
				return nil, err
			}
			seen = map[string]bool{}
			for _, r := range rows {
				k := keyOf([]Value{r[seenBefore]})
				if !seen[k] {
					seen[k] = true
					if err := q.gov.grow(what, int64(len(k))+48); err != nil {
						return nil, err
					}
				}
			}
		}
		n := iw.n
		// two n-by-n matrices per group
		if n > 1<<15 {
			return nil, runaway(what, q.gov.lim.MaxMemory)
		}
		if err := q.gov.grow(what, 2*n*n*8+n*8); err != nil {
			return nil, err
		}
		size := make([]int64, n)
		retained := make([]int64, n*n) // [f*n+t]: cohort f's ids seen in t
		firstIn := make([]int64, n*n)  // [t*n+f]: ids of t first seen in f
		for _, k := range iw.order {
			if seen[k] {
				continue
			}
			bins := iw.ids[k]
			f := bins[0]
			size[f]++
			for _, t := range bins {
				retained[f*n+t]++
				firstIn[t*n+f]++
			}
			if err := q.gov.tick(q.ctx); err != nil {
				return nil, err
			}
		}
		// firstIn's rows become running sums: [t*n+f] = ids of t first seen up to f
		for t := int64(0); t < n; t++ {
			for f := int64(1); f < n; f++ {
				firstIn[t*n+f] += firstIn[t*n+f-1]
			}
			if err := q.gov.tick(q.ctx); err != nil {
				return nil, err
			}
		}
		for f := int64(0); f < n; f++ {
			if size[f] == 0 || cohort >= 0 && f != cohort {
				continue
			}
			for t := f; t < n; t++ {
				fresh := size[f]
				if t > f {
					fresh = firstIn[t*n+t] - firstIn[t*n+f]
				}
				kept := retained[f*n+t]
				r := Row{w.at(start, f), w.at(start, t), Long(fresh), Long(kept), Long(size[f] - kept),
					Real(float64(kept) / float64(size[f])), Real(float64(size[f]-kept) / float64(size[f]))}
				out = q.keep(out, append(r, g.dims...), what)
			}
		}
		return out, nil
	}), nil
}

// compileFunnelSequenceCompletion plans "evaluate
// funnel_sequence_completion(IdColumn, TimelineColumn, Start, End, Step,
// StateColumn, Sequence, MaxSequenceStepWindows)": per window (aligned on
// Start) in which an id has the sequence's first state, per period of
// MaxSequenceStepWindows (in the order given) and per state of the
// sequence, the ids that reached that state, in order, within the period
// of a first-state record of the window.
func compileFunnelSequenceCompletion(sc *scope, in *planTable, o *RawOp, call *Call) (*planTable, error) {
	a, err := newUsageArgs(sc, in, o, call, 8, "IdColumn, TimelineColumn, Start, End, Step, StateColumn, Sequence, MaxSequenceStepWindows")
	if err != nil {
		return nil, err
	}
	if len(call.Args) > 8 {
		return nil, errAt(call.Args[8], "funnel_sequence_completion takes 8 arguments")
	}
	id, start, end, err := a.idTimeRange()
	if err != nil {
		return nil, err
	}
	step, err := a.length(4, "step")
	if err != nil {
		return nil, err
	}
	state, err := a.stateColumn(5)
	if err != nil {
		return nil, err
	}
	seq, err := a.sequenceArg(6)
	if err != nil {
		return nil, err
	}
	pv, err := a.constant(7, "max sequence step windows")
	if err != nil {
		return nil, err
	}
	var periods []int64
	if arr, ok := pv.d.([]any); ok && pv.T == TypeDynamic {
		for _, x := range arr {
			v := toTimeSpanValue(scalarOf(Dynamic(x)))
			if !v.ok || v.i < 0 {
				return nil, errAt(call.Args[7], "funnel_sequence_completion's periods must be timespans")
			}
			periods = append(periods, v.i)
		}
	} else if pv.ok && pv.T == TypeTimeSpan && pv.i >= 0 {
		periods = []int64{pv.i}
	}
	if len(periods) == 0 {
		return nil, errAt(call.Args[7], "funnel_sequence_completion's periods must be a timespan or a non-empty dynamic array of timespans")
	}
	const what = "funnel_sequence_completion plugin"
	tlCol := in.cols[a.tl]
	cols := []Column{tlCol, {Name: in.cols[state].Name, Type: TypeString}, {Name: uniqueName([]Column{tlCol, in.cols[state]}, "Period"), Type: TypeTimeSpan},
		{Name: "dcount", Type: TypeLong}}
	stepOf := map[string][]int{}
	for i, s := range seq {
		stepOf[s] = append(stepOf[s], i)
	}
	tl := a.tl
	return blocking(in, cols, func(q *qctx, rows []Row) ([]Row, error) {
		n, err := binCount(q, o, "funnel_sequence_completion", start, end, step)
		if err != nil {
			return nil, err
		}
		type event struct {
			t    int64
			step []int
		}
		byID := map[string][]event{}
		var ids []string
		for _, r := range rows {
			if err := q.gov.tick(q.ctx); err != nil {
				return nil, err
			}
			t, s := r[tl], r[state]
			if t.IsNull() || r[id].IsNull() || !s.ok {
				continue
			}
			steps := stepOf[s.s]
			if steps == nil {
				continue
			}
			k := keyOf([]Value{r[id]})
			grow := int64(32)
			if _, ok := byID[k]; !ok {
				ids = append(ids, k)
				grow += int64(len(k)) + 80
			}
			byID[k] = append(byID[k], event{t.i, steps})
			if err := q.gov.grow(what, grow); err != nil {
				return nil, err
			}
		}
		// reached[window][period][step]: distinct ids
		reached := map[int64][]int64{}
		best := make([]int64, len(seq)) // per step, the shortest time from a first state of the window
		for _, k := range ids {
			evs := byID[k]
			sort.SliceStable(evs, func(i, j int) bool { return evs[i].t < evs[j].t })
			// nxt[i*m+s]: the first event from i on with state s of the
			// sequence, -1 if none
			m := len(seq)
			if err := q.gov.grow(what, int64(len(evs)+1)*int64(m)*4); err != nil {
				return nil, err
			}
			nxt := make([]int32, (len(evs)+1)*m)
			for j := 0; j < m; j++ {
				nxt[len(evs)*m+j] = -1
			}
			for i := len(evs) - 1; i >= 0; i-- {
				copy(nxt[i*m:(i+1)*m], nxt[(i+1)*m:(i+2)*m])
				for _, s := range evs[i].step {
					nxt[i*m+s] = int32(i)
				}
				if err := q.gov.tick(q.ctx); err != nil {
					return nil, err
				}
			}
			windows := map[int64][]int64{}
			for i, e := range evs {
				if !hasStep(e.step, 0) || e.t < start {
					continue
				}
				b := floorDiv(e.t-start, step)
				if b >= n {
					continue
				}
				// from this first state, each later step at its earliest
				for j := range best {
					best[j] = math.MaxInt64
				}
				best[0] = 0
				for j, pos := 1, i+1; j < m; j++ {
					k := nxt[pos*m+j]
					if k < 0 {
						break
					}
					best[j] = evs[k].t - e.t
					pos = int(k) + 1
				}
				if err := q.gov.tick(q.ctx); err != nil {
					return nil, err
				}
				w := windows[b]
				if w == nil {
					w = make([]int64, len(seq))
					for j := range w {
						w[j] = math.MaxInt64
					}
					windows[b] = w
				}
				for j := range w {
					w[j] = min(w[j], best[j])
				}
			}
			for b, w := range windows {
				cnt := reached[b]
				if cnt == nil {
					cnt = make([]int64, len(periods)*len(seq))
					reached[b] = cnt
					if err := q.gov.grow(what, int64(len(cnt))*8+64); err != nil {
						return nil, err
					}
				}
				for p, limit := range periods {
					for j, d := range w {
						if d <= limit {
							cnt[p*len(seq)+j]++
						}
					}
				}
			}
		}
		keys := make([]int64, 0, len(reached))
		for b := range reached {
			keys = append(keys, b)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
		var out []Row
		for _, b := range keys {
			cnt := reached[b]
			for p, limit := range periods {
				for j, s := range seq {
					r := Row{{T: tlCol.Type, ok: true, i: start + b*step}, String(s), TimeSpan(limit), Long(cnt[p*len(seq)+j])}
					out = q.keep(out, r, what)
				}
			}
		}
		return out, nil
	}), nil
}

func hasStep(steps []int, s int) bool {
	for _, x := range steps {
		if x == s {
			return true
		}
	}
	return false
}
