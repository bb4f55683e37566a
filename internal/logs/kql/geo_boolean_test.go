package kql

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/golang/geo/s2"
)

// geoRotateRings turns every closed ring of a decoded GeoJSON geometry to
// start at its least vertex (by longitude, then latitude), for comparing
// shapes whose vertex order no page fixes.
func geoRotateRings(x any) {
	switch t := x.(type) {
	case map[string]any:
		geoRotateRings(t["coordinates"])
		geoRotateRings(t["geometries"])
	case []any:
		if len(t) > 3 {
			first, ok1 := t[0].([]any)
			last, ok2 := t[len(t)-1].([]any)
			if ok1 && ok2 && len(first) == 2 && geoJSONClose(first, last, 0) {
				ring := t[:len(t)-1]
				best := 0
				for i, p := range ring {
					a, b := p.([]any), ring[best].([]any)
					if a[0].(float64) < b[0].(float64) || a[0].(float64) == b[0].(float64) && a[1].(float64) < b[1].(float64) {
						best = i
					}
				}
				rot := append(append([]any{}, ring[best:]...), ring[:best]...)
				copy(t, append(rot, rot[0]))
				return
			}
		}
		for _, e := range t {
			geoRotateRings(e)
		}
	}
}

// checkGeoQuery runs q (one row, one dynamic column) and compares its value
// with want to within 1e-9 degrees (about 0.1 mm).
func checkGeoQuery(t *testing.T, q, want string) {
	t.Helper()
	checkGeoJSONAs(t, q, want, false)
}

// checkGeoJSONAs is checkGeoQuery, with rings compared from their least
// vertex when anyStart is set.
func checkGeoJSONAs(t *testing.T, q, want string, anyStart bool) {
	t.Helper()
	checkGeoJSONQuery(t, q, want, 1e-9, anyStart)
}

// TestGeoIntersection2PolygonsPage runs geo-intersection-2polygons-function's
// examples: a polygon, a point where two triangles touch, a collection of
// both, nothing, and null for an invalid polygon. Vertices and their order
// are the page's (the last digits of computed crossings differ).
func TestGeoIntersection2PolygonsPage(t *testing.T) {
	for _, tc := range []struct{ p1, p2, want string }{
		{`{"type":"Polygon","coordinates":[[[-73.9630937576294,40.77498840732385],[-73.963565826416,40.774383111780914],[-73.96205306053162,40.773745311181585],[-73.96160781383514,40.7743912365898],[-73.9630937576294,40.77498840732385]]]}`,
			`{"type":"Polygon","coordinates":[[[-73.96213352680206,40.775045280447145],[-73.9631313085556,40.774578106920345],[-73.96207988262177,40.77416780398293],[-73.96213352680206,40.775045280447145]]]}`,
			`{"type": "Polygon",  "coordinates": [[[-73.962105776437156,40.774591360999679],[-73.962642403166868,40.774807020251778],[-73.9631313085556,40.774578106920352],[-73.962079882621765,40.774167803982927],[-73.962105776437156,40.774591360999679]]]}`},
		{`{"type":"Polygon","coordinates":[[[2,45],[0,45],[1,44],[2,45]]]}`, `{"type":"Polygon","coordinates":[[[3,44],[2,45],[2,43],[3,44]]]}`,
			`{"type": "Point","coordinates": [2,45]}`},
		{`{"type":"Polygon","coordinates":[[[2,45],[0,45],[1,44],[2,45]]]}`,
			`{"type":"MultiPolygon","coordinates":[[[[3,44],[2,45],[2,43],[3,44]]],[[[1.192,45.265],[1.005,44.943],[1.356,44.937],[1.192,45.265]]]]}`,
			`{"type": "GeometryCollection","geometries": [{ "type": "Point", "coordinates": [2, 45]},{ "type": "Polygon", "coordinates": [[[1.3227075526410679,45.003909145068739],[1.0404565374899824,45.004356403066552],[1.005,44.943],[1.356,44.937],[1.3227075526410679,45.003909145068739]]]}]}`},
		{`{"type":"Polygon","coordinates":[[[2,45],[0,45],[1,44],[2,45]]]}`, `{"type":"Polygon","coordinates":[[[3,44],[3,45],[2,43],[3,44]]]}`,
			`{"type": "GeometryCollection", "geometries": []}`},
	} {
		checkGeoQuery(t, "print geo_intersection_2polygons(dynamic("+tc.p1+"), dynamic("+tc.p2+"))", tc.want)
	}
	res := runQuery(t, `let central_park_polygon = dynamic({"type":"Polygon","coordinates":[[[-73.9495,40.7969],[-73.95807266235352,40.80068603561921],[-73.98201942443848,40.76825672305777],[-73.97317886352539,40.76455136505513],[-73.9495,40.7969]]]});
let invalid_polygon = dynamic({"type":"Polygon"});
print isnull(geo_intersection_2polygons(invalid_polygon, central_park_polygon))`)
	if got := res.Rows[0][0].Text(); got != "True" {
		t.Errorf("invalid polygon: %s", got)
	}
}

