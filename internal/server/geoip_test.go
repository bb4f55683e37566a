package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	query "github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"

	"github.com/steward-gov/steward/internal/logs/kql/geoiptest"
)

// geoWorkspace creates a workspace on e's Steward and returns its
// customerId.
func geoWorkspace(t *testing.T, e *logsEnv) string {
	t.Helper()
	rg := "/subscriptions/" + e.sub + "/resourceGroups/geo"
	e.mustARM(t, "PUT", rg, "2021-04-01", map[string]any{"location": "eastus"})
	ws := e.mustARM(t, "PUT", rg+"/providers/Microsoft.OperationalInsights/workspaces/geo", "2022-10-01",
		map[string]any{"location": "eastus", "properties": map[string]any{}})
	id, _ := props(ws)["customerId"].(string)
	if id == "" {
		t.Fatalf("workspace: %v", ws)
	}
	return id
}

// TestGeoInfoFromIPAddressThroughQueryAPI starts Steward with a
// geolocation database (queries.geoipDb, the setting of --geoip-db) and
// asks the query API, with the Azure SDK's Logs client, for the reference
// page's examples and a column of addresses.
func TestGeoInfoFromIPAddressThroughQueryAPI(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "GeoLite2-City.mmdb")
	if err := geoiptest.Write(dbPath, "GeoLite2-City", geoiptest.Fixture); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Queries.GeoIPDB = dbPath
	s, _ := startStewardWith(t, cfg, CloudService(), LogsService())
	e := newLogsEnvFor(t, s, dir)
	ws := geoWorkspace(t, e)
	qc := e.queryClient(t)
	ctx := context.Background()
	res, err := qc.QueryWorkspace(ctx, ws, query.QueryBody{Query: to.Ptr(
		`print ip_location=geo_info_from_ip_address('20.53.203.50'), v6=geo_info_from_ip_address('2a03:2880:f12c:83:face:b00c::25de'), private=geo_info_from_ip_address('10.0.0.1')`)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cols := res.Tables[0].Columns
	if len(cols) != 3 || *cols[0].Name != "ip_location" || *cols[0].Type != query.ColumnTypeDynamic {
		t.Fatalf("columns %+v", cols)
	}
	row := res.Tables[0].Rows[0]
	want := []any{
		`{"country":"Australia","state":"New South Wales","city":"Sydney","latitude":-33.8715,"longitude":151.2006}`,
		`{"country":"United States","state":"Florida","city":"Boca Raton","latitude":26.3594,"longitude":-80.0771}`,
		nil,
	}
	for i := range want {
		if row[i] != want[i] {
			t.Errorf("column %d: %v, want %v", i, row[i], want[i])
		}
	}
	res, err = qc.QueryWorkspace(ctx, ws, query.QueryBody{Query: to.Ptr(
		`datatable(ip:string) ['81.2.69.142', '89.160.20.9', 'bogus'] | project city = tostring(geo_info_from_ip_address(ip).city), country = tostring(geo_info_from_ip_address(ip)['country'])`)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(res.Tables[0].Rows)
	if string(got) != `[["London","United Kingdom"],["","Sweden"],["",""]]` {
		t.Errorf("rows %s", got)
	}
}

// TestGeoInfoFromIPAddressWithoutDatabase: a Steward started without a
// database answers a query that calls the function with a 400 in the
// query API's error shape, whose message says how to configure one.
func TestGeoInfoFromIPAddressWithoutDatabase(t *testing.T) {
	e := newLogsEnv(t)
	ws := geoWorkspace(t, e)
	tok, err := e.cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{LogAnalyticsAudience + "/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", strings.TrimSuffix(e.s.BaseURL, "/")+"/v1/workspaces/"+ws+"/query",
		strings.NewReader(`{"query":"print g = geo_info_from_ip_address('20.53.203.50')"}`))
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error struct {
			Code       string `json:"code"`
			Message    string `json:"message"`
			InnerError struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"innererror"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	all := body.Error.Message + " " + body.Error.InnerError.Message
	if resp.StatusCode != http.StatusBadRequest || body.Error.Code != "BadArgumentError" || body.Error.InnerError.Code != "SemanticError" ||
		!strings.Contains(all, "--geoip-db FILE") || !strings.Contains(all, "STEWARD_GEOIP_DB") {
		t.Errorf("status %d, body %+v", resp.StatusCode, body)
	}
	// The same through the SDK: an error, never a table of nulls.
	_, err = e.queryClient(t).QueryWorkspace(context.Background(), ws,
		query.QueryBody{Query: to.Ptr(`print g = geo_info_from_ip_address('20.53.203.50')`)}, nil)
	if err == nil {
		t.Error("the SDK's query succeeded without a database")
	}
}

// TestOpenRefusesUnusableGeoIPDB: a database setting that names a
// missing file or a file that is not an MMDB city database stops Open
// with a *GeoIPError that names the setting, before the data directory is
// created.
func TestOpenRefusesUnusableGeoIPDB(t *testing.T) {
	tmp := t.TempDir()
	country := filepath.Join(tmp, "country.mmdb")
	if err := geoiptest.Write(country, "GeoLite2-Country", geoiptest.Fixture); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(tmp, "city.csv")
	if err := os.WriteFile(text, []byte("network,city\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{filepath.Join(tmp, "missing.mmdb"), "no such file"},
		{country, "GeoLite2-Country"},
		{text, "not a readable MaxMind DB"},
	} {
		dir := filepath.Join(tmp, "data-"+filepath.Base(c.path))
		cfg := testConfig(dir)
		cfg.Queries.GeoIPDB = c.path
		s, err := Open(context.Background(), cfg, nil, CloudService(), LogsService())
		if s != nil {
			s.Close()
		}
		var ge *GeoIPError
		if !errors.As(err, &ge) || !strings.Contains(err.Error(), "--geoip-db") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a GeoIPError saying %q", c.path, err, c.want)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: the data directory was created (%v)", c.path, err)
		}
	}
}

// TestGeoIPDBSetting reads the database setting from the config file and
// from STEWARD_GEOIP_DB, which wins.
func TestGeoIPDBSetting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "steward.yaml")
	if err := os.WriteFile(path, []byte("queries:\n  geoipDb: /srv/geo/GeoLite2-City.mmdb\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	if err := c.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if c.Queries.GeoIPDB != "/srv/geo/GeoLite2-City.mmdb" {
		t.Fatalf("from the file: %q", c.Queries.GeoIPDB)
	}
	env := map[string]string{"STEWARD_GEOIP_DB": "/opt/dbip-city-lite.mmdb"}
	if err := c.LoadEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if c.Queries.GeoIPDB != "/opt/dbip-city-lite.mmdb" {
		t.Fatalf("from the environment: %q", c.Queries.GeoIPDB)
	}
}
