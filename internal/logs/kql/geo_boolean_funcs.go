package kql

import (
	"container/heap"
	"math"

	"github.com/golang/geo/s2"
)

// The functions built on the boolean engine (geo_boolean.go):
// geo_intersection_2polygons, geo_union_polygons_array and
// geo_union_lines_array, and the GeoJSON they read and write.

// geoEdgeIDs numbers n input edges from next, and returns the next free
// id.
func geoEdgeIDs(n, next int) ([]int, int) {
	ids := make([]int, n)
	for i := range ids {
		ids[i] = next + i
	}
	return ids, next + n
}

// geoPolyParts turns polygons into parts of operand op; next is the first
// input edge id to give, and the next free one is returned.
func geoPolyParts(polys []*s2.Polygon, op, next int) ([]bPart, int) {
	return geoOperandOf(polys).parts(op, next)
}

// geoLineParts turns lines into line parts of operand op.
func geoLineParts(lines []geoLine, op, next int) ([]bPart, int) {
	parts := make([]bPart, 0, len(lines))
	for _, l := range lines {
		var ids []int
		ids, next = geoEdgeIDs(len(l), next)
		parts = append(parts, bPart{op: op, line: true, rings: [][]s2.Point{l}, ids: [][]int{ids}})
	}
	return parts, next
}

// geoCoordOf is a vertex as a GeoJSON position: an input vertex as the
// input gives it, a new one (where edges cross) in degrees.
func (r *bResult) geoCoordOf(v int) []any {
	p := r.verts[v].sp
	if d, ok := r.deg[p]; ok {
		return []any{d[0], d[1]}
	}
	// radians times 180/π, as S2's C++ library converts
	ll := s2.LatLngFromPoint(p)
	return []any{ll.Lng.Radians() * (180 / math.Pi), ll.Lat.Radians() * (180 / math.Pi)}
}

// geoInputDegrees maps the points of the GeoJSON shapes in v (a shape or
// an array of shapes) to their positions as given.
func geoInputDegrees(v Value, into map[s2.Point][2]float64) map[s2.Point][2]float64 {
	if into == nil {
		into = map[s2.Point][2]float64{}
	}
	var walk func(x any, depth int)
	walk = func(x any, depth int) {
		if depth > 8 {
			return
		}
		switch t := x.(type) {
		case *Bag:
			if c, ok := t.Get("coordinates"); ok {
				walk(c, depth+1)
			}
		case []any:
			if d, ok := geoDeg(t); ok {
				into[geoDegPoint(d)] = d
				return
			}
			for _, e := range t {
				walk(e, depth+1)
			}
		}
	}
	if s := scalarOf(v); s.T == TypeDynamic {
		walk(s.d, 0)
	}
	return into
}

// polygonCoords is the result's polygons as GeoJSON polygon coordinates:
// rings closed, shells counterclockwise, holes clockwise.
func (r *bResult) polygonCoords() []any {
	out := make([]any, 0, len(r.polys))
	for _, poly := range r.polys {
		rings := make([]any, 0, len(poly))
		for _, l := range poly {
			ring := make([]any, 0, len(l.v)+1)
			for _, v := range l.v {
				ring = append(ring, r.geoCoordOf(v))
			}
			ring = append(ring, r.geoCoordOf(l.v[0]))
			rings = append(rings, ring)
		}
		out = append(out, rings)
	}
	return out
}

func (r *bResult) lineCoords() []any {
	out := make([]any, 0, len(r.lines))
	for _, l := range r.lines {
		line := make([]any, len(l))
		for i, v := range l {
			line[i] = r.geoCoordOf(v)
		}
		out = append(out, line)
	}
	return out
}

// geometries is the result as GeoJSON geometries: its points, its lines,
// its polygons, each kind as one geometry (single or multi).
func (r *bResult) geometries() []any {
	var out []any
	if len(r.points) > 0 {
		pts := make([]any, len(r.points))
		for i, v := range r.points {
			pts[i] = r.geoCoordOf(v)
		}
		out = append(out, geoOneOrMulti("Point", pts))
	}
	if len(r.lines) > 0 {
		out = append(out, geoOneOrMulti("LineString", r.lineCoords()))
	}
	if len(r.polys) > 0 {
		out = append(out, geoOneOrMulti("Polygon", r.polygonCoords()))
	}
	return out
}

// geoOneOrMulti is a GeoJSON geometry of one part (type typ) or of several
// (type Multi+typ).
func geoOneOrMulti(typ string, parts []any) *Bag {
	if len(parts) == 1 {
		return geoBag(typ, parts[0])
	}
	return geoBag("Multi"+typ, parts)
}

