package kql

import "math"

// compileBasket plans "evaluate basket([Threshold, WeightColumn,
// MaxDimensions, CustomWildcard, ...])": the frequent patterns of the
// input, those whose rows weigh at least Threshold of the whole. A pattern
// fixes the value of one or more columns (at most MaxDimensions); it is
// left out when a pattern with one more column matches the same rows
// (the documented example shows only such closed patterns: Damage=NO
// implies DamageCrops=0 there, and "NO" alone is missing). The search is
// exact, not sampled. Rows come by Count descending.
func compileBasket(sc *scope, in *planTable, at Node, call *Call) (*planTable, error) {
	a := &pluginArgs{sc: sc, in: in, at: at, name: "basket", args: call.Args}
	thr, err := a.number(0, "threshold", 0.05, 0.015, 1)
	if err != nil {
		return nil, err
	}
	wc, err := a.weightColumn(1, false)
	if err != nil {
		return nil, err
	}
	maxDim, err := a.integer(2, "MaxDimensions", 5, 1, math.MaxInt32)
	if err != nil {
		return nil, err
	}
	dims, wild, err := a.dimensions(3, wc)
	if err != nil {
		return nil, err
	}
	countT, realW := countType(in, wc)
	lead := countColumns(countT)
	cols := patternColumns(in, lead, dims)
	return blocking(in, cols, func(q *qctx, rows []Row) ([]Row, error) {
		d := encodePatterns(q, rows, dims, wc)
		if d.total <= 0 {
			return nil, nil
		}
		minW := thr * d.total
		var frequent []int32
		for it, w := range d.weight {
			if w >= minW {
				frequent = append(frequent, int32(it))
			}
		}
		var found []pattern
		var weights []float64
		tmp := d.newBits()
		d.mineItemsets(frequent, maxDim, func(_ []uint64, w float64) bool { return w >= minW },
			func(p pattern, b []uint64, w float64) {
				if len(p) < maxDim {
					for _, it := range frequent {
						if !p.hasDim(d, d.items[it].dim) && d.and(tmp, b, d.itemBits(it)) == w {
							return // a longer pattern has the same rows
						}
					}
				}
				q.gov.mustGrow("basket plugin", 32+4*int64(len(p)))
				found = append(found, append(pattern(nil), p...))
				weights = append(weights, w)
			})
		order := sortPatterns(found, func(i int) float64 { return weights[i] })
		out := make([]Row, 0, len(order))
		for seg, i := range order {
			r := make(Row, len(cols))
			r[0] = Long(int64(seg))
			r[1] = countValue(weights[i], realW)
			r[2] = Real(roundTo(100*weights[i]/d.total, 1))
			d.patternCells(in, r[3:], found[i], wild)
			out = q.keep(out, r, "basket plugin")
		}
		return out, nil
	}), nil
}

// hasDim reports whether p fixes dimension dim.
func (p pattern) hasDim(d *patData, dim int) bool {
	for _, it := range p {
		if d.items[it].dim == dim {
			return true
		}
	}
	return false
}
