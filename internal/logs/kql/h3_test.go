//go:build cgo

package kql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	h3 "github.com/uber/h3-go/v4"
)

// TestH3Scalars runs the H3 reference pages' single-value examples (each
// page named in a comment) with their documented outputs, and the
// documented empty or null results for invalid input.
func TestH3Scalars(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		// geo-point-to-h3cell-function
		{"geo_point_to_h3cell(-74.04450446039874, 40.689250859314974, 6)", "862a1072fffffff"},
		{"geo_point_to_h3cell(-74.04450446039874, 40.689250859314974)", "862a1072fffffff"},
		{"geo_point_to_h3cell(300, 1, 8)", ""},
		{"geo_point_to_h3cell(1, 1, 16)", ""},
		{"geo_point_to_h3cell(1, 1, int(null))", ""},
		{"geo_point_to_h3cell(1, 91, 5)", ""},
		{"geo_point_to_h3cell(real(null), 1, 5)", ""},
		// geo-h3cell-level-function
		{"geo_h3cell_level('862a1072fffffff')", "6"},
		{"geo_h3cell_level(geo_point_to_h3cell(1, 1, 10))", "10"},
		{"isnull(geo_h3cell_level('abc'))", "True"},
		{"isnull(geo_h3cell_level(''))", "True"},
		{"isnull(geo_h3cell_level('862a1072fffffff0'))", "True"},
		// geo-h3cell-parent-function
		{"geo_h3cell_parent('862a1072fffffff')", "852a1073fffffff"},
		{"geo_h3cell_parent('862a1072fffffff', 1)", "812a3ffffffffff"},
		{"geo_h3cell_level(geo_h3cell_parent((geo_point_to_h3cell(1, 1, 10))))", "9"},
		{"geo_h3cell_level(geo_h3cell_parent(geo_point_to_h3cell(1, 1, 10), 3))", "3"},
		{"isempty(geo_h3cell_parent('123'))", "True"},
		{"isempty(geo_h3cell_parent('862a1072fffffff', 100))", "True"},
		{"isempty(geo_h3cell_parent('862a1072fffffff', 15))", "True"},
		{"geo_h3cell_parent('862a1072fffffff', 6)", "862a1072fffffff"},
		{"isempty(geo_h3cell_parent(geo_point_to_h3cell(1, 1, 0)))", "True"},
		// geo-h3cell-children-function
		{"tostring(geo_h3cell_children('862a1072fffffff'))",
			`["872a10728ffffff","872a10729ffffff","872a1072affffff","872a1072bffffff","872a1072cffffff","872a1072dffffff","872a1072effffff"]`},
		{"array_length(geo_h3cell_children('862a1072fffffff', geo_h3cell_level('862a1072fffffff') + 3))", "343"},
		{"isnull(geo_h3cell_children('abc'))", "True"},
		{"isnull(geo_h3cell_children(geo_point_to_h3cell(1, 1, 9), 15))", "True"},
		{"array_length(geo_h3cell_children(geo_point_to_h3cell(1, 1, 9), 14))", "16807"},
		{"isnull(geo_h3cell_children('862a1072fffffff', 5))", "True"},
		{"isnull(geo_h3cell_children(geo_point_to_h3cell(1, 1, 15)))", "True"},
		// geo-h3cell-neighbors-function
		{"tostring(geo_h3cell_neighbors('862a1072fffffff'))",
			`["862a10727ffffff","862a10707ffffff","862a1070fffffff","862a10777ffffff","862a100dfffffff","862a100d7ffffff"]`},
		{"tostring(array_concat(pack_array('862a1072fffffff'), geo_h3cell_neighbors('862a1072fffffff')))",
			`["862a1072fffffff","862a10727ffffff","862a10707ffffff","862a1070fffffff","862a10777ffffff","862a100dfffffff","862a100d7ffffff"]`},
		{"isnull(geo_h3cell_neighbors('abc'))", "True"},
		// a pentagon has five neighbors
		{"array_length(geo_h3cell_neighbors('830800fffffffff'))", "5"},
		// geo-h3cell-rings-function
		{"tostring(geo_h3cell_rings('861f8894fffffff', 2))",
			`[["861f8894fffffff"],["861f88947ffffff","861f8895fffffff","861f88867ffffff","861f8d497ffffff","861f8d4b7ffffff","861f8896fffffff"],` +
				`["861f88967ffffff","861f88977ffffff","861f88957ffffff","861f8882fffffff","861f88877ffffff","861f88847ffffff","861f8886fffffff","861f8d49fffffff","861f8d487ffffff","861f8d4a7ffffff","861f8d59fffffff","861f8d597ffffff"]]`},
		{"tostring(geo_h3cell_rings('861f8894fffffff', 1)[1])",
			`["861f88947ffffff","861f8895fffffff","861f88867ffffff","861f8d497ffffff","861f8d4b7ffffff","861f8896fffffff"]`},
		{"tostring(geo_h3cell_rings('861f8894fffffff', 0))", `[["861f8894fffffff"]]`},
		{"isnull(geo_h3cell_rings('abc', 3))", "True"},
		{"isnull(geo_h3cell_rings('861f8894fffffff', 150))", "True"},
		{"isnull(geo_h3cell_rings('861f8894fffffff', -1))", "True"},
		{"array_length(geo_h3cell_rings('861f8894fffffff', 142)[142])", "852"},
		// around a pentagon the rings hold no empty slots: 1 + 5 + 10
		{"tostring(geo_h3cell_rings('830800fffffffff', 2)[0])", `["830800fffffffff"]`},
		{"array_length(geo_h3cell_rings('830800fffffffff', 2)[1])", "5"},
		{"array_length(geo_h3cell_rings('830800fffffffff', 2)[2])", "10"},
		// geo-h3cell-to-central-point-function
		{`geo_h3cell_to_central_point("1")`, "null"},
		{`tostring(geo_h3cell_to_central_point("862a1072fffffff").type)`, "Point"},
		// geo-h3cell-to-polygon-function
		{`geo_h3cell_to_polygon("@")`, "null"},
		// geo-polygon-to-h3cells-function
		{`isnull(geo_polygon_to_h3cells(dynamic({"type":"Polygon","coordinates":[[[0,0],[1,1]]]})))`, "True"},
		{`isnull(geo_polygon_to_h3cells(dynamic({"type":"Polygon","coordinates":[[[-3.659,40.553],[-3.913,40.409],[-3.729,40.273],[-3.524,40.440],[-3.659,40.553]]]}), 16))`, "True"},
		{`isnull(geo_polygon_to_h3cells(dynamic({"type":"Polygon","coordinates":[[[-3.659,40.553],[-3.913,40.409],[-3.729,40.273],[-3.524,40.440],[-3.659,40.553]]]}), int(null)))`, "True"},
		// a polygon smaller than a cell whose center is outside it
		{`tostring(geo_polygon_to_h3cells(dynamic({"type":"Polygon","coordinates":[[[1,1],[1.001,1],[1.001,1.001],[1,1]]]}), 2))`, "[]"},
	} {
		res := runQuery(t, "print r="+tc.expr)
		if got := res.Rows[0][0]; got.Plain() != tc.want && got.Text() != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, got.Text(), tc.want)
		}
	}
}

