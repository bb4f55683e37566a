// Package geoiptest writes small IP geolocation databases in MaxMind's
// MMDB format, laid out as MaxMind's City databases are, for the tests of
// geo_info_from_ip_address. Steward ships no real database, so its tests
// build their own at test time; the records here are invented for them.
package geoiptest

import (
	"bytes"
	"fmt"
	"net"
	"os"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Record is one network of a test database. Names are English unless
// Lang says otherwise; Subdivisions are written largest first; Lat and
// Lon are written only when set. Extra is merged into the record as it is
// (a continent, say, for a record without a location).
type Record struct {
	Network      string
	Country      string
	Subdivisions []string
	City         string
	Lat, Lon     *float64
	Lang         string
	Extra        mmdbtype.Map
}

// F returns a pointer to f, for Record's coordinates.
func F(f float64) *float64 { return &f }

// Fixture is the database most tests read. Its first two networks hold
// the two addresses of the Kusto reference's examples, with the answers
// the reference shows; the others cover a record with a country only,
// several subdivisions, names in another language only, a location at
// 0°, 0° and a record with none of the function's fields.
var Fixture = []Record{
	{Network: "20.53.203.0/24", Country: "Australia", Subdivisions: []string{"New South Wales"}, City: "Sydney",
		Lat: F(-33.8715), Lon: F(151.2006)},
	{Network: "2a03:2880:f12c::/48", Country: "United States", Subdivisions: []string{"Florida"}, City: "Boca Raton",
		Lat: F(26.3594), Lon: F(-80.0771)},
	{Network: "89.160.20.0/24", Country: "Sweden", Lat: F(62), Lon: F(15)},
	{Network: "81.2.69.0/24", Country: "United Kingdom", Subdivisions: []string{"England", "Greater London"}, City: "London",
		Lat: F(51.5142), Lon: F(-0.0931)},
	{Network: "2.125.160.0/24", Country: "Vereinigtes Königreich", City: "Boxford", Lang: "de", Lat: F(51.75), Lon: F(-1.25)},
	{Network: "41.0.0.0/24", Country: "Null Island", Lat: F(0), Lon: F(0)},
	{Network: "2001:218::/32", Extra: mmdbtype.Map{"continent": mmdbtype.Map{"code": mmdbtype.String("AS")}}},
}

// Bytes builds a database of recs with the given database type
// ("GeoLite2-City" when empty).
func Bytes(dbType string, recs []Record) ([]byte, error) {
	if dbType == "" {
		dbType = "GeoLite2-City"
	}
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, Languages: []string{"en", "de"}, RecordSize: 28})
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		_, network, err := net.ParseCIDR(r.Network)
		if err != nil {
			return nil, fmt.Errorf("geoiptest: %w", err)
		}
		if err := tree.Insert(network, r.value()); err != nil {
			return nil, fmt.Errorf("geoiptest: %s: %w", r.Network, err)
		}
	}
	var b bytes.Buffer
	if _, err := tree.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Write writes a database of recs to path.
func Write(path, dbType string, recs []Record) error {
	b, err := Bytes(dbType, recs)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// value is the record in the City databases' layout.
func (r Record) value() mmdbtype.Map {
	lang := mmdbtype.String(r.Lang)
	if lang == "" {
		lang = "en"
	}
	names := func(s string) mmdbtype.Map {
		return mmdbtype.Map{"names": mmdbtype.Map{lang: mmdbtype.String(s)}}
	}
	m := mmdbtype.Map{}
	if r.Country != "" {
		m["country"] = names(r.Country)
	}
	if len(r.Subdivisions) > 0 {
		subs := mmdbtype.Slice{}
		for _, s := range r.Subdivisions {
			subs = append(subs, names(s))
		}
		m["subdivisions"] = subs
	}
	if r.City != "" {
		m["city"] = names(r.City)
	}
	loc := mmdbtype.Map{}
	if r.Lat != nil {
		loc["latitude"] = mmdbtype.Float64(*r.Lat)
	}
	if r.Lon != nil {
		loc["longitude"] = mmdbtype.Float64(*r.Lon)
	}
	if len(loc) > 0 {
		m["location"] = loc
	}
	for k, v := range r.Extra {
		m[k] = v
	}
	return m
}
