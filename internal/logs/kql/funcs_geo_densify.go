package kql

import (
	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
)

// geo_line_densify and geo_polygon_densify: planar edges (straight in
// longitude and latitude, as GeoJSON draws them) become chains of
// geodesic edges within a tolerance of them.

// geoDensifyMaxPoints is the densify functions' documented limit on the
// points of a result; a larger result is null.
const geoDensifyMaxPoints = 10485760

// geoDeg reads one GeoJSON position as [lng, lat] degrees, unconverted, so
// the vertices of a densified shape are the input's own numbers.
func geoDeg(x any) ([2]float64, bool) {
	a, ok := x.([]any)
	if !ok || len(a) != 2 {
		return [2]float64{}, false
	}
	lng, ok1 := geoNum(Dynamic(a[0]))
	lat, ok2 := geoNum(Dynamic(a[1]))
	if !ok1 || !ok2 || lng < -180 || lng > 180 || lat < -90 || lat > 90 {
		return [2]float64{}, false
	}
	return [2]float64{lng, lat}, true
}

func geoDegPoint(d [2]float64) s2.Point { return s2.PointFromLatLng(s2.LatLngFromDegrees(d[1], d[0])) }

// geoDensifier turns the planar edges of a chain of positions (straight in
// longitude and latitude) into chains of geodesic edges that stay within
// tol of them: an edge whose two probe points are farther than tol from
// the geodesic's is halved at its planar midpoint, and each half is tried
// again. Every point it adds is counted against max and the governor.
type densifier struct {
	tol  s1.Angle
	left int
	g    *governor
	what string
}

// chain densifies one chain of positions (raw, as the input gives them,
// and pos, their degrees); false when the result would have more points
// than allowed.
func (d *densifier) chain(raw []any, pos [][2]float64) ([]any, bool) {
	out := make([]any, 0, len(pos))
	var ok bool
	if out, ok = d.add(out, raw[0]); !ok {
		return nil, false
	}
	for i := 1; i < len(pos); i++ {
		if out, ok = d.edge(pos[i-1], pos[i], geoDegPoint(pos[i-1]), geoDegPoint(pos[i]), out, 0); !ok {
			return nil, false
		}
		if out, ok = d.add(out, raw[i]); !ok {
			return nil, false
		}
	}
	return out, true
}

func (d *densifier) add(out []any, p any) ([]any, bool) {
	if d.left--; d.left < 0 {
		return nil, false
	}
	d.g.alloc(d.what, 64)
	return append(out, p), true
}

// edge appends the points that split the edge from a to b, not b itself.
func (d *densifier) edge(a, b [2]float64, pa, pb s2.Point, out []any, depth int) ([]any, bool) {
	if depth >= 60 || d.maxError(a, b, pa, pb) <= d.tol {
		return out, true
	}
	m := [2]float64{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2}
	pm := geoDegPoint(m)
	var ok bool
	if out, ok = d.edge(a, m, pa, pm, out, depth+1); !ok {
		return nil, false
	}
	if out, ok = d.add(out, []any{m[0], m[1]}); !ok {
		return nil, false
	}
	return d.edge(m, b, pm, pb, out, depth+1)
}

// maxError is the distance between the planar edge's midpoint and the
// geodesic edge.
func (d *densifier) maxError(a, b [2]float64, pa, pb s2.Point) s1.Angle {
	planar := geoDegPoint([2]float64{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2})
	return s2.DistanceFromSegment(planar, pa, pb)
}

// geoDensifyArgs checks a densify call: the shape, an optional tolerance in
// meters, and preserve_crossing, which only as the constant false (the
// default) is accepted.
func geoDensifyArgs(call *Call, args []cexpr) ([]cexpr, error) {
	if err := geoArity(call, args, 1, 3); err != nil {
		return nil, err
	}
	if len(args) == 3 {
		v, ok := constArg(args[2])
		if !ok || concreteType(v.T) != TypeBool {
			return nil, errAt(call, "%s: preserve_crossing must be a constant bool", call.Name)
		}
		if v.AsBool() {
			return nil, errAt(call, "%s: preserve_crossing=true (edges crossing the antimeridian) is not supported", call.Name)
		}
		args = args[:2]
	}
	return args, geoArgsOK(call, args, 0)
}