// TestGeoUnionPolygonsArrayPage runs geo-union-polygons-array-function's
// examples: three polygons, two, and null when one is invalid; the
// vertex order is the page's.
func TestGeoUnionPolygonsArrayPage(t *testing.T) {
	checkGeoQuery(t, `datatable(polygons:dynamic)
[
    dynamic({"type":"Polygon","coordinates":[[[-73.9495,40.7969],[-73.95807,40.80068],[-73.98201,40.76825],[-73.97317,40.76455],[-73.9495,40.7969]]]}),
    dynamic({"type":"Polygon","coordinates":[[[-73.94622,40.79249],[-73.96888,40.79282],[-73.9577,40.7789],[-73.94622,40.79249]]]}),
    dynamic({"type":"Polygon","coordinates":[[[-73.97335,40.77274],[-73.9936,40.76630],[-73.97171,40.75655],[-73.97335,40.77274]]]})
]
| summarize polygons_arr = make_list(polygons)
| project polygons_union = geo_union_polygons_array(polygons_arr)`,
		`{"type":"Polygon","coordinates":[[[-73.972599326729608,40.765330371902991],[-73.960302383706178,40.782140794645024],[-73.9577,40.7789],[-73.94622,40.79249],[-73.9526593223173,40.792584227716468],[-73.9495,40.7969],[-73.95807,40.80068],[-73.9639277517478,40.792748258673875],[-73.96888,40.792819999999992],[-73.9662719791645,40.7895734224338],[-73.9803360309571,40.770518810606404],[-73.9936,40.7663],[-73.97171,40.756550000000004],[-73.972599326729608,40.765330371902991]]]}`)
	checkGeoQuery(t, `datatable(polygon1:dynamic, polygon2:dynamic)
[
    dynamic({"type":"Polygon","coordinates":[[[-73.9495,40.7969],[-73.95807,40.80068],[-73.98201,40.76825],[-73.97317,40.76455],[-73.9495,40.7969]]]}), dynamic({"type":"Polygon","coordinates":[[[-73.94622,40.79249],[-73.96888,40.79282],[-73.9577,40.7789],[-73.94622,40.79249]]]})
]
| project polygons_arr = pack_array(polygon1, polygon2)
| project polygons_union = geo_union_polygons_array(polygons_arr)`,
		`{"type":"Polygon","coordinates":[[[-73.9495,40.7969],[-73.95807,40.80068],[-73.9639277517478,40.792748258673875],[-73.96888,40.792819999999992],[-73.9662719791645,40.7895734224338],[-73.98201,40.76825],[-73.97317,40.76455],[-73.960302383706178,40.782140794645024],[-73.9577,40.7789],[-73.94622,40.79249],[-73.9526593223173,40.792584227716468],[-73.9495,40.7969]]]}`)
	res := runQuery(t, `datatable(polygons:dynamic)
[
    dynamic({"type":"Polygon","coordinates":[[[-73.9495,40.7969],[-73.95807,40.80068],[-73.98201,40.76825],[-73.97317,40.76455],[-73.9495,40.7969]]]}),
    dynamic({"type":"Polygon","coordinates":[[[-73.94622,40.79249]]]})
]
| summarize polygons_arr = make_list(polygons)
| project invalid_union = isnull(geo_union_polygons_array(polygons_arr))`)
	if got := res.Rows[0][0].Text(); got != "True" {
		t.Errorf("invalid polygon: %s", got)
	}
}

