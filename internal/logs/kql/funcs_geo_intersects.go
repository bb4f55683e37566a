package kql

import (
	"math"

	"github.com/golang/geo/r3"
	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
)

// Whether lines and polygons meet, and where. Everything here rests on one
// question, how two geodesic edges meet (geoEdgeMeet): not at all, at a
// point, or along a common stretch of one great circle. A shape's edges are
// indexed once (geoEdgeIndex) so that each edge of the other shape is only
// compared with the edges near it.
//
// Boundaries count: lines that only touch intersect, and a polygon holds
// its boundary, as geo_intersects_2polygons' and the intersection
// functions' pages say ("Polygon contains its vertices"). The page of
// geo_intersects_line_with_polygon says a polygon "doesn't necessarily"
// contain its vertices; the closed reading is kept there too, so that a
// line intersects a polygon exactly when their intersection is not empty.

// geoTouch is how close, in radians (about 64 nm on the Earth), two edges
// must come to meet. Intersection points that S2 computes are within about
// 2e-15 of the true ones; a point within geoTouch of an input vertex is
// that vertex.
const geoTouch = 1e-14

// geoFrame is an edge with what locating points along it needs.
type geoFrame struct {
	a, b s2.Point
	u    r3.Vector // the unit tangent at a, toward b
	n    r3.Vector // the unit normal of the edge's great circle
	l    float64   // the length in radians; 0 for a point
}

func newGeoFrame(a, b s2.Point) geoFrame {
	f := geoFrame{a: a, b: b, l: float64(a.Distance(b))}
	if f.l > 0 {
		f.n = a.PointCross(b).Normalize()
		f.u = f.n.Cross(a.Vector).Normalize()
	}
	return f
}

// param is the position along the great circle of a point on it, in
// radians from a toward b, in (-π, π].
func (f geoFrame) param(x s2.Point) float64 {
	return math.Atan2(x.Dot(f.u), x.Dot(f.a.Vector))
}

// at is the point at position t.
func (f geoFrame) at(t float64) s2.Point {
	return s2.Point{Vector: f.a.Mul(math.Cos(t)).Add(f.u.Mul(math.Sin(t))).Normalize()}
}

func (f geoFrame) clamp(t float64) float64 { return min(max(t, 0), f.l) }

// geoMeet is where an edge ab meets another: a point (lo == hi, p0) or a
// stretch from position lo to hi along ab (overlap, p0 to p1).
type geoMeet struct {
	ok, overlap bool
	lo, hi      float64
	p0, p1      s2.Point
}

// geoSnap returns the vertex among vs within geoTouch of p, or p.
func geoSnap(p s2.Point, vs ...s2.Point) s2.Point {
	for _, v := range vs {
		if p.Distance(v) <= geoTouch {
			return v
		}
	}
	return p
}

func (f geoFrame) pointMeet(p s2.Point) geoMeet {
	t := f.clamp(f.param(p))
	return geoMeet{ok: true, lo: t, hi: t, p0: p, p1: p}
}

// geoEdgeMeet is how edge f meets edge cd.
func geoEdgeMeet(f geoFrame, c, d s2.Point) geoMeet {
	near := func(x, p, q s2.Point) bool { return s2.DistanceFromSegment(x, p, q) <= geoTouch }
	if f.l == 0 {
		if near(f.a, c, d) {
			return geoMeet{ok: true, p0: f.a, p1: f.a}
		}
		return geoMeet{}
	}
	if c == d {
		if near(c, f.a, f.b) {
			return f.pointMeet(geoSnap(c, f.a, f.b))
		}
		return geoMeet{}
	}
	if math.Abs(f.n.Dot(c.Vector)) <= geoTouch && math.Abs(f.n.Dot(d.Vector)) <= geoTouch {
		return f.collinearMeet(c, d)
	}
	switch s2.CrossingSign(f.a, f.b, c, d) {
	case s2.Cross:
		return f.pointMeet(geoSnap(s2.Intersection(f.a, f.b, c, d), f.a, f.b, c, d))
	case s2.MaybeCross: // a shared vertex
		if f.a == c || f.a == d {
			return geoMeet{ok: true, p0: f.a, p1: f.a}
		}
		return geoMeet{ok: true, lo: f.l, hi: f.l, p0: f.b, p1: f.b}
	}
	// the edges do not cross; they touch when a vertex of one is on the other
	for _, x := range [2]s2.Point{c, d} {
		if near(x, f.a, f.b) {
			return f.pointMeet(geoSnap(x, f.a, f.b))
		}
	}
	if near(f.a, c, d) {
		return geoMeet{ok: true, p0: f.a, p1: f.a}
	}
	if near(f.b, c, d) {
		return geoMeet{ok: true, lo: f.l, hi: f.l, p0: f.b, p1: f.b}
	}
	return geoMeet{}
}

