package kql

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// BenchmarkGeoUnion2x1000 unions two overlapping star polygons of 1,000
// vertices each (docs/benchmarks/kql-geo-shapes.md).
func BenchmarkGeoUnion2x1000(b *testing.B) {
	rnd := rand.New(rand.NewSource(1))
	q := "print geo_union_polygons_array(dynamic([" + geoStar(rnd, 0, 40, 3, 1000, false) + "," + geoStar(rnd, 1, 41, 3, 1000, false) + "]))"
	benchGeoQuery(b, q)
}

// BenchmarkGeoLineBuffer100 buffers a 100-vertex line by 1 km with the
// default 10 m tolerance.
func BenchmarkGeoLineBuffer100(b *testing.B) {
	rnd := rand.New(rand.NewSource(1))
	pts := make([]string, 100)
	for i := range pts {
		pts[i] = fmt.Sprintf("[%g,%g]", float64(i)*0.01, 40+rnd.Float64()*0.05)
	}
	benchGeoQuery(b, `print geo_line_buffer(dynamic({"type":"LineString","coordinates":[`+strings.Join(pts, ",")+`]}), 1000)`)
}

func benchGeoQuery(b *testing.B, q string) {
	b.Helper()
	res, err := Run(context.Background(), q, Options{})
	if err != nil || scalarOf(res.Rows[0][0]).IsNull() {
		b.Fatalf("%v: null or error", err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Run(context.Background(), q, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