// h3JSON runs a query of one value and decodes it as JSON.
func h3JSON(t *testing.T, q string) any {
	t.Helper()
	res := runQuery(t, q)
	var v any
	if err := json.Unmarshal([]byte(res.Rows[0][0].Plain()), &v); err != nil {
		t.Fatalf("%s: %v (%s)", q, err, res.Rows[0][0].Plain())
	}
	return v
}

// h3CheckJSON compares a query's JSON with want: numbers within 1e-12
// (the reference prints coordinates from a computation whose last digit
// differs from the C library's), everything else exactly.
func h3CheckJSON(t *testing.T, q, want string) {
	t.Helper()
	checkGeoJSONQuery(t, q, want, 1e-12, false)
}

// Polygons the reference prints: the cell 862a1072fffffff and its
// neighbors (geo-h3cell-neighbors-function), and the cells of three
// Manhattan points (geo-h3cell-to-polygon-function).
const (
	h3Poly862a1072   = `{"type":"Polygon","coordinates":[[[-74.0022744646159,40.735376026215022],[-74.046908029686236,40.727986222489115],[-74.060610712223664,40.696775140349033],[-74.029724408156682,40.672970047595463],[-73.985140983708192,40.680349049267583],[-73.971393761028622,40.71154393543933],[-74.0022744646159,40.735376026215022]]]}`
	h3Poly862a10727  = `{"type":"Polygon","coordinates":[[[-74.019448383546617,40.790439140236963],[-74.064132193843633,40.783038509825],[-74.077839665342211,40.751803958414136],[-74.046908029686236,40.727986222489115],[-74.0022744646159,40.735376026215022],[-73.988522328408948,40.766594382212254],[-74.019448383546617,40.790439140236963]]]}`
	h3Poly862a10707  = `{"type":"Polygon","coordinates":[[[-74.077839665342211,40.751803958414136],[-74.1224794808745,40.744383587828388],[-74.1361375042681,40.713156370029125],[-74.1052004095288,40.689365648097258],[-74.060610712223664,40.696775140349033],[-74.046908029686236,40.727986222489115],[-74.077839665342211,40.751803958414136]]]}`
	h3Poly862a1070f  = `{"type":"Polygon","coordinates":[[[-74.060610712223664,40.696775140349033],[-74.1052004095288,40.689365648097258],[-74.118853750491638,40.658161927046628],[-74.0879619670209,40.634383824229609],[-74.043422283844933,40.641782462872115],[-74.029724408156682,40.672970047595463],[-74.060610712223664,40.696775140349033]]]}`
	h3Poly862a10777  = `{"type":"Polygon","coordinates":[[[-73.985140983708192,40.680349049267583],[-74.029724408156682,40.672970047595463],[-74.043422283844933,40.641782462872115],[-74.012581189358343,40.617990065981623],[-73.968047801220749,40.625358290164748],[-73.954305509472675,40.656529678451555],[-73.985140983708192,40.680349049267583]]]}`
	h3Poly862a100d   = `{"type":"Polygon","coordinates":[[[-73.926766604813565,40.718903205013063],[-73.971393761028622,40.71154393543933],[-73.985140983708192,40.680349049267583],[-73.954305509472675,40.656529678451555],[-73.909728515658443,40.663878222244435],[-73.895936872069854,40.69505685239637],[-73.926766604813565,40.718903205013063]]]}`
	h3Poly862a100d7  = `{"type":"Polygon","coordinates":[[[-73.943844904976629,40.773964402038523],[-73.988522328408948,40.766594382212254],[-74.0022744646159,40.735376026215022],[-73.971393761028622,40.71154393543933],[-73.926766604813565,40.718903205013063],[-73.912969923470314,40.750105305345329],[-73.943844904976629,40.773964402038523]]]}`
	h3PolyManhattanA = `{"type":"Polygon","coordinates":[[[-73.9609635556213,40.829061732419916],[-74.005691351383675,40.821680937801922],[-74.019448383546617,40.790439140236963],[-73.988522328408948,40.766594382212254],[-73.943844904976629,40.773964402038523],[-73.930043202964953,40.805189944379514],[-73.9609635556213,40.829061732419916]]]}`
	h3PolyManhattanB = `{"type":"Polygon","coordinates":[[[-73.902385078754875,40.867671551513595],[-73.94715685019348,40.860310688399885],[-73.9609635556213,40.829061732419916],[-73.930043202964953,40.805189944379514],[-73.885321931061725,40.812540084842404],[-73.871470551071766,40.843772725733125],[-73.902385078754875,40.867671551513595]]]}`
)

