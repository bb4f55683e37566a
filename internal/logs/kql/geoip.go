package kql

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"
)

// GeoIPDB is an IP geolocation database in MaxMind's MMDB format, of the
// "city" kind (GeoLite2-City, GeoIP2-City, GeoIP2-Enterprise, DB-IP's City
// databases): what geo_info_from_ip_address reads. Steward ships none;
// the operator points it at one. A GeoIPDB is read-only and safe for
// concurrent use by any number of queries.
//
// The file is read into memory once rather than mapped: a database
// replaced or truncated in place while Steward runs cannot then fault a
// query, and a new one takes effect at the next start.
type GeoIPDB struct {
	r    *maxminddb.Reader
	path string
}

// maxGeoIPBytes caps the database file: the largest commercial city
// databases are a few hundred megabytes.
const maxGeoIPBytes = 2 << 30

// OpenGeoIPDB reads the MMDB file at path. A file that is missing,
// unreadable, not an MMDB file or not a city database is an error that
// names the path.
func OpenGeoIPDB(path string) (*GeoIPDB, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("IP geolocation database: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("IP geolocation database %s: not a regular file", path)
	}
	if fi.Size() > maxGeoIPBytes {
		return nil, fmt.Errorf("IP geolocation database %s: %d bytes, more than the %d bytes accepted", path, fi.Size(), int64(maxGeoIPBytes))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("IP geolocation database: %w", err)
	}
	db, err := NewGeoIPDB(data)
	if err != nil {
		return nil, fmt.Errorf("IP geolocation database %s: %w", path, err)
	}
	db.path = path
	return db, nil
}

// NewGeoIPDB reads an MMDB database held in data, which it keeps: the
// caller must not change it afterwards.
func NewGeoIPDB(data []byte) (*GeoIPDB, error) {
	if len(data) == 0 {
		return nil, errors.New("the file is empty, not a MaxMind DB (.mmdb) file")
	}
	r, err := maxminddb.OpenBytes(data)
	if err != nil {
		return nil, fmt.Errorf("not a readable MaxMind DB (.mmdb) file: %w", err)
	}
	if !geoIPCityType(r.Metadata.DatabaseType) {
		return nil, fmt.Errorf("its database type is %q: geo_info_from_ip_address needs a city database "+
			"(such as GeoLite2-City, GeoIP2-City or DB-IP's City Lite), whose records locate an address", r.Metadata.DatabaseType)
	}
	return &GeoIPDB{r: r}, nil
}

// geoIPCityType reports whether an MMDB database type names a database
// whose records hold the city layout (country, subdivisions, city,
// location): MaxMind's and DB-IP's City databases and MaxMind's
// Enterprise one. Country, ASN, ISP or anonymizer databases do not locate
// an address and are refused at start rather than answering every lookup
// with nothing.
func geoIPCityType(t string) bool {
	t = strings.ToLower(t)
	return strings.Contains(t, "city") || strings.Contains(t, "enterprise")
}

// Path returns the file the database was read from ("" when it was given
// as bytes).
func (db *GeoIPDB) Path() string { return db.path }

// Type returns the database type its metadata names ("GeoLite2-City").
func (db *GeoIPDB) Type() string { return db.r.Metadata.DatabaseType }

// geoIPNames is the part of a localized name the function reads: Kusto's
// bag holds English names.
type geoIPNames struct {
	Names struct {
		En string `maxminddb:"en"`
	} `maxminddb:"names"`
}

// geoIPRecord is the part of a city record geo_info_from_ip_address
// returns. The coordinates are pointers so that a record without them is
// told apart from one at 0°.
type geoIPRecord struct {
	Country      geoIPNames   `maxminddb:"country"`
	Subdivisions []geoIPNames `maxminddb:"subdivisions"`
	City         geoIPNames   `maxminddb:"city"`
	Location     struct {
		Latitude  *float64 `maxminddb:"latitude"`
		Longitude *float64 `maxminddb:"longitude"`
	} `maxminddb:"location"`
}

// Lookup returns the location of addr as geo_info_from_ip_address's bag:
// country, state (the first, largest subdivision), city, latitude and
// longitude, each present when the record has it. It returns nil when the
// database has no record for addr, or a record with none of these fields
// (private and reserved ranges have none). An IPv4-mapped IPv6 address is
// looked up as its IPv4 address. An error means the database could not be
// read at that record.
func (db *GeoIPDB) Lookup(addr netip.Addr) (*Bag, error) {
	res := db.r.Lookup(addr.Unmap().WithZone(""))
	if err := res.Err(); err != nil {
		return nil, err
	}
	if !res.Found() {
		return nil, nil
	}
	var rec geoIPRecord
	if err := res.Decode(&rec); err != nil {
		return nil, err
	}
	b := NewBag()
	if s := rec.Country.Names.En; s != "" {
		b.Set("country", s)
	}
	if len(rec.Subdivisions) > 0 && rec.Subdivisions[0].Names.En != "" {
		b.Set("state", rec.Subdivisions[0].Names.En)
	}
	if s := rec.City.Names.En; s != "" {
		b.Set("city", s)
	}
	if p := rec.Location.Latitude; p != nil {
		b.Set("latitude", *p)
	}
	if p := rec.Location.Longitude; p != nil {
		b.Set("longitude", *p)
	}
	if len(b.Keys) == 0 {
		return nil, nil
	}
	return b, nil
}

// errNoGeoIP is the message of a query that calls geo_info_from_ip_address
// on a Steward that was given no database: the function cannot answer,
// and a null for every row would be a made-up answer.
const errNoGeoIP = "geo_info_from_ip_address needs an IP geolocation database, which Steward does not ship, " +
	"and none is configured: name a MaxMind DB city database (such as GeoLite2-City.mmdb) with --geoip-db FILE " +
	"on steward serve or steward kql, or with STEWARD_GEOIP_DB=FILE"

// compileGeoInfo compiles geo_info_from_ip_address(IpAddress) against the
// query's database. The address is a string (or a dynamic string); one
// that does not parse as an IPv4 or IPv6 address gives null, as an
// address the database does not locate does.
func compileGeoInfo(db *GeoIPDB) fnImpl {
	return func(call *Call, args []cexpr) (cexpr, error) {
		if db == nil {
			return cexpr{}, errAt(call, "%s", errNoGeoIP)
		}
		if len(args) != 1 {
			return cexpr{}, errAt(call, "geo_info_from_ip_address takes 1 argument(s), got %d", len(args))
		}
		if t := args[0].t; t != TypeString && t != TypeDynamic && t != TypeUnknown {
			return cexpr{}, errAt(call, "geo_info_from_ip_address: the address must be a string, got %s", t)
		}
		return evalN(TypeDynamic, args, func(_ Type, v []Value) Value {
			s := scalarOf(v[0])
			if s.T != TypeString || s.s == "" {
				return Null(TypeDynamic)
			}
			addr, err := netip.ParseAddr(strings.TrimSpace(s.s))
			if err != nil {
				return Null(TypeDynamic)
			}
			b, err := db.Lookup(addr)
			if err != nil {
				panic(errAt(call, "geo_info_from_ip_address: the IP geolocation database could not be read at %s: %v", addr, err))
			}
			if b == nil {
				return Null(TypeDynamic)
			}
			return Dynamic(b)
		}), nil
	}
}
