package kql

import (
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
			if polys[i].Intersects(polys[j]) {
				return false
			}
		}
	}
	return true
}

func init() {
	// geo_line_length(lineString), meters
	register(func(call *Call, args []cexpr) (cexpr, error) {
		if err := geoCheck(call, args, 1, 1, 0); err != nil {
			return cexpr{}, err
		}
		var cache shapeCache[[]geoLine]
		return evalN(TypeReal, args, func(_ Type, v []Value) Value {
			lines, ok := cache.get(v[0], geoLines)
			if !ok {
				return Null(TypeReal)
			}
			if geoLinesOverlap(lines) {
				geoUnionNeeded(call)
			}
			var sum float64
			for _, l := range lines {
				sum += (*s2.Polyline)(&l).Length().Radians()
			}
			return Real(sum * earthRadiusMeters)
		}), nil
	}, "geo_line_length")

	// geo_polygon_area(polygon), square meters
	register(func(call *Call, args []cexpr) (cexpr, error) {
		if err := geoCheck(call, args, 1, 1, 0); err != nil {
			return cexpr{}, err
		}
		var cache shapeCache[[]*s2.Polygon]
		return evalN(TypeReal, args, func(_ Type, v []Value) Value {
			polys, ok := cache.get(v[0], geoPolygons)
			if !ok {
				return Null(TypeReal)
			}
			if !geoPolygonsDisjoint(polys) {
				geoUnionNeeded(call)
			}
			var sum float64
			for _, p := range polys {
				sum += p.Area()
			}
			return Real(sum * earthRadiusMeters * earthRadiusMeters)
		}), nil
	}, "geo_polygon_area")

	// geo_polygon_perimeter(polygon), meters: every ring, holes included
	register(func(call *Call, args []cexpr) (cexpr, error) {
		if err := geoCheck(call, args, 1, 1, 0); err != nil {
			return cexpr{}, err
		}
		var cache shapeCache[[]*s2.Polygon]
		return evalN(TypeReal, args, func(_ Type, v []Value) Value {
			polys, ok := cache.get(v[0], geoPolygons)
			if !ok {
				return Null(TypeReal)
			}
			if !geoPolygonsDisjoint(polys) {
				geoUnionNeeded(call)
			}
			var sum float64
			for _, p := range polys {
				for _, l := range p.Loops() {
					for i := 0; i < l.NumEdges(); i++ {
						e := l.Edge(i)
						sum += e.V0.Distance(e.V1).Radians()
					}
				}
			}
			return Real(sum * earthRadiusMeters)
		}), nil
	}, "geo_polygon_perimeter")
}
