package kql

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/steward-gov/steward/internal/logs/kql/geoiptest"
)

var (
	fixtureOnce  sync.Once
	fixtureBytes []byte
	fixtureErr   error
)

// fixtureGeoIP is a database of geoiptest.Fixture, built once per test
// binary.
func fixtureGeoIP(t testing.TB) *GeoIPDB {
	t.Helper()
	fixtureOnce.Do(func() { fixtureBytes, fixtureErr = geoiptest.Bytes("", geoiptest.Fixture) })
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	db, err := NewGeoIPDB(fixtureBytes)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// geoQuery runs a one-column query under db and returns its cells as the
// query API encodes them.
func geoQuery(t *testing.T, db *GeoIPDB, q string) []any {
	t.Helper()
	res, err := Run(context.Background(), q, Options{GeoIP: db})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	out := make([]any, len(res.Rows))
	for i, r := range res.Rows {
		out[i] = r[0].APIValue()
	}
	return out
}

// TestGeoInfoFromIPAddressReferenceExamples reproduces the two examples of
// the function's reference page with a database that holds the page's
// answers for its addresses: the bag's keys, their order and the values'
// text must be the page's.
func TestGeoInfoFromIPAddressReferenceExamples(t *testing.T) {
	db := fixtureGeoIP(t)
	for _, c := range []struct{ query, page string }{
		{`print ip_location=geo_info_from_ip_address('20.53.203.50')`,
			`{"country": "Australia", "state": "New South Wales", "city": "Sydney", "latitude": -33.8715, "longitude": 151.2006}`},
		{`print ip_location=geo_info_from_ip_address('2a03:2880:f12c:83:face:b00c::25de')`,
			`{"country": "United States", "state": "Florida", "city": "Boca Raton", "latitude": 26.3594, "longitude": -80.0771}`},
	} {
		res, err := Run(context.Background(), c.query, Options{GeoIP: db})
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		if len(res.Columns) != 1 || res.Columns[0].Name != "ip_location" || res.Columns[0].Type != TypeDynamic {
			t.Fatalf("%s: columns %+v, want ip_location:dynamic", c.query, res.Columns)
		}
		var want bytes.Buffer
		if err := json.Compact(&want, []byte(c.page)); err != nil {
			t.Fatal(err)
		}
		if got := res.Rows[0][0].APIValue(); got != want.String() {
			t.Errorf("%s\n got %v\nwant %s", c.query, got, want.String())
		}
	}
}

// TestGeoInfoFromIPAddressLookups covers the address forms and the
// records the function meets: partial records keep the fields they have,
// English names only, the first subdivision as the state, and null for
// what the database does not locate and for strings that are not
// addresses.
func TestGeoInfoFromIPAddressLookups(t *testing.T) {
	db := fixtureGeoIP(t)
	sydney := `{"country":"Australia","state":"New South Wales","city":"Sydney","latitude":-33.8715,"longitude":151.2006}`
	boca := `{"country":"United States","state":"Florida","city":"Boca Raton","latitude":26.3594,"longitude":-80.0771}`
	for _, c := range []struct {
		arg  string
		want any // the JSON text, or nil for null
	}{
		{`'20.53.203.1'`, sydney},
		{`'20.53.203.255'`, sydney},
		{`'::ffff:20.53.203.50'`, sydney},   // IPv4-mapped: the IPv4 record
		{`' 20.53.203.50 '`, sydney},        // surrounding blanks are ignored
		{`'2a03:2880:f12c::1'`, boca},       // the whole /48
		{`'2A03:2880:F12C:83::25DE'`, boca}, // hexadecimal digits in either case
		{`'2a03:2880:f12c::1%eth0'`, boca},  // a zone does not change the address
		{`dynamic('20.53.203.50')`, sydney}, // a dynamic string
		{`'89.160.20.112'`, `{"country":"Sweden","latitude":62.0,"longitude":15.0}`},
		{`'81.2.69.142'`, `{"country":"United Kingdom","state":"England","city":"London","latitude":51.5142,"longitude":-0.0931}`},
		{`'2.125.160.216'`, `{"latitude":51.75,"longitude":-1.25}`}, // names in German only
		{`'41.0.0.9'`, `{"country":"Null Island","latitude":0.0,"longitude":0.0}`},
		{`'2001:218::1'`, nil}, // a record with none of the fields
		{`'20.53.204.1'`, nil}, // next to a network, not in it
		{`'10.0.0.1'`, nil},
		{`'192.168.1.1'`, nil},
		{`'127.0.0.1'`, nil},
		{`'::1'`, nil},
		{`'fe80::1'`, nil},
		{`''`, nil},
		{`'not an address'`, nil},
		{`'20.53.203'`, nil},
		{`'20.53.203.256'`, nil},
		{`'020.053.203.050'`, nil},
		{`'20.53.203.50/24'`, nil},
		{`'2a03:2880:f12c::1::2'`, nil},
		{`dynamic(null)`, nil},
		{`dynamic(5)`, nil},
		{`dynamic(['20.53.203.50'])`, nil},
	} {
		got := geoQuery(t, db, "print g = geo_info_from_ip_address("+c.arg+")")
		if got[0] != c.want {
			t.Errorf("geo_info_from_ip_address(%s) = %v, want %v", c.arg, got[0], c.want)
		}
	}
}

// TestGeoInfoFromIPAddressTypes checks the bag's property types as the
// reference lists them (strings and reals) and that the function reads a
// column row by row.
func TestGeoInfoFromIPAddressTypes(t *testing.T) {
	db := fixtureGeoIP(t)
	// the types are compared with those of a dynamic string and real
	got := geoQuery(t, db, `print g = geo_info_from_ip_address('81.2.69.142'), s = dynamic('s'), r = dynamic(1.5)
		| project t = strcat(gettype(g.country) == gettype(s), gettype(g.state) == gettype(s), gettype(g.city) == gettype(s),
			gettype(g.latitude) == gettype(r), gettype(g.longitude) == gettype(r), gettype(g.city) != gettype(r))`)
	if got[0] != strings.Repeat("True", 6) {
		t.Errorf("types %v, want the five fields typed string, string, string, real, real", got[0])
	}
	got = geoQuery(t, db, `datatable(ip:string) ['20.53.203.50', '10.1.2.3', '', 'x', '2a03:2880:f12c:83:face:b00c::25de', '89.160.20.1']
		| extend g = geo_info_from_ip_address(ip)
		| project c = strcat(tostring(g.country), '/', tostring(g.city), '/', iff(isnull(g), 'null', 'bag'))`)
	want := []any{"Australia/Sydney/bag", "//null", "//null", "//null", "United States/Boca Raton/bag", "Sweden//bag"}
	if len(got) != len(want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: %v, want %v", i, got[i], want[i])
		}
	}
	got = geoQuery(t, db, `datatable(ip:string) ['20.53.203.1', '20.53.203.2', '81.2.69.1', '1.1.1.1']
		| summarize n = count() by country = tostring(geo_info_from_ip_address(ip).country) | order by n desc, country asc
		| project r = strcat(country, ':', n)`)
	if strings.Join(anyStrings(got), ",") != "Australia:2,:1,United Kingdom:1" {
		t.Errorf("grouped by country: %v", got)
	}
}

