package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/server"
)

func TestStorageCommandsDriveAccountsTablesAndEntities(t *testing.T) {
	dir, _ := serveCloud(t, server.CloudService(), server.StorageService())
	_, must := cliOn(t, dir)
	must("group", "create", "data", "-l", "westeurope")
	out := must("storage", "account", "create", "-g", "data", "-n", "registry001", "-l", "westeurope")
	if !strings.Contains(out, "registry001") || !strings.Contains(out, "Succeeded") || !strings.Contains(out, "/tables/registry001/") {
		t.Errorf("account create:\n%s", out)
	}
	out = must("storage", "account", "keys", "-n", "registry001", "-o", "json")
	var keys struct {
		Keys []struct{ KeyName, Value string }
	}
	if err := json.Unmarshal([]byte(out), &keys); err != nil || len(keys.Keys) != 2 || len(keys.Keys[1].Value) != 88 {
		t.Fatalf("keys: %v\n%s", err, out)
	}
	if out = must("storage", "account", "connection-string", "-n", "registry001"); !strings.Contains(out, "TableEndpoint=https://") ||
		!strings.Contains(out, "AccountKey="+keys.Keys[0].Value) {
		t.Errorf("connection-string:\n%s", out)
	}
	must("storage", "table", "create", "applications", "--account", "registry001")
	must("storage", "entity", "insert", "--account", "registry001", "--table", "applications", "--partition-key", "sub-1",
		"--row-key", "app-a", "--properties", `{"mrg_name":"mrg-a","count":2}`)
	must("storage", "entity", "insert", "--account", "registry001", "--table", "applications", "--partition-key", "sub-2",
		"--row-key", "app-b", "--properties", `{"mrg_name":"mrg-b"}`)
	out = must("storage", "entity", "list", "--account", "registry001", "--table", "applications", "--filter", "PartitionKey eq 'sub-1'")
	if !strings.Contains(out, "app-a") || strings.Contains(out, "app-b") || !strings.Contains(out, "MRG_NAME") && !strings.Contains(out, "mrg_name") {
		t.Errorf("entity list:\n%s", out)
	}
	out = must("storage", "entity", "show", "--account", "registry001", "--table", "applications", "--partition-key", "sub-1", "--row-key", "app-a", "-o", "json")
	var ent map[string]any
	if err := json.Unmarshal([]byte(out), &ent); err != nil || ent["mrg_name"] != "mrg-a" {
		t.Errorf("entity show: %v\n%s", err, out)
	}
	if out = must("storage", "account", "sas", "-n", "registry001", "--table", "applications"); !strings.Contains(out, "sig=") || !strings.Contains(out, "tn=applications") {
		t.Errorf("sas:\n%s", out)
	}
	if out, err := runCLI(t, "storage", "entity", "insert", "--account", "registry001", "--table", "applications", "--partition-key", "sub-1",
		"--row-key", "app-a", "--data", dir); err == nil || !strings.Contains(err.(*exitError).msg, "EntityAlreadyExists") {
		t.Errorf("duplicate insert: %v\n%s", err, out)
	}
	must("storage", "entity", "delete", "--account", "registry001", "--table", "applications", "--partition-key", "sub-1", "--row-key", "app-a")
	out = must("storage", "table", "list", "--account", "registry001", "-o", "json")
	if strings.TrimSpace(out) != `[
  "applications"
]` && !strings.Contains(out, `"applications"`) {
		t.Errorf("table list:\n%s", out)
	}
	must("storage", "account", "regenerate-key", "-n", "registry001", "--key", "key2")
	must("storage", "account", "delete", "-n", "registry001")
	if _, err := runCLI(t, "storage", "account", "show", "-n", "registry001", "--data", dir); err == nil {
		t.Error("show after delete succeeded")
	}
}
