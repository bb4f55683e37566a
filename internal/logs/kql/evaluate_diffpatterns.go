package kql

import "math"

// compileDiffPatterns plans "evaluate diffpatterns(SplitColumn,
// SplitValueA, SplitValueB [, WeightColumn, Threshold, MaxDimensions,
// CustomWildcard, ...])". Rows whose split column reads (as a string)
// SplitValueA form set A, SplitValueB set B, other rows are left out. A
// pattern fixes the value of one or more of the other columns; it is a
// candidate when its share of A and its share of B differ by at least
// Threshold. Candidates are taken by that difference, largest first, and
// one is dropped when it holds, or is held by, a pattern already taken
// (so the documented example shows Hail with DamageCrops=0 and not Hail
// alone). PercentA, PercentB and PercentDiffAB are rounded to two
// decimals, the difference computed before rounding, as the documented
// output shows (13.44 - 7.91 printed as 5.52).
func compileDiffPatterns(sc *scope, in *planTable, at Node, call *Call) (*planTable, error) {
	a := &pluginArgs{sc: sc, in: in, at: at, name: "diffpatterns", args: call.Args}
	if len(call.Args) < 3 {
		return nil, errAt(at, "diffpatterns needs a split column and the two values that split it")
	}
	split, err := a.column(0, "split column", false)
	if err != nil {
		return nil, err
	}
	var splitVals [2]string
	for i := range splitVals {
		v, err := a.constant(1+i, "split value")
		if err != nil {
			return nil, err
		}
		if !v.ok {
			return nil, errAt(call.Args[1+i], "diffpatterns' split values cannot be null")
		}
		splitVals[i] = stringOf(v)
	}
	if splitVals[0] == splitVals[1] {
		return nil, errAt(call.Args[2], "diffpatterns needs two different split values, not '%s' twice", splitVals[0])
	}
	wc, err := a.weightColumn(3, false)
	if err != nil {
		return nil, err
	}
	thr, err := a.number(4, "threshold", 0.05, 0.015, 1)
	if err != nil {
		return nil, err
	}
	maxDim, err := a.integer(5, "MaxDimensions", math.MaxInt32, 1, math.MaxInt32)
	if err != nil {
		return nil, err
	}
	dims, wild, err := a.dimensions(6, split, wc)
	if err != nil {
		return nil, err
	}
	maxDim = min(maxDim, len(dims))
	countT, realW := countType(in, wc)
	lead := []Column{{Name: "SegmentId", Type: TypeLong}, {Name: "CountA", Type: countT}, {Name: "CountB", Type: countT},
		{Name: "PercentA", Type: TypeReal}, {Name: "PercentB", Type: TypeReal}, {Name: "PercentDiffAB", Type: TypeReal}}
	cols := patternColumns(in, lead, dims)
	splitName := in.cols[split].Name
	return blocking(in, cols, func(q *qctx, rows []Row) ([]Row, error) {
		var kept []Row
		var inA []bool
		for _, r := range rows {
			s := stringOf(r[split])
			if r[split].IsNull() {
				continue
			}
			if s == splitVals[0] || s == splitVals[1] {
				kept = append(kept, r)
				inA = append(inA, s == splitVals[0])
			}
		}
		d := encodePatterns(q, kept, dims, wc)
		maskA := d.newBits()
		totalA := 0.0
		for i, isA := range inA {
			if isA {
				maskA[i>>6] |= 1 << (uint(i) & 63)
				if d.w != nil {
					totalA += d.w[i]
				} else {
					totalA++
				}
			}
		}
		totalB := d.total - totalA
		for i, t := range []float64{totalA, totalB} {
			if t <= 0 {
				return nil, fmtErr("diffpatterns: no rows (or no weight) where %s is '%s'", splitName, splitVals[i])
			}
		}
		type cand struct {
			p      pattern
			wa, wb float64
			diff   float64
		}
		var cands []cand
		tmp := d.newBits()
		var wa float64
		keep := func(b []uint64, w float64) bool {
			wa = d.and(tmp, b, maskA)
			return wa >= thr*totalA || w-wa >= thr*totalB
		}
		// an item lighter than the threshold share of the smaller set
		// cannot pass keep: its rows get no bitset
		least := thr * min(totalA, totalB)
		var items []int32
		for it := range d.items {
			if d.weight[it] >= least && keep(d.itemBits(int32(it)), d.weight[it]) {
				items = append(items, int32(it))
			}
		}
		d.mineItemsets(items, maxDim, keep, func(p pattern, _ []uint64, w float64) {
			pa, pb := 100*wa/totalA, 100*(w-wa)/totalB
			if diff := math.Abs(pa - pb); diff >= 100*thr {
				q.gov.mustGrow("diffpatterns plugin", 64+4*int64(len(p)))
				cands = append(cands, cand{p: append(pattern(nil), p...), wa: wa, wb: w - wa, diff: diff})
			}
		})
		ps := make([]pattern, len(cands))
		for i, c := range cands {
			ps[i] = c.p
		}
		var taken []pattern
		var out []Row
	next:
		for _, i := range sortPatterns(ps, func(i int) float64 { return cands[i].diff }) {
			c := cands[i]
			for _, t := range taken {
				if t.related(c.p) {
					continue next
				}
			}
			taken = append(taken, c.p)
			r := make(Row, len(cols))
			r[0] = Long(int64(len(out)))
			r[1] = countValue(c.wa, realW)
			r[2] = countValue(c.wb, realW)
			r[3] = Real(roundTo(100*c.wa/totalA, 2))
			r[4] = Real(roundTo(100*c.wb/totalB, 2))
			r[5] = Real(roundTo(c.diff, 2))
			d.patternCells(in, r[6:], c.p, wild)
			out = q.keep(out, r, "diffpatterns plugin")
		}
		return out, nil
	}), nil
}
