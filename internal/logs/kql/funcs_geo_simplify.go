package kql

import (
	"math"

	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
)

// geo_line_simplify and geo_polygon_simplify. The pages promise no two
// vertices closer than the tolerance and nearly straight chains replaced
// by one edge; Steward gets there in two steps. First every vertex, in
// input order, becomes a site unless a site is already within the
// tolerance, in which case it moves to the nearest such site (so vertices
// shared by two parts move together). Then each chain of sites keeps the
// fewest vertices that stay within the tolerance of it (S2's
// SubsampleVertices). A line left with one vertex, or a ring with fewer
// than three, disappears. Output vertices are input positions as given.

// geoSimplifyMaxTolerance is 70°, the largest snap radius S2 allows: the
// line page's "~7,800,000 meters".
const geoSimplifyMaxTolerance = 70 * math.Pi / 180

// geoVertex is an input position: its point and its GeoJSON value.
type geoVertex struct {
	p   s2.Point
	raw any
}

// geoSnapper picks the sites. Sites live in cells no narrower than the
// tolerance, so a site within the tolerance of a point is in the point's
// cell or one touching it.
type geoSnapper struct {
	tol   s1.Angle
	level int
	sites map[s2.CellID][]int
	all   []geoVertex
	g     *governor
	what  string
}

func newGeoSnapper(tol s1.Angle, g *governor, what string) *geoSnapper {
	return &geoSnapper{tol: tol, level: s2.MinWidthMetric.MaxLevel(tol.Radians()), sites: map[s2.CellID][]int{}, g: g, what: what}
}

// snap returns the site index v moves to.
func (s *geoSnapper) snap(v geoVertex) int {
	if s.tol > 0 {
		cell := s2.CellIDFromLatLng(s2.LatLngFromPoint(v.p)).Parent(s.level)
		best, bestD := -1, s.tol
		look := func(c s2.CellID) {
			for _, i := range s.sites[c] {
				if d := s.all[i].p.Distance(v.p); d < bestD {
					best, bestD = i, d
				}
			}
		}
		look(cell)
		if s.level == 0 {
			for _, n := range cell.EdgeNeighbors() {
				look(n)
			}
			for f := 0; f < 6; f++ {
				look(s2.CellIDFromFace(f))
			}
		} else {
			for _, n := range cell.AllNeighbors(s.level) {
				look(n)
			}
		}
		if best >= 0 {
			return best
		}
		s.sites[cell] = append(s.sites[cell], len(s.all))
	}
	s.g.alloc(s.what, 64)
	s.all = append(s.all, v)
	return len(s.all) - 1
}

// chain snaps a chain's vertices and simplifies it; closed chains (rings)
// are given without their repeated last position. The result holds site
// indexes with no two consecutive equal, or nil when it collapsed.
func (s *geoSnapper) chain(idx []int, closed bool) []int {
	var out []int
	for _, i := range idx {
		if len(out) == 0 || out[len(out)-1] != i {
			out = append(out, i)
		}
	}
	if closed {
		for len(out) > 1 && out[len(out)-1] == out[0] {
			out = out[:len(out)-1]
		}
		if len(out) < 3 {
			return nil
		}
		out = append(out, out[0])
	} else if len(out) < 2 {
		return nil
	}
	pl := make(s2.Polyline, len(out))
	for k, i := range out {
		pl[k] = s.all[i].p
	}
	keep := pl.SubsampleVertices(s.tol)
	res := make([]int, len(keep))
	for k, j := range keep {
		res[k] = out[j]
	}
	if closed && len(res) < 4 || !closed && len(res) < 2 {
		return nil
	}
	return res
}

func (s *geoSnapper) positions(idx []int) []any {
	out := make([]any, len(idx))
	for k, i := range idx {
		out[k] = s.all[i].raw
	}
	return out
}

// geoRawVertices reads a chain of positions with their points.
func geoRawVertices(x any) ([]geoVertex, bool) {
	a, ok := x.([]any)
	if !ok {
		return nil, false
	}
	out := make([]geoVertex, len(a))
	for i, c := range a {
		p, ok := geoCoord(c)
		if !ok {
			return nil, false
		}
		out[i] = geoVertex{p: p, raw: c}
	}
	return out, true
}

// geoSimplifyTolerance reads the tolerance in meters, 10 by default.
func geoSimplifyTolerance(v []Value, min, max float64) (s1.Angle, bool) {
	if len(v) < 2 {
		return s1.Angle(10 / earthRadiusMeters), true
	}
	t, ok := geoNum(v[1])
	if !ok || t < min || t > max {
		return 0, false
	}
	return s1.Angle(t / earthRadiusMeters), true
}