// TestH3DocumentedShapes runs the reference's examples whose outputs are
// GeoJSON, comparing coordinates to 1e-12 degrees.
func TestH3DocumentedShapes(t *testing.T) {
	// geo-h3cell-to-central-point-function
	h3CheckJSON(t, `print tostring(geo_h3cell_to_central_point("862a1072fffffff"))`,
		`{"type":"Point","coordinates":[-74.016008479792447,40.7041679083504]}`)
	h3CheckJSON(t, `print longitude = tostring(pack_array(geo_h3cell_to_central_point("862a1072fffffff").coordinates[0]))`, `[-74.0160084797924]`)
	// geo-h3cell-to-polygon-function
	h3CheckJSON(t, `print tostring(geo_h3cell_to_polygon("862a1072fffffff"))`, h3Poly862a1072)
	h3CheckJSON(t, `datatable(lng:real, lat:real)
[
    -73.956683, 40.807907,
    -73.916869, 40.818314,
    -73.989148, 40.743273,
]
| project h3_hash = geo_point_to_h3cell(lng, lat, 6)
| project h3_hash_polygon = geo_h3cell_to_polygon(h3_hash)
| summarize h3_hash_polygon_lst = make_list(h3_hash_polygon)
| project tostring(bag_pack(
    "type", "Feature",
    "geometry", bag_pack("type", "GeometryCollection", "geometries", h3_hash_polygon_lst),
    "properties", bag_pack("name", "H3 polygons collection")))`,
		`{"type":"Feature","geometry":{"type":"GeometryCollection","geometries":[`+
			h3PolyManhattanA+","+h3PolyManhattanB+","+h3Poly862a100d7+
			`]},"properties":{"name":"H3 polygons collection"}}`)
	// geo-h3cell-neighbors-function: the cell and its neighbors as a
	// geometry collection
	h3CheckJSON(t, `let h3cell = '862a1072fffffff';
print cells = array_concat(pack_array(h3cell), geo_h3cell_neighbors(h3cell))
| mv-expand cells to typeof(string)
| project polygons = geo_h3cell_to_polygon(cells)
| summarize arr = make_list(polygons)
| project tostring(bag_pack("type", "Feature","geometry", bag_pack("type", "GeometryCollection", "geometries", arr), "properties", bag_pack("name", "polygons")))`,
		`{"type":"Feature","geometry":{"type":"GeometryCollection","geometries":[`+
			strings.Join([]string{h3Poly862a1072, h3Poly862a10727, h3Poly862a10707, h3Poly862a1070f, h3Poly862a10777, h3Poly862a100d, h3Poly862a100d7}, ",")+
			`]},"properties":{"name":"polygons"}}`)
}

