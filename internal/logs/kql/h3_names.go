package kql

// h3Names are the H3 cell functions of the Kusto reference. With cgo they
// are served by h3.go and h3_polyfill.go; without it h3_nocgo.go registers
// the same names to refuse them with a clear error.
var h3Names = []string{
	"geo_h3cell_children", "geo_h3cell_level", "geo_h3cell_neighbors", "geo_h3cell_parent",
	"geo_h3cell_rings", "geo_h3cell_to_central_point", "geo_h3cell_to_polygon",
	"geo_point_to_h3cell", "geo_polygon_to_h3cells",
}
