package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/cloud/authorization"
	"github.com/steward-gov/steward/internal/cloud/policyprovider"
	"github.com/steward-gov/steward/internal/server"
)

// serveAuthorization serves a Steward whose management API has the
// authorization and policy providers, until the test ends.
func serveAuthorization(t *testing.T) (string, *server.Steward) {
	t.Helper()
	setup := func(_ context.Context, _ *server.Steward, c *cloud.Cloud) error {
		if err := authorization.Register(c); err != nil {
			return err
		}
		_, err := policyprovider.Register(c, policyprovider.Options{})
		return err
	}
	return serveCloud(t, server.CloudService(setup))
}

func TestRoleCommandsDriveTheAPI(t *testing.T) {
	dir, s := serveAuthorization(t)
	run, must := cliOn(t, dir)
	out := must("role", "definition", "list", "--name", "Reader")
	if !strings.Contains(out, "acdd72a7-3385-48ef-bd42-f606fba81ae7") || !strings.Contains(out, "BuiltInRole") || strings.Contains(out, "Contributor") {
		t.Errorf("definition list --name Reader:\n%s", out)
	}
	out = must("role", "definition", "show", "Contributor", "-o", "json")
	var rd struct {
		Name       string
		Properties struct{ RoleName string }
	}
	if err := json.Unmarshal([]byte(out), &rd); err != nil || rd.Name != "b24988ac-6180-42a0-ab88-20f7382dd24c" {
		t.Errorf("definition show: %v\n%s", err, out)
	}
	if _, err := run("role", "definition", "show", "No Such Role"); err == nil {
		t.Error("show of an unknown role succeeded")
	}

	must("group", "create", "cli-rg", "--location", "westeurope")
	_, sp, err := s.Identity.CreateApplication(context.Background(), s.Bootstrap.TenantID, "cli-app")
	if err != nil {
		t.Fatal(err)
	}
	scope := "/subscriptions/" + s.Bootstrap.SubscriptionID + "/resourceGroups/cli-rg"
	out = must("role", "assignment", "create", "--assignee", sp.ID, "--role", "Reader", "--scope", scope)
	if !strings.Contains(out, sp.ID) || !strings.Contains(out, "acdd72a7") {
		t.Errorf("assignment create:\n%s", out)
	}
	var ee *exitError
	if out, err := run("role", "assignment", "create", "--assignee", sp.ID, "--role", "Reader", "--scope", scope); !asExit(err, &ee) ||
		ee.code != 1 || !strings.Contains(ee.msg, "RoleAssignmentExists") {
		t.Errorf("duplicate assignment: %v\n%s", err, out)
	}
	list := func() int {
		out := must("role", "assignment", "list", "--assignee", sp.ID, "--scope", scope, "-o", "json")
		var ras []map[string]any
		if err := json.Unmarshal([]byte(out), &ras); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return len(ras)
	}
	if n := list(); n != 1 {
		t.Errorf("assignments of the app = %d, want 1", n)
	}
	must("role", "assignment", "delete", "--assignee", sp.ID, "--role", "Reader", "--scope", scope)
	if n := list(); n != 0 {
		t.Errorf("assignments after delete = %d, want 0", n)
	}
}