// h3CollectionTail is how the reference's examples make a GeoJSON
// feature of a list of cell polygons.
const h3CollectionTail = `
| project geojson = bag_pack(
    "type", "Feature",
    "geometry", bag_pack("type", "GeometryCollection", "geometries", h3_hash_polygon_lst),
    "properties", bag_pack("name", "H3 polygons collection"))`

// TestH3DocumentedQueries runs the reference's tabular examples.
func TestH3DocumentedQueries(t *testing.T) {
	// geo-point-to-h3cell-function: groups of points by cell
	res := runQuery(t, `datatable(location_id:string, longitude:real, latitude:real)
[
    "A", -73.956683, 40.807907,
    "B", -73.916869, 40.818314,
    "C", -73.989148, 40.743273,
]
| summarize count = count(),                                         // Items per group count
            locations = make_list(location_id)                       // Items in the group
            by h3cell = geo_point_to_h3cell(longitude, latitude, 5)  // H3 Cell of the group`)
	var got []string
	for _, r := range res.Rows {
		got = append(got, r[0].Plain()+" "+r[1].Plain()+" "+r[2].Plain())
	}
	if want := []string{`852a100bfffffff 2 ["A","B"]`, `852a1073fffffff 1 ["C"]`}; !slices.Equal(got, want) {
		t.Errorf("groups: %q, want %q", got, want)
	}
	// geo-h3cell-rings-function: all cells of the rings in one list
	res = runQuery(t, `print rings = geo_h3cell_rings('861f8894fffffff', 1)
| mv-apply rings on 
(
  summarize cells = make_list(rings)
)`)
	if got, want := res.Rows[0][0].Plain(), `["861f8894fffffff","861f88947ffffff","861f8895fffffff","861f88867ffffff","861f8d497ffffff","861f8d4b7ffffff","861f8896fffffff"]`; got != want {
		t.Errorf("rings flattened: %s", got)
	}
	// geo-h3cell-rings-function and geo-h3cell-children-function: geometry
	// collections (the reference elides the polygons; there is one per cell;
	// the rings page names the list polygon_lst)
	for q, n := range map[string]int{
		`print rings = geo_h3cell_rings('861f8894fffffff', 1)
| mv-apply rings on 
(
  summarize make_list(rings)
)
| mv-expand list_rings to typeof(string)
| project polygon = geo_h3cell_to_polygon(list_rings)
| summarize h3_hash_polygon_lst = make_list(polygon)` + h3CollectionTail: 7,
		`print children = geo_h3cell_children('862a1072fffffff')
| mv-expand children to typeof(string)
| project child = geo_h3cell_to_polygon(children)
| summarize h3_hash_polygon_lst = make_list(child)` + h3CollectionTail: 7,
	} {
		res := runQuery(t, q+"\n| project n = array_length(geojson.geometry.geometries), name = tostring(geojson.properties.name)")
		if got := res.Rows[0][0].Plain() + " " + res.Rows[0][1].Plain(); got != fmt.Sprintf("%d H3 polygons collection", n) {
			t.Errorf("%s\n= %s", q, got)
		}
	}
}