// TestGeoUnionLinesArrayPage runs geo-union-lines-array-function's
// examples. The page prints its input vertices after a round trip through
// S2's points (40.80510200431312 for the input's 40.80510200431311);
// Steward returns input vertices as given, within the 1e-9 compared here.
func TestGeoUnionLinesArrayPage(t *testing.T) {
	want := `{"type": "LineString", "coordinates": [[-73.956838846206651, 40.805028914808844], [-73.95633727312088, 40.8057171711177], [ -73.954891562461853, 40.80510200431312], [-73.955374360084534, 40.804413741624522]]}`
	checkGeoQuery(t, `datatable(lines:dynamic)
[
    dynamic({"type":"LineString","coordinates":[[-73.95683884620665,40.80502891480884],[-73.95633727312088,40.8057171711177],[-73.95489156246185,40.80510200431311]]}),
    dynamic({"type":"LineString","coordinates":[[-73.95633727312088,40.8057171711177],[-73.95489156246185,40.80510200431311],[-73.95537436008453,40.804413741624515]]}),
    dynamic({"type":"LineString","coordinates":[[-73.95633727312088,40.8057171711177],[-73.95489156246185,40.80510200431311]]})
]
| summarize lines_arr = make_list(lines)
| project lines_union = geo_union_lines_array(lines_arr)`, want)
	checkGeoQuery(t, `datatable(line1:dynamic, line2:dynamic)
[
    dynamic({"type":"LineString","coordinates":[[-73.95683884620665,40.80502891480884],[-73.95633727312088,40.8057171711177],[-73.95489156246185,40.80510200431311]]}), dynamic({"type":"LineString","coordinates":[[-73.95633727312088,40.8057171711177],[-73.95489156246185,40.80510200431311],[-73.95537436008453,40.804413741624515]]})
]
| project lines_arr = pack_array(line1, line2)
| project lines_union = geo_union_lines_array(lines_arr)`, want)
	res := runQuery(t, `datatable(lines:dynamic)
[
    dynamic({"type":"LineString","coordinates":[[-73.95683884620665,40.80502891480884],[-73.95633727312088,40.8057171711177],[-73.95489156246185,40.80510200431311]]}),
    dynamic({"type":"LineString","coordinates":[[1, 1]]})
]
| summarize lines_arr = make_list(lines)
| project invalid_union = isnull(geo_union_lines_array(lines_arr))`)
	if got := res.Rows[0][0].Text(); got != "True" {
		t.Errorf("invalid line: %s", got)
	}
}

// TestGeoUnionLinesShapes: lines that cross stay whole, a line touching
// another's middle splits it there, a piece drawn twice is kept once.
func TestGeoUnionLinesShapes(t *testing.T) {
	for _, tc := range []struct{ lines, want string }{
		{`[{"type":"LineString","coordinates":[[0,0],[2,2]]},{"type":"LineString","coordinates":[[0,2],[2,0]]}]`,
			`{"type":"MultiLineString","coordinates":[[[0,0],[2,2]],[[0,2],[2,0]]]}`},
		{`[{"type":"LineString","coordinates":[[0,0],[0,2]]},{"type":"LineString","coordinates":[[0,1],[1,1]]}]`,
			`{"type":"MultiLineString","coordinates":[[[0,0],[0,1]],[[0,1],[0,2]],[[0,1],[1,1]]]}`},
		{`[{"type":"MultiLineString","coordinates":[[[0,0],[0,2]],[[0,1],[0,3]]]}]`,
			`{"type":"LineString","coordinates":[[0,0],[0,1],[0,2],[0,3]]}`},
	} {
		checkGeoQuery(t, "print geo_union_lines_array(dynamic("+tc.lines+"))", tc.want)
	}
}

