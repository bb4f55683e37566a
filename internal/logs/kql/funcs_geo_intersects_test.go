package kql

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/golang/geo/s2"
)

// Shapes of the reference pages' examples (geo-intersects-*, geo-intersection-*).
const (
	geoPageLine1   = `dynamic({"type":"LineString","coordinates":[[-73.978929,40.785155],[-73.980903,40.782621]]})`
	geoPageLine2   = `dynamic({"type":"LineString","coordinates":[[-73.985195,40.788275],[-73.974552,40.779761]]})`
	geoPageTri     = `dynamic({"type":"Polygon","coordinates":[[[-73.9712905883789,40.78580561168767],[-73.98004531860352,40.775276834803655],[-73.97000312805176,40.77852663535664],[-73.9712905883789,40.78580561168767]]]})`
	geoPageArea    = `dynamic({"type":"Polygon","coordinates":[[[-73.95768642425537,40.80065354924362],[-73.9582872390747,40.80089719667298],[-73.95869493484497,40.80050736035672],[-73.9580512046814,40.80019873831593],[-73.95768642425537,40.80065354924362]]]})`
	geoPagePoly1   = `dynamic({"type":"Polygon","coordinates":[[[-73.9630937576294,40.77498840732385],[-73.963565826416,40.774383111780914],[-73.96205306053162,40.773745311181585],[-73.96160781383514,40.7743912365898],[-73.9630937576294,40.77498840732385]]]})`
	geoPagePoly2   = `dynamic({"type":"Polygon","coordinates":[[[-73.96213352680206,40.775045280447145],[-73.9631313085556,40.774578106920345],[-73.96207988262177,40.77416780398293],[-73.96213352680206,40.775045280447145]]]})`
	geoPageOnePt   = `dynamic({"type":"LineString","coordinates":[[-73.985195,40.788275]]})`
	geoPageAoiLine = `dynamic({"type":"LineString","coordinates":[[-73.97159099578857,40.794513338780895],[-73.96738529205322,40.792758888618756],[-73.96978855133057,40.789769718601505]]})`
)

func geoLS(coords string) string {
	return `dynamic({"type":"LineString","coordinates":` + coords + `})`
}

func geoMLS(coords string) string {
	return `dynamic({"type":"MultiLineString","coordinates":` + coords + `})`
}

func geoPoly(coords string) string { return `dynamic({"type":"Polygon","coordinates":` + coords + `})` }

// geoSquare is the polygon [x0, x1] × [y0, y1] in degrees (geoSquareJSON)
// as a dynamic literal.
func geoSquare(x0, y0, x1, y1 float64) string {
	return "dynamic(" + geoSquareJSON(x0, y0, x1, y1) + ")"
}

// geoJSONClose reports whether two JSON values are equal, numbers within
// tol of each other.
func geoJSONClose(got, want any, tol float64) bool {
	switch w := want.(type) {
	case float64:
		g, ok := got.(float64)
		return ok && math.Abs(g-w) <= tol
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !geoJSONClose(g[i], w[i], tol) {
				return false
			}
		}
		return true
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k := range w {
			if !geoJSONClose(g[k], w[k], tol) {
				return false
			}
		}
		return true
	}
	return got == want
}

// checkGeoJSONQuery runs q (one row whose first value is dynamic, or a
// string of JSON) and compares that value with want (JSON), numbers within
// tol degrees; with anyStart, closed rings are compared from their least
// vertex (geoRotateRings).
func checkGeoJSONQuery(t *testing.T, q, want string, tol float64, anyStart bool) {
	t.Helper()
	res := runQuery(t, q)
	text := res.Rows[0][0].Plain()
	var g, w any
	if err := json.Unmarshal([]byte(text), &g); err != nil {
		t.Fatalf("%s: result %q is not JSON: %v", q, text, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %q: %v", want, err)
	}
	if anyStart {
		geoRotateRings(g)
		geoRotateRings(w)
	}
	if !geoJSONClose(g, w, tol) {
		t.Errorf("%s\n got %s\nwant %s", q, text, want)
	}
}

// checkGeoJSON runs "print r = expr" and compares the result with want
// (JSON), numbers within tol degrees.
func checkGeoJSON(t *testing.T, expr, want string, tol float64) {
	t.Helper()
	checkGeoJSONQuery(t, "print r = "+expr, want, tol, false)
}

// TestGeoIntersectsPages runs the examples of the three geo_intersects_*
// pages that need no table (the others query NY_Manhattan_Roads and
// US_Counties, which Steward does not have), invalid shapes included.
func TestGeoIntersectsPages(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{`geo_intersects_2lines(` + geoPageLine1 + `, ` + geoPageLine2 + `)`, "True"},
		{`isnull(geo_intersects_2lines(` + geoPageLine1 + `, ` + geoPageOnePt + `))`, "True"},
		{`geo_intersects_line_with_polygon(` + geoPageLine2 + `, ` + geoPageTri + `)`, "True"},
		// the page's two invalid-shape examples call geo_intersects_2lines
		{`isnull(geo_intersects_2lines(` + geoPageOnePt + `, ` + geoPageArea + `))`, "True"},
		{`isnull(geo_intersects_2lines(` + geoPageAoiLine + `, dynamic({"type":"Polygon","coordinates":[]})))`, "True"},
		{`isnull(geo_intersects_line_with_polygon(` + geoPageOnePt + `, ` + geoPageArea + `))`, "True"},
		{`isnull(geo_intersects_line_with_polygon(` + geoPageAoiLine + `, dynamic({"type":"Polygon","coordinates":[]})))`, "True"},
		{`geo_intersects_2polygons(` + geoPagePoly1 + `, ` + geoPagePoly2 + `)`, "True"},
		{`isnull(geo_intersects_2polygons(dynamic({"type":"Polygon"}), ` + geoCentralPark + `))`, "True"},
	} {
		if got := runQuery(t, "print r = "+tc.expr).Rows[0][0].Text(); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
		}
	}
}

