package kql

import (
	"context"
	"strings"
	"testing"
)

// TestGeoFunctions checks the geospatial functions against the examples of
// their Kusto reference pages (named in the comments), with the documented
// outputs, and their documented null results for invalid input.
func TestGeoFunctions(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		// geo-distance-2points-function
		{"round(geo_distance_2points(-122.407628, 47.578557, -118.275287, 34.019056), 8)", "1546754.35197381"},
		{"geo_distance_2points(300, 1, 1, 1)", "null"},
		{"geo_distance_2points(1, 1, 1, 1)", "0"},
		{"geo_distance_2points(1, 1, 1, 1, false)", "0"},
		{"geo_distance_2points(real(null), 1, 1, 1)", "null"},
		// geo-point-in-circle-function
		{"geo_point_in_circle(-122.143564, 47.535677, -122.100896, 47.527351, 3500)", "True"},
		{"geo_point_in_circle(-122.137575, 47.630683, -122.100896, 47.527351, 3500)", "False"},
		{"geo_point_in_circle(200, 1, 1, 1, 1)", "null"},
		{"geo_point_in_circle(1, 1, 1, 1, -1)", "null"},
		// geo-point-in-polygon-function
		{`geo_point_in_polygon(200, 1, dynamic({"type": "Polygon","coordinates": [[[0,0],[10,10],[10,1],[0,0]]]}))`, "null"},
		{`geo_point_in_polygon(1, 1, dynamic({"type": "Polygon","coordinates": [[[0,0],[10,10],[10,10],[0,0]]]}))`, "null"},
		{`geo_point_in_polygon(8, 3, dynamic({"type": "Polygon","coordinates": [[[0,0],[10,10],[10,1],[0,0]]]}))`, "True"},
		{`geo_point_in_polygon(3, 8, dynamic({"type": "Polygon","coordinates": [[[0,0],[10,10],[10,1],[0,0]]]}))`, "False"},
		// a ring given clockwise still stands for the smaller region
		{`geo_point_in_polygon(8, 3, dynamic({"type": "Polygon","coordinates": [[[0,0],[10,1],[10,10],[0,0]]]}))`, "True"},
		// a hole
		{`geo_point_in_polygon(5, 5, dynamic({"type": "Polygon","coordinates": [[[0,0],[10,0],[10,10],[0,10],[0,0]],[[4,4],[4,6],[6,6],[6,4],[4,4]]]}))`, "False"},
		{`geo_point_in_polygon(2, 2, dynamic({"type": "Polygon","coordinates": [[[0,0],[10,0],[10,10],[0,10],[0,0]],[[4,4],[4,6],[6,6],[6,4],[4,4]]]}))`, "True"},
		// open ring, too few positions, not a polygon
		{`geo_point_in_polygon(1, 1, dynamic({"type": "Polygon","coordinates": [[[0,0],[10,0],[10,10],[0,10]]]}))`, "null"},
		{`geo_point_in_polygon(1, 1, dynamic({"type": "Polygon","coordinates": [[[0,0],[10,0],[0,0]]]}))`, "null"},
		{`geo_point_in_polygon(1, 1, dynamic({"type": "LineString","coordinates": [[0,0],[10,0]]}))`, "null"},
		// geo-distance-point-to-line-function
		{`round(geo_distance_point_to_line(-115.199625, 36.210419, dynamic({ "type":"LineString","coordinates":[[-115.115385,36.229195],[-115.136995,36.200366],[-115.140252,36.192470],[-115.143558,36.188523],[-115.144076,36.181954],[-115.154662,36.174483],[-115.166431,36.176388],[-115.183289,36.175007],[-115.192612,36.176736],[-115.202485,36.173439],[-115.225355,36.174365]]})), 8)`, "3797.88887253"},
		{`geo_distance_point_to_line(1, 1, dynamic({ "type":"LineString"}))`, "null"},
		{`geo_distance_point_to_line(300, 3, dynamic({ "type":"LineString","coordinates":[[1,1],[2,2]]}))`, "null"},
		{`geo_distance_point_to_line(1, 1, dynamic({ "type":"MultiLineString","coordinates":[[[5,5],[6,6]],[[1,1],[2,2]]]}))`, "0"},
		{`geo_distance_point_to_line(1, 1, dynamic({ "type":"LineString","coordinates":[[1,1]]}))`, "null"},
		// geo-point-to-geohash-function, geo-geohash-to-central-point-function
		{"geo_point_to_geohash(-80.195829, 25.802215, 8)", "'dhwfz15h'"},
		{"geo_point_to_geohash(-122.303404, 47.570482)", "'c23n8'"},
		{"geo_point_to_geohash(-122.278156, 47.566936)", "'c23n9'"},
		{"geo_point_to_geohash(200, 1, 8)", "''"},
		{"geo_point_to_geohash(1, 1, int(null))", "''"},
		{"geo_point_to_geohash(1, 1, 19)", "''"},
		{`tostring(geo_geohash_to_central_point("sunny"))`, `'{"type":"Point","coordinates":[42.47314453125,23.70849609375]}'`},
		{`tostring(geo_geohash_to_central_point("sv8wzvy7").coordinates)`, `'[34.80245590209961,32.15620994567871]'`},
		{`geo_geohash_to_central_point("a")`, "null"},
		{`geo_geohash_to_central_point("")`, "null"},
		// geo-point-to-s2cell-function, geo-s2cell-to-central-point-function
		{"geo_point_to_s2cell(-80.195829, 25.802215, 8)", "'88d9b'"},
		{"geo_point_to_s2cell(10.1234, 53, 8)", "'47b1d'"},
		{"geo_point_to_s2cell(10.3579, 53, 8)", "'47b1d'"},
		{"geo_point_to_s2cell(10.6842, 53, 8)", "'47ae3'"},
		{"geo_point_to_s2cell(300, 1, 8)", "''"},
		{"geo_point_to_s2cell(1, 1, 35)", "''"},
		{"geo_point_to_s2cell(1, 1, int(null))", "''"},
		// documented [9.86830731850408, 27.468392925827604]: the S2 library's
		// center is one unit in the last place away from it, so compare
		// 12 decimals
		{`geo_s2cell_to_central_point("1234567").type`, `'Point'`},
		{`round(todouble(geo_s2cell_to_central_point("1234567").coordinates[0]), 12)`, "9.868307318504"},
		{`round(todouble(geo_s2cell_to_central_point("1234567").coordinates[1]), 12)`, "27.468392925828"},
		{`geo_s2cell_to_central_point("a")`, "null"},
		{`geo_s2cell_to_central_point("zz")`, "null"},
		// geo-geohash-to-polygon-function, geo-s2cell-to-polygon-function
		{`tostring(geo_geohash_to_polygon("dr5ru"))`, `'{"type":"Polygon","coordinates":[[[-74.00390625,40.7373046875],[-73.9599609375,40.7373046875],[-73.9599609375,40.78125],[-74.00390625,40.78125],[-74.00390625,40.7373046875]]]}'`},
		{`geo_geohash_to_polygon("a")`, "null"},
		{`round(todouble(geo_s2cell_to_polygon("89c259").coordinates[0][0][0]), 12)`, "-74.030012249838"},
		{`round(todouble(geo_s2cell_to_polygon("89c259").coordinates[0][1][1]), 12)`, "40.722226291836"},
		{`round(todouble(geo_s2cell_to_polygon("89c259").coordinates[0][2][0]), 12)`, "-73.935982114337"},
		{`round(todouble(geo_s2cell_to_polygon("89c259").coordinates[0][3][1]), 12)`, "40.787917134507"},
		{`array_length(geo_s2cell_to_polygon("89c259").coordinates[0])`, "5"},
		{`geo_s2cell_to_polygon("a")`, "null"},
		// geo-azimuth-function, geo-angle-function
		{"round(geo_azimuth(5, 10, 10, -40), 14)", "3.05459939796449"},
		{"round(degrees(geo_azimuth(5, 10, 10, -40)), 11)", "175.01565360657"},
		{"geo_azimuth(5, 10, 5, 10)", "null"},
		{"geo_azimuth(0, 10, 180, -10)", "null"},
		{"geo_azimuth(0, 0, 0, 1)", "0"},
		{"round(geo_azimuth(0, 0, 1, 0), 15)", "1.570796326794897"},
		{"round(geo_angle(0, 10, 0, 5, 3, -10), 14)", "2.94493843406882"},
		{"round(degrees(geo_angle(0, 10, 0, 5, 3, -10)), 12)", "168.732543198009"},
		{"geo_angle(0, 10, 0, 10, 3, -10)", "null"},
		// geo-polygon-to-s2cells-function
		{`array_length(geo_polygon_to_s2cells(dynamic({"type":"Polygon","coordinates":[[[0,0],[0,50],[100,50],[0,0]]]}), 5))`, "286"},
		{`isnull(geo_polygon_to_s2cells(dynamic({"type":"Polygon","coordinates":[[[0,0],[0,50],[100,50],[0,0]]]}), 30))`, "True"},
		{`geo_polygon_to_s2cells(dynamic({"type":"Polygon","coordinates":[[[0,0],[0,50],[100,50],[0,0]]]}), 31)`, "null"},
	} {
		res := runQuery(t, "print r="+tc.expr)
		if got := res.Rows[0][0].Plain(); tc.want[0] != '\'' && res.Rows[0][0].Text() != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, res.Rows[0][0].Text(), tc.want)
		} else if tc.want[0] == '\'' && "'"+got+"'" != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
		}
	}
}

