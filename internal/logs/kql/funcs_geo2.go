package kql

import (
	"math"
	"strings"

	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
)

// Cell neighbors, nearest points, centroids and positions along a line.
// They read shapes with funcs_geo.go's readers, so a shape is valid or
// null under the same rules everywhere.

// geoCellNeighbors is a cell's neighbors at its level, edge and corner
// ones, each once, in S2's order.
func geoCellNeighbors(id s2.CellID) []any {
	var ns []s2.CellID
	if id.Level() == 0 {
		e := id.EdgeNeighbors()
		ns = e[:]
	} else {
		ns = id.AllNeighbors(id.Level())
	}
	out := make([]any, 0, len(ns))
	seen := map[s2.CellID]bool{id: true}
	for _, n := range ns {
		if !seen[n] {
			seen[n] = true
			out = append(out, n.ToToken())
		}
	}
	return out
}

// geohashNeighborSteps are the eight directions as (longitude, latitude)
// steps in cell widths, north first, then clockwise. The reference's
// example lists the same eight cells in an order no direction or sort
// explains, so the order is ours.
var geohashNeighborSteps = [8][2]float64{{0, 1}, {1, 1}, {1, 0}, {1, -1}, {0, -1}, {-1, -1}, {-1, 0}, {-1, 1}}

// geohashNeighbors encodes the centers of the cells around h at its
// precision. Across the antimeridian longitudes wrap; beyond a pole there
// is no cell, so a cell on the pole's edge has fewer neighbors.
func geohashNeighbors(h string) ([]any, bool) {
	w, s, e, n, ok := geohashBox(h)
	if !ok {
		return nil, false
	}
	lng, lat := (w+e)/2, (s+n)/2
	out := make([]any, 0, 8)
	seen := map[string]bool{h: true}
	for _, st := range geohashNeighborSteps {
		y := lat + st[1]*(n-s)
		if y <= -90 || y >= 90 {
			continue
		}
		x := lng + st[0]*(e-w)
		if x >= 180 {
			x -= 360
		} else if x < -180 {
			x += 360
		}
		nb := geohashEncode(x, y, len(h))
		if !seen[nb] {
			seen[nb] = true
			out = append(out, nb)
		}
	}
	return out, true
}

// geoSingleLine reads a LineString, or a MultiLineString of one line: the
// functions that walk along a line take no more than one.
func geoSingleLine(v Value) (geoLine, bool) {
	lines, ok := geoLines(v)
	if !ok || len(lines) != 1 {
		return nil, false
	}
	return lines[0], true
}

// geoRawLines is lines with their GeoJSON positions.
type geoRawLines struct {
	lines []geoLine
	raw   [][]any
}

func geoLinesWithRaw(v Value) (geoRawLines, bool) {
	lines, ok := geoLines(v)
	if !ok {
		return geoRawLines{}, false
	}
	raw, _ := geoParts(v, "LineString", "MultiLineString")
	return geoRawLines{lines, raw}, true
}

// geoClosestOnLines is the point of the lines nearest to x.
func geoClosestOnLines(x s2.Point, lines []geoLine) s2.Point {
	best, bestD := s2.Point{}, s1.Angle(math.Inf(1))
	for _, line := range lines {
		for i := 1; i < len(line); i++ {
			p := s2.Project(x, line[i-1], line[i])
			if d := x.Distance(p); d < bestD {
				best, bestD = p, d
			}
		}
	}
	return best
}

// geoClosestOnPolygons is the point of the polygons nearest to x: x itself
// when a polygon holds it, else the nearest point of their boundaries.
func geoClosestOnPolygons(x s2.Point, polys []*s2.Polygon) (s2.Point, bool) {
	best, bestD := s2.Point{}, s1.Angle(math.Inf(1))
	for _, p := range polys {
		if p.ContainsPoint(x) {
			return x, true
		}
		for _, l := range p.Loops() {
			for i := 0; i < l.NumEdges(); i++ {
				e := l.Edge(i)
				q := s2.Project(x, e.V0, e.V1)
				if d := x.Distance(q); d < bestD {
					best, bestD = q, d
				}
			}
		}
	}
	return best, false
}