// h3Madrid is geo-polygon-to-h3cells-function's example polygon.
const h3Madrid = `dynamic({"type":"Polygon","coordinates":[[[-3.659,40.553],[-3.913,40.409],[-3.729,40.273],[-3.524,40.440],[-3.659,40.553]]]})`

// TestH3PolygonToCells checks geo_polygon_to_h3cells: the reference's
// example gives the same thirteen cells (in the C library's order, which is
// not the order the reference prints), holes and multipolygons, and the
// documented limit of 61,680 cells.
func TestH3PolygonToCells(t *testing.T) {
	cells := func(q string) []string {
		t.Helper()
		v := h3JSON(t, "print tostring("+q+")")
		var out []string
		for _, c := range v.([]any) {
			out = append(out, c.(string))
		}
		return out
	}
	doc := []string{"86390cb57ffffff", "86390cb0fffffff", "86390ca27ffffff", "86390cb87ffffff", "86390cb07ffffff", "86390ca2fffffff",
		"86390ca37ffffff", "86390cb17ffffff", "86390cb1fffffff", "86390cb8fffffff", "86390cba7ffffff", "86390ca07ffffff", "86390cbafffffff"}
	got := cells("geo_polygon_to_h3cells(" + h3Madrid + ")")
	if !sameSet(got, doc) {
		t.Errorf("madrid: %q", got)
	}
	if again := cells("geo_polygon_to_h3cells(" + h3Madrid + ", 6, 0)"); !slices.Equal(again, got) {
		t.Errorf("radius 0: %q, want %q", again, got)
	}
	// at a finer resolution: exactly the cells whose centers are inside
	// the polygon with straight edges in longitude and latitude, found by
	// testing every cell of the area
	if got, want := cells("geo_polygon_to_h3cells("+h3Madrid+", 8)"), h3CentersInside(t, h3Madrid, 8); !sameSet(got, want) || len(got) != len(want) {
		t.Errorf("madrid at 8: %d cells, want %d", len(got), len(want))
	}
	// H3 orders its answer by a hash table sized by its estimate; the same
	// order from a table of h3FillSlots' size shows that the work area
	// counted against the governor is the one H3 allocates
	v := runQuery(t, "print "+h3Madrid).Rows[0][0]
	polys, _ := h3PolygonsOf(v)
	slots, _ := h3FillSlots(polys[0], 6)
	if order := h3HashOrder(doc, uint64(slots)); !slices.Equal(order, got) {
		t.Errorf("a table of %d slots orders the cells %q, H3 gave %q", slots, order, got)
	}
	// the reference's multipolygon of the cells' polygons
	res := runQuery(t, `print h3_cells = geo_polygon_to_h3cells(`+h3Madrid+`)
| mv-expand cell = h3_cells to typeof(string) // extract cell to a separate row
| project polygon_cell = geo_h3cell_to_polygon(cell) // convert each cell to a polygon
| project individual_polygon_coordinates = pack_array(polygon_cell.coordinates)
| summarize multipolygon_coordinates = make_list(individual_polygon_coordinates)
| project multipolygon = bag_pack("type","MultiPolygon", "coordinates", multipolygon_coordinates)
| project t = tostring(multipolygon.type), n = array_length(multipolygon.coordinates)`)
	if got := res.Rows[0][0].Plain() + " " + res.Rows[0][1].Plain(); got != "MultiPolygon 13" {
		t.Errorf("multipolygon: %s", got)
	}
	// a hole removes the cells whose centers are in it
	square := `[[0,0],[1,0],[1,1],[0,1],[0,0]]`
	hole := `[[0.25,0.25],[0.75,0.25],[0.75,0.75],[0.25,0.75],[0.25,0.25]]`
	full := cells(`geo_polygon_to_h3cells(dynamic({"type":"Polygon","coordinates":[` + square + `]}), 5)`)
	holed := cells(`geo_polygon_to_h3cells(dynamic({"type":"Polygon","coordinates":[` + square + `,` + hole + `]}), 5)`)
	inner := cells(`geo_polygon_to_h3cells(dynamic({"type":"Polygon","coordinates":[` + hole + `]}), 5)`)
	if len(inner) == 0 || len(holed)+len(inner) != len(full) {
		t.Errorf("hole: full %d, with hole %d, hole alone %d", len(full), len(holed), len(inner))
	}
	// a multipolygon is the union of its polygons' cells, each once
	multi := cells(`geo_polygon_to_h3cells(dynamic({"type":"MultiPolygon","coordinates":[[` + square + `],[` + hole + `]]}), 5)`)
	if !sameSet(multi, full) || len(multi) != len(full) {
		t.Errorf("multipolygon: %d cells, want the square's %d", len(multi), len(full))
	}
	// a 1° square on the equator: 22,365 cells at resolution 8, seven
	// times as many at 9 (over the limit: null, once counted), a certain
	// excess at 10 and 15 (null before any cell is made)
	sq := `dynamic({"type":"Polygon","coordinates":[` + square + `]})`
	if n := runQuery(t, "print array_length(geo_polygon_to_h3cells("+sq+", 8))").Rows[0][0].Plain(); n != "22365" {
		t.Errorf("square at 8: %s cells", n)
	}
	for _, res := range []int{9, 10, 15} {
		if v := runQuery(t, fmt.Sprintf("print isnull(geo_polygon_to_h3cells(%s, %d))", sq, res)).Rows[0][0].Plain(); v != "true" && v != "True" {
			t.Errorf("square at %d: isnull = %s", res, v)
		}
	}
}

