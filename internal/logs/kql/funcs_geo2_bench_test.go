package kql

import "testing"

// Benchmarks of the shape functions: 100,000 points of a grid over
// Manhattan against a constant polygon or line (read once per query), a
// 500 m covering of a street at level 16, and a densify of a long edge.

const geoBenchRows = "range i from 1 to 100000 step 1 | extend lng = -74.02 + (i % 316) * 0.0002, lat = 40.70 + (i / 316) * 0.0003"

func BenchmarkGeoDistancePointToPolygon(b *testing.B) {
	benchRows(b, nil, geoBenchRows+" | summarize max(geo_distance_point_to_polygon(lng, lat, "+geoCentralPark+"))", 100_000)
}

func BenchmarkGeoClosestPointOnLine(b *testing.B) {
	benchRows(b, nil, geoBenchRows+" | summarize max(todouble(geo_closest_point_on_line(lng, lat, "+geoParkLoop+").coordinates[0]))", 100_000)
}

func BenchmarkGeoLineToS2CellsRadius(b *testing.B) {
	benchRows(b, nil, "print array_length(geo_line_to_s2cells("+geoParkLoop+", 16, 500))", 1)
}

func BenchmarkGeoLineDensify(b *testing.B) {
	benchRows(b, nil, `print array_length(geo_line_densify(dynamic({"type":"LineString","coordinates":[[-170, 60], [170, 60]]}), 1).coordinates)`, 1)
}
