package kql

import (
	"math"
	"slices"

	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
)

// Lengths, areas and perimeters. Kusto measures a multi-shape as the union
// of its parts: parts that do not meet are summed, which is the union's
// measure; parts that meet (polygons touching included, whose shared
// border is then no perimeter) are replaced by their union, built by the
// boolean engine (geo_boolean.go).

// geoPolygonsApart reports whether no two polygons' bounding rectangles
// meet: then no two polygons overlap or touch. (S2's Intersects does not
// count polygons that only share a side, whose union still drops it from
// the perimeter.)
func geoPolygonsApart(polys []*s2.Polygon) bool {
	for i := range polys {
		for j := i + 1; j < len(polys); j++ {
			if geoRectsMeet(polys[i].RectBound(), polys[j].RectBound()) {
				return false
			}
		}
	}
	return true
}

// geoRectsMeet: the rectangles, grown by 1e-9 radians, intersect.
func geoRectsMeet(a, b s2.Rect) bool {
	const m = 1e-9
	a.Lat.Lo, a.Lat.Hi = a.Lat.Lo-m, a.Lat.Hi+m
	a.Lng = a.Lng.Expanded(m)
	return a.Intersects(b)
}

// geoPolygonArea is a polygon's area in steradians: each loop's area
// summed as a fan of triangles from the loop's mean point, holes
// subtracted. S2's Loop.Area sums from a vertex and loses about 1e-16 of
// the sphere (a square meter on the Earth); the fan keeps the error to
// the size of the loop (the pages' union area, 10889971.5343487 m²,
// comes out to 1e-6 m² this way and 1e-3 m² off with Loop.Area). A loop
// not within 80° of its mean point falls back to Loop.Area.
func geoPolygonArea(p *s2.Polygon) float64 {
	var sum float64
	for _, l := range p.Loops() {
		a := geoLoopArea(l)
		if l.IsHole() {
			a = -a
		}
		sum += a
	}
	return sum
}

func geoLoopArea(l *s2.Loop) float64 {
	var c s2.Point
	for _, v := range l.Vertices() {
		c = s2.Point{Vector: c.Add(v.Vector)}
	}
	if c.Norm() < 1e-9 {
		return l.Area()
	}
	c = s2.Point{Vector: c.Normalize()}
	minCos := math.Cos(geoBoolMaxSpread)
	var sum float64
	n := l.NumVertices()
	for i := 0; i < n; i++ {
		if l.Vertex(i).Dot(c.Vector) < minCos {
			return l.Area()
		}
		sum += s2.SignedArea(c, l.Vertex(i), l.Vertex(i+1))
	}
	return sum
}

// geoLineUnion and geoPolyUnion are a multi-shape read with its overlap
// check, which a constant shape's cache then holds too.
type geoLineUnion struct {
	lines   []geoLine
	overlap bool
}

type geoPolyUnion struct {
	polys   []*s2.Polygon
	overlap bool
}

func readLineUnion(v Value) (geoLineUnion, bool) {
	lines, ok := geoLines(v)
	if !ok {
		return geoLineUnion{}, false
	}
	return geoLineUnion{lines, geoLinesOverlap(lines)}, true
}

func readPolyUnion(v Value) (geoPolyUnion, bool) {
	polys, ok := geoPolygons(v)
	if !ok {
		return geoPolyUnion{}, false
	}
	return geoPolyUnion{polys, !geoPolygonsApart(polys)}, true
}

func (u geoLineUnion) overlaps() bool { return u.overlap }
func (u geoPolyUnion) overlaps() bool { return u.overlap }

// union replaces overlapping parts by their union (geo_boolean.go); false
// when the engine finds a part invalid.
func (u geoLineUnion) union(call *Call, g *governor) (geoLineUnion, bool) {
	res := geoUnionLines(call, u.lines, g)
	lines := make([]geoLine, len(res.lines))
	for i, l := range res.lines {
		lines[i] = make(geoLine, len(l))
		for k, v := range l {
			lines[i][k] = res.verts[v].sp
		}
	}
	return geoLineUnion{lines: lines}, true
}

func (u geoPolyUnion) union(call *Call, g *governor) (geoPolyUnion, bool) {
	res := geoUnionPolys(call, u.polys, g)
	if res == nil {
		return geoPolyUnion{}, false
	}
	return geoPolyUnion{polys: []*s2.Polygon{res.s2Polygon()}}, true
}

// geoUnioned reads a multi-shape and, when its parts overlap, replaces
// them by their union.
func geoUnioned[T interface {
	overlaps() bool
	union(*Call, *governor) (T, bool)
}](read func(Value) (T, bool), call *Call, g *governor) func(Value) (T, bool) {
	return func(v Value) (T, bool) {
		u, ok := read(v)
		if ok && u.overlaps() {
			return u.union(call, g)
		}
		return u, ok
	}
}

