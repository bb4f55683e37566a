package kql

import (
	"cmp"
	"slices"

	"github.com/golang/geo/s2"
)

// geoResult collects an intersection: points and line pieces, counted
// against the query's memory budget as they are added.
type geoResult struct {
	points []s2.Point
	pieces [][]s2.Point
	g      *governor
	what   string
}

func (r *geoResult) count() {
	if r.g != nil {
		r.g.alloc(r.what, 64)
	}
}

func (r *geoResult) addPoint(p s2.Point) {
	r.count()
	r.points = append(r.points, p)
}

// finish drops the points that lie on a piece and repeated points, and
// reports whether two pieces overlap (the first shape overlaps itself: the
// intersection is then the union of the pieces, which is not built).
func (r *geoResult) finish() bool {
	if len(r.pieces) == 0 {
		r.points = geoDedupe(r.points)
		return false
	}
	ix := newGeoLinesIndex(r.pieces) // built at its first query
	if len(r.points) > 0 {
		r.points = slices.DeleteFunc(r.points, func(p s2.Point) bool { return !ix.near(p, p, func(s2.Edge) bool { return false }) })
	}
	r.points = geoDedupe(r.points)
	return geoPiecesOverlap(r.pieces, ix)
}

// geoDedupe drops points within geoTouch of an earlier one, keeping the
// order: a sweep over the points sorted by x.
func geoDedupe(pts []s2.Point) []s2.Point {
	if len(pts) < 2 {
		return pts
	}
	order := make([]int, len(pts))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int { return cmp.Or(cmp.Compare(pts[i].X, pts[j].X), cmp.Compare(i, j)) })
	drop := make([]bool, len(pts))
	for k, i := range order {
		for q := k - 1; q >= 0 && pts[i].X-pts[order[q]].X <= geoTouch; q-- {
			if j := order[q]; !drop[j] && pts[i].Distance(pts[j]) <= geoTouch {
				drop[max(i, j)] = true
			}
		}
	}
	out := pts[:0]
	for i, p := range pts {
		if !drop[i] {
			out = append(out, p)
		}
	}
	return out
}

// geoPiecesOverlap reports whether two edges of the pieces (of one piece
// or of two) share a stretch; ix is the pieces' edge index.
func geoPiecesOverlap(pieces [][]s2.Point, ix *geoEdgeIndex) bool {
	n := 0
	for _, pc := range pieces {
		n += len(pc) - 1
	}
	if n < 2 {
		return false
	}
	for _, pc := range pieces {
		for i := 1; i < len(pc); i++ {
			a, b := pc[i-1], pc[i]
			f := newGeoFrame(a, b)
			self := false
			if !ix.near(a, b, func(e s2.Edge) bool {
				if e.V0 == a && e.V1 == b && !self {
					self = true // the edge itself, met once
					return true
				}
				m := geoEdgeMeet(f, e.V0, e.V1)
				return !m.overlap
			}) {
				return true
			}
		}
	}
	return false
}

// value is the result as GeoJSON: a Point or MultiPoint, a LineString or
// MultiLineString, both in a GeometryCollection (points first), or an
// empty GeometryCollection.
func (r *geoResult) value() Value {
	line := func(pc []s2.Point) []any {
		cs := make([]any, len(pc))
		for i, p := range pc {
			cs[i] = geoCoordOf(p)
		}
		return cs
	}
	var parts []any
	if len(r.points) > 0 {
		parts = append(parts, geoOneOrMulti("Point", line(r.points)))
	}
	if len(r.pieces) > 0 {
		ls := make([]any, len(r.pieces))
		for i, pc := range r.pieces {
			ls[i] = line(pc)
		}
		parts = append(parts, geoOneOrMulti("LineString", ls))
	}
	return geoCollection(parts)
}

func geoCoordOf(p s2.Point) []any {
	ll := s2.LatLngFromPoint(p)
	return []any{ll.Lng.Degrees(), ll.Lat.Degrees()}
}