// geoLinesOverlap reports whether two of the lines run along a common
// stretch (edges on one great circle whose spans overlap): their union is
// then shorter than their sum. Crossing or touching lines do not overlap.
// An index of the lines finds, for each edge, the other lines' edges that
// touch it, so the check does not compare every pair of edges.
func geoLinesOverlap(lines []geoLine) bool {
	if len(lines) < 2 {
		return false
	}
	index := s2.NewShapeIndex()
	for k := range lines {
		pl := s2.Polyline(lines[k])
		index.Add(&pl)
	}
	opts := s2.NewClosestEdgeQueryOptions().DistanceLimit(s1.ChordAngleFromAngle(1e-12).Successor())
	q := s2.NewClosestEdgeQuery(index, opts)
	for k, l := range lines {
		for a := 1; a < len(l); a++ {
			for _, r := range q.FindEdges(s2.NewMinDistanceToEdgeTarget(s2.Edge{V0: l[a-1], V1: l[a]})) {
				if int(r.ShapeID()) == k || r.EdgeID() < 0 {
					continue
				}
				o := lines[r.ShapeID()]
				if geoEdgesOverlap(l[a-1], l[a], o[r.EdgeID()], o[r.EdgeID()+1]) {
					return true
				}
			}
		}
	}
	return false
}

// geoEdgesOverlap: edges ab and cd lie on one great circle and share more
// than a point.
func geoEdgesOverlap(a, b, c, d s2.Point) bool {
	const eps = 1e-12
	n := a.PointCross(b).Normalize()
	if math.Abs(n.Dot(c.Vector)) > eps || math.Abs(n.Dot(d.Vector)) > eps {
		return false
	}
	// c or d strictly inside ab, or ab inside cd, or the same edge
	inside := func(x, p, q s2.Point) bool {
		return x.Distance(p) > eps && x.Distance(q) > eps &&
			math.Abs((p.Distance(x)+x.Distance(q)-p.Distance(q)).Radians()) < eps
	}
	same := a.Distance(c) < eps && b.Distance(d) < eps || a.Distance(d) < eps && b.Distance(c) < eps
	return same || inside(c, a, b) || inside(d, a, b) || inside(a, c, d) || inside(b, c, d)
}

// geoLineCentroid is the centroid of the lines' union (their length-weighted
// edge centroids), or false for lines of no length.
func geoLineCentroid(lines []geoLine) (s2.Point, bool) {
	var sum s2.Point
	for _, l := range lines {
		for i := 1; i < len(l); i++ {
			sum = s2.Point{Vector: sum.Add(s2.EdgeTrueCentroid(l[i-1], l[i]).Vector)}
		}
	}
	if sum.Norm() == 0 {
		return s2.Point{}, false
	}
	return s2.Point{Vector: sum.Normalize()}, true
}

// geoPolygonsCentroid is the centroid of polygons that do not overlap, or
// false when they have no area.
func geoPolygonsCentroid(polys []*s2.Polygon) (s2.Point, bool) {
	var sum s2.Point
	for _, p := range polys {
		sum = s2.Point{Vector: sum.Add(p.Centroid().Vector)}
	}
	if sum.Norm() == 0 {
		return s2.Point{}, false
	}
	return s2.Point{Vector: sum.Normalize()}, true
}

func geoPointOf(p s2.Point) Value { return geoPointValue(s2.LatLngFromPoint(p)) }

// geoNoSpheroid accepts a use_spheroid argument at position i only when it
// is the constant false (the sphere, the default) and drops it.
func geoNoSpheroid(call *Call, args []cexpr, i int) ([]cexpr, error) {
	if len(args) <= i {
		return args, nil
	}
	v, ok := constArg(args[i])
	if !ok || concreteType(v.T) != TypeBool {
		return nil, errAt(call, "%s: use_spheroid must be a constant bool", call.Name)
	}
	if v.AsBool() {
		return nil, errAt(call, "%s: use_spheroid=true (the WGS-84 spheroid) is not supported; omit it to measure on the sphere", call.Name)
	}
	return args[:i], nil
}

