//go:build cgo

package kql

import "testing"

// The H3 benchmarks: 100,000 points of a 1 km grid over Manhattan to cells
// (each call crosses into C), against the same rows to S2 cells and a
// baseline without any cell; one polygon fill of 663 cells; the
// largest rings (60,919 tokens).

const h3BenchRows = "range i from 1 to 100000 step 1 | extend lng = -74.02 + (i % 316) * 0.0001, lat = 40.70 + (i / 316) * 0.0001"

func BenchmarkH3PointToCell(b *testing.B) {
	benchRows(b, nil, h3BenchRows+" | summarize count() by geo_point_to_h3cell(lng, lat, 9)", 100_000)
}

func BenchmarkH3PointToCellS2Baseline(b *testing.B) {
	benchRows(b, nil, h3BenchRows+" | summarize count() by geo_point_to_s2cell(lng, lat, 16)", 100_000)
}

func BenchmarkH3PointToCellBaseline(b *testing.B) {
	benchRows(b, nil, h3BenchRows+" | summarize count() by tostring(round(lng, 3))", 100_000)
}

func BenchmarkH3PolygonToCells(b *testing.B) {
	benchRows(b, nil, "print array_length(geo_polygon_to_h3cells("+h3Madrid+", 8))", 1)
}

func BenchmarkH3Rings142(b *testing.B) {
	benchRows(b, nil, "print array_length(geo_h3cell_rings('861f8894fffffff', 142))", 1)
}
