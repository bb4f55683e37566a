package kql

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// This file holds the usage-analytics plugins that count ids over a
// timeline: sliding_window_counts, active_users_count and
// rolling_percentile. They share their argument conventions (an id or
// value column, a timeline column, constants of the timeline's kind, then
// dimension columns) and their grouping by the dimensions.

// usageArgs reads a usage plugin's positional arguments.
type usageArgs struct {
	pluginArgs
	tl   int  // the timeline column
	date bool // the timeline is a datetime (else a timespan or a number)
}

func newUsageArgs(sc *scope, in *planTable, o *RawOp, call *Call, need int, usage string) (*usageArgs, error) {
	if len(call.Args) < need {
		return nil, errAt(o, "%s needs at least %d arguments: %s", call.Name, need, usage)
	}
	return &usageArgs{pluginArgs: pluginArgs{sc: sc, in: in, at: o, name: call.Name, args: call.Args}, tl: -1}, nil
}

// timeline reads argument i as the timeline column: a datetime, timespan
// or integer column.
func (a *usageArgs) timeline(i int, what string) error {
	ci, err := a.column(i, what, false)
	if err != nil {
		return err
	}
	switch t := a.in.cols[ci].Type; {
	case t == TypeDateTime:
		a.date = true
	case t == TypeTimeSpan || t == TypeInt || t == TypeLong:
	default:
		return errAt(a.args[i], "%s's %s must be a datetime, timespan or integer column, not %s", a.name, what, t)
	}
	a.tl = ci
	return nil
}

// point reads argument i as a point on the timeline (a datetime for a
// datetime timeline), in ticks or units.
func (a *usageArgs) point(i int, what string) (int64, error) {
	v, err := a.constant(i, what)
	if err != nil {
		return 0, err
	}
	want := a.in.cols[a.tl].Type
	if !v.ok || !(v.T == want || isIntegral(v.T) && isIntegral(want)) || v.T == TypeBool {
		return 0, errAt(a.args[i], "%s's %s must be a %s like its timeline", a.name, what, typeWord(want))
	}
	return v.i, nil
}

// length reads argument i as a positive length on the timeline (a
// timespan for a datetime or timespan timeline).
func (a *usageArgs) length(i int, what string) (int64, error) {
	v, err := a.constant(i, what)
	if err != nil {
		return 0, err
	}
	want := a.in.cols[a.tl].Type
	if want == TypeDateTime {
		want = TypeTimeSpan
	}
	if v.ok && v.T == TypeString {
		return 0, errAt(a.args[i], "%s's %s must be a timespan; calendar steps ('%s') are supported by activity_counts_metrics, activity_metrics and new_activity_metrics only", a.name, what, v.s)
	}
	if !v.ok || !(v.T == want || isIntegral(v.T) && isIntegral(want)) || v.T == TypeBool || v.i <= 0 {
		return 0, errAt(a.args[i], "%s's %s must be a positive %s", a.name, what, typeWord(want))
	}
	return v.i, nil
}

func typeWord(t Type) string {
	switch t {
	case TypeDateTime:
		return "datetime"
	case TypeTimeSpan:
		return "timespan"
	}
	return "integer"
}

// idTimeRange reads the leading "IdColumn, TimelineColumn, Start, End".
func (a *usageArgs) idTimeRange() (id int, start, end int64, err error) {
	if id, err = a.column(0, "id column", false); err != nil {
		return
	}
	if err = a.timeline(1, "timeline column"); err != nil {
		return
	}
	if start, err = a.point(2, "start"); err != nil {
		return
	}
	end, err = a.point(3, "end")
	return
}

// dims reads the arguments from i on as dimension columns.
func (a *usageArgs) dims(i int) ([]int, error) {
	var out []int
	for ; i < len(a.args); i++ {
		ci, err := a.column(i, "dimension", false)
		if err != nil {
			return nil, err
		}
		out = append(out, ci)
	}
	return out, nil
}

// outCols is the output schema: the timeline column, the dimensions, then
// the plugin's own columns.
func (a *usageArgs) outCols(dims []int, own ...Column) []Column {
	cols := []Column{a.in.cols[a.tl]}
	for _, d := range dims {
		cols = append(cols, Column{Name: uniqueName(cols, a.in.cols[d].Name), Type: a.in.cols[d].Type})
	}
	for _, c := range own {
		c.Name = uniqueName(cols, c.Name)
		cols = append(cols, c)
	}
	return cols
}

// usageGroup is the rows of one combination of dimension values.
type usageGroup struct {
	dims []Value
	rows []Row
}