// TestGeoIntersectionPages runs the examples of geo_intersection_2lines
// and geo_intersection_line_with_polygon that need no table. Steward's
// coordinates differ from the pages' in the last two or three of their 17
// digits (S2's C++ and Go libraries round differently), so they are
// compared within 1e-13 degrees (about 10 nm).
func TestGeoIntersectionPages(t *testing.T) {
	const tol = 1e-13
	empty := `{"type":"GeometryCollection","geometries":[]}`
	for _, tc := range []struct{ expr, want string }{
		{`geo_intersection_2lines(` + geoPageLine1 + `, ` + geoPageLine2 + `)`,
			`{"type": "Point","coordinates": [-73.979837116670978,40.783989289772165]}`},
		{`geo_intersection_2lines(` + geoPageLine1 + `, ` + geoPageLine1 + `)`,
			`{"type": "LineString","coordinates": [[ -73.978929, 40.785155],[ -73.980903, 40.782621]]}`},
		{`geo_intersection_2lines(` + geoLS(`[[1, 1],[2, 2]]`) + `, ` + geoLS(`[[3, 3],[4, 4]]`) + `)`, empty},
		{`geo_intersection_line_with_polygon(` + geoPageLine2 + `, ` + geoPageTri + `)`,
			`{"type": "LineString","coordinates": [[-73.975611956578192,40.78060906714618],[-73.974552,40.779761]]}`},
		{`geo_intersection_line_with_polygon(` + geoLS(`[[-110.522, 39.198],[-91.428, 40.880]]`) + `, ` +
			geoPoly(`[[[-90.263,36.738],[-102.041,45.274],[-109.335,36.527],[-90.263,36.738]],[[-100.393,41.705],[-103.139,38.925],[-97.558,39.113],[-100.393,41.705]]]`) + `)`,
			`{"type": "MultiLineString","coordinates": [[[  -106.89353655881905,  39.769226209776306],[  -101.74448553679453,  40.373506008712525]],[[-99.136499431328858,  40.589336512699994],[-95.284527737311791,  40.799060242246348]]]}`},
		{`geo_intersection_line_with_polygon(` + geoLS(`[[1, 1],[2, 2]]`) + `, ` + geoPageTri + `)`, empty},
		// the US_Counties example: the line lies inside New York County,
		// so any polygon around it gives the page's output, the line
		{`geo_intersection_line_with_polygon(` + geoPageAoiLine + `, ` + geoSquare(-74.1, 40.6, -73.8, 40.9) + `)`,
			`{"type": "LineString","coordinates": [[-73.971590995788574, 40.794513338780895], [-73.967385292053223, 40.792758888618756],[-73.969788551330566, 40.789769718601512]]}`},
		// vertices come back through S2's points, as the NY_Manhattan_Roads
		// example prints them (the road data is OpenStreetMap's, 7 digits)
		{`geo_intersection_line_with_polygon(` + geoLS(`[[-73.9578459,40.8005702],[-73.9584162,40.8007325]]`) + `, ` + geoSquare(-74, 40, -73, 41) + `)`,
			`{"type":"LineString","coordinates":[[-73.9578459,40.800570199999996],[-73.958416200000016,40.8007325]]}`},
	} {
		checkGeoJSON(t, tc.expr, tc.want, tol)
	}
	for _, expr := range []string{
		`geo_intersection_2lines(` + geoLS(`[[1, 1],[2, 2]]`) + `, ` + geoLS(`[[3, 3]]`) + `)`,
		// the page's invalid examples call geo_intersection_2lines
		`geo_intersection_2lines(` + geoPageOnePt + `, ` + geoPageArea + `)`,
		`geo_intersection_2lines(` + geoPageAoiLine + `, dynamic({"type":"Polygon","coordinates":[]}))`,
		`geo_intersection_line_with_polygon(` + geoPageOnePt + `, ` + geoPageArea + `)`,
		`geo_intersection_line_with_polygon(` + geoPageAoiLine + `, dynamic({"type":"Polygon","coordinates":[]}))`,
	} {
		if got := runQuery(t, "print r = isnull("+expr+")").Rows[0][0].Text(); got != "True" {
			t.Errorf("isnull(%s) = %s", expr, got)
		}
	}
}

