package kql

import (
	"math"
	"slices"

	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
)

// Lengths, areas and perimeters. Kusto measures a multi-shape as the union
// of its parts; without a union in the S2 library, parts that overlap are
// refused (geoUnionNeeded) and parts that do not are summed, which is the
// union's measure. Polygons that only touch are refused too: telling a
// shared border from an overlap needs the union.

// geoPolygonsDisjoint reports whether no two polygons intersect.
func geoPolygonsDisjoint(polys []*s2.Polygon) bool {
	for i := range polys {
		for j := i + 1; j < len(polys); j++ {
			if polys[i].RectBound().Intersects(polys[j].RectBound()) && polys[i].Intersects(polys[j]) {
				return false
			}
		}
	}
	return true
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
	return geoPolyUnion{polys, !geoPolygonsDisjoint(polys)}, true
}

func (u geoLineUnion) overlaps() bool { return u.overlap }
func (u geoPolyUnion) overlaps() bool { return u.overlap }

// geoUnionFunc builds a function of one multi-shape whose answer is the
// union's: f sees the shape when its parts do not overlap; overlapping
// parts stop the query (geoUnionNeeded), an invalid shape is null.
func geoUnionFunc[T interface{ overlaps() bool }](read func(Value) (T, bool), t Type, f func(T) Value) fnImpl {
	return func(call *Call, args []cexpr) (cexpr, error) {
		if err := geoCheck(call, args, 1, 1, 0); err != nil {
			return cexpr{}, err
		}
		var cache shapeCache[T]
		return evalN(t, args, func(_ Type, v []Value) Value {
			u, ok := cache.get(v[0], read)
			if !ok {
				return Null(t)
			}
			if u.overlaps() {
				geoUnionNeeded(call)
			}
			return f(u)
		}), nil
	}
}

func init() {
	// lengths in meters, areas in square meters; a perimeter counts every
	// ring, holes included
	register(geoUnionFunc(readLineUnion, TypeReal, func(u geoLineUnion) Value {
		var sum float64
		for _, l := range u.lines {
			sum += (*s2.Polyline)(&l).Length().Radians()
		}
		return Real(sum * earthRadiusMeters)
	}), "geo_line_length")
	register(geoUnionFunc(readPolyUnion, TypeReal, func(u geoPolyUnion) Value {
		var sum float64
		for _, p := range u.polys {
			sum += p.Area()
		}
		return Real(sum * earthRadiusMeters * earthRadiusMeters)
	}), "geo_polygon_area")
	register(geoUnionFunc(readPolyUnion, TypeReal, func(u geoPolyUnion) Value {
		return Real(geoPerimeter(u.polys) * earthRadiusMeters)
	}), "geo_polygon_perimeter")
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
			if err := geoArity(call, args, 1, 3); err != nil {
				return cexpr{}, err
			}
			if len(args) > 1 {
				if t := concreteType(args[1].t); t != TypeInt && t != TypeLong && t != TypeDynamic && t != TypeUnknown {
					return cexpr{}, errAt(call, "%s: argument 2 (the level) must be an int, got %s", call.Name, t)
				}
			}
			if err := geoArgsOK(call, args, 0); err != nil {
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