func init() {
	// geo_s2cell_neighbors(s2cell)
	register(fixed(1, 1, ret(TypeDynamic), func(_ Type, v []Value) Value {
		id, ok := s2CellArg(v[0])
		if !ok {
			return Null(TypeDynamic)
		}
		return Dynamic(geoCellNeighbors(id))
	}), "geo_s2cell_neighbors")

	// geo_geohash_neighbors(geohash)
	register(fixed(1, 1, ret(TypeDynamic), func(_ Type, v []Value) Value {
		s := scalarOf(v[0])
		if s.T != TypeString || strings.ToLower(s.s) != s.s {
			return Null(TypeDynamic)
		}
		ns, ok := geohashNeighbors(s.s)
		if !ok {
			return Null(TypeDynamic)
		}
		return Dynamic(ns)
	}), "geo_geohash_neighbors")

	governedFuncs["geo_line_centroid"] = geoUnionFunc(readLineUnion, TypeDynamic, func(u geoLineUnion) Value {
		if c, ok := geoLineCentroid(u.lines); ok {
			return geoPointOf(c)
		}
		return Null(TypeDynamic)
	})
	governedFuncs["geo_polygon_centroid"] = geoUnionFunc(readPolyUnion, TypeDynamic, func(u geoPolyUnion) Value {
		if c, ok := geoPolygonsCentroid(u.polys); ok {
			return geoPointOf(c)
		}
		return Null(TypeDynamic)
	})

	// geo_line_interpolate_point(lineString, fraction)
	register(func(call *Call, args []cexpr) (cexpr, error) {
		if err := geoCheck(call, args, 2, 2, 0); err != nil {
			return cexpr{}, err
		}
		var cache shapeCache[geoLine]
		return evalN(TypeDynamic, args, func(_ Type, v []Value) Value {
			line, ok := cache.get(v[0], geoSingleLine)
			f, ok2 := geoNum(v[1])
			if !ok || !ok2 || f < 0 || f > 1 {
				return Null(TypeDynamic)
			}
			p, _ := (*s2.Polyline)(&line).Interpolate(f)
			return geoPointOf(p)
		}), nil
	}, "geo_line_interpolate_point")

	// geo_line_locate_point(lineString, longitude, latitude[, use_spheroid])
	register(func(call *Call, args []cexpr) (cexpr, error) {
		if err := geoArity(call, args, 3, 4); err != nil {
			return cexpr{}, err
		}
		args, err := geoNoSpheroid(call, args, 3)
		if err != nil {
			return cexpr{}, err
		}
		if err := geoArgsOK(call, args, 0); err != nil {
			return cexpr{}, err
		}
		var cache shapeCache[geoLine]
		return evalN(TypeReal, args, func(_ Type, v []Value) Value {
			line, ok := cache.get(v[0], geoSingleLine)
			ll, ok2 := geoLatLng(v[1], v[2])
			if !ok || !ok2 {
				return Null(TypeReal)
			}
			pl := (*s2.Polyline)(&line)
			if pl.Length() == 0 {
				return Real(0)
			}
			p, next := pl.Project(s2.PointFromLatLng(ll))
			return Real(pl.Uninterpolate(p, next))
		}), nil
	}, "geo_line_locate_point")

	// a closest point that is a vertex is returned as the input gives it
	register(geoPointShapeFunc(geoLinesWithRaw, TypeDynamic, func(x s2.Point, _ s2.LatLng, l geoRawLines) Value {
		p := geoClosestOnLines(x, l.lines)
		for i, line := range l.lines {
			for k, q := range line {
				if q == p {
					return geoShapeValueAny("Point", l.raw[i][k])
				}
			}
		}
		return geoPointOf(p)
	}), "geo_closest_point_on_line")
	// a point inside is its own closest point, returned as given (not a
	// round trip through S2), at distance 0
	register(geoPointShapeFunc(geoPolygons, TypeDynamic, func(x s2.Point, ll s2.LatLng, polys []*s2.Polygon) Value {
		if p, in := geoClosestOnPolygons(x, polys); !in {
			return geoPointOf(p)
		}
		return geoPointValue(ll)
	}), "geo_closest_point_on_polygon")
	register(geoPointShapeFunc(geoPolygons, TypeReal, func(x s2.Point, _ s2.LatLng, polys []*s2.Polygon) Value {
		if p, in := geoClosestOnPolygons(x, polys); !in {
			return Real(x.Distance(p).Radians() * earthRadiusMeters)
		}
		return Real(0)
	}), "geo_distance_point_to_polygon")
}

// geoPointShapeFunc builds a function of (longitude, latitude, shape): f
// sees the point and the shape when both are valid; otherwise null.
func geoPointShapeFunc[T any](read func(Value) (T, bool), t Type, f func(x s2.Point, ll s2.LatLng, shape T) Value) fnImpl {
	return func(call *Call, args []cexpr) (cexpr, error) {
		if err := geoCheck(call, args, 3, 3, 2); err != nil {
			return cexpr{}, err
		}
		var cache shapeCache[T]
		return evalN(t, args, func(_ Type, v []Value) Value {
			ll, ok := geoLatLng(v[0], v[1])
			shape, ok2 := cache.get(v[2], read)
			if !ok || !ok2 {
				return Null(t)
			}
			return f(s2.PointFromLatLng(ll), ll, shape)
		}), nil
	}
}
