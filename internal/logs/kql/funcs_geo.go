package kql

import (
	"math"
	"slices"
	"strings"

	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
)

// Geospatial functions. Kusto measures on a sphere of radius 6,371,010 m
// (the S2 library's Earth radius: geo_distance_2points' documented example,
// Seattle to Los Angeles, is 1546754.35197381 m on that sphere and on no
// other common one), and its cells, polygons and lines are S2's, so the
// S2 library does the geometry here. Invalid coordinates, shapes, levels
// or accuracies give null (an empty string for the functions that return
// a token), as the reference documents for each function.

const earthRadiusMeters = 6371010.0

// geoMaxCells is geo_polygon_to_s2cells' documented limit: a covering of
// more cells is null.
const geoMaxCells = 65536

// geoNum reads a coordinate or a measure: a number, or a number inside a
// dynamic value.
func geoNum(v Value) (float64, bool) {
	s := scalarOf(v)
	if s.IsNull() || !s.T.isNumeric() {
		return 0, false
	}
	f := s.AsReal()
	return f, !math.IsNaN(f) && !math.IsInf(f, 0)
}

// geoLatLng reads a longitude and a latitude in degrees, in their ranges.
func geoLatLng(lng, lat Value) (s2.LatLng, bool) {
	x, ok1 := geoNum(lng)
	y, ok2 := geoNum(lat)
	if !ok1 || !ok2 || x < -180 || x > 180 || y < -90 || y > 90 {
		return s2.LatLng{}, false
	}
	return s2.LatLngFromDegrees(y, x), true
}

// geoArgsOK checks the static types: numbers (or dynamic) where a number is
// expected, dynamic where a shape is.
func geoArgsOK(call *Call, args []cexpr, shapes ...int) error {
	isShape := map[int]bool{}
	for _, i := range shapes {
		isShape[i] = true
	}
	for i, a := range args {
		t := concreteType(a.t)
		switch {
		case t == TypeUnknown || t == TypeDynamic:
		case isShape[i]:
			return errAt(call, "%s: argument %d must be a dynamic GeoJSON value, got %s", call.Name, i+1, t)
		case !t.isNumeric():
			return errAt(call, "%s: argument %d must be a number, got %s", call.Name, i+1, t)
		}
	}
	return nil
}

// geoCheck checks the argument count and geoArgsOK's types (a fifth
// argument of geo_distance_2points is its use_spheroid bool).
func geoCheck(call *Call, args []cexpr, min, max int, shapes ...int) error {
	if err := geoArity(call, args, min, max); err != nil {
		return err
	}
	if call.Name == "geo_distance_2points" && len(args) > 4 {
		args = args[:4]
	}
	// the level or accuracy argument is an int
	if lvl, ok := geoLevelArg[call.Name]; ok && lvl < len(args) {
		if t := concreteType(args[lvl].t); t != TypeInt && t != TypeLong && t != TypeDynamic && t != TypeUnknown {
			return errAt(call, "%s: argument %d (the level) must be an int, got %s", call.Name, lvl+1, t)
		}
	}
	return geoArgsOK(call, args, shapes...)
}

// geoLevelArg is the position of each function's level or accuracy argument.
var geoLevelArg = map[string]int{"geo_point_to_geohash": 2, "geo_point_to_s2cell": 2, "geo_polygon_to_s2cells": 1, "geo_line_to_s2cells": 1}

func geoArity(call *Call, args []cexpr, min, max int) error {
	if len(args) < min || len(args) > max {
		if min == max {
			return errAt(call, "%s takes %d argument(s), got %d", call.Name, min, len(args))
		}
		return errAt(call, "%s takes %d to %d arguments, got %d", call.Name, min, max, len(args))
	}
	return nil
}

// geoBag is a GeoJSON geometry of type typ with its coordinates.
func geoBag(typ string, coords any) *Bag {
	b := NewBag()
	b.Set("type", typ)
	b.Set("coordinates", coords)
	return b
}

// geoShapeValueAny is geoBag as a dynamic value.
func geoShapeValueAny(typ string, coords any) Value { return Dynamic(geoBag(typ, coords)) }