// collinearMeet is how f meets an edge cd on its great circle: cd's span,
// from c in cd's direction, is cut to f's [0, l], trying the spans one
// turn before and after too (positions are angles).
func (f geoFrame) collinearMeet(c, d s2.Point) geoMeet {
	tc := f.param(c)
	dir := 1.0
	if c.Cross(d.Vector).Dot(f.n) < 0 {
		dir = -1
	}
	te := tc + dir*float64(c.Distance(d))
	lo0, hi0 := min(tc, te), max(tc, te)
	for _, shift := range [3]float64{0, 2 * math.Pi, -2 * math.Pi} {
		lo, hi := max(0, lo0+shift), min(f.l, hi0+shift)
		if hi < lo-geoTouch {
			continue
		}
		if hi-lo <= geoTouch {
			t := f.clamp((lo + hi) / 2)
			p := geoSnap(f.at(t), f.a, f.b, c, d)
			return geoMeet{ok: true, lo: t, hi: t, p0: p, p1: p}
		}
		return geoMeet{ok: true, overlap: true, lo: lo, hi: hi,
			p0: geoSnap(f.at(lo), f.a, f.b, c, d), p1: geoSnap(f.at(hi), f.a, f.b, c, d)}
	}
	return geoMeet{}
}

// geoEdgeIndex finds, among the edges of some shapes, those that come
// within geoTouch of an edge. The index is built at the first query.
type geoEdgeIndex struct {
	index *s2.ShapeIndex
	query *s2.EdgeQuery
}

func newGeoEdgeIndex(shapes ...s2.Shape) *geoEdgeIndex {
	x := &geoEdgeIndex{index: s2.NewShapeIndex()}
	for _, s := range shapes {
		x.index.Add(s)
	}
	return x
}

// newGeoLinesIndex indexes the edges of lines.
func newGeoLinesIndex[L ~[]s2.Point](lines []L) *geoEdgeIndex {
	shapes := make([]s2.Shape, len(lines))
	for i := range lines {
		pl := s2.Polyline(lines[i])
		shapes[i] = &pl
	}
	return newGeoEdgeIndex(shapes...)
}

// near calls visit with each edge within geoTouch of ab until visit
// returns false; near reports whether it went through all of them.
func (x *geoEdgeIndex) near(a, b s2.Point, visit func(e s2.Edge) bool) bool {
	if x.query == nil {
		opts := s2.NewClosestEdgeQueryOptions().IncludeInteriors(false).
			DistanceLimit(s1.ChordAngleFromAngle(geoTouch).Successor())
		x.query = s2.NewClosestEdgeQuery(x.index, opts)
	}
	for _, r := range x.query.FindEdges(s2.NewMinDistanceToEdgeTarget(s2.Edge{V0: a, V1: b})) {
		if r.EdgeID() < 0 {
			continue
		}
		if !visit(x.index.Shape(r.ShapeID()).Edge(int(r.EdgeID()))) {
			return false
		}
	}
	return true
}

// meetsAny reports whether edge ab meets an indexed edge.
func (x *geoEdgeIndex) meetsAny(a, b s2.Point) bool {
	f := newGeoFrame(a, b)
	return !x.near(a, b, func(e s2.Edge) bool { return !geoEdgeMeet(f, e.V0, e.V1).ok })
}

// geoLinesIx and geoPolysIx are shapes read with their edge index, which a
// constant shape's cache then keeps.
type geoLinesIx struct {
	lines []geoLine
	ix    *geoEdgeIndex
}

