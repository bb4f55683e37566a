package kql

import (
	"math"
	"sort"
)

// compileAutocluster plans "evaluate autocluster([SizeWeight,
// WeightColumn, NumSeeds, CustomWildcard, ...])", a seed-and-expand
// search for a few patterns that together describe the input. Kusto
// documents the idea, not the algorithm; ours is deterministic:
//
//   - a pattern's score is the weighted geometric mean the documentation
//     names: coverage^SizeWeight × (fixed columns / columns)^(1-SizeWeight),
//     coverage being the share of the input's weight the pattern matches;
//   - the seeds are the NumSeeds most frequent distinct rows (by weight,
//     then first appearance), each taken as the pattern fixing all of its
//     non-empty values;
//   - from each seed the search repeatedly frees the column whose removal
//     raises the score most, until no removal raises it;
//   - the patterns reached are taken by score, best first, leaving out one
//     that holds, or is held by, a pattern already taken.
//
// Rows come by score; Percent is rounded to one decimal, as in the
// documented output.
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
	seeds, err := a.number(2, "NumSeeds", 25, 1, 10_000)
	if err != nil {
		return nil, err
	}
	if seeds != math.Trunc(seeds) {
		return nil, errAt(call.Args[2], "autocluster's NumSeeds must be an integer")
	}
	wild, err := a.wildcards(3)
	if err != nil {
		return nil, err
	}
	dims := dimensionColumns(in, wc)
	if len(dims) == 0 {
		return nil, errAt(at, "autocluster needs a column besides the weight")
	}
	lead := []Column{{Name: "SegmentId", Type: TypeLong}, {Name: "Count", Type: TypeLong}, {Name: "Percent", Type: TypeReal}}
	cols := patternColumns(in, lead, dims)
	return blocking(in, cols, func(q *qctx, rows []Row) ([]Row, error) {
		d := encodePatterns(q, rows, dims, wc)
		if d.total <= 0 {
			return nil, nil
		}
		nd := len(dims)
		// the distinct rows, by weight
		type tuple struct {
			first int
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
				t = &tuple{first: i}
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
		if len(tuples) > int(seeds) {
			tuples = tuples[:int(seeds)]
		}
		// scores of patterns met during the search
		type scored struct {
			w, score float64
		}
		memo := map[string]scored{}
		buf := d.newBits()
		eval := func(p pattern) scored {
			k := p.key()
			if s, ok := memo[k]; ok {
				return s
			}
			w := d.total
			if len(p) > 0 {
				copy(buf, d.itemBits(p[0]))
				w = d.and(buf, buf, buf)
				for _, it := range p[1:] {
					w = d.and(buf, buf, d.itemBits(it))
				}
			}
			s := scored{w: w, score: math.Pow(w/d.total, sizeWeight) * math.Pow(float64(len(p))/float64(nd), 1-sizeWeight)}
			q.gov.mustGrow("autocluster plugin", 64+int64(len(k)))
			memo[k] = s
			return s
		}
		var found []pattern
		seen := map[string]bool{}
		for _, t := range tuples {
			var p pattern
			for j := 0; j < nd; j++ {
				if c := d.code(t.first, j); c >= 0 {
					p = append(p, c)
				}
			}
			sort.Slice(p, func(i, j int) bool { return p[i] < p[j] })
			cur := eval(p)
			for len(p) > 1 {
				best, bestAt := cur, -1
				for i := range p {
					cand := append(append(pattern(nil), p[:i]...), p[i+1:]...)
					if s := eval(cand); s.score > best.score {
						best, bestAt = s, i
					}
				}
				if bestAt < 0 {
					break
				}
				p = append(append(pattern(nil), p[:bestAt]...), p[bestAt+1:]...)
				cur = best
			}
			if !seen[p.key()] {
				seen[p.key()] = true
				found = append(found, p)
			}
		}
		var taken []pattern
		var out []Row
	next:
		for _, i := range sortPatterns(found, func(i int) float64 { return eval(found[i]).score }) {
			p := found[i]
			for _, t := range taken {
				if t.related(p) {
					continue next
				}
			}
			taken = append(taken, p)
			s := eval(p)
			r := make(Row, len(cols))
			r[0] = Long(int64(len(out)))
			r[1] = Long(int64(math.Round(s.w)))
			r[2] = Real(roundTo(100*s.w/d.total, 1))
			d.patternCells(in, r[3:], p, wild)
			out = q.keep(out, r, "autocluster plugin")
		}
		return out, nil
	}), nil
}
