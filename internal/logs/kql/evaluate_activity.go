package kql

import (
	"math"
	"sort"
)

// This file holds the activity plugins: activity_counts_metrics,
// activity_metrics and activity_engagement. Each reads, per combination of
// the dimensions, which ids appear in which window (bins of Step aligned
// on Start) and counts from there.

// idWindows is one group's activity: records per window and, per id, the
// distinct windows it appears in (ascending).
type idWindows struct {
	n     int64              // windows 0..n-1 are output
	low   int64              // the first window read (<= 0)
	count []int64            // records per window, from low on
	ids   map[string][]int64 // id key -> its windows
	order []string           // ids in order of first appearance
}

// readWindows bins a group's rows: windows from lowest (negative for the
// lookback before Start) to n-1; rows outside are left out.
func readWindows(q *qctx, rows []Row, id, tl int, index func(t int64) int64, n, lowest int64, what string) (*idWindows, error) {
	w := &idWindows{n: n, low: lowest, count: make([]int64, n-lowest), ids: map[string][]int64{}}
	for _, r := range rows {
		if err := q.gov.tick(q.ctx); err != nil {
			return nil, err
		}
		t := r[tl]
		if t.IsNull() || r[id].IsNull() {
			continue
		}
		b := index(t.i)
		if b >= n || b < lowest {
			continue
		}
		w.count[b-lowest]++
		k := keyOf([]Value{r[id]})
		bins, seen := w.ids[k]
		if seen && bins[len(bins)-1] == b {
			continue
		}
		grow := int64(8)
		if !seen {
			w.order = append(w.order, k)
			grow += int64(len(k)) + 80 // the key, its map entry and slice
		}
		w.ids[k] = append(bins, b)
		if err := q.gov.grow(what, grow); err != nil {
			return nil, err
		}
	}
	for _, k := range w.order {
		bins := w.ids[k]
		sort.Slice(bins, func(i, j int) bool { return bins[i] < bins[j] })
		// drop repeats (rows out of time order)
		out := bins[:0]
		for i, b := range bins {
			if i == 0 || b != bins[i-1] {
				out = append(out, b)
			}
		}
		w.ids[k] = out
	}
	return w, nil
}

// dcounts is, per window, the number of distinct ids seen in the span of
// span windows ending with it.
func (w *idWindows) dcounts(span int64) []int64 {
	diff := make([]int64, w.n+1)
	for _, k := range w.order {
		covered := int64(math.MinInt64)
		for _, b := range w.ids[k] {
			lo, hi := max(b, 0, covered+1), min(b+span-1, w.n-1)
			if lo <= hi {
				diff[lo]++
				diff[hi+1]--
				covered = hi
			}
		}
	}
	out := make([]int64, w.n)
	var d int64
	for i := range out {
		d += diff[i]
		out[i] = d
	}
	return out
}

// counts is, per window, the number of records in the span of span
// windows ending with it.
func (w *idWindows) counts(span int64) []int64 {
	out := make([]int64, w.n)
	var c int64
	for i := w.low; i < w.n; i++ {
		c += w.count[i-w.low]
		if j := i - span; j >= w.low {
			c -= w.count[j-w.low]
		}
		if i >= 0 {
			out[i] = c
		}
	}
	return out
}

// windowArgs reads "IdColumn, TimelineColumn, Start, End, Step" (Start and
// End optional when optional is set: the first and last timeline values
// then bound the analysis) and the dimensions after what follows Step
// (extra more length arguments).
type windowArgs struct {
	*usageArgs
	id          int
	start, end  int64
	fromData    bool // Start and End come from the data
	lengths     []int64
	dims        []int
	step        int64
	cal         string // a calendar step: "week", "month" or "year"
	lengthNames []string
}

