package kql

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
)

const (
	geoCentralPark  = `dynamic({"type":"Polygon","coordinates":[[[-73.9495,40.7969],[-73.95807266235352,40.80068603561921],[-73.98201942443848,40.76825672305777],[-73.97317886352539,40.76455136505513],[-73.9495,40.7969]]]})`
	geoParkLine     = `dynamic({"type":"LineString","coordinates":[[-73.95796, 40.80042], [-73.97317, 40.764486]]})`
	geoParkLoop     = `dynamic({"type":"LineString","coordinates":[[-73.95807266235352,40.800426144169315],[-73.94966125488281,40.79691751000055],[-73.97317886352539,40.764486356930334],[-73.98210525512695,40.76786669510221],[-73.96004676818848,40.7980870753293]]})`
	geoLasVegasRoad = `dynamic({ "type":"LineString","coordinates":[[-115.115385,36.229195],[-115.136995,36.200366],[-115.140252,36.192470],[-115.143558,36.188523],[-115.144076,36.181954],[-115.154662,36.174483],[-115.166431,36.176388],[-115.183289,36.175007],[-115.192612,36.176736],[-115.202485,36.173439],[-115.225355,36.174365]]})`
)

// TestGeoShapeFunctions checks the neighbor, centroid, nearest-point,
// position and densify functions against the examples of their Kusto
// reference pages (named in the comments). Where Steward's last digits
// differ from the page's, the value is rounded to the digits that agree
// (docs/decisions/kql.md says by how much).
func TestGeoShapeFunctions(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		// geo-s2cell-neighbors-function: the same eight cells (Kusto's
		// order follows no documented rule, so compare them sorted)
		{`tostring(array_sort_asc(geo_s2cell_neighbors('89c259')))`, `'["89c251","89c257","89c25b","89c25d","89c25f","89c2f5","89c2f7","89c2f9"]'`},
		{`array_length(array_concat(pack_array('89c259'), geo_s2cell_neighbors('89c259')))`, "9"},
		{`isnull(geo_s2cell_neighbors('a'))`, "True"},
		// a face (level 0) has its four edge neighbors; a cell at a
		// face's corner has seven
		{`array_length(geo_s2cell_neighbors('1'))`, "4"},
		{`array_length(geo_s2cell_neighbors(geo_point_to_s2cell(-45, 35.26438968275, 5)))`, "7"},
		// geo-geohash-neighbors-function
		{`tostring(array_sort_asc(geo_geohash_neighbors('sunny')))`, `'["sunnt","sunnv","sunnw","sunnx","sunnz","sunpj","sunpn","sunpp"]'`},
		{`isnull(geo_geohash_neighbors('a'))`, "True"},
		{`isnull(geo_geohash_neighbors(''))`, "True"},
		// at the antimeridian the neighbors wrap; at a pole there are five
		{`tostring(array_sort_asc(geo_geohash_neighbors('b')))`, `'["8","9","c","x","z"]'`},
		// geo-line-centroid-function
		{`round(todouble(geo_line_centroid(` + geoParkLine + `).coordinates[0]), 12)`, "-73.965567057231"},
		{`round(todouble(geo_line_centroid(` + geoParkLine + `).coordinates[1]), 12)`, "40.782453249627"},
		{`round(todouble(geo_line_centroid(` + geoParkLoop + `).coordinates[0]), 12)`, "-73.966067562684"},
		{`isnull(geo_line_centroid(dynamic({"type":"LineString","coordinates":[[1, 1]]})))`, "True"},
		// a line that starts on another and leaves it at a slant of
		// 11 cm in 55 m does not overlap it: the lengths add up
		{`round(geo_line_length(dynamic({"type":"MultiLineString","coordinates":[[[0,0],[0.001,0]],[[0.0005,0],[0.001,0.000001]]]})), 6) == round(geo_line_length(dynamic({"type":"LineString","coordinates":[[0,0],[0.001,0]]})) + geo_line_length(dynamic({"type":"LineString","coordinates":[[0.0005,0],[0.001,0.000001]]})), 6)`, "True"},
		// two lines that do not overlap, mirror images across the
		// equator: the union's centroid is on the equator, halfway along
		{`round(todouble(geo_line_centroid(dynamic({"type":"MultiLineString","coordinates":[[[0,-1],[1,-1]],[[0,1],[1,1]]]})).coordinates[0]), 12)`, "0.5"},
		{`round(todouble(geo_line_centroid(dynamic({"type":"MultiLineString","coordinates":[[[0,-1],[1,-1]],[[0,1],[1,1]]]})).coordinates[1]), 12)`, "0"},
		// geo-polygon-centroid-function
		{`round(todouble(geo_polygon_centroid(` + geoCentralPark + `).coordinates[0]), 10)`, "-73.9657356899"},
		{`round(todouble(geo_polygon_centroid(` + geoCentralPark + `).coordinates[1]), 10)`, "40.7825505381"},
		{`isnull(geo_polygon_centroid(dynamic({"type": "Polygon","coordinates": [[[0,0],[10,10],[10,10],[0,0]]]})))`, "True"},
		// geo-line-interpolate-point-function
		{`round(todouble(geo_line_interpolate_point(` + geoParkLine + `, 0.25).coordinates[0]), 12)`, "-73.961764043218"},
		{`round(todouble(geo_line_interpolate_point(` + geoParkLine + `, 0.25).coordinates[1]), 12)`, "40.791436687257"},
		{`round(todouble(geo_line_interpolate_point(` + geoParkLoop + `, 0.9).coordinates[0]), 12)`, "-73.965565458328"},
		{`isnull(geo_line_interpolate_point(dynamic({"type":"LineString","coordinates":[[1, 1]]}), 0.5))`, "True"},
		{`isnull(geo_line_interpolate_point(` + geoParkLine + `, 1.5))`, "True"},
		{`isnull(geo_line_interpolate_point(dynamic({"type":"MultiLineString","coordinates":[[[0,0],[1,0]],[[0,2],[1,2]]]}), 0.5))`, "True"},
		// geo-line-locate-point-function (0.25560135100307552 on the page)
		{`round(geo_line_locate_point(` + geoParkLine + `, -73.965, 40.792), 11)`, "0.255601351"},
		{`isnull(geo_line_locate_point(dynamic({"type":"LineString","coordinates":[[1, 1]]}), 1, 1))`, "True"},
		{`geo_line_locate_point(` + geoParkLine + `, -73.95796, 40.80042, false)`, "0"},
		{`isnull(geo_line_locate_point(` + geoParkLine + `, 300, 1))`, "True"},
		// geo-closest-point-on-line-function
		{`tostring(geo_closest_point_on_line(-115.199625, 36.210419, ` + geoLasVegasRoad + `))`, `'{"type":"Point","coordinates":[-115.192612,36.176736]}'`},
		// inside an edge: the foot of the perpendicular, on the equator
		{`round(todouble(geo_closest_point_on_line(0.5, 1, dynamic({"type":"LineString","coordinates":[[0,0],[1,0]]})).coordinates[0]), 12)`, "0.5"},
		{`round(todouble(geo_closest_point_on_line(0.5, 1, dynamic({"type":"LineString","coordinates":[[0,0],[1,0]]})).coordinates[1]), 12)`, "0"},
		{`isnull(geo_closest_point_on_line(1,1, dynamic({ "type":"LineString"})))`, "True"},
		{`isnull(geo_closest_point_on_line(300, 3, dynamic({ "type":"LineString","coordinates":[[1,1],[2,2]]})))`, "True"},
		// geo-closest-point-on-polygon-function
		{`round(todouble(geo_closest_point_on_polygon(-73.9839, 40.7705, ` + geoCentralPark + `).coordinates[0]), 12)`, "-73.981205580154"},
		{`round(todouble(geo_closest_point_on_polygon(-73.9839, 40.7705, ` + geoCentralPark + `).coordinates[1]), 12)`, "40.769359452843"},
		{`tostring(geo_closest_point_on_polygon(-73.97, 40.78, ` + geoCentralPark + `).coordinates)`, `'[-73.97,40.78]'`},
		{`isnull(geo_closest_point_on_polygon(500,1,dynamic({"type": "Polygon","coordinates": [[[0,0],[10,10],[10,1],[0,0]]]})))`, "True"},
		{`isnull(geo_closest_point_on_polygon(1,1,dynamic({"type": "Polygon","coordinates": [[[0,0],[10,10],[10,10],[0,0]]]})))`, "True"},
		// geo-distance-point-to-polygon-function
		{`round(geo_distance_point_to_polygon(-73.9839, 40.7705, ` + geoCentralPark + `), 8)`, "259.94075607"},
		{`geo_distance_point_to_polygon(500,1,dynamic({"type": "Polygon","coordinates": [[[0,0],[10,10],[10,1],[0,0]]]}))`, "null"},
		{`geo_distance_point_to_polygon(1,1,dynamic({"type": "Polygon","coordinates": [[[0,0],[10,10],[10,10],[0,0]]]}))`, "null"},
		// geo-line-densify-function
		{`tostring(geo_line_densify(dynamic({"type":"LineString","coordinates":[[-73.949247, 40.796860],[-73.973017, 40.764323]]})))`, `'{"type":"LineString","coordinates":[[-73.949247,40.79686],[-73.973017,40.764323]]}'`},
		{`tostring(geo_line_densify(dynamic({"type":"LineString","coordinates":[[50, 50], [51, 51]]})).coordinates)`, `'[[50,50],[50.125,50.125],[50.25,50.25],[50.375,50.375],[50.5,50.5],[50.625,50.625],[50.75,50.75],[50.875,50.875],[51,51]]'`},
		{`geo_line_densify(dynamic({"type":"LineString","coordinates":[[300,1],[1,1]]}))`, "null"},
		{`geo_line_densify(dynamic({"type":"LineString","coordinates":[[1,1],[2,2]]}), 0)`, "null"},
		// a coarser tolerance adds fewer points; a multi-line keeps its parts
		{`array_length(geo_line_densify(dynamic({"type":"LineString","coordinates":[[50, 50], [51, 51]]}), 1000).coordinates)`, "2"},
		{`array_length(geo_line_densify(dynamic({"type":"MultiLineString","coordinates":[[[50, 50], [51, 51]], [[1, 1], [2, 2]]]})).coordinates[0])`, "9"},
		// geo-polygon-densify-function
		{`tostring(geo_polygon_densify(dynamic({"type":"Polygon","coordinates":[[[-73.958244,40.800719],[-73.949146,40.79695],[-73.973093,40.764226],[-73.982062,40.768159],[-73.958244,40.800719]]]})))`, `'{"type":"Polygon","coordinates":[[[-73.958244,40.800719],[-73.949146,40.79695],[-73.973093,40.764226],[-73.982062,40.768159],[-73.958244,40.800719]]]}'`},
		{`tostring(geo_polygon_densify(dynamic({"type":"Polygon","coordinates":[[[10,10],[11,10],[11,11],[10,11],[10,10]]]})).coordinates)`, `'[[[10,10],[10.25,10],[10.5,10],[10.75,10],[11,10],[11,11],[10.75,11],[10.5,11],[10.25,11],[10,11],[10,10]]]'`},
		{`geo_polygon_densify(dynamic({"type":"Polygon","coordinates":[[[10,900],[11,10],[11,11],[10,11],[10,10]]]}))`, "null"},
		{`geo_polygon_densify(dynamic({"type":"Polygon","coordinates":[[[10,10],[11,10],[11,11],[10,11],[10,10]]]}), 0)`, "null"},
	} {
		res := runQuery(t, "print r="+tc.expr)
		got := res.Rows[0][0]
		if tc.want[0] == '\'' {
			// reals print with a fraction ("10.0") where Kusto's JSON
			// prints "10": compare without it
			if g := strings.ReplaceAll(got.Plain(), ".0,", ","); "'"+strings.ReplaceAll(g, ".0]", "]")+"'" != tc.want {
				t.Errorf("%s = %s, want %s", tc.expr, got.Plain(), tc.want)
			}
		} else if got.Text() != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, got.Text(), tc.want)
		}
	}
}