func init() {
	// geo_line_simplify(lineString[, tolerance])
	governedFuncs["geo_line_simplify"] = func(g *governor) fnImpl {
		return func(call *Call, args []cexpr) (cexpr, error) {
			if err := geoCheck(call, args, 1, 2, 0); err != nil {
				return cexpr{}, err
			}
			var cache shapeCache[geoLineUnion]
			return evalN(TypeDynamic, args, func(_ Type, v []Value) Value {
				tol, ok := geoSimplifyTolerance(v, 0, geoSimplifyMaxTolerance*earthRadiusMeters)
				u, valid := cache.get(v[0], readLineUnion)
				if !ok || !valid {
					return Null(TypeDynamic)
				}
				shape := v[0]
				if u.overlap {
					res := geoUnionLines(call, u.lines, g)
					res.deg = geoInputDegrees(v[0], nil)
					shape = Dynamic(geoOneOrMulti("LineString", res.lineCoords()))
				}
				typ, coords, _ := geoShape(shape)
				if typ == "LineString" {
					coords = []any{coords}
				}
				s := newGeoSnapper(tol, g, "geo_line_simplify function")
				chains := make([][]int, len(coords))
				for k, c := range coords {
					vs, _ := geoRawVertices(c)
					for _, x := range vs {
						chains[k] = append(chains[k], s.snap(x))
					}
				}
				var out []any
				for _, c := range chains {
					if r := s.chain(c, false); r != nil {
						out = append(out, s.positions(r))
					}
				}
				if len(out) == 0 {
					return Null(TypeDynamic)
				}
				return Dynamic(geoOneOrMulti("LineString", out))
			}), nil
		}
	}

	// geo_polygon_simplify(polygon[, tolerance])
	governedFuncs["geo_polygon_simplify"] = func(g *governor) fnImpl {
		return func(call *Call, args []cexpr) (cexpr, error) {
			if err := geoCheck(call, args, 1, 2, 0); err != nil {
				return cexpr{}, err
			}
			var cache shapeCache[geoPolyUnion]
			return evalN(TypeDynamic, args, func(_ Type, v []Value) Value {
				tol, ok := geoSimplifyTolerance(v, 0.1, 10000)
				u, valid := cache.get(v[0], readPolyUnion)
				if !ok || !valid {
					return Null(TypeDynamic)
				}
				shape := v[0]
				if u.overlap {
					res := geoUnionPolys(call, u.polys, g)
					if res == nil {
						return Null(TypeDynamic)
					}
					res.deg = geoInputDegrees(v[0], nil)
					shape = Dynamic(geoOneOrMulti("Polygon", res.polygonCoords()))
				}
				return geoSimplifyPolygons(shape, tol, g, "geo_polygon_simplify function")
			}), nil
		}
	}
}

// geoSimplifyPolygons simplifies a valid Polygon or MultiPolygon whose
// parts do not overlap; null when nothing is left or the result is not a
// valid polygon.
func geoSimplifyPolygons(shape Value, tol s1.Angle, g *governor, what string) Value {
	raw, _ := geoParts(shape, "Polygon", "MultiPolygon")
	s := newGeoSnapper(tol, g, what)
	snapped := make([][][]int, len(raw))
	for k, rings := range raw {
		for _, r := range rings {
			vs, _ := geoRawVertices(r)
			idx := make([]int, len(vs)-1) // the closing position repeats the first
			for i := range idx {
				idx[i] = s.snap(vs[i])
			}
			snapped[k] = append(snapped[k], idx)
		}
	}
	var out []any
	for _, rings := range snapped {
		shell := s.chain(rings[0], true)
		if shell == nil {
			continue // the polygon disappears, holes with it
		}
		poly := []any{s.positions(shell)}
		for _, h := range rings[1:] {
			if r := s.chain(h, true); r != nil {
				poly = append(poly, s.positions(r))
			}
		}
		out = append(out, poly)
	}
	if len(out) == 0 {
		return Null(TypeDynamic)
	}
	res := Dynamic(geoOneOrMulti("Polygon", out))
	// moving vertices can make rings cross: that is not a polygon
	if _, ok := geoPolygons(res); !ok {
		return Null(TypeDynamic)
	}
	return res
}

func init() {
	// geo_simplify_polygons_array(polygons[, tolerance]): the union of the
	// polygons, simplified as geo_polygon_simplify does, with the line
	// function's tolerance range
	governedFuncs["geo_simplify_polygons_array"] = func(g *governor) fnImpl {
		return func(call *Call, args []cexpr) (cexpr, error) {
			if err := geoCheck(call, args, 1, 2, 0); err != nil {
				return cexpr{}, err
			}
			return evalN(TypeDynamic, args, func(_ Type, v []Value) Value {
				tol, ok := geoSimplifyTolerance(v, 0, geoSimplifyMaxTolerance*earthRadiusMeters)
				shapes, ok2 := geoArrayOf(v[0], geoPolygonsOne)
				if !ok || !ok2 || len(shapes) == 0 {
					return Null(TypeDynamic)
				}
				res := geoUnionArray(call, shapes, g)
				if res == nil || len(res.polys) == 0 {
					return Null(TypeDynamic)
				}
				res.deg = geoInputDegrees(v[0], nil)
				return geoSimplifyPolygons(Dynamic(geoOneOrMulti("Polygon", res.polygonCoords())), tol, g, call.Name+" function")
			}), nil
		}
	}
}