func readWindowArgs(sc *scope, in *planTable, o *RawOp, call *Call, optional bool, usage string, lengths ...string) (*windowArgs, error) {
	a, err := newUsageArgs(sc, in, o, call, 2+len(lengths), usage)
	if err != nil {
		return nil, err
	}
	w := &windowArgs{usageArgs: a, lengthNames: lengths}
	if w.id, err = a.column(0, "id column", false); err != nil {
		return nil, err
	}
	if err := a.timeline(1, "timeline column"); err != nil {
		return nil, err
	}
	i := 2
	// Start and End are there when the third argument is a point of the
	// timeline (a datetime for a datetime timeline) or not optional
	hasRange := !optional
	if optional && len(call.Args) >= 4+len(lengths) {
		if v, err := a.constant(2, "start"); err == nil && v.ok && v.T == in.cols[a.tl].Type && v.T != TypeTimeSpan {
			hasRange = true
		}
	}
	if hasRange {
		if len(call.Args) < 4+len(lengths) {
			return nil, errAt(o, "%s needs at least %d arguments: %s", call.Name, 4+len(lengths), usage)
		}
		if w.start, err = a.point(2, "start"); err != nil {
			return nil, err
		}
		if w.end, err = a.point(3, "end"); err != nil {
			return nil, err
		}
		i = 4
	} else {
		w.fromData = true
	}
	for j, name := range lengths {
		if j == 0 && len(lengths) == 1 {
			cal, isCal, err := a.calendarStep(i)
			if err != nil {
				return nil, err
			}
			if isCal {
				w.cal = cal
				w.lengths = append(w.lengths, 0)
				i++
				continue
			}
		}
		v, err := a.length(i, name)
		if err != nil {
			return nil, err
		}
		w.lengths = append(w.lengths, v)
		i++
	}
	w.step = w.lengths[0]
	if w.dims, err = a.dims(i); err != nil {
		return nil, err
	}
	return w, nil
}

// bounds gives the analysis start and the number of windows, taking them
// from the data when the call gave no Start and End.
func (w *windowArgs) bounds(q *qctx, o Node, rows []Row) (int64, int64, error) {
	start, end := w.start, w.end
	if w.fromData {
		first := true
		for _, r := range rows {
			t := r[w.tl]
			if t.IsNull() {
				continue
			}
			if first || t.i < start {
				start = t.i
			}
			if first || t.i > end {
				end = t.i
			}
			first = false
		}
		if first {
			return 0, 0, nil
		}
	}
	n, err := w.windowCount(q, o, start, end)
	return start, n, err
}