// geoPointValue is the GeoJSON point Kusto returns for a cell's center.
func geoPointValue(ll s2.LatLng) Value {
	return geoShapeValueAny("Point", []any{ll.Lng.Degrees(), ll.Lat.Degrees()})
}

// geoCoord reads one GeoJSON position [lng, lat] (extra members, such as an
// altitude, are not allowed by Kusto's constraints and make it invalid).
func geoCoord(x any) (s2.Point, bool) {
	a, ok := x.([]any)
	if !ok || len(a) != 2 {
		return s2.Point{}, false
	}
	ll, ok := geoLatLng(Dynamic(a[0]), Dynamic(a[1]))
	if !ok {
		return s2.Point{}, false
	}
	return s2.PointFromLatLng(ll), true
}

// geoShape reads a GeoJSON object's type and coordinates.
func geoShape(v Value) (string, []any, bool) {
	s := scalarOf(v)
	if s.T != TypeDynamic || s.IsNull() {
		return "", nil, false
	}
	b, ok := s.d.(*Bag)
	if !ok {
		return "", nil, false
	}
	t, _ := b.Get("type")
	ts, ok := t.(string)
	if !ok {
		return "", nil, false
	}
	c, _ := b.Get("coordinates")
	coords, ok := c.([]any)
	if !ok {
		return "", nil, false
	}
	return ts, coords, true
}

// geoParts reads a GeoJSON shape of type one (whose coordinates are one
// part) or many (an array of parts): the parts' coordinate arrays.
func geoParts(v Value, one, many string) ([][]any, bool) {
	typ, coords, ok := geoShape(v)
	if !ok {
		return nil, false
	}
	var parts [][]any
	switch typ {
	case one:
		parts = [][]any{coords}
	case many:
		for _, p := range coords {
			a, ok := p.([]any)
			if !ok {
				return nil, false
			}
			parts = append(parts, a)
		}
	default:
		return nil, false
	}
	return parts, len(parts) > 0
}

// geoLine is a polyline's vertices.
type geoLine []s2.Point

// geoLines reads a LineString or MultiLineString: every line has at least
// two valid positions and no edge joins antipodal points.
func geoLines(v Value) ([]geoLine, bool) {
	raw, ok := geoParts(v, "LineString", "MultiLineString")
	if !ok {
		return nil, false
	}
	lines := make([]geoLine, 0, len(raw))
	for _, r := range raw {
		if len(r) < 2 {
			return nil, false
		}
		line := make(geoLine, len(r))
		for i, c := range r {
			p, ok := geoCoord(c)
			if !ok {
				return nil, false
			}
			if i > 0 && line[i-1].Distance(p) >= s1.Angle(math.Pi) {
				return nil, false
			}
			line[i] = p
		}
		lines = append(lines, line)
	}
	return lines, true
}

// geoPolygons reads a Polygon or MultiPolygon into S2 polygons, one per
// GeoJSON polygon. Each ring needs at least four positions, the last equal to
// the first, and at least three distinct vertices; a ring stands for the
// smaller of the two regions it bounds; rings must not cross (S2's
// validation). A point is in the shape when it is in any of the polygons.
func geoPolygons(v Value) ([]*s2.Polygon, bool) {
	polys, ok := geoParts(v, "Polygon", "MultiPolygon")
	if !ok {
		return nil, false
	}
	out := make([]*s2.Polygon, 0, len(polys))
	for _, rings := range polys {
		if len(rings) == 0 {
			return nil, false
		}
		loops := make([]*s2.Loop, 0, len(rings))
		for _, r := range rings {
			ring, ok := r.([]any)
			if !ok || len(ring) < 4 {
				return nil, false
			}
			pts := make([]s2.Point, len(ring))
			for i, c := range ring {
				p, ok := geoCoord(c)
				if !ok {
					return nil, false
				}
				pts[i] = p
			}
			if pts[0] != pts[len(pts)-1] {
				return nil, false
			}
			pts = pts[:len(pts)-1]
			for i := range pts {
				if pts[i] == pts[(i+1)%len(pts)] {
					return nil, false
				}
			}
			loop := s2.LoopFromPoints(pts)
			if loop.Validate() != nil {
				return nil, false
			}
			loop.Normalize()
			loops = append(loops, loop)
		}
		p := s2.PolygonFromLoops(loops)
		if p.Validate() != nil {
			return nil, false
		}
		out = append(out, p)
	}
	return out, true
}