// h3CentersInside is the brute-force answer: every cell of resolution res
// around the polygon's first vertex whose center is inside its first ring
// (even-odd rule, straight edges in longitude and latitude).
func h3CentersInside(t *testing.T, polygon string, res int) []string {
	t.Helper()
	ring := h3JSON(t, "print tostring("+polygon+".coordinates[0])").([]any)
	var xs, ys []float64
	for _, p := range ring[:len(ring)-1] {
		xs, ys = append(xs, p.([]any)[0].(float64)), append(ys, p.([]any)[1].(float64))
	}
	inside := func(x, y float64) bool {
		in := false
		for i, j := 0, len(xs)-1; i < len(xs); j, i = i, i+1 {
			if (ys[i] > y) != (ys[j] > y) && x < (xs[j]-xs[i])*(y-ys[i])/(ys[j]-ys[i])+xs[i] {
				in = !in
			}
		}
		return in
	}
	var out []string
	for _, big := range h3.LatLngToCell(h3.NewLatLng(ys[0], xs[0]), 4).GridDisk(3) {
		for _, c := range big.Children(res) {
			if ll := c.LatLng(); inside(ll.Lng, ll.Lat) {
				out = append(out, c.String())
			}
		}
	}
	return out
}

// h3HashOrder lists cells as a linear-probing table of n slots keyed by
// the cell modulo n holds them.
func h3HashOrder(tokens []string, n uint64) []string {
	table := make([]string, n)
	for _, tok := range tokens {
		c, _ := strconv.ParseUint(tok, 16, 64)
		i := c % n
		for table[i] != "" {
			i = (i + 1) % n
		}
		table[i] = tok
	}
	var out []string
	for _, tok := range table {
		if tok != "" {
			out = append(out, tok)
		}
	}
	return out
}