// geoSquareJSON is a GeoJSON polygon of the square [x0,x1]×[y0,y1] with
// meridian sides (geodesics) and parallel sides (which are not: the
// shapes here are still exact, as Kusto reads them as geodesics too).
func geoSquareJSON(x0, y0, x1, y1 float64) string {
	return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]}`, x0, y0, x1, y0, x1, y1, x0, y1, x0, y0)
}

// TestGeoBooleanCases: identical, disjoint, nested, touching, edge-sharing
// and holed inputs give the shapes they must (rings compared from their
// least vertex: where a ring starts is S2's rule, checked on the pages'
// examples above).
func TestGeoBooleanCases(t *testing.T) {
	sq := geoSquareJSON(0, 0, 1, 1)
	holed := `{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[1,1],[1,3],[3,3],[3,1],[1,1]]]}`
	for _, tc := range []struct{ p1, p2, want string }{
		// identical: the polygon itself
		{sq, sq, sq},
		// disjoint: nothing
		{sq, geoSquareJSON(2, 2, 3, 3), `{"type":"GeometryCollection","geometries":[]}`},
		// nested: the inner one
		{geoSquareJSON(0, 0, 3, 3), sq, sq},
		// touching at a corner: the corner
		{sq, geoSquareJSON(1, 1, 2, 2), `{"type":"Point","coordinates":[1,1]}`},
		// sharing part of a side (a meridian): that part
		{sq, geoSquareJSON(1, 0.5, 2, 1.5), `{"type":"LineString","coordinates":[[1,0.5],[1,1]]}`},
		// inside the hole, touching nothing: nothing
		{holed, geoSquareJSON(1.5, 1.5, 2.5, 2.5), `{"type":"GeometryCollection","geometries":[]}`},
		// filling the hole exactly: the hole's boundary, shared
		{holed, geoSquareJSON(1, 1, 3, 3), `{"type":"LineString","coordinates":[[1,1],[1,3],[3,3],[3,1],[1,1]]}`},
	} {
		checkGeoJSONAs(t, "print geo_intersection_2polygons(dynamic("+tc.p1+"), dynamic("+tc.p2+"))", tc.want, true)
	}
	for _, tc := range []struct{ arr, want string }{
		{"[" + sq + "," + sq + "]", sq},
		{"[" + sq + "," + geoSquareJSON(2, 2, 3, 3) + "]", `{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,1],[0,0]]],[[[2,2],[3,2],[3,3],[2,3],[2,2]]]]}`},
		{"[" + sq + "," + geoSquareJSON(1, 0, 2, 1) + "]", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[2,0],[2,1],[1,1],[0,1],[0,0]]]}`},
		// the hole filled: no hole left
		{"[" + holed + "," + geoSquareJSON(1, 1, 3, 3) + "]", `{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]]]}`},
		// a square in the hole: the square and the holed polygon (the
		// smaller shape is taken first, as S2's DestructiveUnion does)
		{"[" + holed + "," + geoSquareJSON(1.5, 1.5, 2.5, 2.5) + "]", `{"type":"MultiPolygon","coordinates":[[[[1.5,1.5],[2.5,1.5],[2.5,2.5],[1.5,2.5],[1.5,1.5]]],[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[1,1],[1,3],[3,3],[3,1],[1,1]]]]}`},
	} {
		checkGeoJSONAs(t, "print geo_union_polygons_array(dynamic("+tc.arr+"))", tc.want, true)
	}
}

// TestGeoBooleanRefusesSpread: shapes more than 80° from their centre
// stop the query with an error naming the limit.
func TestGeoBooleanRefusesSpread(t *testing.T) {
	q := "print geo_union_polygons_array(dynamic([" + geoSquareJSON(-170, 0, -160, 10) + "," + geoSquareJSON(10, 0, 20, 10) + "]))"
	_, err := Run(context.Background(), q, Options{})
	var ce *CompileError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "80°") {
		t.Fatalf("err = %v, want an error about the 80° limit", err)
	}
}

// TestGeoBooleanGoverned: a union whose noding would hold more than the
// memory budget stops with the governor's error.
func TestGeoBooleanGoverned(t *testing.T) {
	var b strings.Builder
	b.WriteString("print geo_union_polygons_array(dynamic([")
	for i := 0; i < 20; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(geoStar(rand.New(rand.NewSource(int64(i))), 0, 0, 5, 150, false))
	}
	b.WriteString("]))")
	_, err := Run(context.Background(), b.String(), Options{Limits: Limits{MaxMemory: 256 << 10}})
	var le *LimitError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v, want a limit error", err)
	}
}