func anyStrings(xs []any) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i], _ = x.(string)
	}
	return out
}

// TestGeoInfoFromIPAddressErrors: without a database a query that calls
// the function is refused with an error that says how to configure one
// (never a null for every row); a wrong argument count or type is a
// compile error too.
func TestGeoInfoFromIPAddressErrors(t *testing.T) {
	db := fixtureGeoIP(t)
	for _, c := range []struct {
		query string
		db    *GeoIPDB
		want  string
	}{
		{`print geo_info_from_ip_address('20.53.203.50')`, nil, "--geoip-db FILE"},
		{`datatable(ip:string) [] | extend g = geo_info_from_ip_address(ip)`, nil, "STEWARD_GEOIP_DB"},
		{`print geo_info_from_ip_address()`, db, "takes 1 argument"},
		{`print geo_info_from_ip_address('1.1.1.1', '2.2.2.2')`, db, "takes 1 argument"},
		{`print geo_info_from_ip_address(12345)`, db, "must be a string, got long"},
		{`print geo_info_from_ip_address(now())`, db, "must be a string, got datetime"},
	} {
		_, err := Run(context.Background(), c.query, Options{GeoIP: c.db})
		var ce *CompileError
		if !errors.As(err, &ce) || !strings.Contains(ce.Msg, c.want) {
			t.Errorf("%s: error %v, want a compile error saying %q", c.query, err, c.want)
		}
	}
}

