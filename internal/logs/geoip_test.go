package logs

import (
	"context"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/logs/kql"
	"github.com/steward-gov/steward/internal/logs/kql/geoiptest"
)

// TestTransformReadsTheGeoIPDatabase: a data collection rule's
// transformation sees the service's geolocation database, and a service
// without one refuses such a transformation with the way to configure it.
func TestTransformReadsTheGeoIPDatabase(t *testing.T) {
	b, err := geoiptest.Bytes("", geoiptest.Fixture)
	if err != nil {
		t.Fatal(err)
	}
	db, err := kql.NewGeoIPDB(b)
	if err != nil {
		t.Fatal(err)
	}
	bag := kql.NewBag()
	bag.Set("ClientIP", "20.53.203.50")
	input := toStreamRows([]Column{{Name: "ClientIP", Type: kql.TypeString}}, []*kql.Bag{bag})
	transform := "source | extend City = tostring(geo_info_from_ip_address(ClientIP).city)"

	s := New(backends[0].open(t), Options{Now: clock, GeoIP: db})
	res, err := s.applyTransform(context.Background(), transform, input)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Rows[0][1].APIValue(); got != "Sydney" {
		t.Errorf("City = %v, want Sydney", got)
	}
	_, err = New(backends[0].open(t), Options{Now: clock}).applyTransform(context.Background(), transform, input)
	if err == nil || !strings.Contains(err.Error(), "--geoip-db") {
		t.Errorf("without a database: %v", err)
	}
}