// geoStar is a random star-shaped polygon of n vertices around (x, y) with
// radius up to r degrees; with grid, vertices are rounded to a 0.5° grid,
// which makes shared vertices and collinear edges common.
func geoStar(rnd *rand.Rand, x, y, r float64, n int, grid bool) string {
	ang := make([]float64, n)
	for i := range ang {
		ang[i] = (float64(i) + 0.8*rnd.Float64()) * 2 * math.Pi / float64(n)
	}
	var pts []string
	var first string
	seen := map[string]bool{}
	for _, a := range ang {
		rad := r * (0.3 + 0.7*rnd.Float64())
		px, py := x+rad*math.Cos(a), y+rad*math.Sin(a)
		if grid {
			px, py = math.Round(px*2)/2, math.Round(py*2)/2
		}
		p := fmt.Sprintf("[%g,%g]", px, py)
		if seen[p] {
			continue
		}
		seen[p] = true
		if first == "" {
			first = p
		}
		pts = append(pts, p)
	}
	pts = append(pts, first)
	return `{"type":"Polygon","coordinates":[[` + strings.Join(pts, ",") + `]]}`
}

// geoBoolOp runs one operation on two polygons read from GeoJSON; ok is
// false when an input is not a valid polygon.
func geoBoolOp(t testing.TB, a, b string, keep func(x, y bool) bool) (pa, pb []*s2.Polygon, res *bResult, ok bool) {
	pa, ok1 := geoPolygons(Dynamic(parseJSONT(t, a)))
	pb, ok2 := geoPolygons(Dynamic(parseJSONT(t, b)))
	if !ok1 || !ok2 {
		return nil, nil, nil, false
	}
	p1, next := geoPolyParts(pa, 0, 0)
	p2, _ := geoPolyParts(pb, 1, next)
	res, err := overlayPolygons(append(p1, p2...), keep, true, nil, "test")
	if err == errGeoBoolInvalid {
		return nil, nil, nil, false
	}
	if err != nil {
		t.Fatalf("%s %s: %v", a, b, err)
	}
	return pa, pb, res, true
}