// groupByDims splits rows by the dimension columns; groups come ordered
// by their values (ascending, nulls first), as the rolling_percentile
// example lists "Even" before "Odd" although an odd value comes first.
func groupByDims(q *qctx, rows []Row, dims []int, what string) ([]*usageGroup, error) {
	index := map[string]*usageGroup{}
	var groups []*usageGroup
	vals := make([]Value, len(dims))
	for _, r := range rows {
		if err := q.gov.tick(q.ctx); err != nil {
			return nil, err
		}
		for j, d := range dims {
			vals[j] = r[d]
		}
		k := keyOf(vals)
		g := index[k]
		if g == nil {
			g = &usageGroup{dims: append([]Value(nil), vals...)}
			index[k] = g
			groups = append(groups, g)
			if err := q.gov.grow(what, int64(len(k))+rowBytes(g.dims)+64); err != nil {
				return nil, err
			}
		}
		g.rows = append(g.rows, r)
		if err := q.gov.grow(what, 24); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(groups, func(i, j int) bool {
		for c := range dims {
			a, b := groups[i].dims[c], groups[j].dims[c]
			if a.IsNull() != b.IsNull() {
				return a.IsNull()
			}
			if n, ok := compareValues(a, b); ok && n != 0 {
				return n < 0
			}
		}
		return false
	})
	return groups, nil
}

// binCount is the number of bins of size bin from start to end, both
// included; over the governor's budget (or impossible) it is an error.
func binCount(q *qctx, at Node, name string, start, end, bin int64) (int64, error) {
	if end < start {
		return 0, errAt(at, "%s's end comes before its start", name)
	}
	n := (end-start)/bin + 1
	if n <= 0 || n > math.MaxInt32 {
		return 0, runaway(name+" plugin", q.gov.lim.MaxMemory)
	}
	if err := q.gov.grow(name+" plugin", n*16); err != nil {
		return 0, err
	}
	return n, nil
}

// compileSlidingWindowCounts plans "evaluate sliding_window_counts(IdColumn,
// TimelineColumn, Start, End, LookbackWindow, Bin, dim...)": for each bin
// from Start to End and each combination of the dimensions, the number of
// records (Count) and of distinct ids (Dcount) in the lookback window
// ending with that bin. Bins are aligned on Start; the window is the
// LookbackWindow/Bin bins (rounded down) ending with the bin itself;
// records before Start count in the windows that reach back to them.
func compileSlidingWindowCounts(sc *scope, in *planTable, o *RawOp, call *Call) (*planTable, error) {
	w, err := readWindowArgs(sc, in, o, call, false, "IdColumn, TimelineColumn, Start, End, LookbackWindow, Bin", "lookback window", "bin")
	if err != nil {
		return nil, err
	}
	lookback, bin := w.lengths[0], w.lengths[1]
	if lookback < bin {
		return nil, errAt(call.Args[4], "sliding_window_counts's lookback window must be at least one bin")
	}
	w.step = bin
	span := lookback / bin
	const what = "sliding_window_counts plugin"
	cols := w.outCols(w.dims, Column{Name: "Count", Type: TypeLong}, Column{Name: "Dcount", Type: TypeLong})
	return w.perGroup(in, o, cols, 1-span, what, func(q *qctx, g *usageGroup, iw *idWindows, start int64, out []Row) ([]Row, error) {
		count, dcount := iw.counts(span), iw.dcounts(span)
		for k := int64(0); k < iw.n; k++ {
			if count[k] != 0 {
				r := append(Row{w.at(start, k)}, g.dims...)
				out = q.keep(out, append(r, Long(count[k]), Long(dcount[k])), what)
			}
		}
		return out, nil
	}), nil
}

// compileActiveUsersCount plans "evaluate active_users_count(IdColumn,
// TimelineColumn, Start, End, LookbackWindow, Period, ActivePeriodsCount,
// Bin, dim...)": per bin (aligned on Start) and combination of the
// dimensions, the number of distinct ids with an active appearance in the
// bin. An appearance at t between Start and End is active when the id's
// appearances in (t - LookbackWindow, t] fall in at least
// ActivePeriodsCount distinct periods (bin(t, Period)); appearances before
// Start count in the lookback. Bins where no id is active are left out.
func compileActiveUsersCount(sc *scope, in *planTable, o *RawOp, call *Call) (*planTable, error) {
	a, err := newUsageArgs(sc, in, o, call, 8, "IdColumn, TimelineColumn, Start, End, LookbackWindow, Period, ActivePeriodsCount, Bin")
	if err != nil {
		return nil, err
	}
	id, start, end, err := a.idTimeRange()
	if err != nil {
		return nil, err
	}
	lookback, err := a.length(4, "lookback window")
	if err != nil {
		return nil, err
	}
	period, err := a.length(5, "period")
	if err != nil {
		return nil, err
	}
	active, err := a.integer(6, "active periods count", 1, 1, math.MaxInt32)
	if err != nil {
		return nil, err
	}
	bin, err := a.length(7, "bin")
	if err != nil {
		return nil, err
	}
	dims, err := a.dims(8)
	if err != nil {
		return nil, err
	}
	const what = "active_users_count plugin"
	cols := a.outCols(dims, Column{Name: "dcount", Type: TypeLong})
	tl, tlType := a.tl, in.cols[a.tl].Type
	return blocking(in, cols, func(q *qctx, rows []Row) ([]Row, error) {
		if end < start {
			return nil, errAt(o, "active_users_count's end comes before its start")
		}
		groups, err := groupIDTimes(q, rows, dims, id, tl, end, what)
		if err != nil {
			return nil, err
		}
		var out []Row
		for _, g := range groups {
			// per bin, the ids active in it
			bins := map[int64]int64{}
			for _, ts := range g.times {
				periods := map[int64]int{}
				lo := 0
				lastBin := int64(math.MinInt64)
				for _, t := range ts {
					if err := q.gov.tick(q.ctx); err != nil {
						return nil, err
					}
					periods[floorDiv(t, period)]++
					for ts[lo] <= t-lookback {
						p := floorDiv(ts[lo], period)
						if periods[p]--; periods[p] == 0 {
							delete(periods, p)
						}
						lo++
					}
					if t < start || len(periods) < active {
						continue
					}
					if b := floorDiv(t-start, bin); b != lastBin {
						bins[b]++
						lastBin = b
					}
				}
			}
			keys := make([]int64, 0, len(bins))
			for b := range bins {
				keys = append(keys, b)
			}
			sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
			for _, b := range keys {
				r := make(Row, 0, len(cols))
				r = append(r, Value{T: tlType, ok: true, i: start + b*bin})
				r = append(r, g.dims...)
				r = append(r, Long(bins[b]))
				out = q.keep(out, r, what)
			}
		}
		return out, nil
	}), nil
}

// compileRollingPercentile plans "evaluate rolling_percentile(ValueColumn,
// Percentile, IndexColumn, BinSize, BinsPerWindow, dim...)": per bin of
// the index (bin(Index, BinSize)) and combination of the dimensions, the
// nearest-rank percentile of the values in the window of BinsPerWindow
// bins ending with that bin. Bins from each group's first to its last,
// those whose window holds no value left out.
func compileRollingPercentile(sc *scope, in *planTable, o *RawOp, call *Call) (*planTable, error) {
	a, err := newUsageArgs(sc, in, o, call, 5, "ValueColumn, Percentile, IndexColumn, BinSize, BinsPerWindow")
	if err != nil {
		return nil, err
	}
	val, err := a.column(0, "value column", false)
	if err != nil {
		return nil, err
	}
	if !in.cols[val].Type.isNumeric() {
		return nil, errAt(a.args[0], "rolling_percentile's value column must be numeric, not %s", in.cols[val].Type)
	}
	pct, err := a.number(1, "percentile", 0, 0, 100)
	if err != nil {
		return nil, err
	}
	if err := a.timeline(2, "index column"); err != nil {
		return nil, err
	}
	size, err := a.length(3, "bin size")
	if err != nil {
		return nil, err
	}
	per, err := a.integer(4, "bins per window", 1, 1, math.MaxInt32)
	if err != nil {
		return nil, err
	}
	dims, err := a.dims(5)
	if err != nil {
		return nil, err
	}
	pctText := strings.ReplaceAll(fmt.Sprint(pct), ".", "_")
	name := fmt.Sprintf("rolling_%d_percentile_%s_%s", per, in.cols[val].Name, pctText)
	const what = "rolling_percentile plugin"
	valType := concreteType(in.cols[val].Type)
	cols := a.outCols(dims, Column{Name: name, Type: valType})
	tl, tlType := a.tl, in.cols[a.tl].Type
	return blocking(in, cols, func(q *qctx, rows []Row) ([]Row, error) {
		groups, err := groupByDims(q, rows, dims, what)
		if err != nil {
			return nil, err
		}
		var out []Row
		for _, g := range groups {
			byBin := map[int64][]float64{}
			for _, r := range g.rows {
				if err := q.gov.tick(q.ctx); err != nil {
					return nil, err
				}
				t, v := r[tl], r[val]
				if t.IsNull() || v.IsNull() {
					continue
				}
				f := v.AsReal()
				if isIntegral(v.T) {
					f = float64(v.i)
				}
				if math.IsNaN(f) {
					continue
				}
				b := floorDiv(t.i, size)
				byBin[b] = append(byBin[b], f)
				if err := q.gov.grow(what, 16); err != nil {
					return nil, err
				}
			}
			keys := make([]int64, 0, len(byBin))
			for b := range byBin {
				keys = append(keys, b)
			}
			sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
			if len(keys) == 0 {
				continue
			}
			first, last := keys[0], keys[len(keys)-1]
			if last-first > math.MaxInt32 {
				return nil, runaway(what, q.gov.lim.MaxMemory)
			}
			var window []float64
			lo, hi := 0, 0 // keys[lo:hi] are the bins in the window
			for b := first; b <= last; b++ {
				for hi < len(keys) && keys[hi] <= b {
					hi++
				}
				for keys[lo] <= b-int64(per) {
					lo++
				}
				window = window[:0]
				for _, k := range keys[lo:hi] {
					window = append(window, byBin[k]...)
				}
				if err := q.gov.tick(q.ctx); err != nil {
					return nil, err
				}
				if len(window) == 0 {
					continue
				}
				q.gov.alloc(what, int64(len(window))*8)
				sort.Float64s(window)
				p := nearestRank(window, pct)
				r := make(Row, 0, len(cols))
				r = append(r, Value{T: tlType, ok: true, i: b * size})
				r = append(r, g.dims...)
				r = append(r, castTo(Real(p), valType))
				out = q.keep(out, r, what)
			}
		}
		return out, nil
	}), nil
}