// TestH3FillMatchesBruteForce fills random star-shaped polygons (a fixed
// seed) and compares with testing every cell of the area.
func TestH3FillMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 3))
	total := 0
	for i := range 25 {
		lng, lat := rng.Float64()*340-170, rng.Float64()*160-80
		n := 3 + rng.IntN(8)
		angles := make([]float64, n)
		for k := range angles {
			angles[k] = rng.Float64() * 2 * math.Pi
		}
		slices.Sort(angles)
		var ring []string
		for _, a := range angles {
			r := 0.05 + rng.Float64()*0.25
			ring = append(ring, fmt.Sprintf("[%.6f,%.6f]", lng+r*math.Cos(a), lat+r*math.Sin(a)))
		}
		ring = append(ring, ring[0])
		polygon := `dynamic({"type":"Polygon","coordinates":[[` + strings.Join(ring, ",") + `]]})`
		res := 5 + rng.IntN(4)
		q := fmt.Sprintf("print tostring(geo_polygon_to_h3cells(%s, %d))", polygon, res)
		v, ok := h3JSON(t, q).([]any)
		if !ok {
			t.Errorf("polygon %d: null\n%s", i, q)
			continue
		}
		got := make([]string, len(v))
		for k, c := range v {
			got[k] = c.(string)
		}
		total += len(got)
		if want := h3CentersInside(t, polygon, res); !sameSet(got, want) || len(got) != len(want) {
			t.Errorf("polygon %d: %d cells, brute force %d\n%s", i, len(got), len(want), q)
		}
	}
	if total < 1000 {
		t.Errorf("the polygons hold %d cells in all: too few to compare", total)
	}
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// TestH3Governed: what the H3 builders are about to allocate counts against
// the query's memory, so a budget too small for them stops the query with
// E_RUNAWAY_QUERY rather than allocating.
func TestH3Governed(t *testing.T) {
	tight := Limits{MaxMemory: 256 << 10}
	for _, q := range []string{
		// 60,919 tokens
		"print geo_h3cell_rings('861f8894fffffff', 142)",
		// 16,807 tokens
		"print geo_h3cell_children(geo_point_to_h3cell(1, 1, 9), 14)",
		// a thin diagonal strip: few cells, a bounding box of 130,000
		`print geo_polygon_to_h3cells(dynamic({"type":"Polygon","coordinates":[[[0,0],[4,4],[4,4.001],[0,0]]]}), 7)`,
	} {
		_, err := Run(context.Background(), q, Options{Limits: tight})
		var le *LimitError
		if !errors.As(err, &le) || le.Code != CodeRunaway {
			t.Errorf("%s: %v, want %s", q, err, CodeRunaway)
		}
		if _, err := Run(context.Background(), q, Options{}); err != nil {
			t.Errorf("%s with the default budget: %v", q, err)
		}
	}
}

