package kql

import (
	"context"
	"fmt"
	"testing"

	"github.com/steward-gov/steward/internal/logs/kql/geoiptest"
)

// geoBenchDB is a database of 20,000 IPv4 /24 networks and 5,000 IPv6 /48
// networks drawn from 500 cities: a search tree of the depth real city
// databases have, a fraction of their size.
func geoBenchDB(b *testing.B) *GeoIPDB {
	b.Helper()
	var recs []geoiptest.Record
	for i := range 20000 {
		c := i % 500
		recs = append(recs, geoiptest.Record{Network: fmt.Sprintf("%d.%d.%d.0/24", 20+i/65536, i/256%256, i%256),
			Country: fmt.Sprintf("Country %d", c/25), Subdivisions: []string{fmt.Sprintf("State %d", c/5)},
			City: fmt.Sprintf("City %d", c), Lat: geoiptest.F(float64(c%180) - 89.5), Lon: geoiptest.F(float64(c%360) - 179.5)})
	}
	for i := range 5000 {
		c := i % 500
		recs = append(recs, geoiptest.Record{Network: fmt.Sprintf("2a03:%x:%x::/48", 0x2000+i/256, i%256),
			Country: fmt.Sprintf("Country %d", c/25), City: fmt.Sprintf("City %d", c), Lat: geoiptest.F(1), Lon: geoiptest.F(2)})
	}
	data, err := geoiptest.Bytes("", recs)
	if err != nil {
		b.Fatal(err)
	}
	db, err := NewGeoIPDB(data)
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkGeoInfoFromIPAddress looks up 100,000 addresses a run, half
// located, a quarter IPv6, a quarter in no network; ns/op divided by
// 100,000 is the cost of one row.
func BenchmarkGeoInfoFromIPAddress(b *testing.B) {
	db := geoBenchDB(b)
	q := `range i from 0 to 99999 step 1
		| extend ip = case(i % 4 == 0, strcat('2a03:', tohex(0x2000 + (i / 256) % 19), ':', tohex(i % 256), '::1'),
			i % 4 == 1, strcat('10.', i % 256, '.', (i / 256) % 256, '.1'),
			strcat('20.', (i / 256) % 78, '.', i % 256, '.7'))
		| extend g = geo_info_from_ip_address(ip)
		| summarize located = countif(isnotnull(g))`
	b.ReportAllocs()
	for b.Loop() {
		res, err := Run(context.Background(), q, Options{GeoIP: db})
		if err != nil {
			b.Fatal(err)
		}
		if n := res.Rows[0][0].APIValue(); n != int64(75000) {
			b.Fatalf("located %v, want 75000", n)
		}
	}
}

// BenchmarkGeoInfoBaseline is the same query with the lookup left out:
// the cost of building the addresses, to subtract.
func BenchmarkGeoInfoBaseline(b *testing.B) {
	q := `range i from 0 to 99999 step 1
		| extend ip = case(i % 4 == 0, strcat('2a03:', tohex(0x2000 + (i / 256) % 19), ':', tohex(i % 256), '::1'),
			i % 4 == 1, strcat('10.', i % 256, '.', (i / 256) % 256, '.1'),
			strcat('20.', (i / 256) % 78, '.', i % 256, '.7'))
		| extend g = strlen(ip)
		| summarize located = countif(g > 0)`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Run(context.Background(), q, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