// TestGeoIntersection2Lines: shared stretches are lines (joined across
// vertices, in the first line's direction), crossings and touches are
// points; a point on a shared stretch is not repeated.
func TestGeoIntersection2Lines(t *testing.T) {
	for _, tc := range []struct{ a, b, want string }{
		// the second line runs along part of the first, then leaves it
		{geoLS(`[[0,0],[3,0]]`), geoLS(`[[1,0],[2,0],[2,1]]`), `{"type":"LineString","coordinates":[[1,0],[2,0]]}`},
		// opposite directions: the first line's direction is kept
		{geoLS(`[[0,0],[3,0]]`), geoLS(`[[2,0],[1,0]]`), `{"type":"LineString","coordinates":[[1,0],[2,0]]}`},
		// a stretch across a vertex of the first line is one line
		{geoLS(`[[0,0],[2,0],[2,2]]`), geoLS(`[[1,0],[2,0],[2,1]]`), `{"type":"LineString","coordinates":[[1,0],[2,0],[2,1]]}`},
		// two crossings
		{geoLS(`[[0,0],[4,0]]`), geoLS(`[[1,-1],[1,1],[3,1],[3,-1]]`), `{"type":"MultiPoint","coordinates":[[1,0],[3,0]]}`},
		// touching at an end, and a T: the vertex on the other line
		{geoLS(`[[0,0],[1,1]]`), geoLS(`[[1,1],[2,0]]`), `{"type":"Point","coordinates":[1,1]}`},
		{geoLS(`[[0,0],[2,0]]`), geoLS(`[[1,0],[1,1]]`), `{"type":"Point","coordinates":[1,0]}`},
		// a stretch and a crossing elsewhere
		{geoLS(`[[0,0],[4,0]]`), geoMLS(`[[[0,0],[1,0]],[[3,-1],[3,1]]]`),
			`{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[3,0]},{"type":"LineString","coordinates":[[0,0],[1,0]]}]}`},
		// two stretches; the crossing on a stretch is not a point
		{geoLS(`[[0,0],[4,0]]`), geoMLS(`[[[0,0],[1,0]],[[2,0],[3,0]],[[0.5,-1],[0.5,1]]]`),
			`{"type":"MultiLineString","coordinates":[[[0,0],[1,0]],[[2,0],[3,0]]]}`},
		// overlapping parts of the second line make one stretch
		{geoLS(`[[0,0],[4,0]]`), geoMLS(`[[[1,0],[2.5,0]],[[2,0],[3,0]]]`), `{"type":"LineString","coordinates":[[1,0],[3,0]]}`},
		// a line that only touches itself at the crossing point once
		{geoLS(`[[0,-1],[0,1]]`), geoMLS(`[[[-1,0],[0,0]],[[0,0],[1,0]]]`), `{"type":"Point","coordinates":[0,0]}`},
	} {
		checkGeoJSON(t, "geo_intersection_2lines("+tc.a+", "+tc.b+")", tc.want, 1e-12)
	}
}

