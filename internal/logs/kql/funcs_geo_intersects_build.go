package kql

import (
	"cmp"
	"slices"

	"github.com/golang/geo/s2"
)

// The intersections of two lines and of a line with a polygon, as GeoJSON.
// Both walk the first line edge by edge, in its direction: its pieces that
// lie on the other shape become lines, the places where it only touches or
// crosses become points. Vertices are returned as S2 holds them (the
// reference's outputs show the same round trip through S2's points, e.g.
// 40.8005702 printed as 40.800570199999996).

// geoPieceBuilder builds the line pieces of a result: extend adds a vertex
// to the piece being built, flush ends it (a piece has at least two).
type geoPieceBuilder struct {
	r   *geoResult
	cur []s2.Point
}

func (b *geoPieceBuilder) extend(p s2.Point) {
	if n := len(b.cur); n > 0 && b.cur[n-1] == p {
		return
	}
	b.r.count()
	b.cur = append(b.cur, p)
}

func (b *geoPieceBuilder) flush() {
	if len(b.cur) >= 2 {
		b.r.pieces = append(b.r.pieces, b.cur)
	}
	b.cur = nil
}

// geoIntersect2Lines is where the lines meet the indexed lines: the
// stretches they share and the points where they cross or touch.
func geoIntersect2Lines(lines []geoLine, ix *geoEdgeIndex, r *geoResult) {
	for _, line := range lines {
		b := geoPieceBuilder{r: r}
		for i := 1; i < len(line); i++ {
			f := newGeoFrame(line[i-1], line[i])
			var spans, pts []geoMeet
			ix.near(f.a, f.b, func(e s2.Edge) bool {
				if m := geoEdgeMeet(f, e.V0, e.V1); m.overlap {
					spans = append(spans, m)
				} else if m.ok {
					pts = append(pts, m)
				}
				return true
			})
			slices.SortStableFunc(pts, func(x, y geoMeet) int { return cmp.Compare(x.lo, y.lo) })
			for _, m := range pts {
				r.addPoint(m.p0)
			}
			if f.l == 0 {
				continue // a repeated vertex: no stretch, and no break in one
			}
			spans = geoMergeSpans(spans)
			if len(spans) == 0 || spans[0].lo > geoTouch {
				b.flush()
			}
			for _, s := range spans {
				if s.lo > geoTouch {
					b.flush()
				}
				b.extend(s.p0)
				b.extend(s.p1)
				if s.hi < f.l-geoTouch {
					b.flush()
				}
			}
		}
		b.flush()
	}
}

// geoMergeSpans sorts stretches along one edge and joins those that
// overlap or touch.
func geoMergeSpans(spans []geoMeet) []geoMeet {
	slices.SortStableFunc(spans, func(x, y geoMeet) int { return cmp.Compare(x.lo, y.lo) })
	out := spans[:0]
	for _, s := range spans {
		if n := len(out); n > 0 && s.lo <= out[n-1].hi+geoTouch {
			if s.hi > out[n-1].hi {
				out[n-1].hi, out[n-1].p1 = s.hi, s.p1
			}
			continue
		}
		out = append(out, s)
	}
	return out
}

// geoNode is a place along a line: an input vertex or a point where the
// line meets a polygon's boundary (onB).
type geoNode struct {
	p      s2.Point
	vertex bool
	onB    bool
}

