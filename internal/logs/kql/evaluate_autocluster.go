package kql

import (
	"math"
	"sort"
)

// autoclusterMinShare is the least share of the input's weight a pattern
// must add to the rows already described to be reported.
const autoclusterMinShare = 0.05

// compileAutocluster plans "evaluate autocluster([SizeWeight,
// WeightColumn, NumSeeds, CustomWildcard, ...])", a seed-and-expand
// search for a few patterns that together describe the input. Kusto
// documents the idea, not the algorithm; ours is deterministic. It runs in
// rounds over the rows no reported pattern matches yet:
//
//   - a pattern's score is the weighted geometric mean the documentation
//     names: coverage^SizeWeight × (fixed columns / columns)^(1-SizeWeight),
//     coverage being the share of the input's weight the pattern matches
//     among the rows left;
//   - the seeds are the NumSeeds most frequent distinct rows left (by
//     weight, then first appearance), each taken as the pattern fixing all
//     of its non-empty values;
//   - from each seed the search repeatedly frees the column whose removal
//     raises the score most, until no removal raises it;
//   - the best pattern reached is reported (Count and Percent over the
//     whole input, so patterns can overlap) and its rows are left out of
//     the next rounds, which end when the best pattern matches less than
//     5% of the input's weight among the rows left.
//
// Percent is rounded to one decimal, as in the documented output.
func compileAutocluster(sc *scope, in *planTable, at Node, call *Call) (*planTable, error) {
	a := &pluginArgs{sc: sc, in: in, at: at, name: "autocluster", args: call.Args}
	sizeWeight, err := a.number(0, "SizeWeight", 0.5, 0, 1)
	if err != nil {
		return nil, err
	}
	wc, err := a.weightColumn(1, true)
	if err != nil {
		return nil, err
	}
	seeds, err := a.integer(2, "NumSeeds", 25, 1, 10_000)
	if err != nil {
		return nil, err
	}
	dims, wild, err := a.dimensions(3, wc)
	if err != nil {
		return nil, err
	}
	lead := countColumns(TypeLong)
	cols := patternColumns(in, lead, dims)
	return blocking(in, cols, func(q *qctx, rows []Row) ([]Row, error) {
		d := encodePatterns(q, rows, dims, wc)
		if d.total <= 0 {
			return nil, nil
		}
		nd := len(dims)
		// the distinct rows, by weight
		type tuple struct {
			items pattern
			w     float64
		}
		index := map[string]*tuple{}
		var tuples []*tuple
		key := make([]byte, 4*nd)
		for i := 0; i < d.n; i++ {
			empty := true
			for j := 0; j < nd; j++ {
				c := d.code(i, j)
				empty = empty && c < 0
				key[4*j], key[4*j+1], key[4*j+2], key[4*j+3] = byte(c), byte(c>>8), byte(c>>16), byte(c>>24)
			}
			if empty {
				continue
			}
			t := index[string(key)]
			if t == nil {
				q.gov.mustGrow("autocluster plugin", 64+int64(len(key)))
				t = &tuple{}
				for j := 0; j < nd; j++ {
					if c := d.code(i, j); c >= 0 {
						t.items = append(t.items, c)
					}
				}
				sort.Slice(t.items, func(a, b int) bool { return t.items[a] < t.items[b] })
				index[string(key)] = t
				tuples = append(tuples, t)
			}
			if d.w != nil {
				t.w += d.w[i]
			} else {
				t.w++
			}
		}
		sort.SliceStable(tuples, func(i, j int) bool { return tuples[i].w > tuples[j].w })
		// Each round searches from the seeds the rows not covered yet, takes
		// the best pattern and marks its rows covered; the rounds end when
		// the best pattern covers less than autoclusterMinShare of the
		// input's weight among the rows left.
		remaining := d.allBits()
		covered := make([]bool, len(tuples))
		buf := d.newBits()
		full := d.newBits()
		weigh := func(p pattern, dst []uint64) float64 {
			copy(dst, d.itemBits(p[0]))
			w := d.weight[p[0]]
			for _, it := range p[1:] {
				w = d.and(dst, dst, d.itemBits(it))
			}
			return w
		}
		var out []Row
		for round := 0; ; round++ {
			memo := map[string]float64{}
			score := func(p pattern) float64 {
				k := p.key()
				if s, ok := memo[k]; ok {
					return s
				}
				weigh(p, buf)
				w := d.and(buf, buf, remaining)
				s := math.Pow(w/d.total, sizeWeight) * math.Pow(float64(len(p))/float64(nd), 1-sizeWeight)
				if w == 0 {
					s = 0
				}
				q.gov.mustGrow("autocluster plugin", 64+int64(len(k)))
				memo[k] = s
				return s
			}
			var best pattern
			bestScore := 0.0
			seeded := 0
			for ti, t := range tuples {
				if covered[ti] || seeded == seeds {
					continue
				}
				seeded++
				p := t.items
				cur := score(p)
				for len(p) > 1 {
					next, nextScore := pattern(nil), cur
					for i := range p {
						cand := append(append(pattern(nil), p[:i]...), p[i+1:]...)
						if s := score(cand); s > nextScore {
							next, nextScore = cand, s
						}
					}
					if next == nil {
						break
					}
					p, cur = next, nextScore
				}
				if cur > bestScore {
					best, bestScore = p, cur
				}
			}
			if best == nil {
				break
			}
			weigh(best, buf)
			if d.and(buf, buf, remaining) < autoclusterMinShare*d.total {
				break
			}
			for i := range remaining {
				remaining[i] &^= buf[i]
			}
			for ti, t := range tuples {
				covered[ti] = covered[ti] || t.items.contains(best)
			}
			w := weigh(best, full)
			r := make(Row, len(cols))
			r[0] = Long(int64(round))
			r[1] = Long(int64(math.Round(w)))
			r[2] = Real(roundTo(100*w/d.total, 1))
			d.patternCells(in, r[3:], best, wild)
			out = q.keep(out, r, "autocluster plugin")
		}
		return out, nil
	}), nil
}
