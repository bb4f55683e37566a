//go:build cgo

package kql

import (
	"fmt"
	"math"

	h3 "github.com/uber/h3-go/v4"
)

// geo_polygon_to_h3cells: the cells whose centers are inside a polygon or
// multipolygon, as H3's polygonToCells finds them (its edges are straight
// lines in longitude and latitude, as the reference says). H3 first sizes
// a work area from the polygon's bounding box: three arrays of that many
// 8-byte cells (two in C, one in Go, plus the Go copy of the result). A
// long thin diagonal polygon at a fine resolution has a huge bounding box
// and a small result, so the work area, not the result, is what is counted
// against the query's memory before H3 is called.

// h3MaxPolygonCells is the reference's limit: a polygon of more cells
// gives null.
const h3MaxPolygonCells = 61680

// h3FillSlotBytes is what one slot of H3's work area costs.
const h3FillSlotBytes = 32

// h3MaxFillBytes caps the work area even when the query's memory is not
// limited: the C library's allocations are outside Go's heap.
const h3MaxFillBytes = 1 << 30

// h3PolygonsOf reads a GeoJSON Polygon or MultiPolygon: the shape must be
// valid under the rules every geospatial function applies (geoPolygons);
// H3 then gets its rings as they were written, without the closing
// position, the first ring the shell and the others its holes.
func h3PolygonsOf(v Value) ([]h3.GeoPolygon, bool) {
	if _, ok := geoPolygons(v); !ok {
		return nil, false
	}
	parts, _ := geoParts(v, "Polygon", "MultiPolygon")
	out := make([]h3.GeoPolygon, 0, len(parts))
	for _, rings := range parts {
		var p h3.GeoPolygon
		for i, r := range rings {
			ring := r.([]any)
			loop := make(h3.GeoLoop, 0, len(ring)-1)
			for _, c := range ring[:len(ring)-1] {
				d, _ := geoDeg(c)
				loop = append(loop, h3.NewLatLng(d[1], d[0]))
			}
			if i == 0 {
				p.GeoLoop = loop
			} else {
				p.Holes = append(p.Holes, loop)
			}
		}
		out = append(out, p)
	}
	return out, true
}

// h3Transmeridian reports whether a ring has an edge longer than 180° of
// longitude, which H3 takes as the ring crossing the antimeridian.
func h3Transmeridian(loop h3.GeoLoop) bool {
	for i, ll := range loop {
		if math.Abs(ll.Lng-loop[(i+1)%len(loop)].Lng) > 180 {
			return true
		}
	}
	return false
}

// h3FillSlots is the size of the work area H3 allocates for one polygon
// (its maxPolygonToCellsSize: a bounding-box estimate in cells of the
// resolution's most distorted size, at least the vertex count, plus 12).
// ok is false when H3 cannot size it (a bounding box of no width or no
// height): H3 would then fail, so the polygon has no cells to give.
func h3FillSlots(p h3.GeoPolygon, res int) (int64, bool) {
	north, south := -math.MaxFloat64, math.MaxFloat64
	east, west := -math.MaxFloat64, math.MaxFloat64
	minPos, maxNeg := math.MaxFloat64, -math.MaxFloat64
	for _, ll := range p.GeoLoop {
		north, south = max(north, ll.Lat), min(south, ll.Lat)
		east, west = max(east, ll.Lng), min(west, ll.Lng)
		if ll.Lng > 0 {
			minPos = min(minPos, ll.Lng)
		}
		if ll.Lng < 0 {
			maxNeg = max(maxNeg, ll.Lng)
		}
	}
	if h3Transmeridian(p.GeoLoop) {
		east, west = maxNeg, minPos
	}
	lngDiff, latDiff := math.Abs(east-west), math.Abs(north-south)
	if lngDiff == 0 || latDiff == 0 {
		return 0, false
	}
	d := h3.GreatCircleDistanceKm(h3.NewLatLng(north, east), h3.NewLatLng(south, west))
	r := h3PentagonRadiusKm(res)
	est := math.Ceil(d * d / min(3, max(lngDiff, latDiff)/min(lngDiff, latDiff)) / (0.8 * 2.59807621135 * r * r))
	if math.IsNaN(est) || math.IsInf(est, 0) {
		return 0, false
	}
	verts := len(p.GeoLoop)
	for _, h := range p.Holes {
		verts += len(h)
	}
	est = min(est, h3MaxFillBytes) // over the cap either way; no overflow
	return max(int64(est), 1, int64(verts)) + 12, true
}

// h3PentagonRadiusKm is the distance from the center of a pentagon of
// resolution res to its first vertex: H3's measure of its most distorted
// cell, from which it sizes its work.
func h3PentagonRadiusKm(res int) float64 {
	pent := h3.Pentagons(res)[0]
	return h3.GreatCircleDistanceKm(pent.LatLng(), pent.Boundary()[0])
}