// TestGeoIntersectionLineWithPolygon: the part of the line in the closed
// polygon; a line that only touches the boundary gives points.
func TestGeoIntersectionLineWithPolygon(t *testing.T) {
	sq := geoSquare(0, -1, 2, 1)
	for _, tc := range []struct {
		line, poly, want string
		tol              float64 // 1e-12 when 0; where a line crosses a parallel edge (a geodesic), 1e-3
	}{
		// through, in and out; from inside
		{geoLS(`[[-1,0],[3,0]]`), sq, `{"type":"LineString","coordinates":[[0,0],[2,0]]}`, 0},
		{geoLS(`[[1,0],[3,0]]`), sq, `{"type":"LineString","coordinates":[[1,0],[2,0]]}`, 0},
		// vertices inside are kept
		{geoLS(`[[1,-3],[1,0.5],[1.5,0.5],[1.5,3]]`), sq, `{"type":"LineString","coordinates":[[1,-1],[1,0.5],[1.5,0.5],[1.5,1]]}`, 1e-3},
		// along an edge of the boundary: in
		{geoLS(`[[0,-3],[0,3]]`), sq, `{"type":"LineString","coordinates":[[0,-1],[0,1]]}`, 0},
		// touching a corner, and touching an edge from outside: points
		{geoLS(`[[-1,0],[0,1],[-1,2]]`), sq, `{"type":"Point","coordinates":[0,1]}`, 0},
		{geoLS(`[[-1,-1],[0,0],[-1,1]]`), sq, `{"type":"Point","coordinates":[0,0]}`, 0},
		// a line ending on the boundary from outside
		{geoLS(`[[-1,0],[0,0]]`), sq, `{"type":"Point","coordinates":[0,0]}`, 0},
		// outside, and wholly inside
		{geoLS(`[[3,3],[4,4]]`), sq, `{"type":"GeometryCollection","geometries":[]}`, 0},
		{geoLS(`[[0.5,0.5],[1,0],[1.5,0.5]]`), sq, `{"type":"LineString","coordinates":[[0.5,0.5],[1,0],[1.5,0.5]]}`, 0},
		// a hole: two pieces
		{geoLS(`[[-1,0],[5,0]]`), geoPoly(`[[[0,-1],[4,-1],[4,1],[0,1],[0,-1]],[[1,-0.5],[1,0.5],[3,0.5],[3,-0.5],[1,-0.5]]]`),
			`{"type":"MultiLineString","coordinates":[[[0,0],[1,0]],[[3,0],[4,0]]]}`, 0},
		// a multipolygon whose parts share an edge: one piece across it
		{geoLS(`[[-1,0],[5,0]]`), `dynamic({"type":"MultiPolygon","coordinates":[[[[0,-1],[2,-1],[2,1],[0,1],[0,-1]]],[[[2,-1],[4,-1],[4,1],[2,1],[2,-1]]]]})`,
			`{"type":"LineString","coordinates":[[0,0],[4,0]]}`, 0},
		// a multiline: each line clipped
		{geoMLS(`[[[-1,0],[1,0]],[[1,3],[1,0.5]]]`), sq, `{"type":"MultiLineString","coordinates":[[[0,0],[1,0]],[[1,1],[1,0.5]]]}`, 1e-3},
		// a touch and a piece
		{geoMLS(`[[[-1,0],[1,0]],[[3,0],[2,1],[3,2]]]`), sq,
			`{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[2,1]},{"type":"LineString","coordinates":[[0,0],[1,0]]}]}`, 0},
	} {
		checkGeoJSON(t, "geo_intersection_line_with_polygon("+tc.line+", "+tc.poly+")", tc.want, cmp.Or(tc.tol, 1e-12))
	}
}

// TestGeoIntersectsBoundaries: touching counts; containment without a
// meeting boundary counts; a polygon in another's hole does not.
func TestGeoIntersectsBoundaries(t *testing.T) {
	sq := geoSquare(0, 0, 2, 2)
	holed := geoPoly(`[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[1,1],[1,3],[3,3],[3,1],[1,1]]]`)
	for _, tc := range []struct{ expr, want string }{
		{"geo_intersects_2lines(" + geoLS(`[[0,0],[1,1]]`) + ", " + geoLS(`[[1,1],[2,0]]`) + ")", "True"},
		{"geo_intersects_2lines(" + geoLS(`[[0,0],[2,0]]`) + ", " + geoLS(`[[1,0],[1,1]]`) + ")", "True"},
		{"geo_intersects_2lines(" + geoLS(`[[0,0],[2,0]]`) + ", " + geoLS(`[[1,0.001],[1,1]]`) + ")", "False"},
		{"geo_intersects_2lines(" + geoMLS(`[[[5,5],[6,6]],[[0,0],[2,0]]]`) + ", " + geoLS(`[[1,-1],[1,1]]`) + ")", "True"},
		{"geo_intersects_line_with_polygon(" + geoLS(`[[0.5,0.5],[1,1]]`) + ", " + sq + ")", "True"},
		{"geo_intersects_line_with_polygon(" + geoLS(`[[-1,1],[0,2],[-1,3]]`) + ", " + sq + ")", "True"},
		{"geo_intersects_line_with_polygon(" + geoLS(`[[3,3],[4,4]]`) + ", " + sq + ")", "False"},
		{"geo_intersects_line_with_polygon(" + geoLS(`[[1.5,1.5],[2.5,2.5]]`) + ", " + holed + ")", "False"},
		{"geo_intersects_2polygons(" + sq + ", " + geoSquare(2, 0, 3, 1) + ")", "True"},
		{"geo_intersects_2polygons(" + sq + ", " + geoSquare(2, 2, 3, 3) + ")", "True"},
		{"geo_intersects_2polygons(" + sq + ", " + geoSquare(2.001, 0, 3, 1) + ")", "False"},
		{"geo_intersects_2polygons(" + sq + ", " + geoSquare(0.5, 0.5, 1, 1) + ")", "True"},
		{"geo_intersects_2polygons(" + geoSquare(0.5, 0.5, 1, 1) + ", " + sq + ")", "True"},
		{"geo_intersects_2polygons(" + geoSquare(1.5, 1.5, 2.5, 2.5) + ", " + holed + ")", "False"},
		{"geo_intersects_2polygons(" + geoSquare(-1, -1, 5, 5) + ", " + holed + ")", "True"},
		{"geo_intersects_2polygons(" + geoSquare(1.5, 1.5, 2.5, 2.5) + `, dynamic({"type":"MultiPolygon","coordinates":[[[[10,10],[11,10],[11,11],[10,10]]],[[[1,1],[3,1],[3,3],[1,1]]]]}))`, "True"},
	} {
		if got := runQuery(t, "print r = "+tc.expr).Rows[0][0].Text(); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
		}
	}
}