// TestOpenGeoIPDB: a database that cannot be used is refused when it is
// opened, with the reason, and a city database is accepted under each of
// the type names the City databases carry.
func TestOpenGeoIPDB(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "city.mmdb")
	if err := geoiptest.Write(good, "GeoIP2-City", geoiptest.Fixture); err != nil {
		t.Fatal(err)
	}
	db, err := OpenGeoIPDB(good)
	if err != nil {
		t.Fatal(err)
	}
	if db.Path() != good || db.Type() != "GeoIP2-City" {
		t.Errorf("path %q type %q", db.Path(), db.Type())
	}
	for _, typ := range []string{"GeoLite2-City", "DBIP-City-Lite", "dbip-city-lite", "GeoIP2-Enterprise"} {
		b, err := geoiptest.Bytes(typ, geoiptest.Fixture[:1])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := NewGeoIPDB(b); err != nil {
			t.Errorf("type %s refused: %v", typ, err)
		}
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	country, err := geoiptest.Bytes("GeoLite2-Country", geoiptest.Fixture[:1])
	if err != nil {
		t.Fatal(err)
	}
	asn, err := geoiptest.Bytes("GeoLite2-ASN", geoiptest.Fixture[:1])
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{filepath.Join(dir, "missing.mmdb"), "no such file"},
		{dir, "not a regular file"},
		{write("empty.mmdb", nil), "empty"},
		{write("text.mmdb", []byte("country,city\nAU,Sydney\n")), "not a readable MaxMind DB"},
		{write("country.mmdb", country), `"GeoLite2-Country"`},
		{write("asn.mmdb", asn), `"GeoLite2-ASN"`},
	} {
		_, err := OpenGeoIPDB(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("OpenGeoIPDB(%s): %v, want an error saying %q", filepath.Base(c.path), err, c.want)
		}
	}
}

// TestGeoIPDBDamagedNeverCrashes opens every truncation and a set of
// single-byte corruptions of a database: each is refused, or its lookups
// answer or fail with an error, never a panic.
func TestGeoIPDBDamagedNeverCrashes(t *testing.T) {
	fixtureGeoIP(t)
	addrs := []string{"20.53.203.50", "2a03:2880:f12c::1", "81.2.69.142", "10.0.0.1", "2001:218::1"}
	try := func(b []byte) {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("panic on a damaged database: %v", r)
			}
		}()
		db, err := NewGeoIPDB(b)
		if err != nil {
			return
		}
		for _, a := range addrs {
			q := "print g = geo_info_from_ip_address('" + a + "')"
			_, err := Run(context.Background(), q, Options{GeoIP: db})
			var ie *InternalError
			if errors.As(err, &ie) {
				t.Fatalf("internal error %s on a damaged database", ie.Detail)
			}
		}
	}
	for n := 0; n < len(fixtureBytes); n += 7 {
		try(append([]byte(nil), fixtureBytes[:n]...))
	}
	for i := 0; i < len(fixtureBytes); i += 5 {
		b := append([]byte(nil), fixtureBytes...)
		b[i] ^= 0xa5
		try(b)
	}
}

// TestGeoIPDBSharedByConcurrentQueries runs queries on one database from
// several goroutines (the race detector watches the shared reader).
func TestGeoIPDBSharedByConcurrentQueries(t *testing.T) {
	db := fixtureGeoIP(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			res, err := Run(context.Background(),
				`range i from 1 to 200 step 1 | extend g = geo_info_from_ip_address(strcat('20.53.203.', i % 256))
				 | summarize n = countif(tostring(g.city) == 'Sydney')`, Options{GeoIP: db})
			if err != nil {
				errs <- err
				return
			}
			if n := res.Rows[0][0].APIValue(); n != int64(200) {
				errs <- errors.New("wrong count")
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