// shapeCache keeps the last shape read by one call site: a constant shape
// (the common case) is read and validated once, not per row.
type shapeCache[T any] struct {
	key   any
	val   T
	ok    bool
	valid bool
}

func (c *shapeCache[T]) get(v Value, read func(Value) (T, bool)) (T, bool) {
	s := scalarOf(v)
	var key any
	if s.T == TypeDynamic {
		if b, ok := s.d.(*Bag); ok {
			key = b
		}
	}
	if key != nil && c.valid && c.key == key {
		return c.val, c.ok
	}
	val, ok := read(v)
	c.key, c.val, c.ok, c.valid = key, val, ok, key != nil
	return val, ok
}

// geohash encoding, base32 with the alphabet of the original definition.
const geohashAlphabet = "0123456789bcdefghjkmnpqrstuvwxyz"

func geohashEncode(lng, lat float64, n int) string {
	loLng, hiLng, loLat, hiLat := -180.0, 180.0, -90.0, 90.0
	var b strings.Builder
	even := true
	bits, ch := 0, 0
	for b.Len() < n {
		if even {
			mid := (loLng + hiLng) / 2
			ch <<= 1
			if lng >= mid {
				ch |= 1
				loLng = mid
			} else {
				hiLng = mid
			}
		} else {
			mid := (loLat + hiLat) / 2
			ch <<= 1
			if lat >= mid {
				ch |= 1
				loLat = mid
			} else {
				hiLat = mid
			}
		}
		even = !even
		if bits++; bits == 5 {
			b.WriteByte(geohashAlphabet[ch])
			bits, ch = 0, 0
		}
	}
	return b.String()
}

// geohashCenter decodes a geohash of 1 to 18 characters to its center.
func geohashCenter(h string) (lng, lat float64, ok bool) {
	if len(h) == 0 || len(h) > 18 {
		return 0, 0, false
	}
	loLng, hiLng, loLat, hiLat := -180.0, 180.0, -90.0, 90.0
	even := true
	for i := 0; i < len(h); i++ {
		d := strings.IndexByte(geohashAlphabet, h[i])
		if d < 0 {
			return 0, 0, false
		}
		for bit := 4; bit >= 0; bit-- {
			on := d>>bit&1 == 1
			if even {
				mid := (loLng + hiLng) / 2
				if on {
					loLng = mid
				} else {
					hiLng = mid
				}
			} else {
				mid := (loLat + hiLat) / 2
				if on {
					loLat = mid
				} else {
					hiLat = mid
				}
			}
			even = !even
		}
	}
	return (loLng + hiLng) / 2, (loLat + hiLat) / 2, true
}

// geoCellLevel reads an S2 level or geohash accuracy argument.
func geoLevel(v []Value, i int, def, min, max int64) (int, bool) {
	if i >= len(v) {
		return int(def), true
	}
	s := scalarOf(v[i])
	if s.IsNull() || !isIntegral(s.T) || s.T == TypeBool || s.i < min || s.i > max {
		return 0, false
	}
	return int(s.i), true
}

// constArg reads a constant argument at compile time; ok is false when the
// argument is not a constant.
func constArg(a cexpr) (Value, bool) {
	if !a.konst {
		return Value{}, false
	}
	return a.f(nil), true
}