// TestGeoIntersectsAgreesWithIntersection: on random lines and polygons,
// the intersects functions say true exactly when the intersection is not
// empty, and every vertex of an intersection, and the middle of every edge
// of its lines, lies on both shapes.
func TestGeoIntersectsAgreesWithIntersection(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	randLine := func() ([][2]float64, string) {
		var pts [][2]float64
		var s []string
		for range 2 + rng.IntN(4) {
			p := [2]float64{float64(rng.IntN(5)), float64(rng.IntN(5))}
			pts = append(pts, p)
			s = append(s, fmt.Sprintf("[%g,%g]", p[0], p[1]))
		}
		return pts, geoLS("[" + strings.Join(s, ",") + "]")
	}
	answered := 0
	var hits [2][2]int // per function: empty, not empty
	for i := range 200 {
		la, a := randLine()
		lb, b := randLine()
		x, y := float64(rng.IntN(4)), float64(rng.IntN(4))
		w := 1 + float64(rng.IntN(2))
		poly := geoSquare(x, y, x+w, y+1)
		sq := s2.PolygonFromLoops([]*s2.Loop{s2.LoopFromPoints([]s2.Point{geoDegPoint([2]float64{x, y}),
			geoDegPoint([2]float64{x + w, y}), geoDegPoint([2]float64{x + w, y + 1}), geoDegPoint([2]float64{x, y + 1})})})
		q := fmt.Sprintf(`print i1 = geo_intersects_2lines(%s, %s), n1 = geo_intersection_2lines(%s, %s),
			i2 = geo_intersects_line_with_polygon(%s, %s), n2 = geo_intersection_line_with_polygon(%s, %s)`, a, b, a, b, a, poly, a, poly)
		res, err := Run(context.Background(), q, Options{})
		if err != nil {
			var ce *CompileError
			if errors.As(err, &ce) && strings.Contains(err.Error(), "runs along itself") {
				continue // a random line that doubles back on itself
			}
			t.Fatalf("case %d: %v", i, err)
		}
		answered++
		row := res.Rows[0]
		onLine := func(l [][2]float64, p s2.Point) bool {
			for k := 1; k < len(l); k++ {
				if s2.DistanceFromSegment(p, geoDegPoint(l[k-1]), geoDegPoint(l[k])) < 1e-12 {
					return true
				}
			}
			return false
		}
		inSquare := func(p s2.Point) bool {
			return sq.ContainsPoint(p) || s2.DistanceFromSegment(p, sq.Loop(0).Vertex(0), sq.Loop(0).Vertex(1)) < 1e-12 ||
				s2.DistanceFromSegment(p, sq.Loop(0).Vertex(1), sq.Loop(0).Vertex(2)) < 1e-12 ||
				s2.DistanceFromSegment(p, sq.Loop(0).Vertex(2), sq.Loop(0).Vertex(3)) < 1e-12 ||
				s2.DistanceFromSegment(p, sq.Loop(0).Vertex(3), sq.Loop(0).Vertex(0)) < 1e-12
		}
		for k, onOther := range []func(s2.Point) bool{func(p s2.Point) bool { return onLine(lb, p) }, inSquare} {
			var g any
			_ = json.Unmarshal([]byte(row[2*k+1].Plain()), &g)
			empty := strings.Contains(row[2*k+1].Plain(), `"geometries":[]`)
			if empty {
				hits[k][0]++
			} else {
				hits[k][1]++
			}
			if row[2*k].AsBool() == empty {
				t.Errorf("case %d: intersects %v but intersection %s\n%s", i, row[2*k].AsBool(), row[2*k+1].Plain(), q)
			}
			for _, p := range geoTestPoints(g) {
				if !onLine(la, p) || !onOther(p) {
					t.Errorf("case %d: %v of %s is not on both shapes\n%s", i, s2.LatLngFromPoint(p), row[2*k+1].Plain(), q)
				}
			}
		}
	}
	if answered < 150 || min(hits[0][0], hits[0][1], hits[1][0], hits[1][1]) < 20 {
		t.Errorf("%d of 200 cases answered, empty and not: %v: the cases do not cover both outcomes", answered, hits)
	}
	t.Logf("%d cases, empty and not: %v", answered, hits)
}

// geoTestPoints is every position of a GeoJSON value, and the middle of
// each edge of its lines.
func geoTestPoints(g any) []s2.Point {
	var out []s2.Point
	var walk func(x any)
	walk = func(x any) {
		switch v := x.(type) {
		case map[string]any:
			if v["type"] == "LineString" {
				v = map[string]any{"coordinates": []any{v["coordinates"]}, "type": "MultiLineString"}
			}
			if v["type"] == "MultiLineString" {
				for _, l := range v["coordinates"].([]any) {
					l := l.([]any)
					for k := 1; k < len(l); k++ {
						a, b := geoTestPos(l[k-1]), geoTestPos(l[k])
						out = append(out, s2.Point{Vector: a.Add(b.Vector).Normalize()})
					}
				}
			}
			for _, y := range v {
				walk(y)
			}
		case []any:
			if len(v) == 2 {
				if _, ok := v[0].(float64); ok {
					out = append(out, geoTestPos(v))
					return
				}
			}
			for _, y := range v {
				walk(y)
			}
		}
	}
	walk(g)
	return out
}