// TestH3WorkAreaCapped: H3's work area is capped at 1 GiB even when the
// query's memory is not limited (the C library allocates it outside Go's
// heap): a 40° diagonal strip at resolution 10 would need billions of slots.
func TestH3WorkAreaCapped(t *testing.T) {
	q := `print geo_polygon_to_h3cells(dynamic({"type":"Polygon","coordinates":[[[0,0],[40,40],[40,40.00001],[0,0]]]}), 10)`
	for _, lim := range []Limits{{}, {MaxMemory: -1}} {
		_, err := Run(context.Background(), q, Options{Limits: lim})
		var le *LimitError
		if !errors.As(err, &le) || le.Code != CodeRunaway || !strings.Contains(le.Msg, "1073741824") {
			t.Errorf("MaxMemory %d: %v, want %s at 1 GiB", lim.MaxMemory, err, CodeRunaway)
		}
	}
}

// TestH3StaticErrors: wrong argument types and counts, and the buffer
// radius, which is not implemented, are compile errors.
func TestH3StaticErrors(t *testing.T) {
	for _, q := range []string{
		"print geo_point_to_h3cell(1, 1, 6.5)",
		"print geo_point_to_h3cell('1', 1)",
		"print geo_point_to_h3cell(1)",
		"print geo_h3cell_level(862)",
		"print geo_h3cell_level()",
		"print geo_h3cell_parent('862a1072fffffff', '1')",
		"print geo_h3cell_children('862a1072fffffff', 7, 8)",
		"print geo_h3cell_rings('862a1072fffffff')",
		"print geo_h3cell_rings('862a1072fffffff', 1.5)",
		"print geo_h3cell_neighbors('862a1072fffffff', 1)",
		"print geo_h3cell_to_polygon(1)",
		"print geo_polygon_to_h3cells('polygon')",
		"print geo_polygon_to_h3cells(" + h3Madrid + ", 6, 100)",
	} {
		if _, err := Run(context.Background(), q, Options{}); err == nil {
			t.Errorf("%s: no error", q)
		}
	}
}

// TestH3NeverCrash calls each H3 function with edge values in every
// argument position (nulls, odd strings and tokens, wrong-shaped dynamic
// values, out-of-range numbers) and requires a result or a query error,
// never a recovered panic: h3-go indexes buffers the C library sized from
// its arguments, so an argument that reached it unchecked would crash.
func TestH3NeverCrash(t *testing.T) {
	edge := []string{"real(null)", "long(null)", "int(null)", "dynamic(null)", `""`, `"a"`, `"0"`, `"ffffffffffffffff"`,
		`"8f2a1072fffffff"`, `"0862a1072fffffff"`, `"862A1072FFFFFFF"`, `"830800fffffffff"`, `"8001fffffffffff"`,
		"real(nan)", "real(-inf)", "-1", "0", "15", "16", "99999999999", "dynamic([])", "dynamic({})",
		`dynamic("862a1072fffffff")`, `dynamic(6)`, `dynamic({"type":"Polygon"})`,
		`dynamic({"type":"Polygon","coordinates":[[[0,0],[1,0],[0,1],[0,0]],[[5,5]]]})`,
		`dynamic({"type":"Polygon","coordinates":[[[179,0],[-179,0],[-179,1],[179,1],[179,0]]]})`,
		`dynamic({"type":"Polygon","coordinates":[[[0,89],[120,89],[-120,89],[0,89]]]})`,
		`dynamic({"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[0,1],[0,0]]],[[[0,0],[1,0],[0,1],[0,0]]]]})`}
	cell := `"862a1072fffffff"`
	poly := `dynamic({"type":"Polygon","coordinates":[[[0,0],[1,0],[0,1],[0,0]]]})`
	calls := map[string][]string{
		"geo_point_to_h3cell":         {"1", "1", "6"},
		"geo_h3cell_level":            {cell},
		"geo_h3cell_parent":           {cell, "3"},
		"geo_h3cell_children":         {cell, "8"},
		"geo_h3cell_neighbors":        {cell},
		"geo_h3cell_rings":            {cell, "2"},
		"geo_h3cell_to_central_point": {cell},
		"geo_h3cell_to_polygon":       {cell},
		"geo_polygon_to_h3cells":      {poly, "6"},
	}
	edgeCallsNeverCrash(t, calls, edge)
}