func init() {
	register(func(call *Call, args []cexpr) (cexpr, error) {
		if err := geoCheck(call, args, 4, 5); err != nil {
			return cexpr{}, err
		}
		if len(args) == 5 {
			// use_spheroid: only the sphere is implemented; the spheroid
			// measure is refused rather than answered on the sphere.
			v, ok := constArg(args[4])
			if !ok || concreteType(v.T) != TypeBool {
				return cexpr{}, errAt(call, "geo_distance_2points: use_spheroid must be a constant bool")
			}
			if v.AsBool() {
				return cexpr{}, errAt(call, "geo_distance_2points: use_spheroid=true (distance on the WGS-84 spheroid) is not supported; omit it to measure on the sphere")
			}
			args = args[:4]
		}
		return evalN(TypeReal, args, func(_ Type, v []Value) Value {
			a, ok1 := geoLatLng(v[0], v[1])
			b, ok2 := geoLatLng(v[2], v[3])
			if !ok1 || !ok2 {
				return Null(TypeReal)
			}
			return Real(a.Distance(b).Radians() * earthRadiusMeters)
		}), nil
	}, "geo_distance_2points")

	register(func(call *Call, args []cexpr) (cexpr, error) {
		if err := geoCheck(call, args, 5, 5); err != nil {
			return cexpr{}, err
		}
		return evalN(TypeBool, args, func(_ Type, v []Value) Value {
			p, ok1 := geoLatLng(v[0], v[1])
			c, ok2 := geoLatLng(v[2], v[3])
			r, ok3 := geoNum(v[4])
			if !ok1 || !ok2 || !ok3 || r <= 0 {
				return Null(TypeBool)
			}
			return Bool(p.Distance(c).Radians()*earthRadiusMeters <= r)
		}), nil
	}, "geo_point_in_circle")

	register(func(call *Call, args []cexpr) (cexpr, error) {
		if err := geoCheck(call, args, 3, 3, 2); err != nil {
			return cexpr{}, err
		}
		var cache shapeCache[[]*s2.Polygon]
		return evalN(TypeBool, args, func(_ Type, v []Value) Value {
			ll, ok := geoLatLng(v[0], v[1])
			polys, ok2 := cache.get(v[2], geoPolygons)
			if !ok || !ok2 {
				return Null(TypeBool)
			}
			p := s2.PointFromLatLng(ll)
			for _, poly := range polys {
				if poly.ContainsPoint(p) {
					return Bool(true)
				}
			}
			return Bool(false)
		}), nil
	}, "geo_point_in_polygon")

	register(func(call *Call, args []cexpr) (cexpr, error) {
		if err := geoCheck(call, args, 3, 3, 2); err != nil {
			return cexpr{}, err
		}
		var cache shapeCache[[]geoLine]
		return evalN(TypeReal, args, func(_ Type, v []Value) Value {
			ll, ok := geoLatLng(v[0], v[1])
			lines, ok2 := cache.get(v[2], geoLines)
			if !ok || !ok2 {
				return Null(TypeReal)
			}
			x := s2.PointFromLatLng(ll)
			best := s1.Angle(math.Inf(1))
			for _, line := range lines {
				for i := 1; i < len(line); i++ {
					if d := s2.DistanceFromSegment(x, line[i-1], line[i]); d < best {
						best = d
					}
				}
			}
			return Real(best.Radians() * earthRadiusMeters)
		}), nil
	}, "geo_distance_point_to_line")

	register(func(call *Call, args []cexpr) (cexpr, error) {
		if err := geoCheck(call, args, 2, 3); err != nil {
			return cexpr{}, err
		}
		return evalN(TypeString, args, func(_ Type, v []Value) Value {
			ll, ok := geoLatLng(v[0], v[1])
			n, ok2 := geoLevel(v, 2, 5, 1, 18)
			if !ok || !ok2 {
				return String("")
			}
			return String(geohashEncode(ll.Lng.Degrees(), ll.Lat.Degrees(), n))
		}), nil
	}, "geo_point_to_geohash")

	register(fixed(1, 1, ret(TypeDynamic), func(_ Type, v []Value) Value {
		s := scalarOf(v[0])
		if s.T != TypeString {
			return Null(TypeDynamic)
		}
		lng, lat, ok := geohashCenter(s.s)
		if !ok {
			return Null(TypeDynamic)
		}
		return geoShapeValueAny("Point", []any{lng, lat})
	}), "geo_geohash_to_central_point")

	register(func(call *Call, args []cexpr) (cexpr, error) {
		if err := geoCheck(call, args, 2, 3); err != nil {
			return cexpr{}, err
		}
		return evalN(TypeString, args, func(_ Type, v []Value) Value {
			ll, ok := geoLatLng(v[0], v[1])
			level, ok2 := geoLevel(v, 2, 11, 0, 30)
			if !ok || !ok2 {
				return String("")
			}
			return String(s2.CellIDFromLatLng(ll).Parent(level).ToToken())
		}), nil
	}, "geo_point_to_s2cell")

	register(fixed(1, 1, ret(TypeDynamic), func(_ Type, v []Value) Value {
		id, ok := s2CellArg(v[0])
		if !ok {
			return Null(TypeDynamic)
		}
		return geoPointValue(s2.LatLngFromPoint(id.Point()))
	}), "geo_s2cell_to_central_point")

	register(func(call *Call, args []cexpr) (cexpr, error) {
		if err := geoCheck(call, args, 1, 3, 0); err != nil {
			return cexpr{}, err
		}
		args, err := geoNoBuffer(call, args, 2)
		if err != nil {
			return cexpr{}, err
		}
		var cache shapeCache[[]*s2.Polygon]
		return evalN(TypeDynamic, args, func(_ Type, v []Value) Value {
			polys, ok := cache.get(v[0], geoPolygons)
			level, ok2 := geoLevel(v, 1, 11, 0, 30)
			if !ok || !ok2 {
				return Null(TypeDynamic)
			}
			cells, ok := geoCovering(polys, level)
			if !ok {
				return Null(TypeDynamic)
			}
			return geoTokens(cells)
		}), nil
	}, "geo_polygon_to_s2cells")
}