// geoDensifyTolerance reads the tolerance, 10 m by default, valid in
// [0.1, 10000].
func geoDensifyTolerance(v []Value) (s1.Angle, bool) {
	if len(v) < 2 {
		return s1.Angle(10 / earthRadiusMeters), true
	}
	t, ok := geoNum(v[1])
	if !ok || t < 0.1 || t > 10000 {
		return 0, false
	}
	return s1.Angle(t / earthRadiusMeters), true
}

// geoRawChain reads a chain of positions.
func geoRawChain(x any) ([][2]float64, bool) {
	a, ok := x.([]any)
	if !ok {
		return nil, false
	}
	out := make([][2]float64, len(a))
	for i, c := range a {
		if out[i], ok = geoDeg(c); !ok {
			return nil, false
		}
	}
	return out, true
}

// geoDensifyFunc builds a densify function: the shape must pass valid, the
// tolerance be in range; shape densifies it (false: too many points).
func geoDensifyFunc(what string, valid func(Value) bool, shape func(d *densifier, v Value) (Value, bool)) func(g *governor) fnImpl {
	return func(g *governor) fnImpl {
		return func(call *Call, args []cexpr) (cexpr, error) {
			args, err := geoDensifyArgs(call, args)
			if err != nil {
				return cexpr{}, err
			}
			return evalN(TypeDynamic, args, func(_ Type, v []Value) Value {
				tol, ok := geoDensifyTolerance(v)
				if !ok || !valid(v[0]) {
					return Null(TypeDynamic)
				}
				d := &densifier{tol: tol, left: geoDensifyMaxPoints, g: g, what: what}
				if out, ok := shape(d, v[0]); ok {
					return out
				}
				return Null(TypeDynamic)
			}), nil
		}
	}
}

// rawChain densifies one chain of GeoJSON positions.
func (d *densifier) rawChain(x any) ([]any, bool) {
	pos, ok := geoRawChain(x)
	if !ok {
		return nil, false
	}
	return d.chain(x.([]any), pos)
}

func init() {
	// geo_line_densify(lineString[, tolerance[, preserve_crossing]])
	governedFuncs["geo_line_densify"] = geoDensifyFunc("geo_line_densify function",
		func(v Value) bool { _, ok := geoLines(v); return ok },
		func(d *densifier, v Value) (Value, bool) {
			typ, coords, _ := geoShape(v)
			if typ == "LineString" {
				out, ok := d.rawChain(coords)
				return geoShapeValueAny(typ, out), ok
			}
			out := make([]any, len(coords))
			for i, c := range coords {
				var ok bool
				if out[i], ok = d.rawChain(c); !ok {
					return Value{}, false
				}
			}
			return geoShapeValueAny(typ, out), true
		})

	// geo_polygon_densify(polygon[, tolerance[, preserve_crossing]])
	governedFuncs["geo_polygon_densify"] = geoDensifyFunc("geo_polygon_densify function",
		func(v Value) bool { _, ok := geoPolygons(v); return ok },
		func(d *densifier, v Value) (Value, bool) {
			typ, _, _ := geoShape(v)
			polys, _ := geoParts(v, "Polygon", "MultiPolygon")
			out := make([]any, len(polys))
			for i, rings := range polys {
				rs := make([]any, len(rings))
				for k, r := range rings {
					var ok bool
					if rs[k], ok = d.rawChain(r); !ok {
						return Value{}, false
					}
				}
				out[i] = rs
			}
			if typ == "Polygon" {
				return geoShapeValueAny(typ, out[0]), true
			}
			return geoShapeValueAny(typ, out), true
		})
}