// perGroup builds the plugin's operator: it bounds the analysis, splits
// the rows by the dimensions and reads each group's windows (from lowest
// on), handing them to each, which appends its rows to out.
func (w *windowArgs) perGroup(in *planTable, o Node, cols []Column, lowest int64, what string,
	each func(q *qctx, g *usageGroup, iw *idWindows, start int64, out []Row) ([]Row, error)) *planTable {
	return blocking(in, cols, func(q *qctx, rows []Row) ([]Row, error) {
		start, n, err := w.bounds(q, o, rows)
		if err != nil {
			return nil, err
		}
		groups, err := groupByDims(q, rows, w.dims, what)
		if err != nil {
			return nil, err
		}
		var out []Row
		for _, g := range groups {
			iw, err := readWindows(q, g.rows, w.id, w.tl, func(t int64) int64 { return w.index(start, t) }, n, lowest, what)
			if err != nil {
				return nil, err
			}
			if out, err = each(q, g, iw, start, out); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
}

// withDims appends the dimension columns to cols (the plugins whose
// schema puts them last).
func (w *windowArgs) withDims(cols []Column) []Column {
	for _, d := range w.dims {
		cols = append(cols, Column{Name: uniqueName(cols, w.in.cols[d].Name), Type: w.in.cols[d].Type})
	}
	return cols
}

// compileActivityCountsMetrics plans "evaluate
// activity_counts_metrics(IdColumn, TimelineColumn, Start, End, Step,
// dim...)": per window (aligned on Start) with records and per combination
// of the dimensions, the records (count), the distinct ids (dcount), the
// ids not seen in any earlier window (new_dcount) and the distinct ids
// from the first window on (aggregated_dcount).
func compileActivityCountsMetrics(sc *scope, in *planTable, o *RawOp, call *Call) (*planTable, error) {
	w, err := readWindowArgs(sc, in, o, call, false, "IdColumn, TimelineColumn, Start, End, Step", "step")
	if err != nil {
		return nil, err
	}
	const what = "activity_counts_metrics plugin"
	cols := w.outCols(w.dims, Column{Name: "count", Type: TypeLong}, Column{Name: "dcount", Type: TypeLong},
		Column{Name: "new_dcount", Type: TypeLong}, Column{Name: "aggregated_dcount", Type: TypeLong})
	return w.perGroup(in, o, cols, 0, what, func(q *qctx, g *usageGroup, iw *idWindows, start int64, out []Row) ([]Row, error) {
		dc := iw.dcounts(1)
		fresh := make([]int64, iw.n)
		for _, k := range iw.order {
			fresh[iw.ids[k][0]]++
		}
		var agg int64
		for b := int64(0); b < iw.n; b++ {
			agg += fresh[b]
			if iw.count[b] == 0 {
				continue
			}
			r := make(Row, 0, len(cols))
			r = append(append(r, w.at(start, b)), g.dims...)
			r = append(r, Long(iw.count[b]), Long(dc[b]), Long(fresh[b]), Long(agg))
			out = q.keep(out, r, what)
		}
		return out, nil
	}), nil
}

// compileActivityMetrics plans "evaluate activity_metrics(IdColumn,
// TimelineColumn, [Start, End,] Step, dim...)": per window with records
// and per combination of the dimensions, the distinct ids
// (dcount_values), those not seen in the previous window
// (dcount_newvalues), and the share of the previous window's ids seen
// again (retention_rate) or not (churn_rate = 1 - retention_rate); both
// are NaN when the previous window has no ids.
func compileActivityMetrics(sc *scope, in *planTable, o *RawOp, call *Call) (*planTable, error) {
	w, err := readWindowArgs(sc, in, o, call, true, "IdColumn, TimelineColumn, [Start, End,] Step", "step")
	if err != nil {
		return nil, err
	}
	const what = "activity_metrics plugin"
	cols := w.withDims([]Column{in.cols[w.tl], {Name: "dcount_values", Type: TypeLong}, {Name: "dcount_newvalues", Type: TypeLong},
		{Name: "retention_rate", Type: TypeReal}, {Name: "churn_rate", Type: TypeReal}})
	return w.perGroup(in, o, cols, 0, what, func(q *qctx, g *usageGroup, iw *idWindows, start int64, out []Row) ([]Row, error) {
		dc := iw.dcounts(1)
		returning := make([]int64, iw.n)
		for _, k := range iw.order {
			bins := iw.ids[k]
			for i := 1; i < len(bins); i++ {
				if bins[i] == bins[i-1]+1 {
					returning[bins[i]]++
				}
			}
		}
		for b := int64(0); b < iw.n; b++ {
			if iw.count[b] == 0 {
				continue
			}
			retention := math.NaN()
			if b > 0 && dc[b-1] > 0 {
				retention = float64(returning[b]) / float64(dc[b-1])
			}
			r := Row{w.at(start, b), Long(dc[b]), Long(dc[b] - returning[b]), Real(retention), Real(1 - retention)}
			out = q.keep(out, append(r, g.dims...), what)
		}
		return out, nil
	}), nil
}

// compileActivityEngagement plans "evaluate activity_engagement(IdColumn,
// TimelineColumn, [Start, End,] InnerActivityWindow, OuterActivityWindow,
// dim...)": per inner window (aligned on Start) and combination of the
// dimensions, the distinct ids in the inner window, those in the outer
// window ending with it (OuterActivityWindow / InnerActivityWindow inner
// windows, rounded down; ids before Start count), and their ratio. Inner
// windows whose outer window has no id are left out.
func compileActivityEngagement(sc *scope, in *planTable, o *RawOp, call *Call) (*planTable, error) {
	w, err := readWindowArgs(sc, in, o, call, true, "IdColumn, TimelineColumn, [Start, End,] InnerActivityWindow, OuterActivityWindow",
		"inner activity window", "outer activity window")
	if err != nil {
		return nil, err
	}
	span := w.lengths[1] / w.lengths[0]
	if span < 1 {
		return nil, errAt(o, "activity_engagement's outer activity window must be at least its inner window")
	}
	const what = "activity_engagement plugin"
	cols := w.withDims([]Column{in.cols[w.tl], {Name: "dcount_activities_inner", Type: TypeLong},
		{Name: "dcount_activities_outer", Type: TypeLong}, {Name: "activity_ratio", Type: TypeReal}})
	return w.perGroup(in, o, cols, 1-span, what, func(q *qctx, g *usageGroup, iw *idWindows, start int64, out []Row) ([]Row, error) {
		inner, outer := iw.dcounts(1), iw.dcounts(span)
		for b := int64(0); b < iw.n; b++ {
			if outer[b] == 0 {
				continue
			}
			r := Row{w.at(start, b), Long(inner[b]), Long(outer[b]), Real(float64(inner[b]) / float64(outer[b]))}
			out = q.keep(out, append(r, g.dims...), what)
		}
		return out, nil
	}), nil
}
