package kql

import (
	"math"

	"github.com/golang/geo/s2"
)

// geo_line_buffer and geo_polygon_buffer: the points within a radius of a
// shape are the union of a disc around each vertex and a band along each
// edge (and, for a polygon, the polygon itself). Discs and bands become
// polygons that contain them and stray from them by no more than the
// tolerance, and the boolean engine unions them.

// geoBufferMaxRingVertices bounds the vertices of one disc: a tolerance
// that small against the radius is refused (null), as the pages refuse a
// tolerance under 0.0001% of the radius.
const geoBufferMaxRingVertices = 1 << 16

// geoBufferArgs reads the radius and the tolerance (meters, 10 by
// default) into radians under geo_point_buffer's rules
// (geoBufferRadians); a tolerance must also be positive.
func geoBufferArgs(v []Value) (r, tol float64, ok bool) {
	rm, ok := geoNum(v[1])
	if !ok {
		return 0, 0, false
	}
	tm := 10.0
	if len(v) > 2 {
		if tm, ok = geoNum(v[2]); !ok || tm <= 0 {
			return 0, 0, false
		}
	}
	return geoBufferRadians(rm, tm)
}

// geoDisc is a regular polygon around c whose edges touch the circle of
// radius r from outside, with as few vertices as keep its corners within
// tol of the circle; false when that needs too many.
func geoDisc(c s2.Point, r, tol float64) ([]s2.Point, bool) {
	// corners at ρ with tan ρ = tan r / cos(π/n): the edge midpoints are
	// at r exactly, the corners at ρ ≤ r + tol
	n := 3
	for ; n <= geoBufferMaxRingVertices; n += max(1, n/8) {
		if math.Atan(math.Tan(r)/math.Cos(math.Pi/float64(n)))-r <= tol {
			break
		}
	}
	if n > geoBufferMaxRingVertices {
		return nil, false
	}
	rho := math.Atan(math.Tan(r) / math.Cos(math.Pi/float64(n)))
	u := s2.Ortho(c).Vector
	w := c.Cross(u)
	out := make([]s2.Point, n)
	for i := range out {
		th := 2 * math.Pi * float64(i) / float64(n)
		dir := u.Mul(math.Cos(th)).Add(w.Mul(math.Sin(th)))
		out[i] = s2.Point{Vector: c.Mul(math.Cos(rho)).Add(dir.Mul(math.Sin(rho))).Normalize()}
	}
	return out, true
}

// geoBand is the polygon around the points within r of edge ab whose
// nearest point on the edge's great circle lies between a and b: two
// chains at distance r on either side (a chain at a constant distance from
// a great circle bulges away from it between its vertices, so the polygon
// contains the band; vertices are close enough to keep the bulge within
// tol) joined by the perpendiculars through a and b.
func geoBand(a, b s2.Point, r, tol float64) []s2.Point {
	l := a.Distance(b).Radians()
	n := a.Cross(b.Vector).Normalize()
	t := n.Cross(a.Vector)
	// a chord over an angle φ of the offset circle bulges to offset d with
	// tan(π/2-d) = cot(r)·cos(φ/2)
	k := 1
	for ; k < 1<<16; k *= 2 {
		phi := l / float64(k)
		if math.Pi/2-math.Atan(math.Cos(phi/2)/math.Tan(r))-r <= tol {
			break
		}
	}
	at := func(s, d float64) s2.Point {
		g := a.Mul(math.Cos(s)).Add(t.Mul(math.Sin(s)))
		return s2.Point{Vector: g.Mul(math.Cos(d)).Add(n.Mul(math.Sin(d))).Normalize()}
	}
	out := make([]s2.Point, 0, 2*k+2)
	for i := 0; i <= k; i++ {
		out = append(out, at(l*float64(i)/float64(k), -r))
	}
	for i := k; i >= 0; i-- {
		out = append(out, at(l*float64(i)/float64(k), r))
	}
	return out
}

// geoBufferParts builds the discs and bands around chains of points
// (closed ones for rings), each as a part of operand 0 with edge ids from
// next; false when a disc needs too many vertices.
func geoBufferParts(chains [][]s2.Point, closed bool, r, tol float64, g *governor, what string, next int) ([]bPart, bool) {
	var parts []bPart
	add := func(ring []s2.Point) {
		g.alloc(what, int64(len(ring))*48)
		var ids []int
		ids, next = geoEdgeIDs(len(ring), next)
		parts = append(parts, bPart{rings: [][]s2.Point{ring}, ids: [][]int{ids}})
	}
	for _, c := range chains {
		for i, p := range c {
			disc, ok := geoDisc(p, r, tol)
			if !ok {
				return nil, false
			}
			add(disc)
			j := i + 1
			if j == len(c) {
				if !closed {
					continue
				}
				j = 0
			}
			if q := c[j]; p.Distance(q).Radians() > 1e-15 {
				add(geoBand(p, q, r, tol))
			}
		}
	}
	return parts, true
}

// geoBufferValue unions the parts into the function's GeoJSON answer.
func geoBufferValue(call *Call, parts []bPart, g *governor) Value {
	res, err := overlayPolygons(parts, func(a, _ bool) bool { return a }, false, g, call.Name+" function")
	if err == errGeoBoolInvalid {
		return Null(TypeDynamic)
	}
	if err != nil {
		geoBoolFail(call, err)
	}
	if len(res.polys) == 0 {
		return Null(TypeDynamic)
	}
	return Dynamic(geoOneOrMulti("Polygon", res.polygonCoords()))
}

func init() {
	// geo_line_buffer(lineString, radius[, tolerance])
	governedFuncs["geo_line_buffer"] = func(g *governor) fnImpl {
		return func(call *Call, args []cexpr) (cexpr, error) {
			if err := geoCheck(call, args, 2, 3, 0); err != nil {
				return cexpr{}, err
			}
			var cache shapeCache[[]geoLine]
			return evalN(TypeDynamic, args, func(_ Type, v []Value) Value {
				lines, ok := cache.get(v[0], geoLines)
				r, tol, ok2 := geoBufferArgs(v)
				if !ok || !ok2 {
					return Null(TypeDynamic)
				}
				chains := make([][]s2.Point, len(lines))
				for i, l := range lines {
					chains[i] = l
				}
				parts, ok := geoBufferParts(chains, false, r, tol, g, call.Name+" function", 0)
				if !ok {
					return Null(TypeDynamic)
				}
				return geoBufferValue(call, parts, g)
			}), nil
		}
	}

	// geo_polygon_buffer(polygon, radius[, tolerance])
	governedFuncs["geo_polygon_buffer"] = func(g *governor) fnImpl {
		return func(call *Call, args []cexpr) (cexpr, error) {
			if err := geoCheck(call, args, 2, 3, 0); err != nil {
				return cexpr{}, err
			}
			var cache shapeCache[[]*s2.Polygon]
			return evalN(TypeDynamic, args, func(_ Type, v []Value) Value {
				polys, ok := cache.get(v[0], geoPolygons)
				r, tol, ok2 := geoBufferArgs(v)
				if !ok || !ok2 {
					return Null(TypeDynamic)
				}
				var rings [][]s2.Point
				for _, p := range polys {
					for _, l := range p.Loops() {
						rings = append(rings, l.Vertices())
					}
				}
				own, next := geoPolyParts(polys, 0, 0)
				parts, ok := geoBufferParts(rings, true, r, tol, g, call.Name+" function", next)
				if !ok {
					return Null(TypeDynamic)
				}
				return geoBufferValue(call, append(own, parts...), g)
			}), nil
		}
	}
}