// geoClipLines is the part of the lines inside the polygons, boundary
// included: each edge is cut where it meets the boundary; each stretch
// between cuts is in or out as a whole (along the boundary, or by whether
// its middle is inside, or, past a vertex off the boundary, as the stretch
// before it).
func geoClipLines(lines []geoLine, p geoPolysIx, r *geoResult) {
	for _, line := range lines {
		nodes := []geoNode{{p: line[0], vertex: true}}
		var in []bool
		for i := 1; i < len(line); i++ {
			f := newGeoFrame(line[i-1], line[i])
			if f.l == 0 {
				continue
			}
			var cuts, spans []geoMeet
			p.ix.near(f.a, f.b, func(e s2.Edge) bool {
				if m := geoEdgeMeet(f, e.V0, e.V1); m.ok {
					cuts = append(cuts, m)
					if m.overlap {
						spans = append(spans, m)
						cuts = append(cuts, geoMeet{ok: true, lo: m.hi, hi: m.hi, p0: m.p1, p1: m.p1})
					}
				}
				return true
			})
			slices.SortStableFunc(cuts, func(x, y geoMeet) int { return cmp.Compare(x.lo, y.lo) })
			last, bOnB := 0.0, false
			for _, c := range cuts {
				switch {
				case c.lo <= last+geoTouch: // at the node before: a, or the same cut again
					nodes[len(nodes)-1].onB = true
				case c.lo >= f.l-geoTouch:
					bOnB = true
				default:
					in = append(in, geoStretchIn(f, last, c.lo, spans, nodes[len(nodes)-1], in, p))
					nodes = append(nodes, geoNode{p: c.p0, onB: true})
					last = c.lo
				}
			}
			in = append(in, geoStretchIn(f, last, f.l, spans, nodes[len(nodes)-1], in, p))
			nodes = append(nodes, geoNode{p: f.b, vertex: true, onB: bOnB})
		}
		geoEmitClip(nodes, in, p, r)
	}
}

// geoStretchIn reports whether the stretch of f from t0 to t1, which
// starts at node from after the stretches in, is inside the polygons.
func geoStretchIn(f geoFrame, t0, t1 float64, spans []geoMeet, from geoNode, in []bool, p geoPolysIx) bool {
	mid := (t0 + t1) / 2
	for _, s := range spans {
		if s.lo <= mid && mid <= s.hi {
			return true
		}
	}
	if !from.onB && len(in) > 0 {
		return in[len(in)-1]
	}
	return p.contains(f.at(mid))
}

// geoEmitClip turns a line's nodes and the in/out state of the stretches
// between them into pieces and points. A cut inside a piece is not a
// vertex of it (it lies on the piece's edge); a boundary node with no
// inside stretch on either side is a point where the line touches.
func geoEmitClip(nodes []geoNode, in []bool, p geoPolysIx, r *geoResult) {
	if len(in) == 0 { // every edge of the line has no length: a point
		if p.ix.meetsAny(nodes[0].p, nodes[0].p) || p.contains(nodes[0].p) {
			r.addPoint(nodes[0].p)
		}
		return
	}
	b := geoPieceBuilder{r: r}
	for k, n := range nodes {
		before := k > 0 && in[k-1]
		after := k < len(in) && in[k]
		switch {
		case before && after:
			if n.vertex {
				b.extend(n.p)
			}
		case before:
			b.extend(n.p)
			b.flush()
		case after:
			b.extend(n.p)
		case n.onB:
			r.addPoint(n.p)
		}
	}
	b.flush()
}

// geoIntersectionFunc builds an intersection function of two shapes.
func geoIntersectionFunc[A, B any](readA func(Value) (A, bool), readB func(Value) (B, bool), build func(a A, b B, r *geoResult)) func(g *governor) fnImpl {
	return func(g *governor) fnImpl {
		return geoTwoShapes(readA, readB, TypeDynamic, func(call *Call, a A, b B) Value {
			r := &geoResult{g: g, what: call.Name + " function"}
			build(a, b, r)
			if r.finish() {
				panic(errAt(call, "%s: the first shape runs along itself, and the union of its overlapping parts is not supported", call.Name))
			}
			return r.value()
		})
	}
}

func init() {
	governedFuncs["geo_intersection_2lines"] = geoIntersectionFunc(readLinesIx, readLinesIx, func(a, b geoLinesIx, r *geoResult) {
		geoIntersect2Lines(a.lines, b.ix, r)
	})
	governedFuncs["geo_intersection_line_with_polygon"] = geoIntersectionFunc(readLinesIx, readPolysIx, func(l geoLinesIx, p geoPolysIx, r *geoResult) {
		geoClipLines(l.lines, p, r)
	})
}