// h3TracePoints is how many points H3 samples along a polygon's rings to
// find the cells of its boundary (lineHexEstimate for every edge: the
// edge's length in pentagon diameters, at least 1): at most that many
// distinct cells go into its work area before the fill starts.
func h3TracePoints(p h3.GeoPolygon, res int) int64 {
	diameter := 2 * h3PentagonRadiusKm(res)
	var n int64
	for _, loop := range append([]h3.GeoLoop{p.GeoLoop}, p.Holes...) {
		for i, a := range loop {
			d := math.Ceil(h3.GreatCircleDistanceKm(a, loop[(i+1)%len(loop)]) / diameter)
			n += max(int64(min(d, h3MaxFillBytes)), 1)
		}
	}
	return n
}

// h3PlanarArea is the area in km² of the region a ring bounds when its
// edges are straight in longitude and latitude (H3's reading), on H3's
// sphere: the integral of sin(latitude) along the edges (Green's theorem).
func h3PlanarArea(loop h3.GeoLoop) float64 {
	shift := h3Transmeridian(loop)
	lng := func(ll h3.LatLng) float64 {
		if shift && ll.Lng < 0 {
			return ll.Lng + 360
		}
		return ll.Lng
	}
	var sum float64
	for i, a := range loop {
		b := loop[(i+1)%len(loop)]
		dl := (lng(b) - lng(a)) * h3.DegsToRads
		m := (a.Lat + b.Lat) / 2 * h3.DegsToRads
		h := (b.Lat - a.Lat) / 2 * h3.DegsToRads
		sinc := 1.0
		if h != 0 {
			sinc = math.Sin(h) / h
		}
		sum += dl * math.Sin(m) * sinc
	}
	const earthRadiusKm = 6371.007180918475 // H3's authalic radius
	return math.Abs(sum) * earthRadiusKm * earthRadiusKm
}

// h3PolygonArea is a polygon's area in km² without its holes.
func h3PolygonArea(p h3.GeoPolygon) float64 {
	area := h3PlanarArea(p.GeoLoop)
	for _, h := range p.Holes {
		area -= h3PlanarArea(h)
	}
	return area
}

// h3SurelyTooMany reports whether polygons hold more cells than the
// reference's limit without filling them: cells are at most 1.21 times the
// resolution's average area (measured over all cells of resolutions 0 to
// 3), so an area over twice the limit's worth of average cells holds more
// centers than the limit. Only a strip thinner than a cell could slip
// between the centers; at that area it is so long that its bounding box
// is over the work area's cap anyway.
func h3SurelyTooMany(polys []h3.GeoPolygon, res int) bool {
	var area float64
	for _, p := range polys {
		area += h3PolygonArea(p)
	}
	return area/(2*h3.HexagonAreaAvgKm2(res)) > h3MaxPolygonCells
}

// h3Fill fills polygons with cells of one resolution: H3's order within a
// polygon, polygons in turn, each cell once. ok is false when there are
// more cells than the reference's limit.
func h3Fill(g *governor, polys []h3.GeoPolygon, res int) ([]h3.Cell, bool) {
	if h3SurelyTooMany(polys, res) {
		return nil, false
	}
	seen := map[h3.Cell]bool{}
	var out []h3.Cell
	for _, p := range polys {
		slots, ok := h3FillSlots(p, res)
		if !ok {
			continue
		}
		if slots*h3FillSlotBytes > h3MaxFillBytes {
			panic(runaway("geo_polygon_to_h3cells function", h3MaxFillBytes))
		}
		g.alloc("geo_polygon_to_h3cells function", slots*h3FillSlotBytes)
		cells := h3.PolygonToCells(p, res)
		if int64(len(cells)) >= slots || len(cells) == 0 && h3TracePoints(p, res) > slots {
			// H3 gives up when its work area fills (an error code
			// h3-go drops), leaving a partial or an empty answer: only
			// a full table, or a boundary traced through more points than
			// the table holds, can do that. Either is an error here,
			// never a wrong answer.
			panic(fmt.Errorf("geo_polygon_to_h3cells: H3's work area of %d cells overflowed for a polygon of %d vertices at resolution %d",
				slots, len(p.GeoLoop), res))
		}
		for _, c := range cells {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
		if len(out) > h3MaxPolygonCells {
			return nil, false
		}
	}
	return out, true
}

func init() {
	// geo_polygon_to_h3cells(polygon[, resolution = 6[, radius = 0]])
	geoLevelArg["geo_polygon_to_h3cells"] = 1
	governedFuncs["geo_polygon_to_h3cells"] = func(g *governor) fnImpl {
		return func(call *Call, args []cexpr) (cexpr, error) {
			if err := geoCheck(call, args, 1, 3, 0); err != nil {
				return cexpr{}, err
			}
			args, err := geoNoBuffer(call, args, 2)
			if err != nil {
				return cexpr{}, err
			}
			var cache shapeCache[[]h3.GeoPolygon]
			return evalN(TypeDynamic, args, func(_ Type, v []Value) Value {
				polys, ok := cache.get(v[0], h3PolygonsOf)
				res, ok2 := geoLevel(v, 1, 6, 0, h3.MaxResolution)
				if !ok || !ok2 {
					return Null(TypeDynamic)
				}
				cells, ok := h3Fill(g, polys, res)
				if !ok {
					return Null(TypeDynamic)
				}
				g.alloc("geo_polygon_to_h3cells function", int64(len(cells))*h3TokenBytes)
				return Dynamic(h3Tokens(cells))
			}), nil
		}
	}
}