type geoPolysIx struct {
	polys []*s2.Polygon
	ix    *geoEdgeIndex
}

func readLinesIx(v Value) (geoLinesIx, bool) {
	lines, ok := geoLines(v)
	if !ok {
		return geoLinesIx{}, false
	}
	return geoLinesIx{lines, newGeoLinesIndex(lines)}, true
}

func readPolysIx(v Value) (geoPolysIx, bool) {
	polys, ok := geoPolygons(v)
	if !ok {
		return geoPolysIx{}, false
	}
	shapes := make([]s2.Shape, len(polys))
	for i, p := range polys {
		shapes[i] = p
	}
	return geoPolysIx{polys, newGeoEdgeIndex(shapes...)}, true
}

// contains reports whether a polygon holds x (a point off every boundary).
func (p geoPolysIx) contains(x s2.Point) bool {
	for _, q := range p.polys {
		if q.ContainsPoint(x) {
			return true
		}
	}
	return false
}

// linesMeet reports whether an edge of the lines meets an indexed edge.
func linesMeet(lines []geoLine, ix *geoEdgeIndex) bool {
	for _, l := range lines {
		for i := 1; i < len(l); i++ {
			if ix.meetsAny(l[i-1], l[i]) {
				return true
			}
		}
	}
	return false
}

// polysMeet reports whether an edge of the polygons meets an indexed edge.
func polysMeet(polys []*s2.Polygon, ix *geoEdgeIndex) bool {
	for _, p := range polys {
		for i := 0; i < p.NumEdges(); i++ {
			if e := p.Edge(i); ix.meetsAny(e.V0, e.V1) {
				return true
			}
		}
	}
	return false
}

// geoLineHitsPolygon: the line meets the boundary or, not meeting it, lies
// inside (each line is then wholly in or out).
func geoLineHitsPolygon(l geoLinesIx, p geoPolysIx) bool {
	if linesMeet(l.lines, p.ix) {
		return true
	}
	for _, line := range l.lines {
		if p.contains(line[0]) {
			return true
		}
	}
	return false
}

// geoPolygonsHit: the boundaries meet or, not meeting, a ring of one lies
// inside the other (the boundary of the common part, if there is one, is
// made of such rings), so one vertex of each ring is tested.
func geoPolygonsHit(a, b geoPolysIx) bool {
	if polysMeet(a.polys, b.ix) {
		return true
	}
	ringIn := func(x, y geoPolysIx) bool {
		for _, p := range x.polys {
			for _, l := range p.Loops() {
				if y.contains(l.Vertex(0)) {
					return true
				}
			}
		}
		return false
	}
	return ringIn(a, b) || ringIn(b, a)
}

// geoTwoShapes builds a function of two shapes: f sees both when both are
// valid; otherwise the result is null.
func geoTwoShapes[A, B any](readA func(Value) (A, bool), readB func(Value) (B, bool), t Type, f func(call *Call, a A, b B) Value) fnImpl {
	return func(call *Call, args []cexpr) (cexpr, error) {
		if err := geoCheck(call, args, 2, 2, 0, 1); err != nil {
			return cexpr{}, err
		}
		var ca shapeCache[A]
		var cb shapeCache[B]
		return evalN(t, args, func(_ Type, v []Value) Value {
			a, ok1 := ca.get(v[0], readA)
			b, ok2 := cb.get(v[1], readB)
			if !ok1 || !ok2 {
				return Null(t)
			}
			return f(call, a, b)
		}), nil
	}
}

func init() {
	register(geoTwoShapes(readLinesIx, readLinesIx, TypeBool, func(_ *Call, a, b geoLinesIx) Value {
		return Bool(linesMeet(a.lines, b.ix))
	}), "geo_intersects_2lines")
	register(geoTwoShapes(readLinesIx, readPolysIx, TypeBool, func(_ *Call, l geoLinesIx, p geoPolysIx) Value {
		return Bool(geoLineHitsPolygon(l, p))
	}), "geo_intersects_line_with_polygon")
	register(geoTwoShapes(readPolysIx, readPolysIx, TypeBool, func(_ *Call, a, b geoPolysIx) Value {
		return Bool(geoPolygonsHit(a, b))
	}), "geo_intersects_2polygons")
}
