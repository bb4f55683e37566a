package kql

import (
	"math"

	"github.com/golang/geo/r3"
	"github.com/golang/geo/s2"
)

// geo_point_buffer(longitude, latitude, radius[, tolerance]): a polygon
// that holds every point within radius meters of the point and strays at
// most tolerance meters beyond that circle. It is the regular polygon
// whose edges (geodesics) touch the circle at their middles: the smallest
// vertex count whose vertices, which lie farthest out, are within the
// tolerance. The page's rules: the radius must be positive, the tolerance
// (10 m by default) no lower than 0.0001% of the radius, and a tolerance
// above the radius is lowered to the largest value below it.

// geoBufferMinTolerance is the smallest tolerance as a share of the radius.
const geoBufferMinTolerance = 1e-6

// geoBufferRadians applies the buffer pages' rules to a radius and a
// tolerance in meters and turns them into radians: false for a radius
// that is not positive or not under a quarter of the Earth's
// circumference, or a tolerance under geoBufferMinTolerance of it; a
// tolerance at or above the radius is lowered to just below it.
func geoBufferRadians(radius, tol float64) (r, t float64, ok bool) {
	if radius <= 0 || tol < radius*geoBufferMinTolerance {
		return 0, 0, false
	}
	if tol >= radius {
		tol = math.Nextafter(radius, 0)
	}
	r, t = radius/earthRadiusMeters, tol/earthRadiusMeters
	return r, t, r < math.Pi/2
}

// geoPointBuffer is the polygon's ring, counterclockwise from north, or
// false for a radius or tolerance out of range. A polygon holds at most
// half the sphere, so a radius of a quarter of the Earth's circumference or
// more has no buffer; below it, the tolerance shrinks where needed to keep
// the vertices within that hemisphere.
func geoPointBuffer(center s2.LatLng, radius, tol float64) ([][2]float64, bool) {
	r, t, ok := geoBufferRadians(radius, tol)
	if !ok {
		return nil, false
	}
	t = min(t, (math.Pi/2-r)/2)
	// A regular n-gon whose edges touch the circle of radius r has its
	// vertices at rho, with tan(rho) = tan(r) / cos(π/n) (the right
	// spherical triangle of the centre, a vertex and an edge's middle).
	rho := func(n int) float64 { return math.Atan(math.Tan(r) / math.Cos(math.Pi/float64(n))) }
	n := max(3, int(math.Ceil(math.Pi/math.Acos(math.Tan(r)/math.Tan(r+t)))))
	for rho(n)-r > t { // rounding in the estimate
		n++
	}
	c := s2.PointFromLatLng(center)
	lng := center.Lng.Radians()
	east := r3.Vector{X: -math.Sin(lng), Y: math.Cos(lng)}
	north := c.Cross(east)
	dist := rho(n)
	ring := make([][2]float64, n)
	for k := range ring {
		a := math.Pi/2 + 2*math.Pi*float64(k)/float64(n)
		dir := east.Mul(math.Cos(a)).Add(north.Mul(math.Sin(a)))
		v := s2.LatLngFromPoint(s2.Point{Vector: c.Mul(math.Cos(dist)).Add(dir.Mul(math.Sin(dist))).Normalize()})
		ring[k] = [2]float64{v.Lng.Degrees(), v.Lat.Degrees()}
	}
	return ring, true
}

func init() {
	register(func(call *Call, args []cexpr) (cexpr, error) {
		if err := geoCheck(call, args, 3, 4); err != nil {
			return cexpr{}, err
		}
		return evalN(TypeDynamic, args, func(_ Type, v []Value) Value {
			ll, ok := geoLatLng(v[0], v[1])
			radius, ok2 := geoNum(v[2])
			tol, ok3 := 10.0, true
			if len(v) > 3 {
				tol, ok3 = geoNum(v[3])
			}
			if !ok || !ok2 || !ok3 {
				return Null(TypeDynamic)
			}
			ring, ok := geoPointBuffer(ll, radius, tol)
			if !ok {
				return Null(TypeDynamic)
			}
			return geoPolygonValue(ring)
		}), nil
	}, "geo_point_buffer")
}
