package kql

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestGeoMeasures checks geo_line_length, geo_polygon_area and
// geo_polygon_perimeter against their reference pages' examples
// (geo-line-length-function, geo-polygon-area-function,
// geo-polygon-perimeter-function).
func TestGeoMeasures(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{`round(geo_line_length(dynamic({"type":"LineString","coordinates":[[-73.95807266235352,40.800426144169315],[-73.94966125488281,40.79691751000055],[-73.97317886352539,40.764486356930334]]})), 8)`, "4922.48016992"},
		// two lines that do not overlap: the union's length is their sum
		{`round(geo_line_length(dynamic({"type":"MultiLineString","coordinates":[[[-73.95798683166502,40.800556090021466],[-73.98193359375,40.76819171855746]],[[-73.94940376281738,40.79691751000055],[-73.97317886352539,40.76435634049001]]]})), 8)`, "8262.24339754"},
		{`isnull(geo_line_length(dynamic({"type":"LineString","coordinates":[[1, 1]]})))`, "True"},
		// documented 3475207.28346606: the last digits differ (see
		// docs/decisions/kql.md)
		{`round(geo_polygon_area(` + geoCentralPark + `), 5)`, "3475207.28347"},
		{`isnull(geo_polygon_area(dynamic({"type": "Polygon","coordinates": [[[0,0],[10,10],[10,10],[0,0]]]})))`, "True"},
		// a hole is not area; a 1°×1° square at the equator
		{`round(geo_polygon_area(dynamic({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]})) / 1e6, 0)`, "12364"},
		{`geo_polygon_area(dynamic({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]})) > geo_polygon_area(dynamic({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]],[[0.2,0.2],[0.2,0.8],[0.8,0.8],[0.8,0.2],[0.2,0.2]]]}))`, "True"},
		{`round(geo_polygon_perimeter(` + geoCentralPark + `), 8)`, "9930.30149605"},
		{`isnull(geo_polygon_perimeter(dynamic({"type": "Polygon","coordinates": [[[0,0],[10,10],[10,10],[0,0]]]})))`, "True"},
		// two squares far apart: the union's perimeter is the sum
		{`round(geo_polygon_perimeter(dynamic({"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,1],[0,0]]],[[[10,-1],[11,-1],[11,0],[10,0],[10,-1]]]]})) / geo_polygon_perimeter(dynamic({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]})), 12)`, "2"},
	} {
		res := runQuery(t, "print r="+tc.expr)
		if got := res.Rows[0][0].Text(); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
		}
	}
}

// TestGeoMeasuresRefuseOverlaps: the pages' multipolygon examples measure
// the union of two overlapping polygons, which Steward cannot build; the
// query fails saying so instead of counting the overlap twice.
func TestGeoMeasuresRefuseOverlaps(t *testing.T) {
	mp := `dynamic({"type":"MultiPolygon","coordinates":[[[[-73.9495,40.7969],[-73.95807266235352,40.80068603561921],[-73.98201942443848,40.76825672305777],[-73.97317886352539,40.76455136505513],[-73.9495,40.7969]]],[[[-73.94262313842773,40.775991804565585],[-73.98107528686523,40.791849155467695],[-73.99600982666016,40.77092185281977],[-73.96150588989258,40.75609977566361],[-73.94262313842773,40.775991804565585]]]]})`
	for _, q := range []string{
		"print geo_polygon_area(" + mp + ")",
		"print geo_polygon_perimeter(" + mp + ")",
		`print geo_line_length(dynamic({"type":"MultiLineString","coordinates":[[[0,0],[2,0]],[[1,0],[3,0]]]}))`,
	} {
		_, err := Run(context.Background(), q, Options{})
		var ce *CompileError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "union") {
			t.Errorf("%s: %v, want an error about the union", q, err)
		}
	}
}
