package cloud_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/cloud/policyprovider"
	"github.com/steward-gov/steward/internal/rbac"
	"github.com/steward-gov/steward/internal/server"
	"github.com/steward-gov/steward/internal/store/storetest"
)

// TestReplicasOnPostgresShareResourcesAndAccess runs two Stewards with the
// management API on one PostgreSQL schema: what one writes the other
// serves, and a grant made through one authorizes on the other once it
// has looked again (within rbacRefreshInterval).
func TestReplicasOnPostgresShareResourcesAndAccess(t *testing.T) {
	url := storetest.PostgresSchema(t)
	open := func() *env {
		cfg := server.DefaultConfig()
		cfg.DataDir, cfg.Listen, cfg.StoreURL = t.TempDir(), "127.0.0.1:0", url
		cfg.PublicURL = "https://localhost:8443/" // one public URL in front of both
		return newEnvConfig(t, cfg, func(_ context.Context, _ *server.Steward, c *cloud.Cloud) error {
			_, err := policyprovider.Register(c, policyprovider.Options{})
			return err
		})
	}
	a, b := open(), open()
	if a.sub != b.sub {
		t.Fatalf("replicas disagree on the subscription: %s / %s", a.sub, b.sub)
	}
	rg := "/subscriptions/" + a.sub + "/resourceGroups/shared"
	if r, body := a.do(t, "PUT", rg+v, a.adminToken(t), []byte(`{"location":"westeurope"}`)); r.StatusCode != http.StatusCreated {
		t.Fatalf("create on a: %d %s", r.StatusCode, body)
	}
	if r, body := b.do(t, "GET", rg+v, b.adminToken(t), nil); r.StatusCode != http.StatusOK {
		t.Fatalf("read on b: %d %s", r.StatusCode, body)
	}
	oid, tok := a.newPrincipal(t, "team")
	res := rg + "/providers/Microsoft.Web/sites/w"
	if r, _ := b.do(t, "PUT", res+v, tok, []byte(`{"location":"westeurope"}`)); r.StatusCode != http.StatusForbidden {
		t.Fatalf("b before the grant: %d", r.StatusCode)
	}
	a.grant(t, rg, rbac.ContributorRoleID, oid)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, body := b.do(t, "PUT", res+v, tok, []byte(`{"location":"westeurope"}`))
		if r.StatusCode == http.StatusCreated {
			break
		}
		if r.StatusCode != http.StatusForbidden || time.Now().After(deadline) {
			t.Fatalf("b after the grant: %d %s", r.StatusCode, body)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// A deny assignment made through a reaches b's compiled policies: b
	// had compiled them (for the write above) before the assignment
	// existed, and learns of it through the store's notification.
	def := "/subscriptions/" + a.sub + "/providers/Microsoft.Authorization/policyDefinitions/no-sites"
	defBody := `{"properties":{"mode":"All","policyRule":{"if":{"field":"type","equals":"Microsoft.Web/sites"},"then":{"effect":"deny"}}}}`
	if r, body := a.do(t, "PUT", def+"?api-version=2023-04-01", a.adminToken(t), []byte(defBody)); r.StatusCode != http.StatusCreated {
		t.Fatalf("definition on a: %d %s", r.StatusCode, body)
	}
	asg := rg + "/providers/Microsoft.Authorization/policyAssignments/no-sites"
	if r, body := a.do(t, "PUT", asg+"?api-version=2023-04-01", a.adminToken(t),
		[]byte(`{"properties":{"policyDefinitionId":"`+def+`"}}`)); r.StatusCode != http.StatusCreated {
		t.Fatalf("assignment on a: %d %s", r.StatusCode, body)
	}
	if r, body := a.do(t, "PUT", res+"a"+v, tok, []byte(`{"location":"westeurope"}`)); r.StatusCode != http.StatusForbidden {
		t.Fatalf("a after its own policy assignment: %d %s", r.StatusCode, body)
	}
	deadline = time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		r, body := b.do(t, "PUT", fmt.Sprintf("%s%d%s", res, i, v), tok, []byte(`{"location":"westeurope"}`))
		if r.StatusCode == http.StatusForbidden && strings.Contains(string(body), "RequestDisallowedByPolicy") {
			break
		}
		if r.StatusCode != http.StatusCreated || time.Now().After(deadline) {
			t.Fatalf("b after the policy assignment: %d %s", r.StatusCode, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, _, err := a.s.Cloud.Delete(context.Background(), nil, cloudDelete(rg)); err != nil {
		t.Fatal(err)
	}
}