// geoNoBuffer accepts a buffer radius argument at position i only when it
// is the constant 0 (no buffer; buffering is not implemented) and drops it.
func geoNoBuffer(call *Call, args []cexpr, i int) ([]cexpr, error) {
	if len(args) <= i {
		return args, nil
	}
	v, ok := constArg(args[i])
	r, num := geoNum(v)
	if !ok || !num {
		return nil, errAt(call, "%s: radius must be a constant number", call.Name)
	}
	if r != 0 {
		return nil, errAt(call, "%s: a buffer radius other than 0 is not supported", call.Name)
	}
	return args[:i], nil
}

// geoCovering covers polygons with cells of one level, in cell order, or
// fails when the covering would hold more than geoMaxCells cells. The
// polygons' area and perimeter bound the count from below before any cell
// is made, so a huge covering is refused without being built.
func geoCovering(polys []*s2.Polygon, level int) ([]s2.CellID, bool) {
	var area float64
	for _, p := range polys {
		area += p.Area()
	}
	perimeter := geoPerimeter(polys)
	if area/s2.AvgAreaMetric.Value(level) > geoMaxCells || perimeter/s2.MaxDiagMetric.Value(level) > geoMaxCells {
		return nil, false
	}
	rc := &s2.RegionCoverer{MinLevel: level, MaxLevel: level, MaxCells: geoMaxCells}
	seen := map[s2.CellID]bool{}
	var cells []s2.CellID
	for _, p := range polys {
		for _, c := range rc.Covering(p) {
			if !seen[c] {
				seen[c] = true
				cells = append(cells, c)
			}
		}
		if len(cells) > geoMaxCells {
			return nil, false
		}
	}
	slices.Sort(cells) // by cell id; siblings are not merged into their parent
	return cells, true
}

// geoTokens is an array of the cells' tokens.
func geoTokens(cells []s2.CellID) Value {
	out := make([]any, len(cells))
	for i, c := range cells {
		out[i] = c.ToToken()
	}
	return Dynamic(out)
}

// s2CellArg reads an S2 cell token: 1 to 16 hexadecimal digits naming a
// valid cell.
func s2CellArg(v Value) (s2.CellID, bool) {
	s := scalarOf(v)
	if s.T != TypeString || s.s == "" || len(s.s) > 16 || strings.Trim(strings.ToLower(s.s), "0123456789abcdef") != "" {
		return 0, false
	}
	id := s2.CellIDFromToken(s.s)
	return id, id.IsValid()
}

// geoPolygonValue is a GeoJSON polygon of one closed ring.
func geoPolygonValue(ring [][2]float64) Value {
	coords := make([]any, 0, len(ring)+1)
	for _, p := range ring {
		coords = append(coords, []any{p[0], p[1]})
	}
	coords = append(coords, []any{ring[0][0], ring[0][1]})
	return geoShapeValueAny("Polygon", []any{coords})
}

