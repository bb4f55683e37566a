package server

import (
	"context"
	"encoding/json"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/storage/armstorage"
)

// pythonWithTables returns a Python that can import azure.data.tables and
// its aio client (Debian: python3-azure, python3-aiohttp), or skips.
func pythonWithTables(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if err := exec.Command(py, "-c", "import azure.data.tables, azure.data.tables.aio, aiohttp").Run(); err == nil {
			return py
		}
	}
	t.Skip("no python3 with azure.data.tables and aiohttp (Debian: apt-get install python3-azure python3-aiohttp); skipping the Python Tables test")
	return ""
}

// TestPythonTablesFromConnectionStringAndSAS runs azure.data.tables (sync
// and aio) against a served Steward: seed 000's registry calls from a
// connection string, and seed 001's catalog reads through a read-only SAS.
func TestPythonTablesFromConnectionStringAndSAS(t *testing.T) {
	py := pythonWithTables(t)
	e := newStorageEnv(t)
	ctx := context.Background()
	cat := e.tables(t, e.key)
	if _, err := cat.CreateTable(ctx, "catalog", nil); err != nil {
		t.Fatal(err)
	}
	for _, rk := range []string{"dev", "prod"} {
		b, _ := json.Marshal(aztables.Entity{PartitionKey: "envs", RowKey: rk})
		if _, err := cat.NewClient("catalog").AddEntity(ctx, b, nil); err != nil {
			t.Fatal(err)
		}
	}
	future := time.Now().Add(time.Hour)
	sas, err := e.accounts.ListServiceSAS(ctx, e.rg, e.account, armstorage.ServiceSasParameters{
		CanonicalizedResource: to.Ptr("/table/" + e.account + "/catalog"), Permissions: to.Ptr(armstorage.PermissionsR),
		SharedAccessExpiryTime: &future}, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn := "DefaultEndpointsProtocol=https;AccountName=" + e.account + ";AccountKey=" + e.key +
		";TableEndpoint=" + strings.TrimSuffix(e.tableURL, "/")
	cmd := exec.Command(py, "testdata/tables_client.py", conn, e.tableURL+"catalog", *sas.ServiceSasToken)
	cmd.Env = append(cmd.Environ(), "REQUESTS_CA_BUNDLE="+e.s.CA.CACertPath, "SSL_CERT_FILE="+e.s.CA.CACertPath)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tables_client.py: %v\n%s", err, out)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output %s: %v", out, err)
	}
	want := map[string]any{
		"second_create": "TableAlreadyExists",
		"listed":        []any{"app-a", "app-b"},
		"big":           float64(1 << 40),
		"merged":        "mrg-a2",
		"queried":       []any{"app-b"},
		"after_delete":  []any{"app-a"},
		"batched":       []any{"x", "y"},
		"aio_listed":    []any{"r1", "r2"},
		"aio_left":      []any{"r2"},
		"catalog":       []any{"dev", "prod"},
		"sas_write":     "AuthorizationPermissionMismatch",
	}
	for k, w := range want {
		if !reflect.DeepEqual(got[k], w) {
			t.Errorf("%s = %#v, want %#v", k, got[k], w)
		}
	}
}

// TestPythonMgmtStorageBeginCreate creates an account with azure-mgmt-
// storage's begin_create (202 then polling to 200), reads its keys and
// opens its Table service from the connection string they make.
func TestPythonMgmtStorageBeginCreate(t *testing.T) {
	py := pythonWithTables(t)
	if err := exec.Command(py, "-c", "import azure.mgmt.storage, azure.identity").Run(); err != nil {
		t.Skip("no azure.mgmt.storage (Debian: python3-azure); skipping")
	}
	e := newStorageEnv(t)
	info := e.s.Bootstrap
	cmd := exec.Command(py, "testdata/storage_mgmt.py", e.s.BaseURL, info.TenantID, info.ClientID, info.ClientSecret,
		info.SubscriptionID, e.rg, "mgmtpython")
	cmd.Env = append(cmd.Environ(), "REQUESTS_CA_BUNDLE="+e.s.CA.CACertPath, "SSL_CERT_FILE="+e.s.CA.CACertPath)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("storage_mgmt.py: %v\n%s", err, out)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output %s: %v", out, err)
	}
	want := map[string]any{"state": "Succeeded", "table": e.s.BaseURL + "tables/mgmtpython/", "https_only": true,
		"available": false, "keys": []any{"key1", "key2"}, "tables": []any{"fromMgmt"}}
	for k, w := range want {
		if !reflect.DeepEqual(got[k], w) {
			t.Errorf("%s = %#v, want %#v", k, got[k], w)
		}
	}
}
