package kql

import "sort"

// compileSessionCount plans "evaluate session_count(IdColumn,
// TimelineColumn, Start, End, Bin, LookBackWindow, dim...)": per bin
// (aligned on Start, from Start to End) and combination of the dimensions,
// the number of sessions with activity in the bin. An id's records, in
// time order, form its sessions: a record continues the id's session when
// the id has a record at most LookBackWindow before it, and starts a new
// session when it has none ("existing" and "new" in the page's words).
// Records before Start link sessions that continue into the range;
// records after End are ignored. Every bin is listed for each combination,
// zero counts included (docs/decisions/kql.md).
func compileSessionCount(sc *scope, in *planTable, o *RawOp, call *Call) (*planTable, error) {
	w, err := readWindowArgs(sc, in, o, call, false, "IdColumn, TimelineColumn, Start, End, Bin, LookBackWindow", "bin", "lookback window")
	if err != nil {
		return nil, err
	}
	id, start, end, dims := w.id, w.start, w.end, w.dims
	bin, lookback := w.lengths[0], w.lengths[1]
	const what = "session_count plugin"
	cols := w.outCols(dims, Column{Name: "count_sessions", Type: TypeLong})
	tl, tlType := w.tl, in.cols[w.tl].Type
	return blocking(in, cols, func(q *qctx, rows []Row) ([]Row, error) {
		n, err := binCount(q, o, "session_count", start, end, bin)
		if err != nil {
			return nil, err
		}
		groups, err := groupIDTimes(q, rows, dims, id, tl, end, what)
		if err != nil {
			return nil, err
		}
		var out []Row
		for _, g := range groups {
			counts := make([]int64, n)
			for _, ts := range g.times {
				lastBin := int64(-1) // the last bin the current session counted in
				for i, t := range ts {
					if err := q.gov.tick(q.ctx); err != nil {
						return nil, err
					}
					if i > 0 && t-ts[i-1] > lookback {
						lastBin = -1 // a new session
					}
					if t < start {
						continue
					}
					if b := (t - start) / bin; b != lastBin {
						counts[b]++
						lastBin = b
					}
				}
			}
			for b, c := range counts {
				r := make(Row, 0, len(cols))
				r = append(r, Value{T: tlType, ok: true, i: start + int64(b)*bin})
				r = append(r, g.dims...)
				out = q.keep(out, append(r, Long(c)), what)
			}
		}
		return out, nil
	}), nil
}

// idGroup is one combination of the dimensions and each of its ids'
// times (up to the analysis end), sorted.
type idGroup struct {
	dims  []Value
	times [][]int64
}

// groupIDTimes splits rows by the dimensions (groupByDims' order) and
// collects each id's times up to end, leaving out rows with a null id or
// time; the times are charged to the memory budget.
func groupIDTimes(q *qctx, rows []Row, dims []int, id, tl int, end int64, what string) ([]idGroup, error) {
	groups, err := groupByDims(q, rows, dims, what)
	if err != nil {
		return nil, err
	}
	out := make([]idGroup, len(groups))
	for gi, g := range groups {
		byID := map[string][]int64{}
		var ids []string
		for _, r := range g.rows {
			if err := q.gov.tick(q.ctx); err != nil {
				return nil, err
			}
			t := r[tl]
			if t.IsNull() || r[id].IsNull() || t.i > end {
				continue
			}
			k := keyOf([]Value{r[id]})
			n := int64(8)
			if _, ok := byID[k]; !ok {
				ids = append(ids, k)
				n += int64(len(k)) + 80 // the key, its map entry and slice
			}
			byID[k] = append(byID[k], t.i)
			if err := q.gov.grow(what, n); err != nil {
				return nil, err
			}
		}
		times := make([][]int64, len(ids))
		for i, k := range ids {
			ts := byID[k]
			sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
			times[i] = ts
		}
		out[gi] = idGroup{dims: g.dims, times: times}
	}
	return out, nil
}