// geohashBox is a geohash's rectangle: west, south, east, north.
func geohashBox(h string) (w, s, e, n float64, ok bool) {
	lng, lat, ok := geohashCenter(h)
	if !ok {
		return 0, 0, 0, 0, false
	}
	bits := 5 * len(h)
	lngBits, latBits := (bits+1)/2, bits/2
	dLng, dLat := 360/math.Exp2(float64(lngBits)), 180/math.Exp2(float64(latBits))
	return lng - dLng/2, lat - dLat/2, lng + dLng/2, lat + dLat/2, true
}

func init() {
	// geo_geohash_to_polygon: the rectangle counterclockwise from its
	// south-west corner, as the reference's example prints it
	register(fixed(1, 1, ret(TypeDynamic), func(_ Type, v []Value) Value {
		s := scalarOf(v[0])
		if s.T != TypeString {
			return Null(TypeDynamic)
		}
		w, so, e, n, ok := geohashBox(s.s)
		if !ok {
			return Null(TypeDynamic)
		}
		return geoPolygonValue([][2]float64{{w, so}, {e, so}, {e, n}, {w, n}})
	}), "geo_geohash_to_polygon")
	// geo_s2cell_to_polygon: the cell's four vertices in S2's order
	register(fixed(1, 1, ret(TypeDynamic), func(_ Type, v []Value) Value {
		id, ok := s2CellArg(v[0])
		if !ok {
			return Null(TypeDynamic)
		}
		c := s2.CellFromCellID(id)
		ring := make([][2]float64, 4)
		for k := range ring {
			ll := s2.LatLngFromPoint(c.Vertex(k))
			ring[k] = [2]float64{ll.Lng.Degrees(), ll.Lat.Degrees()}
		}
		return geoPolygonValue(ring)
	}), "geo_s2cell_to_polygon")
}

// geoAzimuth is the initial bearing from a to b, clockwise from north in
// [0, 2π); ok is false when the points coincide or are antipodal (no
// single great circle joins them).
func geoAzimuth(a, b s2.LatLng) (float64, bool) {
	d := a.Distance(b).Radians()
	if d < 1e-15 || d > math.Pi-1e-15 {
		return 0, false
	}
	p1, p2 := a.Lat.Radians(), b.Lat.Radians()
	dl := b.Lng.Radians() - a.Lng.Radians()
	t := math.Atan2(math.Sin(dl)*math.Cos(p2), math.Cos(p1)*math.Sin(p2)-math.Sin(p1)*math.Cos(p2)*math.Cos(dl))
	return math.Mod(t+2*math.Pi, 2*math.Pi), true
}

func init() {
	// geo_azimuth(lng1, lat1, lng2, lat2): the reference's example is
	// 3.05459939796449 for (5, 10) to (10, -40)
	register(func(call *Call, args []cexpr) (cexpr, error) {
		if err := geoCheck(call, args, 4, 4); err != nil {
			return cexpr{}, err
		}
		return evalN(TypeReal, args, func(_ Type, v []Value) Value {
			a, ok1 := geoLatLng(v[0], v[1])
			b, ok2 := geoLatLng(v[2], v[3])
			if !ok1 || !ok2 {
				return Null(TypeReal)
			}
			az, ok := geoAzimuth(a, b)
			if !ok {
				return Null(TypeReal)
			}
			return Real(az)
		}), nil
	}, "geo_azimuth")
	// geo_angle(p1, p2, p3): clockwise from line [p2, p1] to line [p2, p3]
	// at p2, in [0, 2π) (the reference's example: 2.94493843406882)
	register(func(call *Call, args []cexpr) (cexpr, error) {
		if err := geoCheck(call, args, 6, 6); err != nil {
			return cexpr{}, err
		}
		return evalN(TypeReal, args, func(_ Type, v []Value) Value {
			p1, ok1 := geoLatLng(v[0], v[1])
			p2, ok2 := geoLatLng(v[2], v[3])
			p3, ok3 := geoLatLng(v[4], v[5])
			if !ok1 || !ok2 || !ok3 {
				return Null(TypeReal)
			}
			a, okA := geoAzimuth(p2, p1)
			b, okB := geoAzimuth(p2, p3)
			if !okA || !okB {
				return Null(TypeReal)
			}
			return Real(math.Mod(b-a+2*math.Pi, 2*math.Pi))
		}), nil
	}, "geo_angle")
}
