package kql

import (
	"strings"
	"testing"

	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
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

// TestGeoMeasuresOfUnions: the pages' multipolygon examples measure the
// union of two overlapping polygons (area 10889971.5343487, perimeter
// 15943.5384578745); overlapping lines are measured once.
func TestGeoMeasuresOfUnions(t *testing.T) {
	mp := `dynamic({"type":"MultiPolygon","coordinates":[[[[-73.9495,40.7969],[-73.95807266235352,40.80068603561921],[-73.98201942443848,40.76825672305777],[-73.97317886352539,40.76455136505513],[-73.9495,40.7969]]],[[[-73.94262313842773,40.775991804565585],[-73.98107528686523,40.791849155467695],[-73.99600982666016,40.77092185281977],[-73.96150588989258,40.75609977566361],[-73.94262313842773,40.775991804565585]]]]})`
	for _, tc := range []struct{ expr, want string }{
		{"round(geo_polygon_area(" + mp + "), 4)", "10889971.5343"},
		{"round(geo_polygon_perimeter(" + mp + "), 6)", "15943.538458"},
		// the same square twice is the square
		{`round(geo_polygon_area(dynamic({"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,1],[0,0]]],[[[0,0],[1,0],[1,1],[0,1],[0,0]]]]})) / geo_polygon_area(dynamic({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]})), 12)`, "1"},
		// two squares sharing a side: the shared side is no perimeter
		{`abs(geo_polygon_perimeter(dynamic({"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,1],[0,0]]],[[[1,0],[2,0],[2,1],[1,1],[1,0]]]]})) - geo_polygon_perimeter(dynamic({"type":"Polygon","coordinates":[[[0,0],[1,0],[2,0],[2,1],[1,1],[0,1],[0,0]]]}))) < 1e-6`, "True"},
		// [0,2] and [1,3] along the equator: 3° of line
		{`round(geo_line_length(dynamic({"type":"MultiLineString","coordinates":[[[0,0],[2,0]],[[1,0],[3,0]]]})) / geo_line_length(dynamic({"type":"LineString","coordinates":[[0,0],[3,0]]})), 12)`, "1"},
	} {
		res := runQuery(t, "print r="+tc.expr)
		if got := res.Rows[0][0].Text(); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
		}
	}
}

// TestGeoLineToS2Cells runs geo-line-to-s2cells-function's join example
// (tube stations within 500 m of streets) and checks the covering against
// brute force: every cell it holds is within the radius of the line, and
// the cells of points near the line are in it.
func TestGeoLineToS2Cells(t *testing.T) {
	res := runQuery(t, `let radius = 500;
let tube_stations = datatable(tube_station_name:string, lng:real, lat: real)
[
    "St. James' Park",        -0.13451078568013486, 51.49919145858172,
     "London Bridge station", -0.08492752160134387, 51.504876316440914,
];
let streets = datatable(street_name:string, line:dynamic)
[
    "Buckingham Palace", dynamic({"type":"LineString","coordinates":[[-0.1399656708283601,51.50190802248855],[-0.14088438832752104,51.50012082761452]]}),
    "London Bridge",    dynamic({"type":"LineString","coordinates":[[-0.087152,51.509596],[-0.088340,51.506110]]}),
];
let join_level = 14;
let lines = materialize(streets | extend id = new_guid());
let res =
    lines
    | project id, covering = geo_line_to_s2cells(line, join_level, radius)
    | mv-expand covering to typeof(string)
    | join kind=inner hint.strategy=broadcast
    (
        tube_stations
        | extend covering = geo_point_to_s2cell(lng, lat, join_level)
    ) on covering;
res | lookup lines on id
| where geo_distance_point_to_line(lng, lat, line) <= radius
| summarize count = count() by name = street_name
| order by name asc`)
	if got := joinColumn(res, 0) + "/" + joinColumn(res, 1); got != "Buckingham Palace,London Bridge/1,1" {
		t.Errorf("stations near streets: %s", got)
	}

	line := `dynamic({"type":"LineString","coordinates":[[-0.1399656708283601,51.50190802248855],[-0.14088438832752104,51.50012082761452]]})`
	for _, tc := range []struct{ expr, want string }{
		{`tostring(geo_line_to_s2cells(` + line + `, 14))`, `["487604d9"]`},
		// a point 400 m from the line is in the 500 m covering, and its cell
		// is not in the covering without a radius
		{`array_index_of(geo_line_to_s2cells(` + line + `, 14, 500), geo_point_to_s2cell(-0.1342, 51.5012, 14)) >= 0`, "True"},
		{`round(geo_distance_point_to_line(-0.1342, 51.5012, ` + line + `) / 100)`, "4"},
		{`array_index_of(geo_line_to_s2cells(` + line + `, 14), geo_point_to_s2cell(-0.1342, 51.5012, 14)) >= 0`, "False"},
		{`isnull(geo_line_to_s2cells(dynamic({"type":"LineString","coordinates":[[[0,0],[0,0]]]})))`, "True"},
		{`isnull(geo_line_to_s2cells(` + line + `, 31))`, "True"},
		{`isnull(geo_line_to_s2cells(` + line + `, 14, -1))`, "True"},
		// more than 65,536 cells: null, refused before the cells are made
		{`isnull(geo_line_to_s2cells(dynamic({"type":"LineString","coordinates":[[0,0],[100,0]]}), 30))`, "True"},
	} {
		res := runQuery(t, "print r="+tc.expr)
		if got := res.Rows[0][0].Plain(); got != tc.want && res.Rows[0][0].Text() != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
		}
	}
}