// TestGeoDocumentedQueries runs the reference pages' table examples.
func TestGeoDocumentedQueries(t *testing.T) {
	// geo-point-in-circle-function: places within 18 km of Seattle
	res := runQuery(t, `datatable(longitude:real, latitude:real, place:string)
[
    real(-122.317404), 47.609119, 'Seattle',
    real(-123.497688), 47.458098, 'Olympic National Forest',
    real(-122.201741), 47.677084, 'Kirkland',
    real(-122.443663), 47.247092, 'Tacoma',
    real(-122.121975), 47.671345, 'Redmond',
]
| where geo_point_in_circle(longitude, latitude, -122.317404, 47.609119, 18000)
| project place`)
	if got := joinColumn(res, 0); got != "Seattle,Kirkland,Redmond" {
		t.Errorf("in circle: %s", got)
	}
	// geo-point-in-polygon-function: Manhattan without Central Park
	res = runQuery(t, `datatable(longitude:real, latitude:real, description:string)
[
    real(-73.985654), 40.748487, 'Empire State Building',
    real(-73.963249), 40.779525, 'The Metropolitan Museum of Art',
    real(-73.874367), 40.777356, 'LaGuardia Airport',
]
| where geo_point_in_polygon(longitude, latitude, dynamic({"type":"Polygon","coordinates":[[[-73.92597198486328,40.87821814104651],[-73.94691467285156,40.85069618625578],[-73.94691467285156,40.841865966890786],[-74.01008605957031,40.7519385984599],[-74.01866912841797,40.704586878965245],[-74.01214599609375,40.699901911003046],[-73.99772644042969,40.70875101828792],[-73.97747039794922,40.71083299030839],[-73.97026062011719,40.7290474687069],[-73.97506713867186,40.734510840309376],[-73.970947265625,40.74543623770158],[-73.94210815429688,40.77586181063573],[-73.9434814453125,40.78080140115127],[-73.92974853515625,40.79691751000055],[-73.93077850341797,40.804454347291006],[-73.93489837646484,40.80965166748853],[-73.93524169921875,40.837190668541105],[-73.92288208007812,40.85770758108904],[-73.9101791381836,40.871728144624974],[-73.92597198486328,40.87821814104651]],[[-73.95824432373047,40.80071852197889],[-73.98206233978271,40.76815921628347],[-73.97309303283691,40.76422632379533],[-73.94914627075195,40.796949998204596],[-73.95824432373047,40.80071852197889]]]}))
| project description`)
	if got := joinColumn(res, 0); got != "Empire State Building" {
		t.Errorf("in polygon: %s", got)
	}
	// geo-point-to-geohash-function: groups by geohash
	res = runQuery(t, `datatable(location_id:string, longitude:real, latitude:real)
[
  "A", double(-122.303404), 47.570482,
  "B", double(-122.304745), 47.567052,
  "C", double(-122.278156), 47.566936,
]
| summarize count = count(), locations = make_list(location_id) by geohash = geo_point_to_geohash(longitude, latitude)
| order by geohash asc
| project geohash, count`)
	if got := joinColumn(res, 0) + "/" + joinColumn(res, 1); got != "c23n8,c23n9/2,1" {
		t.Errorf("geohash groups: %s", got)
	}
}

// TestGeoStaticErrors: wrong argument types and the unsupported options are
// compile errors, not nulls.
func TestGeoStaticErrors(t *testing.T) {
	for _, q := range []string{
		"print geo_distance_2points('a', 1, 1, 1)",
		"print geo_distance_2points(1, 1, 1)",
		"print geo_distance_2points(1, 1, 1, 1, true)",
		"print geo_point_in_polygon(1, 1, 'polygon')",
		"print geo_point_to_s2cell(1, 1, 8.5)",
		"print geo_point_to_geohash(1, 1, '5')",
		`print geo_polygon_to_s2cells(dynamic({"type":"Polygon","coordinates":[[[0,0],[0,5],[5,5],[0,0]]]}), 5, 100)`,
	} {
		if _, err := Run(context.Background(), q, Options{}); err == nil {
			t.Errorf("%s: no error", q)
		}
	}
}

func joinColumn(res *Result, col int) string {
	var parts []string
	for _, r := range res.Rows {
		parts = append(parts, r[col].Plain())
	}
	return strings.Join(parts, ",")
}
