package kql

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
)

// TestGeoSimplify checks geo_line_simplify and geo_polygon_simplify
// against the examples of geo-line-simplify-function and
// geo-polygon-simplify-function.
func TestGeoSimplify(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{`geo_line_simplify(dynamic({"type":"LineString","coordinates":[[-73.97033169865608,40.789063020152824],[-73.97039607167244,40.78897975920816],[-73.9704617857933,40.78888837512432],[-73.97052884101868,40.7887949601531],[-73.9706052839756,40.788698498903564],[-73.97065222263336,40.78862640672032],[-73.97072866559029,40.78852791445617],[-73.97079303860664,40.788434498977836]]}), 10)`,
			`{"type":"LineString","coordinates":[[-73.97033169865608,40.789063020152824],[-73.97079303860664,40.788434498977836]]}`},
		{`isnull(geo_line_simplify(dynamic({"type":"LineString","coordinates":[[1, 1]]})))`, "True"},
		{`isnull(geo_line_simplify(dynamic({"type":"LineString","coordinates":[[1, 1],[2,2]]}), -1))`, "True"},
		{`isnull(geo_line_simplify(dynamic({"type":"LineString","coordinates":[[1.1, 1.1],[1.2,1.2]]}), 100000))`, "True"},
		// a bend far beyond the tolerance stays
		{`geo_line_simplify(dynamic({"type":"LineString","coordinates":[[0,0],[1,0],[1,1]]}))`, `{"type":"LineString","coordinates":[[0,0],[1,0],[1,1]]}`},
		// a line that disappears leaves the others of a multi-line
		{`geo_line_simplify(dynamic({"type":"MultiLineString","coordinates":[[[0,0],[1,0]],[[5,5],[5.00001,5]]]}))`, `{"type":"LineString","coordinates":[[0,0],[1,0]]}`},
		{`geo_polygon_simplify(dynamic({"type":"Polygon","coordinates":[[[-73.94885122776031,40.79673476355657],[-73.94885927438736,40.79692258628347],[-73.94887939095497,40.79692055577034],[-73.9488673210144,40.79693476936093],[-73.94888743758202,40.79693476936093],[-73.9488834142685,40.796959135509105],[-73.94890084862709,40.79695304397289],[-73.94906312227248,40.79710736271788],[-73.94923612475395,40.7968708081794],[-73.94885122776031,40.79673476355657]]]}))`,
			`{"type":"Polygon","coordinates":[[[-73.94885122776031,40.79673476355657],[-73.94906312227248,40.79710736271788],[-73.94923612475395,40.7968708081794],[-73.94885122776031,40.79673476355657]]]}`},
		{`isnull(geo_polygon_simplify(dynamic({"type":"Polygon","coordinates":[[[5,48],[5,48]]]})))`, "True"},
		{`isnull(geo_polygon_simplify(dynamic({"type":"Polygon","coordinates":[[[5,48],[0,50],[0,47],[4,47],[5,48]]]}), -0.1))`, "True"},
		{`isnull(geo_polygon_simplify(dynamic({"type":"Polygon","coordinates":[[[5,48],[0,50],[0,47],[4,47],[5,48]]]}), 1000000))`, "True"},
		// a hole smaller than the tolerance disappears, the shell stays
		{`geo_polygon_simplify(dynamic({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]],[[0.5,0.5],[0.5,0.50001],[0.50001,0.50001],[0.5,0.5]]]}))`, `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}`},
	} {
		res := runQuery(t, "print r="+tc.expr)
		if got := res.Rows[0][0]; got.Plain() != tc.want && got.Text() != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, got.Plain(), tc.want)
		}
	}
}

// TestGeoSimplifyKeepsVerticesApart: on a wiggly line of many short edges,
// no two vertices of the result are closer than the tolerance, and every
// input vertex is within twice the tolerance of the result.
func TestGeoSimplifyKeepsVerticesApart(t *testing.T) {
	var pts []string
	for i := 0; i <= 400; i++ {
		x := float64(i) * 0.0001
		y := 0.0003 * math.Sin(float64(i)/7)
		pts = append(pts, fmt.Sprintf("[%g,%g]", x, y))
	}
	line := `dynamic({"type":"LineString","coordinates":[` + strings.Join(pts, ",") + `]})`
	const tol = 25.0
	res := runQuery(t, fmt.Sprintf(`let s = geo_line_simplify(%s, %g);
let n = array_length(s.coordinates);
range i from 0 to n - 1 step 1
| extend a = s.coordinates[i]
| project i, lng = todouble(a[0]), lat = todouble(a[1])`, line, tol))
	if len(res.Rows) < 3 || len(res.Rows) > 200 {
		t.Fatalf("%d vertices left of 401", len(res.Rows))
	}
	for i := range res.Rows {
		for j := i + 1; j < len(res.Rows); j++ {
			q := fmt.Sprintf("print geo_distance_2points(%s, %s, %s, %s)", res.Rows[i][1].Text(), res.Rows[i][2].Text(), res.Rows[j][1].Text(), res.Rows[j][2].Text())
			r, err := Run(context.Background(), q, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if d := r.Rows[0][0].AsReal(); d < tol {
				t.Errorf("vertices %d and %d are %.2f m apart", i, j, d)
			}
		}
	}
	for _, p := range pts {
		var x, y float64
		fmt.Sscanf(p, "[%g,%g]", &x, &y)
		r := runQuery(t, fmt.Sprintf("print geo_distance_point_to_line(%g, %g, geo_line_simplify(%s, %g))", x, y, line, tol))
		if d := r.Rows[0][0].AsReal(); d > 2*tol {
			t.Errorf("input vertex %s is %.2f m from the result", p, d)
		}
	}
}