// geoCollection is a result of any kind: its one geometry, or a
// GeometryCollection of several, or of none when it is empty.
func geoCollection(geoms []any) Value {
	if len(geoms) == 1 {
		return Dynamic(geoms[0])
	}
	b := NewBag()
	b.Set("type", "GeometryCollection")
	if geoms == nil {
		geoms = []any{}
	}
	b.Set("geometries", geoms)
	return Dynamic(b)
}

// geoBoolFail stops the query when the engine refuses its input (too
// spread out, too large): an error, never a wrong shape.
func geoBoolFail(call *Call, err error) {
	if le, ok := err.(*LimitError); ok {
		panic(le)
	}
	panic(errAt(call, "%s: %v", call.Name, err))
}

// geoUnionPolys is the union of polygons of one operand; nil when one of
// them is invalid.
func geoUnionPolys(call *Call, polys []*s2.Polygon, g *governor) *bResult {
	parts, _ := geoPolyParts(polys, 0, 0)
	res, err := overlayPolygons(parts, func(a, _ bool) bool { return a }, false, g, call.Name+" function")
	if err == errGeoBoolInvalid {
		return nil
	}
	if err != nil {
		geoBoolFail(call, err)
	}
	return res
}

// geoArrayOf reads a dynamic array whose elements read with read; false
// when it is not an array or any element is invalid.
func geoArrayOf[T any](v Value, read func(Value) ([]T, bool)) ([]T, bool) {
	s := scalarOf(v)
	if s.T != TypeDynamic || s.IsNull() {
		return nil, false
	}
	arr, ok := s.d.([]any)
	if !ok {
		return nil, false
	}
	var out []T
	for _, e := range arr {
		x, ok := read(Dynamic(e))
		if !ok {
			return nil, false
		}
		out = append(out, x...)
	}
	return out, true
}

func init() {
	// geo_intersection_2polygons(polygon1, polygon2)
	governedFuncs["geo_intersection_2polygons"] = func(g *governor) fnImpl {
		return func(call *Call, args []cexpr) (cexpr, error) {
			if err := geoCheck(call, args, 2, 2, 0, 1); err != nil {
				return cexpr{}, err
			}
			var c1, c2 shapeCache[[]*s2.Polygon]
			return evalN(TypeDynamic, args, func(_ Type, v []Value) Value {
				a, ok1 := c1.get(v[0], geoPolygons)
				b, ok2 := c2.get(v[1], geoPolygons)
				if !ok1 || !ok2 {
					return Null(TypeDynamic)
				}
				pa, next := geoPolyParts(a, 0, 0)
				pb, _ := geoPolyParts(b, 1, next)
				res, err := overlayPolygons(append(pa, pb...), func(x, y bool) bool { return x && y }, true, g, call.Name+" function")
				if err == errGeoBoolInvalid {
					return Null(TypeDynamic)
				}
				if err != nil {
					geoBoolFail(call, err)
				}
				res.deg = geoInputDegrees(v[1], geoInputDegrees(v[0], nil))
				return geoCollection(res.geometries())
			}), nil
		}
	}

	// geo_union_polygons_array(polygons)
	governedFuncs["geo_union_polygons_array"] = func(g *governor) fnImpl {
		return func(call *Call, args []cexpr) (cexpr, error) {
			if err := geoCheck(call, args, 1, 1, 0); err != nil {
				return cexpr{}, err
			}
			return evalN(TypeDynamic, args, func(_ Type, v []Value) Value {
				polys, ok := geoArrayOf(v[0], geoPolygonsOne)
				if !ok || len(polys) == 0 {
					return Null(TypeDynamic)
				}
				res := geoUnionArray(call, polys, g)
				if res == nil || len(res.polys) == 0 {
					return Null(TypeDynamic)
				}
				res.deg = geoInputDegrees(v[0], nil)
				return Dynamic(geoOneOrMulti("Polygon", res.polygonCoords()))
			}), nil
		}
	}

	// geo_union_lines_array(lineStrings)
	governedFuncs["geo_union_lines_array"] = func(g *governor) fnImpl {
		return func(call *Call, args []cexpr) (cexpr, error) {
			if err := geoCheck(call, args, 1, 1, 0); err != nil {
				return cexpr{}, err
			}
			return evalN(TypeDynamic, args, func(_ Type, v []Value) Value {
				lines, ok := geoArrayOf(v[0], geoLines)
				if !ok || len(lines) == 0 {
					return Null(TypeDynamic)
				}
				res := geoUnionLines(call, lines, g)
				if len(res.lines) == 0 {
					return Null(TypeDynamic)
				}
				res.deg = geoInputDegrees(v[0], nil)
				return Dynamic(geoOneOrMulti("LineString", res.lineCoords()))
			}), nil
		}
	}
}

