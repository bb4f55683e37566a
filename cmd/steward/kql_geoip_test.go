package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/logs/kql/geoiptest"
)

// TestKQLGeoIPOffline: steward kql reads the database of --geoip-db or
// STEWARD_GEOIP_DB for geo_info_from_ip_address, and without one the
// query fails with the way to give one.
func TestKQLGeoIPOffline(t *testing.T) {
	t.Setenv("STEWARD_GEOIP_DB", "")
	dir := t.TempDir()
	db := filepath.Join(dir, "GeoLite2-City.mmdb")
	if err := geoiptest.Write(db, "GeoLite2-City", geoiptest.Fixture); err != nil {
		t.Fatal(err)
	}
	country := filepath.Join(dir, "GeoLite2-Country.mmdb")
	if err := geoiptest.Write(country, "GeoLite2-Country", geoiptest.Fixture); err != nil {
		t.Fatal(err)
	}
	q := "print ip_location=geo_info_from_ip_address('20.53.203.50')"
	sydney := `{"country":"Australia","state":"New South Wales","city":"Sydney","latitude":-33.8715,"longitude":151.2006}`

	out, err := runCLI(t, "kql", "--geoip-db", db, q)
	if err != nil || !strings.Contains(out, sydney) {
		t.Errorf("--geoip-db: %v\n%s", err, out)
	}
	out, err = runCLI(t, "kql", q)
	if exitCode(err) != exitUsage || !strings.Contains(errText(err), "--geoip-db FILE") {
		t.Errorf("without a database: exit %d, %v, %s", exitCode(err), err, out)
	}
	_, err = runCLI(t, "kql", "--geoip-db", country, q)
	if exitCode(err) != exitUsage || !strings.Contains(errText(err), `"GeoLite2-Country"`) {
		t.Errorf("a country database: exit %d, %v", exitCode(err), err)
	}
	_, err = runCLI(t, "kql", "--geoip-db", db, "--workspace", "ws1", q)
	if exitCode(err) != exitUsage || !strings.Contains(errText(err), "offline") {
		t.Errorf("--geoip-db with --workspace: exit %d, %v", exitCode(err), err)
	}
	t.Setenv("STEWARD_GEOIP_DB", db)
	out, err = runCLI(t, "kql", "-o", "json", q)
	if err != nil || !strings.Contains(out, strings.ReplaceAll(sydney, `"`, `\"`)) {
		t.Errorf("STEWARD_GEOIP_DB: %v\n%s", err, out)
	}
}

// TestServeRefusesUnusableGeoIPDB: steward serve with a --geoip-db that
// cannot be read exits with status 2, names the flag, and creates no data
// directory.
func TestServeRefusesUnusableGeoIPDB(t *testing.T) {
	for _, k := range []string{"STEWARD_DATA", "STEWARD_LISTEN", "STEWARD_CONFIG", "STEWARD_STORE", "STEWARD_GEOIP_DB", "STEWARD_PROXY"} {
		t.Setenv(k, "") // restored after the test
		os.Unsetenv(k)
	}
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("STEWARD_ROOT_KEY_FILE", filepath.Join(t.TempDir(), "root.key"))
	data := filepath.Join(t.TempDir(), "data")
	missing := filepath.Join(t.TempDir(), "GeoLite2-City.mmdb")
	_, err := runCLI(t, "serve", "--data", data, "--listen", "127.0.0.1:0", "--proxy", "", "--geoip-db", missing)
	if exitCode(err) != 2 || !strings.Contains(errText(err), "--geoip-db") || !strings.Contains(errText(err), "no such file") {
		t.Fatalf("exit %d (%v), want 2 naming --geoip-db", exitCode(err), err)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("the data directory was created (%v)", err)
	}
}