// geoUnionFunc builds a function of one multi-shape whose answer is the
// union's: f sees the shape with overlapping parts replaced by their
// union; an invalid shape is null.
func geoUnionFunc[T interface {
	overlaps() bool
	union(*Call, *governor) (T, bool)
}](read func(Value) (T, bool), t Type, f func(T) Value) func(*governor) fnImpl {
	return func(g *governor) fnImpl {
		return func(call *Call, args []cexpr) (cexpr, error) {
			if err := geoCheck(call, args, 1, 1, 0); err != nil {
				return cexpr{}, err
			}
			var cache shapeCache[T]
			readU := geoUnioned(read, call, g)
			return evalN(t, args, func(_ Type, v []Value) Value {
				u, ok := cache.get(v[0], readU)
				if !ok {
					return Null(t)
				}
				return f(u)
			}), nil
		}
	}
}

func init() {
	// lengths in meters, areas in square meters; a perimeter counts every
	// ring, holes included
	governedFuncs["geo_line_length"] = geoUnionFunc(readLineUnion, TypeReal, func(u geoLineUnion) Value {
		var sum float64
		for _, l := range u.lines {
			sum += (*s2.Polyline)(&l).Length().Radians()
		}
		return Real(sum * earthRadiusMeters)
	})
	governedFuncs["geo_polygon_area"] = geoUnionFunc(readPolyUnion, TypeReal, func(u geoPolyUnion) Value {
		var sum float64
		for _, p := range u.polys {
			sum += geoPolygonArea(p)
		}
		return Real(sum * earthRadiusMeters * earthRadiusMeters)
	})
	governedFuncs["geo_polygon_perimeter"] = geoUnionFunc(readPolyUnion, TypeReal, func(u geoPolyUnion) Value {
		return Real(geoPerimeter(u.polys) * earthRadiusMeters)
	})
}

// geoPerimeter is the length of every ring of the polygons, in radians.
func geoPerimeter(polys []*s2.Polygon) float64 {
	var sum float64
	for _, p := range polys {
		for _, l := range p.Loops() {
			for i := 0; i < l.NumEdges(); i++ {
				e := l.Edge(i)
				sum += e.V0.Distance(e.V1).Radians()
			}
		}
	}
	return sum
}

// geoLineCovering is the cells of one level that a line's points, or the
// points within radius (radians) of the line, fall in, in cell order; false
// beyond geoMaxCells cells. The line's length bounds the count from below
// before any cell is made; with a radius the covering grows from the
// line's own cells to their neighbors while those are near enough, each
// new cell counted against the governor.
func geoLineCovering(lines []geoLine, level int, radius float64, g *governor) ([]s2.CellID, bool) {
	var length float64
	for _, l := range lines {
		length += (*s2.Polyline)(&l).Length().Radians()
	}
	if length/s2.MaxDiagMetric.Value(level) > geoMaxCells ||
		math.Pi*radius*radius/s2.AvgAreaMetric.Value(level) > geoMaxCells {
		return nil, false
	}
	rc := &s2.RegionCoverer{MinLevel: level, MaxLevel: level, MaxCells: geoMaxCells}
	seen := map[s2.CellID]bool{}
	var cells []s2.CellID
	add := func(c s2.CellID) bool {
		seen[c] = true
		cells = append(cells, c)
		g.alloc("geo_line_to_s2cells function", 64)
		return len(cells) <= geoMaxCells
	}
	index := s2.NewShapeIndex()
	for _, l := range lines {
		pl := s2.Polyline(l)
		index.Add(&pl)
		for _, c := range rc.Covering(&pl) {
			if !seen[c] && !add(c) {
				return nil, false
			}
		}
	}
	if radius > 0 {
		q := s2.NewClosestEdgeQuery(index, s2.NewClosestEdgeQueryOptions())
		limit := s1.ChordAngleFromAngle(s1.Angle(radius)).Successor()
		for i := 0; i < len(cells); i++ {
			for _, n := range cells[i].AllNeighbors(level) {
				if seen[n] {
					continue
				}
				seen[n] = true
				if q.IsDistanceLess(s2.NewMinDistanceToCellTarget(s2.CellFromCellID(n)), limit) && !add(n) {
					return nil, false
				}
			}
		}
	}
	slices.Sort(cells)
	return cells, true
}

func init() {
	// geo_line_to_s2cells(lineString[, level[, radius]])
	governedFuncs["geo_line_to_s2cells"] = func(g *governor) fnImpl {
		return func(call *Call, args []cexpr) (cexpr, error) {
			if err := geoCheck(call, args, 1, 3, 0); err != nil {
				return cexpr{}, err
			}
			var cache shapeCache[[]geoLine]
			return evalN(TypeDynamic, args, func(_ Type, v []Value) Value {
				lines, ok := cache.get(v[0], geoLines)
				level, ok2 := geoLevel(v, 1, 11, 0, 30)
				radius := 0.0
				ok3 := true
				if len(v) > 2 {
					radius, ok3 = geoNum(v[2])
				}
				if !ok || !ok2 || !ok3 || radius < 0 {
					return Null(TypeDynamic)
				}
				cells, ok := geoLineCovering(lines, level, radius/earthRadiusMeters, g)
				if !ok {
					return Null(TypeDynamic)
				}
				return geoTokens(cells)
			}), nil
		}
	}
}