func parseJSONT(t testing.TB, s string) any {
	v, err := ParseJSON(s)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

func polysArea(ps []*s2.Polygon) float64 {
	var a float64
	for _, p := range ps {
		a += p.Area()
	}
	return a
}

// TestGeoBooleanProperties: for random pairs of overlapping polygons (some
// with vertices on a coarse grid, so shared vertices and collinear edges
// abound), area(A∪B) + area(A∩B) = area(A) + area(B), and random points
// away from the boundaries are in A∩B exactly when in A and in B, and in
// A∪B when in either.
func TestGeoBooleanProperties(t *testing.T) {
	rnd := rand.New(rand.NewSource(42))
	and := func(x, y bool) bool { return x && y }
	or := func(x, y bool) bool { return x || y }
	checked := 0
	for i := 0; i < 300; i++ {
		grid := i%2 == 1
		a := geoStar(rnd, rnd.Float64()*4, 40+rnd.Float64()*4, 4, 3+rnd.Intn(12), grid)
		b := geoStar(rnd, rnd.Float64()*4, 40+rnd.Float64()*4, 4, 3+rnd.Intn(12), grid)
		pa, pb, inter, ok := geoBoolOp(t, a, b, and)
		if !ok {
			continue
		}
		_, _, union, _ := geoBoolOp(t, a, b, or)
		checked++
		ia, ua := inter.s2Polygon(), union.s2Polygon()
		if err := ua.Validate(); err != nil {
			t.Errorf("union of %s and %s is not a valid polygon: %v", a, b, err)
		}
		lhs, rhs := ua.Area()+ia.Area(), polysArea(pa)+polysArea(pb)
		if math.Abs(lhs-rhs) > 1e-12 {
			t.Errorf("%s %s: area(A∪B)+area(A∩B) = %g, area(A)+area(B) = %g", a, b, lhs, rhs)
		}
		for k := 0; k < 50; k++ {
			ll := s2.LatLngFromDegrees(36+rnd.Float64()*12, -4+rnd.Float64()*12)
			p := s2.PointFromLatLng(ll)
			if geoNearBoundary(p, pa) || geoNearBoundary(p, pb) {
				continue
			}
			inA, inB := pa[0].ContainsPoint(p), pb[0].ContainsPoint(p)
			if got := ia.ContainsPoint(p); got != (inA && inB) {
				t.Errorf("%s %s: point %v in A∩B = %v, in A %v, in B %v", a, b, ll, got, inA, inB)
			}
			if got := ua.ContainsPoint(p); got != (inA || inB) {
				t.Errorf("%s %s: point %v in A∪B = %v, in A %v, in B %v", a, b, ll, got, inA, inB)
			}
		}
	}
	if checked < 200 {
		t.Fatalf("only %d valid pairs", checked)
	}
}

// geoNearBoundary: p is within 1e-9 radians of a boundary edge.
func geoNearBoundary(p s2.Point, polys []*s2.Polygon) bool {
	for _, poly := range polys {
		for i := 0; i < poly.NumEdges(); i++ {
			e := poly.Edge(i)
			if s2.DistanceFromSegment(p, e.V0, e.V1).Radians() < 1e-9 {
				return true
			}
		}
	}
	return false
}

// FuzzGeoBoolean: polygons on a small integer grid (degenerate by design)
// never make the engine panic, and when both are valid the area identity
// holds.
func FuzzGeoBoolean(f *testing.F) {
	f.Add([]byte{0, 0, 4, 0, 4, 4, 0, 4}, []byte{2, 2, 6, 2, 6, 6, 2, 6})
	f.Add([]byte{0, 0, 4, 0, 4, 4}, []byte{4, 0, 8, 0, 4, 4})
	f.Add([]byte{0, 0, 4, 0, 4, 4, 0, 4}, []byte{0, 0, 4, 0, 4, 4, 0, 4})
	ring := func(b []byte) string {
		var pts []string
		for i := 0; i+1 < len(b) && i < 40; i += 2 {
			pts = append(pts, fmt.Sprintf("[%d,%d]", int(b[i]%16), 40+int(b[i+1]%16)))
		}
		if len(pts) == 0 {
			return `{"type":"Polygon","coordinates":[]}`
		}
		return `{"type":"Polygon","coordinates":[[` + strings.Join(append(pts, pts[0]), ",") + `]]}`
	}
	f.Fuzz(func(t *testing.T, x, y []byte) {
		a, b := ring(x), ring(y)
		pa, pb, inter, ok := geoBoolOp(t, a, b, func(p, q bool) bool { return p && q })
		if !ok {
			return
		}
		_, _, union, _ := geoBoolOp(t, a, b, func(p, q bool) bool { return p || q })
		lhs := union.s2Polygon().Area() + inter.s2Polygon().Area()
		if rhs := polysArea(pa) + polysArea(pb); math.Abs(lhs-rhs) > 1e-12 {
			t.Errorf("%s %s: %g != %g", a, b, lhs, rhs)
		}
	})
}

// TestGeoBufferPage runs geo-line-buffer-function's and
// geo-polygon-buffer-function's examples. Their outputs are elided on the
// pages ("[ ... ]"), so the shapes are checked by what a buffer must be:
// a Polygon, containing every point within the radius of the input and no
// point farther than radius + tolerance (sampled on a grid around it).
func TestGeoBufferPage(t *testing.T) {
	for _, tc := range []struct {
		fn, shape   string
		radius, tol float64
	}{
		{"geo_line_buffer", `{"type":"LineString","coordinates":[[-80.66634997047466,24.894526340592122],[-80.67373241820246,24.890808090321286]]}`, 4, 0.1},
		{"geo_polygon_buffer", `{"type":"Polygon","coordinates":[[[139.813757,35.719666],[139.72558,35.71813],[139.727471,35.653231],[139.818721,35.657264],[139.813757,35.719666]]]}`, 10000, 10},
		{"geo_line_buffer", `{"type":"MultiLineString","coordinates":[[[0,0],[1,1],[1,0]],[[0.5,0.2],[0.5,2]]]}`, 5000, 10},
		{"geo_polygon_buffer", `{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[1,1],[1,3],[3,3],[3,1],[1,1]]]}`, 50000, 10},
	} {
		q := fmt.Sprintf("print %s(dynamic(%s), %g, %g)", tc.fn, tc.shape, tc.radius, tc.tol)
		res := runQuery(t, q)
		buf, ok := geoPolygons(res.Rows[0][0])
		if !ok || len(buf) != 1 {
			t.Fatalf("%s: %s is not one valid polygon", q, res.Rows[0][0].Text())
		}
		var dist func(p s2.Point) float64
		if tc.fn == "geo_line_buffer" {
			lines, _ := geoLines(Dynamic(parseJSONT(t, tc.shape)))
			dist = func(p s2.Point) float64 {
				best := math.Inf(1)
				for _, l := range lines {
					for i := 1; i < len(l); i++ {
						best = math.Min(best, s2.DistanceFromSegment(p, l[i-1], l[i]).Radians())
					}
				}
				return best * earthRadiusMeters
			}
		} else {
			polys, _ := geoPolygons(Dynamic(parseJSONT(t, tc.shape)))
			dist = func(p s2.Point) float64 {
				if q, in := geoClosestOnPolygons(p, polys); !in {
					return p.Distance(q).Radians() * earthRadiusMeters
				}
				return 0
			}
		}
		rect := buf[0].RectBound()
		inside, outside := 0, 0
		for i := 0; i <= 60; i++ {
			for j := 0; j <= 60; j++ {
				ll := s2.LatLngFromDegrees(rect.Lo().Lat.Degrees()+float64(i)/60*(rect.Hi().Lat.Degrees()-rect.Lo().Lat.Degrees()),
					rect.Lo().Lng.Degrees()+float64(j)/60*(rect.Hi().Lng.Degrees()-rect.Lo().Lng.Degrees()))
				p := s2.PointFromLatLng(ll)
				d := dist(p)
				in := buf[0].ContainsPoint(p)
				if d < tc.radius*(1-1e-9) && !in {
					t.Errorf("%s: %v at %g m is not in the buffer", q, ll, d)
				}
				if d > tc.radius+tc.tol+1e-6 && in {
					t.Errorf("%s: %v at %g m is in the buffer", q, ll, d)
				}
				if in {
					inside++
				} else {
					outside++
				}
			}
		}
		if inside == 0 || outside == 0 {
			t.Errorf("%s: %d points in, %d out: the sample does not test the edge", q, inside, outside)
		}
	}
	// the pages' unions of buffers are one Polygon each
	for _, q := range []string{`datatable(polygon:dynamic, radius:real )
[
    dynamic({"type":"Polygon","coordinates":[[[12.451218693639277,41.906457003556625],[12.445753852969375,41.90160968881543],[12.453514425793855,41.90361551885886],[12.451218693639277,41.906457003556625]]]}), 100,
    dynamic({"type":"Polygon","coordinates":[[[12.4566086734784,41.905119850039995],[12.453913683559591,41.903652663265234],[12.455485761012113,41.90146110630562],[12.4566086734784,41.905119850039995]]]}), 20
]
| project buffer = geo_polygon_buffer(polygon, radius)
| summarize polygons = make_list(buffer)
| project result = tostring(geo_union_polygons_array(polygons).type)`, `datatable(line:dynamic)
[
    dynamic({"type":"LineString","coordinates":[[14.429214068940496,50.10043066548272],[14.431184174126173,50.10046525983731]]}),
    dynamic({"type":"LineString","coordinates":[[14.43030222687753,50.100780677801936],[14.4303847111523,50.10020274910934]]})
]
| project buffer = geo_line_buffer(line, 2, 0.1)
| summarize polygons = make_list(buffer)
| project result = tostring(geo_union_polygons_array(polygons).type)`} {
		if got := runQuery(t, q).Rows[0][0].Text(); got != "'Polygon'" {
			t.Errorf("%s = %s, want Polygon", q, got)
		}
	}
	for _, q := range []string{
		`print isnull(geo_polygon_buffer(dynamic({"type":"p"}), 1))`,
		`print isnull(geo_polygon_buffer(dynamic({"type":"Polygon","coordinates":[[[10,10],[0,10],[0,0],[10,10]]]}), 0))`,
		`print isnull(geo_line_buffer(dynamic({"type":"LineString"}), 5))`,
		`print isnull(geo_line_buffer(dynamic({"type":"LineString","coordinates":[[0,0],[1,1]]}), 0))`,
		`print isnull(geo_line_buffer(dynamic({"type":"LineString","coordinates":[[0,0],[1,1]]}), -5))`,
		// a tolerance under a millionth of the radius
		`print isnull(geo_line_buffer(dynamic({"type":"LineString","coordinates":[[0,0],[1,1]]}), 1000000, 0.5))`,
	} {
		if got := runQuery(t, q).Rows[0][0].Text(); got != "True" {
			t.Errorf("%s = %s, want True", q, got)
		}
	}
}

// TestGeoSimplifyPolygonsArrayPage runs geo-simplify-polygons-array-function's
// examples (null for an invalid polygon, a negative tolerance, and a
// tolerance that makes the polygons vanish) and checks that the union of
// polygons with mutual borders comes out as one polygon.
func TestGeoSimplifyPolygonsArrayPage(t *testing.T) {
	three := `datatable(polygons:dynamic)
[
    dynamic({"type":"Polygon","coordinates":[[[-73.9495,40.7969],[-73.95807,40.80068],[-73.98201,40.76825],[-73.97317,40.76455],[-73.9495,40.7969]]]}),
    dynamic({"type":"Polygon","coordinates":[[[-73.94622,40.79249],[-73.96888,40.79282],[-73.9577,40.7789],[-73.94622,40.79249]]]}),
    dynamic({"type":"Polygon","coordinates":[[[-73.97335,40.77274],[-73.9936,40.76630],[-73.97171,40.75655],[-73.97335,40.77274]]]})
]
| summarize arr = make_list(polygons)
`
	for _, q := range []string{
		`datatable(polygons:dynamic)
[
    dynamic({"type":"Polygon","coordinates":[[[-73.9495,40.7969],[-73.95807,40.80068],[-73.98201,40.76825],[-73.97317,40.76455],[-73.9495,40.7969]]]}),
    dynamic({"type":"Polygon","coordinates":[[[-73.94622,40.79249]]]}),
    dynamic({"type":"Polygon","coordinates":[[[-73.97335,40.77274],[-73.9936,40.76630],[-73.97171,40.75655],[-73.97335,40.77274]]]})
]
| summarize arr = make_list(polygons)
| project is_invalid_polygon = isnull(geo_simplify_polygons_array(arr))`,
		three + "| project is_null = isnull(geo_simplify_polygons_array(arr, -1))",
		three + "| project is_null = isnull(geo_simplify_polygons_array(arr, 10000))",
	} {
		if got := runQuery(t, q).Rows[0][0].Text(); got != "True" {
			t.Errorf("%s = %s, want True", q, got)
		}
	}
	// two squares with a mutual border: one rectangle; (1,0), on the
	// equator between (0,0) and (2,0), goes; (1,1) starts the ring's chain
	// and stays
	checkGeoJSONAs(t, "print geo_simplify_polygons_array(dynamic(["+geoSquareJSON(0, 0, 1, 1)+","+geoSquareJSON(1, 0, 2, 1)+"]), 100)",
		`{"type":"Polygon","coordinates":[[[0,0],[2,0],[2,1],[1,1],[0,1],[0,0]]]}`, true)
	checkGeoJSONAs(t, three+"| project geo_simplify_polygons_array(arr, 0)",
		`{"type":"Polygon","coordinates":[[[-73.972599326729608,40.765330371902991],[-73.960302383706178,40.782140794645024],[-73.9577,40.7789],[-73.94622,40.79249],[-73.9526593223173,40.792584227716468],[-73.9495,40.7969],[-73.95807,40.80068],[-73.9639277517478,40.792748258673875],[-73.96888,40.792819999999992],[-73.9662719791645,40.7895734224338],[-73.9803360309571,40.770518810606404],[-73.9936,40.7663],[-73.97171,40.756550000000004],[-73.972599326729608,40.765330371902991]]]}`, true)
}