func geoTestPos(x any) s2.Point {
	c := x.([]any)
	return geoDegPoint([2]float64{c[0].(float64), c[1].(float64)})
}

// TestGeoIntersectionRefusesSelfOverlap: a first line that runs along
// itself would give an intersection whose parts overlap; the query fails
// saying so rather than return them twice.
func TestGeoIntersectionRefusesSelfOverlap(t *testing.T) {
	for _, q := range []string{
		"print geo_intersection_2lines(" + geoMLS(`[[[0,0],[2,0]],[[1,0],[3,0]]]`) + ", " + geoLS(`[[0,0],[3,0]]`) + ")",
		"print geo_intersection_line_with_polygon(" + geoLS(`[[0,0],[1.5,0],[0.5,0]]`) + ", " + geoSquare(0, -1, 2, 1) + ")",
	} {
		_, err := Run(context.Background(), q, Options{})
		var ce *CompileError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "runs along itself") {
			t.Errorf("%s: %v", q, err)
		}
	}
	// the second line may overlap itself: its stretches are merged
	checkGeoJSON(t, "geo_intersection_2lines("+geoLS(`[[0,0],[3,0]]`)+", "+geoMLS(`[[[0,0],[2,0]],[[1,0],[3,0]]]`)+")",
		`{"type":"LineString","coordinates":[[0,0],[3,0]]}`, 1e-12)
}

// TestGeoIntersectionGoverned: an intersection with more points than the
// memory budget allows stops with the governor's error.
func TestGeoIntersectionGoverned(t *testing.T) {
	var zig []string
	for i := range 2000 {
		zig = append(zig, fmt.Sprintf("[%g,%d]", float64(i)/100, 1-2*(i%2)))
	}
	args := geoLS(`[[0,0],[20,0]]`) + ", " + geoLS("["+strings.Join(zig, ",")+"]")
	budget := Options{Limits: Limits{MaxMemory: 64 << 10}}
	// the shapes themselves fit in the budget
	if _, err := Run(context.Background(), "print geo_intersects_2lines("+args+")", budget); err != nil {
		t.Fatalf("geo_intersects_2lines: %v", err)
	}
	_, err := Run(context.Background(), "print geo_intersection_2lines("+args+")", budget)
	var le *LimitError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v, want a limit error", err)
	}
	res := runQuery(t, "print array_length(geo_intersection_2lines("+geoLS(`[[0,0],[20,0]]`)+", "+geoLS("["+strings.Join(zig, ",")+"]")+").coordinates)")
	if got := res.Rows[0][0].Text(); got != "1999" {
		t.Errorf("crossings: %s, want 1999", got)
	}
}

// TestGeoIntersectsStaticErrors: wrong argument counts and types are
// compile errors.
func TestGeoIntersectsStaticErrors(t *testing.T) {
	for _, q := range []string{
		"print geo_intersects_2lines(" + geoPageLine1 + ")",
		"print geo_intersects_2polygons(" + geoPagePoly1 + ", 'x')",
		"print geo_intersection_2lines(1, " + geoPageLine1 + ")",
		"print geo_intersection_line_with_polygon(" + geoPageLine1 + ", " + geoPageTri + ", 1)",
		"print geo_point_buffer('a', 1, 1000)",
		"print geo_point_buffer(1, 1)",
		"print geo_point_buffer(1, 1, 1000, 10, 1)",
	} {
		if _, err := Run(context.Background(), q, Options{}); err == nil {
			t.Errorf("%s: no error", q)
		}
	}
}

// TestGeoIntersects2PolygonsMatchesS2: on random quadrilaterals that do
// not touch (random real coordinates), geo_intersects_2polygons agrees
// with the S2 library's own loop intersection test.
func TestGeoIntersects2PolygonsMatchesS2(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	quad := func() ([]s2.Point, string) {
		cx, cy := rng.Float64()*4, rng.Float64()*4
		var pts []s2.Point
		var s []string
		for k := range 4 {
			a := (float64(k) + rng.Float64()*0.8) * math.Pi / 2
			r := 0.3 + rng.Float64()*1.5
			x, y := cx+r*math.Cos(a), cy+r*math.Sin(a)
			pts = append(pts, geoDegPoint([2]float64{x, y}))
			s = append(s, fmt.Sprintf("[%v,%v]", x, y))
		}
		s = append(s, s[0])
		return pts, geoPoly("[[" + strings.Join(s, ",") + "]]")
	}
	var seen [2]int
	for i := range 200 {
		pa, a := quad()
		pb, b := quad()
		want := s2.LoopFromPoints(pa).Intersects(s2.LoopFromPoints(pb))
		got := runQuery(t, "print r = geo_intersects_2polygons("+a+", "+b+")").Rows[0][0]
		if got.AsBool() != want {
			t.Errorf("case %d: %s, want %v\n%s\n%s", i, got.Text(), want, a, b)
		}
		if want {
			seen[1]++
		} else {
			seen[0]++
		}
	}
	if min(seen[0], seen[1]) < 30 {
		t.Errorf("cases false and true: %v: the cases do not cover both outcomes", seen)
	}
}

