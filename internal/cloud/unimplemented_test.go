package cloud_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/server"
)

func TestWritesOfUnimplementedTypesAreRefused(t *testing.T) {
	// One provider implements user-assigned identities with a route, one
	// storage accounts with a put hook: both lift the refusal.
	implement := func(_ context.Context, _ *server.Steward, c *cloud.Cloud) error {
		c.OnPut("Microsoft.Storage/storageAccounts", func(context.Context, string, map[string]any, map[string]any) error { return nil })
		return c.Register(cloud.Routes{{Type: "Microsoft.ManagedIdentity/userAssignedIdentities",
			Handler: func(context.Context, *cloud.Call) (*cloud.Response, error) {
				return &cloud.Response{Status: http.StatusCreated, Body: map[string]any{"served": "by the provider"}}, nil
			}}})
	}
	e := newEnv(t, unthrottled, implement)
	admin := e.adminToken(t)
	rg := "/subscriptions/" + e.sub + "/resourceGroups/work"
	if r, b := e.do(t, "PUT", rg+"?api-version=2021-04-01", admin, []byte(`{"location":"westeurope"}`)); r.StatusCode != 201 {
		t.Fatalf("setup: %d %s", r.StatusCode, b)
	}
	body := []byte(`{"location":"westeurope","properties":{}}`)
	tests := []struct {
		name, path, method string
		status             int
		missing            string // in the message of a refusal
		version            string // default 2022-09-01; a type with published versions takes one of them
	}{
		{"a deployment script", rg + "/providers/Microsoft.Resources/deploymentScripts/d1", "PUT", 400, "script would not run", ""},
		{"a managed application", rg + "/providers/Microsoft.Solutions/applications/app", "PUT", 400, "managed resource group", "2021-07-01"},
		{"a log alert rule, any casing", rg + "/providers/microsoft.insights/SCHEDULEDQUERYRULES/r", "PUT", 400, "never be evaluated", "2023-12-01"},
		{"a patch of an action group", rg + "/providers/Microsoft.Insights/actionGroups/g", "PATCH", 400, "notification", "2023-01-01"},
		{"an arbitrary type is stored", rg + "/providers/Microsoft.Contoso/widgets/w", "PUT", 201, "", ""},
		{"a type implemented by a route", rg + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id", "PUT", 201, "", "2023-01-31"},
		{"a type implemented by a put hook", rg + "/providers/Microsoft.Storage/storageAccounts/sa", "PUT", 201, "", ""},
		{"reading a refused type is a plain 404", rg + "/providers/Microsoft.Resources/deploymentScripts/d1", "GET", 404, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b []byte
			if tc.method != "GET" {
				b = body
			}
			v := tc.version
			if v == "" {
				v = "2022-09-01"
			}
			r, out := e.do(t, tc.method, tc.path+"?api-version="+v, admin, b)
			if r.StatusCode != tc.status {
				t.Fatalf("%s: %d, want %d: %s", tc.method, r.StatusCode, tc.status, out)
			}
			if tc.missing == "" {
				return
			}
			var env struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(out, &env); err != nil || env.Error.Code != cloud.CodeResourceTypeNotImplemented ||
				!strings.Contains(env.Error.Message, tc.missing) {
				t.Errorf("want %s naming %q, got %s", cloud.CodeResourceTypeNotImplemented, tc.missing, out)
			}
		})
	}
	for _, typ := range e.s.Cloud.UnimplementedTypes() {
		if typ == "microsoft.storage/storageaccounts" || typ == "microsoft.managedidentity/userassignedidentities" {
			t.Errorf("UnimplementedTypes lists %s, which this Cloud implements", typ)
		}
	}
}

// TestUnimplementedTypesAreDocumented keeps docs/cloud.md's table in step
// with the list.
func TestUnimplementedTypesAreDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/cloud.md")
	if err != nil {
		t.Fatal(err)
	}
	lower := strings.ToLower(string(doc))
	for _, typ := range cloud.BuiltInUnimplementedTypes() {
		if !strings.Contains(lower, "| `"+typ+"` |") {
			t.Errorf("docs/cloud.md does not list %s", typ)
		}
	}
}