// TestGeoDistanceToMultiPolygon runs geo-distance-point-to-polygon's table
// example: two points inside the multipolygon, one 5.7 km away.
func TestGeoDistanceToMultiPolygon(t *testing.T) {
	mp, err := os.ReadFile("testdata/geo_nyc_multipolygon.json")
	if err != nil {
		t.Fatal(err)
	}
	res := runQuery(t, `let multipolygon = dynamic(`+string(mp)+`);
datatable(longitude:real, latitude:real, description:string)
[
    real(-73.9741), 40.7914, 'Upper West Side',
    real(-73.9950), 40.7340, 'Greenwich Village',
    real(-73.8743), 40.7773, 'LaGuardia Airport',
]
| extend distance = round(geo_distance_point_to_polygon(longitude, latitude, multipolygon), 8)
| project distance`)
	if got := joinColumn(res, 0); got != "0,0,5702.15731468" {
		t.Errorf("distances: %s", got)
	}
}

// TestGeoCentroidsOfUnions: the page's multipolygon centroid example is
// the centroid of the union of two overlapping polygons,
// (-73.968569587829577, 40.776310752555119); lines along a common stretch
// count it once.
func TestGeoCentroidsOfUnions(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{`geo_polygon_centroid(dynamic({"type":"MultiPolygon","coordinates":[[[[-73.9495,40.7969],[-73.95807266235352,40.80068603561921],[-73.98201942443848,40.76825672305777],[-73.97317886352539,40.76455136505513],[-73.9495,40.7969]]],[[[-73.94262313842773,40.775991804565585],[-73.98107528686523,40.791849155467695],[-73.99600982666016,40.77092185281977],[-73.96150588989258,40.75609977566361],[-73.94262313842773,40.775991804565585]]]]}))`,
			"-73.9685695878,40.7763107526"},
		{`geo_line_centroid(dynamic({"type":"MultiLineString","coordinates":[[[0,0],[2,0]],[[1,0],[3,0]]]}))`, "1.5,0"},
	} {
		res := runQuery(t, "print c="+tc.expr+" | project x=round(todouble(c.coordinates[0]), 10), y=round(todouble(c.coordinates[1]), 10)")
		if got := res.Rows[0][0].Text() + "," + res.Rows[0][1].Text(); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
		}
	}
}