// geoBufferRing runs geo_point_buffer and returns its ring's positions
// (closing one included), or nil for a null result.
func geoBufferRing(t *testing.T, args string) [][2]float64 {
	t.Helper()
	v := runQuery(t, "print r = geo_point_buffer("+args+")").Rows[0][0]
	if v.IsNull() {
		return nil
	}
	var g struct {
		Type        string
		Coordinates [][][2]float64
	}
	if err := json.Unmarshal([]byte(v.Plain()), &g); err != nil || g.Type != "Polygon" || len(g.Coordinates) != 1 {
		t.Fatalf("geo_point_buffer(%s) = %s", args, v.Plain())
	}
	return g.Coordinates[0]
}

// TestGeoPointBufferProperties: around points anywhere (the poles and the
// antimeridian included), for radii from a meter to thousands of
// kilometers and tolerances from the smallest allowed up, the buffer is a
// valid polygon holding its centre, its vertices lie between the radius
// and the radius plus the tolerance, the middles of its edges at the
// radius, so points just inside the circle are in it and points beyond
// the tolerance are not; and it has the fewest vertices that allow it.
func TestGeoPointBufferProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ lng, lat, radius, tol float64 }{
		{-115.1745008278, 36.1497251277, 20000, 10},
		{0, 0, 1, 0.001}, {0, 0, 1000, 0.001}, {10, 10, 0.1, 10},
		{179.9999, 10, 50000, 10}, {-180, -30, 50000, 1},
		{0, 90, 100000, 10}, {45, -90, 100000, 100}, {12, 89.99, 5000, 1},
		{0, 0, 5e6, 100}, {100, 45, 9.9e6, 10}, {30, 60, 2e6, 2},
	} {
		args := fmt.Sprintf("%v, %v, %v, %v", tc.lng, tc.lat, tc.radius, tc.tol)
		ring := geoBufferRing(t, args)
		if len(ring) < 4 || ring[0] != ring[len(ring)-1] {
			t.Fatalf("geo_point_buffer(%s): ring %v", args, ring)
		}
		poly := fmt.Sprintf(`dynamic({"type":"Polygon","coordinates":[%s]})`, mustJSON(t, ring))
		// the ring reads back as a valid polygon that holds the centre
		if got := runQuery(t, fmt.Sprintf("print geo_point_in_polygon(%v, %v, %s)", tc.lng, tc.lat, poly)).Rows[0][0].Text(); got != "True" {
			t.Errorf("geo_point_buffer(%s) does not hold its centre: %s", args, got)
		}
		c := s2.PointFromLatLng(s2.LatLngFromDegrees(tc.lat, tc.lng))
		meters := func(p s2.Point) float64 { return float64(c.Distance(p)) * earthRadiusMeters }
		tol := min(tc.tol, tc.radius)
		slack := 1e-9*tc.radius + 1e-6
		var pts []s2.Point
		for _, v := range ring[:len(ring)-1] {
			pts = append(pts, geoDegPoint(v))
		}
		for k, p := range pts {
			if d := meters(p); d < tc.radius-slack || d > tc.radius+tol+slack {
				t.Errorf("geo_point_buffer(%s): vertex %d at %v m", args, k, d)
			}
			mid := s2.Point{Vector: p.Add(pts[(k+1)%len(pts)].Vector).Normalize()}
			if d := meters(mid); math.Abs(d-tc.radius) > slack {
				t.Errorf("geo_point_buffer(%s): middle of edge %d at %v m", args, k, d)
			}
		}
		loop := s2.LoopFromPoints(pts)
		// a polygon with one vertex fewer would stray beyond the tolerance
		n := len(pts)
		if n > 3 {
			r := tc.radius / earthRadiusMeters
			fewer := math.Atan(math.Tan(r)/math.Cos(math.Pi/float64(n-1))) - r
			if fewer*earthRadiusMeters <= tol {
				t.Errorf("geo_point_buffer(%s): %d vertices where %d would do", args, n, n-1)
			}
		}
		// points just inside the circle are in, points past the tolerance out
		for range 50 {
			a := rng.Float64() * 2 * math.Pi
			at := func(m float64) s2.Point {
				f := newGeoFrame(c, geoDegPoint([2]float64{tc.lng + 1e-3*math.Cos(a), math.Max(-90, math.Min(90, tc.lat+1e-3*math.Sin(a)))}))
				if f.l == 0 {
					f = newGeoFrame(c, geoDegPoint([2]float64{tc.lng + 1, tc.lat - 1}))
				}
				return f.at(m / earthRadiusMeters)
			}
			if in := at(tc.radius * (1 - 1e-6)); !loop.ContainsPoint(in) {
				t.Errorf("geo_point_buffer(%s): a point %v m from the centre is not in it", args, meters(in))
			}
			if out := at(tc.radius + tol + 10*slack); loop.ContainsPoint(out) {
				t.Errorf("geo_point_buffer(%s): a point %v m from the centre is in it", args, meters(out))
			}
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestGeoPointBufferPage runs the page's examples: a polygon around Las
// Vegas (the page elides its coordinates: its area is the circle's, within
// what the default 10 m tolerance allows), and null for an invalid point
// or radius; and the tolerance rules: a tolerance above the radius is
// lowered below it, a tolerance under 0.0001% of the radius, or null, is
// invalid, and a larger tolerance needs fewer vertices.
func TestGeoPointBufferPage(t *testing.T) {
	res := runQuery(t, `print buffer = geo_point_buffer(-115.1745008278, 36.1497251277, 20000)
| extend t = tostring(buffer.type), area = geo_polygon_area(buffer)`)
	if got := cell(t, res, "t").Plain(); got != "Polygon" {
		t.Errorf("type %s", got)
	}
	capArea := func(m float64) float64 {
		return 2 * math.Pi * earthRadiusMeters * earthRadiusMeters * (1 - math.Cos(m/earthRadiusMeters))
	}
	if a := cell(t, res, "area").AsReal(); a < capArea(20000) || a > capArea(20010) {
		t.Errorf("area %v, want between %v and %v", a, capArea(20000), capArea(20010))
	}
	for _, args := range []string{"200, 1, 0.1", "10, 10, -1", "10, 10, 0", "10, 10, 1000, 0.0009", "10, 10, 1000, real(null)",
		"10, 10, real(null)", "10, 10, 1000, -1", "10, 10, 1e7 * pi() / 2 * 1.001", "10, real(nan), 1000"} {
		if ring := geoBufferRing(t, args); ring != nil {
			t.Errorf("geo_point_buffer(%s) is not null", args)
		}
	}
	if got := runQuery(t, `print tostring(geo_point_buffer(10, 10, 1000, 5000)) == tostring(geo_point_buffer(10, 10, 1000, 999.9999999))`).Rows[0][0].Text(); got != "True" {
		t.Errorf("a tolerance above the radius is not the largest below it: %s", got)
	}
	if got := len(geoBufferRing(t, "10, 10, 1000, 0.001")); got < 100 {
		t.Errorf("1 mm on a 1 km radius: %d positions", got)
	}
	if a, b := len(geoBufferRing(t, "10, 10, 1000")), len(geoBufferRing(t, "10, 10, 1000, 100")); a <= b {
		t.Errorf("default tolerance: %d positions, 100 m: %d", a, b)
	}
}

// TestGeoIntersectsNeverCrash calls the intersects and intersection
// functions with edge values in each shape position (the other a valid
// shape): a result or a query error, never a panic.
func TestGeoIntersectsNeverCrash(t *testing.T) {
	edge := []string{"real(null)", "dynamic(null)", `""`, "0", "dynamic([])", "dynamic({})", `dynamic({"type":"Polygon"})`,
		`dynamic({"type":"Polygon","coordinates":[[[0,0],[1,0],[0,1],[0,0]],[[5,5]]]})`,
		`dynamic({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]],[[0,0],[1,0],[1,1],[0,1],[0,0]]]})`,
		`dynamic({"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[0,1],[0,0]]],[[[0,0],[1,0],[0,1],[0,0]]]]})`,
		`dynamic({"type":"LineString","coordinates":[[0,0],[0,0]]})`, `dynamic({"type":"LineString","coordinates":[[0,0],[0,0],[1,1]]})`,
		`dynamic({"type":"LineString","coordinates":[[0,0],[180,0]]})`, `dynamic({"type":"LineString","coordinates":[[0,90],[0,-90]]})`,
		`dynamic({"type":"LineString","coordinates":[[-180,0],[180,0],[179,1]]})`,
		`dynamic({"type":"MultiLineString","coordinates":[[[0,0]],"x"]})`, `dynamic({"type":"MultiLineString","coordinates":[]})`,
		`dynamic({"type":"LineString","coordinates":[[0,0],[1,"a"]]})`, `dynamic([1,"a",null])`, "true"}
	line, poly := `dynamic({"type":"LineString","coordinates":[[0,0],[1,1]]})`, geoSquare(0, 0, 1, 1)
	edgeCallsNeverCrash(t, map[string][]string{
		"geo_intersects_2lines":              {line, line},
		"geo_intersects_line_with_polygon":   {line, poly},
		"geo_intersects_2polygons":           {poly, poly},
		"geo_intersection_2lines":            {line, line},
		"geo_intersection_line_with_polygon": {line, poly},
		"geo_point_buffer":                   {"1", "1", "1000", "10"},
	}, edge)
}
