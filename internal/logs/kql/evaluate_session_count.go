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
	a, err := newUsageArgs(sc, in, o, call, 6, "IdColumn, TimelineColumn, Start, End, Bin, LookBackWindow")
	if err != nil {
		return nil, err
	}
	id, start, end, err := a.idTimeRange()
	if err != nil {
		return nil, err
	}
	bin, err := a.length(4, "bin")
	if err != nil {
		return nil, err
	}
	lookback, err := a.length(5, "lookback window")
	if err != nil {
		return nil, err
	}
	dims, err := a.dims(6)
	if err != nil {
		return nil, err
	}
	const what = "session_count plugin"
	cols := a.outCols(dims, Column{Name: "count_sessions", Type: TypeLong})
	tl, tlType := a.tl, in.cols[a.tl].Type
	return blocking(in, cols, func(q *qctx, rows []Row) ([]Row, error) {
		n, err := binCount(q, o, "session_count", start, end, bin)
		if err != nil {
			return nil, err
		}
		groups, err := groupByDims(q, rows, dims, what)
		if err != nil {
			return nil, err
		}
		var out []Row
		for _, g := range groups {
			byID, ids, err := idTimes(q, g.rows, id, tl, end, what)
			if err != nil {
				return nil, err
			}
			counts := make([]int64, n)
			for _, k := range ids {
				ts := byID[k]
				sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
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

// idTimes collects each id's times up to end (rows with a null id or time
// left out), the ids in order of first appearance, charging the memory
// budget for them.
func idTimes(q *qctx, rows []Row, id, tl int, end int64, what string) (map[string][]int64, []string, error) {
	byID := map[string][]int64{}
	var ids []string
	for _, r := range rows {
		if err := q.gov.tick(q.ctx); err != nil {
			return nil, nil, err
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
			return nil, nil, err
		}
	}
	return byID, ids, nil
}