// geoUnionLines nodes lines where they run along each other or touch, and
// keeps each piece once.
func geoUnionLines(call *Call, lines []geoLine, g *governor) *bResult {
	parts, _ := geoLineParts(lines, 0, 0)
	o, err := newOverlay(parts, g, call.Name+" function")
	if err == nil {
		err = o.node()
	}
	if err != nil {
		geoBoolFail(call, err)
	}
	all := make([]int, len(o.segs))
	for i := range all {
		all[i] = i
	}
	return &bResult{verts: o.verts, lines: o.chains(all)}
}

// geoPolygonsOne reads one polygon or multipolygon as one element.
func geoPolygonsOne(v Value) ([][]*s2.Polygon, bool) {
	p, ok := geoPolygons(v)
	return [][]*s2.Polygon{p}, ok
}

// bOperand is a shape waiting in geoUnionArray's queue: its parts' rings
// (interior on the left) and its vertex count.
type bOperand struct {
	rings    [][][]s2.Point
	vertices int
	seq      int
}

type bQueue []bOperand

func (q bQueue) Len() int { return len(q) }
func (q bQueue) Less(i, j int) bool {
	return q[i].vertices < q[j].vertices || q[i].vertices == q[j].vertices && q[i].seq < q[j].seq
}
func (q bQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *bQueue) Push(x any)   { *q = append(*q, x.(bOperand)) }
func (q *bQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// geoOperandOf is polygons as one operand: each polygon's rings, interior
// on the left.
func geoOperandOf(polys []*s2.Polygon) bOperand {
	var b bOperand
	for _, p := range polys {
		var rings [][]s2.Point
		for _, l := range p.Loops() {
			r := make([]s2.Point, l.NumVertices())
			for i := range r {
				r[i] = l.OrientedVertex(i)
			}
			b.vertices += len(r)
			rings = append(rings, r)
		}
		b.rings = append(b.rings, rings)
	}
	return b
}

// parts numbers an operand's edges from next.
func (b bOperand) parts(op, next int) ([]bPart, int) {
	out := make([]bPart, len(b.rings))
	for i, rings := range b.rings {
		out[i] = bPart{op: op, rings: rings}
		for _, r := range rings {
			var ids []int
			ids, next = geoEdgeIDs(len(r), next)
			out[i].ids = append(out[i].ids, ids)
		}
	}
	return out, next
}

// geoUnionArray unions the shapes the way S2's DestructiveUnion does,
// which fixes the vertex order of the answer: the two shapes with the
// fewest vertices (the earlier first among equals) are joined, and the
// result goes back into the queue, until one is left.
func geoUnionArray(call *Call, shapes [][]*s2.Polygon, g *governor) *bResult {
	q := make(bQueue, 0, len(shapes))
	seq := 0
	for _, polys := range shapes {
		b := geoOperandOf(polys)
		b.seq = seq
		seq++
		q = append(q, b)
	}
	heap.Init(&q)
	var res *bResult
	for {
		a := heap.Pop(&q).(bOperand)
		var parts []bPart
		if q.Len() == 0 {
			if res != nil {
				return res
			}
			parts, _ = a.parts(0, 0)
		} else {
			b := heap.Pop(&q).(bOperand)
			pa, next := a.parts(0, 0)
			pb, _ := b.parts(1, next)
			parts = append(pa, pb...)
		}
		var err error
		res, err = overlayPolygons(parts, func(x, y bool) bool { return x || y }, false, g, call.Name+" function")
		if err == errGeoBoolInvalid {
			return nil
		}
		if err != nil {
			geoBoolFail(call, err)
		}
		if q.Len() == 0 {
			return res
		}
		u := bOperand{seq: seq}
		seq++
		for _, poly := range res.polys {
			var rings [][]s2.Point
			for _, l := range poly {
				r := make([]s2.Point, len(l.v))
				for i, v := range l.v {
					r[i] = res.verts[v].sp
				}
				u.vertices += len(r)
				rings = append(rings, r)
			}
			u.rings = append(u.rings, rings)
		}
		heap.Push(&q, u)
	}
}