// TestGeoLineCoveringMatchesBruteForce: the radius covering holds exactly
// the cells, among all cells of the level around the line, whose distance
// to the line is within the radius.
func TestGeoLineCoveringMatchesBruteForce(t *testing.T) {
	a := s2.PointFromLatLng(s2.LatLngFromDegrees(51.5019, -0.13997))
	b := s2.PointFromLatLng(s2.LatLngFromDegrees(51.5001, -0.14088))
	const level, meters = 15, 400.0
	cells, ok := geoLineCovering([]geoLine{{a, b}}, level, meters/earthRadiusMeters, newGovernor(Limits{}))
	if !ok {
		t.Fatal("no covering")
	}
	got := map[s2.CellID]bool{}
	for _, c := range cells {
		got[c] = true
	}
	// every cell of the level within 2 km of the line's start
	rc := &s2.RegionCoverer{MinLevel: level, MaxLevel: level, MaxCells: 1 << 20}
	limit := s1.ChordAngleFromAngle(s1.Angle(meters / earthRadiusMeters))
	near := 0
	for _, c := range rc.Covering(s2.CapFromCenterAngle(a, s1.Angle(2000/earthRadiusMeters))) {
		d := s2.CellFromCellID(c).DistanceToEdge(a, b)
		if in := d <= limit; in != got[c] {
			t.Errorf("cell %s at %.1f m: in covering %v", c.ToToken(), d.Angle().Radians()*earthRadiusMeters, got[c])
		} else if in {
			near++
		}
	}
	if near != len(cells) || near < 10 {
		t.Errorf("%d cells near the line, covering of %d", near, len(cells))
	}
}

// TestGeoFromWKT checks geo-from-wkt-function's examples and the inputs it
// answers with null.
func TestGeoFromWKT(t *testing.T) {
	for _, tc := range []struct{ wkt, want string }{
		{"POINT (1 2)", `{"type":"Point","coordinates":[1,2]}`},
		{"LINESTRING (1 2, 3 4)", `{"type":"LineString","coordinates":[[1,2],[3,4]]}`},
		{"POLYGON ((0 0, 2 0, 2 2, 0 0))", `{"type":"Polygon","coordinates":[[[0,0],[2,0],[2,2],[0,0]]]}`},
		{"MULTIPOINT (1 1, 2 2, 3 3)", `{"type":"MultiPoint","coordinates":[[1,1],[2,2],[3,3]]}`},
		{"MULTILINESTRING ((1 1, 2 2, 3 3), (4 4, 5 5))", `{"type":"MultiLineString","coordinates":[[[1,1],[2,2],[3,3]],[[4,4],[5,5]]]}`},
		{"MULTIPOLYGON (((0 0, 2 0, 2 2, 0 0)),((10 10, 12 10, 12 12, 10 10)))", `{"type":"MultiPolygon","coordinates":[[[[0,0],[2,0],[2,2],[0,0]]],[[[10,10],[12,10],[12,12],[10,10]]]]}`},
		{"GEOMETRYCOLLECTION (POINT (1 1),LINESTRING (2 2, 3 3, 4 4),POLYGON ((10 10, 12 10, 12 12, 10 10)))", `{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,1]},{"type":"LineString","coordinates":[[2,2],[3,3],[4,4]]},{"type":"Polygon","coordinates":[[[10,10],[12,10],[12,12],[10,10]]]}]}`},
		// the other spelling of a multipoint, lower case, decimals
		{"multipoint ((1.5 -2), (3 4e1))", `{"type":"MultiPoint","coordinates":[[1.5,-2],[3,40.0]]}`},
		{"LINESTRING", ""},
		{"POINT (1 2 3)", ""},
		{"POINT EMPTY", ""},
		{"POINT (200 1)", ""},
		{"POLYGON ((0 0, 2 0, 2 2, 0 1))", ""},
		{"POINT (1 2) x", ""},
		{"CIRCLE (1 2)", ""},
	} {
		res := runQuery(t, "print r = tostring(geo_from_wkt('"+tc.wkt+"'))")
		if got := res.Rows[0][0].Plain(); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.wkt, got, tc.want)
		}
	}
	deep := strings.Repeat("GEOMETRYCOLLECTION (", 40) + "POINT (1 1)" + strings.Repeat(")", 40)
	if res := runQuery(t, "print r = isnull(geo_from_wkt('"+deep+"'))"); res.Rows[0][0].Text() != "True" {
		t.Error("a collection nested 40 deep is not null")
	}
}