// TestGeoShapeStaticErrors: wrong types and the unsupported options are
// compile errors.
func TestGeoShapeStaticErrors(t *testing.T) {
	for _, q := range []string{
		"print geo_line_centroid('line')",
		"print geo_line_interpolate_point(" + geoParkLine + ", 'half')",
		"print geo_line_locate_point(" + geoParkLine + ", 1, 1, true)",
		"print geo_closest_point_on_polygon(1, 1)",
		"print geo_line_densify(" + geoParkLine + ", 10, true)",
		"print geo_polygon_densify(" + geoCentralPark + ", 'x')",
	} {
		if _, err := Run(context.Background(), q, Options{}); err == nil {
			t.Errorf("%s: no error", q)
		}
	}
}

// TestGeoDensifyGoverned: a densify that would build more points than the
// memory budget allows stops with the governor's error.
func TestGeoDensifyGoverned(t *testing.T) {
	q := `print array_length(geo_line_densify(dynamic({"type":"LineString","coordinates":[[-170, 60], [170, 60]]}), 0.1).coordinates)`
	_, err := Run(context.Background(), q, Options{Limits: Limits{MaxMemory: 1 << 20}})
	var le *LimitError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v, want a limit error", err)
	}
}

// TestGeoShapeFunctionsNeverCrash calls each new function with edge values
// in every argument position: a result or a query error, never a panic.
func TestGeoShapeFunctionsNeverCrash(t *testing.T) {
	edge := []string{"real(null)", "long(null)", "dynamic(null)", `""`, `"a"`, "real(nan)", "real(-inf)", "-1", "0",
		"99999999999", "dynamic([])", "dynamic({})", `dynamic({"type":"Polygon"})`,
		`dynamic({"type":"Polygon","coordinates":[[[0,0],[1,0],[0,1],[0,0]],[[5,5]]]})`,
		`dynamic({"type":"LineString","coordinates":[[0,0],[0,0]]})`,
		`dynamic({"type":"MultiLineString","coordinates":[[[0,0]],"x"]})`, `dynamic([1,"a",null])`, "true"}
	line, poly := `dynamic({"type":"LineString","coordinates":[[0,0],[1,1]]})`, geoCentralPark
	edgeCallsNeverCrash(t, map[string][]string{
		"geo_s2cell_neighbors":          {"'89c259'"},
		"geo_geohash_neighbors":         {"'sunny'"},
		"geo_line_centroid":             {line},
		"geo_polygon_centroid":          {poly},
		"geo_line_interpolate_point":    {line, "0.5"},
		"geo_line_locate_point":         {line, "1", "1"},
		"geo_closest_point_on_line":     {"1", "1", line},
		"geo_closest_point_on_polygon":  {"1", "1", poly},
		"geo_distance_point_to_polygon": {"1", "1", poly},
		"geo_line_densify":              {line, "10"},
		"geo_polygon_densify":           {poly, "10"},
		"geo_line_length":               {line},
		"geo_polygon_area":              {poly},
		"geo_polygon_perimeter":         {poly},
		"geo_line_to_s2cells":           {line, "11", "100"},
		"geo_from_wkt":                  {"'POINT (1 1)'"},
		"geo_line_simplify":             {line, "10"},
		"geo_polygon_simplify":          {poly, "10"},
	}, edge)
}
