package kql

import (
	"math"
	"strconv"
	"strings"
)

// geo_from_wkt reads the well-known text of a shape into GeoJSON. Only
// two-dimensional shapes are supported: a position with a Z or M value,
// EMPTY, or an unknown type is null, as is any coordinate out of the
// longitude and latitude ranges (GeoJSON here is WGS-84 degrees).

// wktMaxDepth bounds the nesting of geometry collections.
const wktMaxDepth = 32

type wktReader struct {
	s   string
	pos int
}

func (r *wktReader) skip() {
	for r.pos < len(r.s) && strings.IndexByte(" \t\r\n", r.s[r.pos]) >= 0 {
		r.pos++
	}
}

// eat consumes c after blanks.
func (r *wktReader) eat(c byte) bool {
	r.skip()
	if r.pos < len(r.s) && r.s[r.pos] == c {
		r.pos++
		return true
	}
	return false
}

// word reads a keyword in upper case.
func (r *wktReader) word() string {
	r.skip()
	start := r.pos
	for r.pos < len(r.s) && (r.s[r.pos] >= 'a' && r.s[r.pos] <= 'z' || r.s[r.pos] >= 'A' && r.s[r.pos] <= 'Z') {
		r.pos++
	}
	return strings.ToUpper(r.s[start:r.pos])
}

// number reads a coordinate: an integer stays one, as in GeoJSON text.
func (r *wktReader) number() (any, float64, bool) {
	r.skip()
	start := r.pos
	for r.pos < len(r.s) && strings.IndexByte("+-.0123456789eE", r.s[r.pos]) >= 0 {
		r.pos++
	}
	tok := r.s[start:r.pos]
	if i, err := strconv.ParseInt(tok, 10, 64); err == nil {
		return i, float64(i), true
	}
	f, err := strconv.ParseFloat(tok, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, 0, false
	}
	return f, f, true
}

// position reads "lng lat".
func (r *wktReader) position() (any, bool) {
	x, lng, ok1 := r.number()
	y, lat, ok2 := r.number()
	if !ok1 || !ok2 || lng < -180 || lng > 180 || lat < -90 || lat > 90 {
		return nil, false
	}
	return []any{x, y}, true
}

// list reads "(item, item, ...)".
func (r *wktReader) list(item func() (any, bool)) ([]any, bool) {
	if !r.eat('(') {
		return nil, false
	}
	var out []any
	for {
		v, ok := item()
		if !ok {
			return nil, false
		}
		out = append(out, v)
		if r.eat(')') {
			return out, true
		}
		if !r.eat(',') {
			return nil, false
		}
	}
}

func (r *wktReader) line() (any, bool) {
	pts, ok := r.list(r.position)
	return pts, ok && len(pts) >= 2
}

// ring is a closed line of at least four positions.
func (r *wktReader) ring() (any, bool) {
	pts, ok := r.list(r.position)
	if !ok || len(pts) < 4 {
		return nil, false
	}
	first, last := pts[0].([]any), pts[len(pts)-1].([]any)
	return pts, geoNumEq(first[0], last[0]) && geoNumEq(first[1], last[1])
}

func geoNumEq(a, b any) bool {
	f, _ := geoNum(Dynamic(a))
	g, _ := geoNum(Dynamic(b))
	return f == g
}

func (r *wktReader) polygon() (any, bool) { return r.list(r.ring) }

// multiPoint accepts both "(1 1, 2 2)" and "((1 1), (2 2))".
func (r *wktReader) multiPoint() (any, bool) {
	return r.list(func() (any, bool) {
		if r.eat('(') {
			p, ok := r.position()
			return p, ok && r.eat(')')
		}
		return r.position()
	})
}

// geometry reads one tagged shape.
func (r *wktReader) geometry(depth int) (Value, bool) {
	typ := r.word()
	var coords any
	var ok bool
	switch typ {
	case "POINT":
		ok = r.eat('(')
		if ok {
			coords, ok = r.position()
			ok = ok && r.eat(')')
		}
		return geoShapeValueAny("Point", coords), ok
	case "LINESTRING":
		coords, ok = r.line()
		return geoShapeValueAny("LineString", coords), ok
	case "POLYGON":
		coords, ok = r.polygon()
		return geoShapeValueAny("Polygon", coords), ok
	case "MULTIPOINT":
		coords, ok = r.multiPoint()
		return geoShapeValueAny("MultiPoint", coords), ok
	case "MULTILINESTRING":
		coords, ok = r.list(r.line)
		return geoShapeValueAny("MultiLineString", coords), ok
	case "MULTIPOLYGON":
		coords, ok = r.list(r.polygon)
		return geoShapeValueAny("MultiPolygon", coords), ok
	case "GEOMETRYCOLLECTION":
		if depth >= wktMaxDepth {
			return Value{}, false
		}
		parts, ok := r.list(func() (any, bool) {
			g, ok := r.geometry(depth + 1)
			return g.d, ok
		})
		b := NewBag()
		b.Set("type", "GeometryCollection")
		b.Set("geometries", parts)
		return Dynamic(b), ok
	}
	return Value{}, false
}

func init() {
	register(fixed(1, 1, ret(TypeDynamic), func(_ Type, v []Value) Value {
		s := scalarOf(v[0])
		if s.T != TypeString {
			return Null(TypeDynamic)
		}
		r := &wktReader{s: s.s}
		g, ok := r.geometry(0)
		if r.skip(); !ok || r.pos != len(r.s) {
			return Null(TypeDynamic)
		}
		return g
	}), "geo_from_wkt")
}
