package cloud_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/rbac"
	"github.com/steward-gov/steward/internal/server"
)

const v = "?api-version=2021-04-01"

// grant writes a role assignment through the API, as the administrator.
func (e *env) grant(t *testing.T, scope, role, principal string) {
	t.Helper()
	doc := rbac.RoleAssignmentDocument(scope, role, principal, rbac.PrincipalServicePrincipal)
	b, _ := json.Marshal(doc)
	if r, body := e.do(t, "PUT", doc["id"].(string)+"?api-version=2022-04-01", e.adminToken(t), b); r.StatusCode >= 300 {
		t.Fatalf("grant: %d %s", r.StatusCode, body)
	}
}

func TestAuthorizationFollowsStoredRoleAssignments(t *testing.T) {
	e := newEnv(t)
	admin := e.adminToken(t)
	oid, tok := e.newPrincipal(t, "team")
	sub := "/subscriptions/" + e.sub
	rg := sub + "/resourceGroups/team-rg"
	e.do(t, "PUT", rg+v, admin, []byte(`{"location":"westeurope"}`))
	res := rg + "/providers/Microsoft.Web/sites/app1"

	r, b := e.do(t, "PUT", res+v, tok, []byte(`{"location":"westeurope"}`))
	want := fmt.Sprintf("does not have authorization to perform action 'Microsoft.Web/sites/write' over scope '%s' or the scope is invalid. If access was recently granted, please refresh your credentials.", res)
	if r.StatusCode != http.StatusForbidden || !strings.Contains(string(b), want) || !strings.Contains(string(b), "with object id '"+oid+"'") {
		t.Fatalf("before the grant: %d %s", r.StatusCode, b)
	}
	e.grant(t, rg, rbac.ContributorRoleID, oid)
	if r, b := e.do(t, "PUT", res+v, tok, []byte(`{"location":"westeurope"}`)); r.StatusCode != http.StatusCreated {
		t.Fatalf("after the grant: %d %s", r.StatusCode, b)
	}
	if r, _ := e.do(t, "PUT", sub+"/resourceGroups/other"+v, tok, []byte(`{"location":"westeurope"}`)); r.StatusCode != http.StatusForbidden {
		t.Errorf("outside the granted group: %d", r.StatusCode)
	}
	// The team sees only its group in the list.
	r, b = e.do(t, "GET", sub+"/resourcegroups"+v, tok, nil)
	if r.StatusCode != 200 || strings.Count(string(b), `"id"`) != 1 {
		t.Errorf("list as team: %d %s", r.StatusCode, b)
	}
	// Contributor may not write role assignments.
	doc := rbac.RoleAssignmentDocument(rg, rbac.OwnerRoleID, oid, rbac.PrincipalServicePrincipal)
	body, _ := json.Marshal(doc)
	if r, _ := e.do(t, "PUT", doc["id"].(string)+"?api-version=2022-04-01", tok, body); r.StatusCode != http.StatusForbidden {
		t.Errorf("contributor wrote a role assignment: %d", r.StatusCode)
	}
	// Deleting the group removes the assignment in it, and the access.
	e.do(t, "DELETE", rg+v, admin, nil)
	e.do(t, "PUT", rg+v, admin, []byte(`{"location":"westeurope"}`))
	if r, _ := e.do(t, "PUT", res+v, tok, []byte(`{"location":"westeurope"}`)); r.StatusCode != http.StatusForbidden {
		t.Errorf("access survived the group's deletion: %d", r.StatusCode)
	}
}

func TestManagementGroupAssignmentsReachSubscriptions(t *testing.T) {
	e := newEnv(t)
	admin := e.adminToken(t)
	oid, tok := e.newPrincipal(t, "reader")
	mg := "/providers/Microsoft.Management/managementGroups/"
	mv := "?api-version=2020-05-01"
	if r, b := e.do(t, "PUT", mg+"corp"+mv, admin, []byte(`{"properties":{"displayName":"Corp"}}`)); r.StatusCode != 200 {
		t.Fatalf("create corp: %d %s", r.StatusCode, b)
	}
	if r, b := e.do(t, "PUT", mg+"online"+mv, admin, []byte(`{"properties":{"details":{"parent":{"id":"`+mg+`corp"}}}}`)); r.StatusCode != 200 {
		t.Fatalf("create online: %d %s", r.StatusCode, b)
	}
	if r, b := e.do(t, "PUT", mg+"corp"+mv, admin, []byte(`{"properties":{"details":{"parent":{"id":"`+mg+`online"}}}}`)); r.StatusCode != 400 {
		t.Errorf("cycle: %d %s", r.StatusCode, b)
	}
	if r, b := e.do(t, "PUT", mg+"online/subscriptions/"+e.sub+mv, admin, nil); r.StatusCode != 200 {
		t.Fatalf("move subscription: %d %s", r.StatusCode, b)
	}
	sub := "/subscriptions/" + e.sub
	if r, _ := e.do(t, "GET", sub+v, tok, nil); r.StatusCode != http.StatusForbidden {
		t.Fatalf("reader before grant: %d", r.StatusCode)
	}
	e.grant(t, mg+"corp", rbac.ReaderRoleID, oid)
	if r, b := e.do(t, "GET", sub+v, tok, nil); r.StatusCode != http.StatusOK {
		t.Errorf("reader at the grandparent group: %d %s", r.StatusCode, b)
	}
	if r, _ := e.do(t, "DELETE", mg+"corp"+mv, admin, nil); r.StatusCode != 400 {
		t.Errorf("deleting a group with children: %d", r.StatusCode)
	}
	r, b := e.do(t, "GET", mg+mv, admin, nil)
	if r.StatusCode != 200 || strings.Count(string(b), `"type":"Microsoft.Management/managementGroups"`) != 3 {
		t.Errorf("list groups (root, corp, online): %d %s", r.StatusCode, b)
	}
}

// hookRecorder records the calls of every hook.
type hookRecorder struct {
	mu      sync.Mutex
	changes []string
	deleted []string
}

func (h *hookRecorder) AfterCommit(_ context.Context, ch cloud.Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.changes = append(h.changes, string(ch.Operation)+" "+ch.ID)
}

func TestHooksShapeAndObserveWrites(t *testing.T) {
	rec := &hookRecorder{}
	setup := func(_ context.Context, _ *server.Steward, c *cloud.Cloud) error {
		c.OnPut("Microsoft.KeyVault/vaults", func(_ context.Context, id string, doc, existing map[string]any) error {
			p, _ := doc["properties"].(map[string]any)
			if p == nil {
				return arm.BadRequest("BadRequest", "properties are required")
			}
			p["vaultUri"] = "https://" + doc["name"].(string) + ".vault.example/"
			return nil
		})
		c.OnDelete("Microsoft.KeyVault/vaults", func(_ context.Context, id string, _ map[string]any) {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			rec.deleted = append(rec.deleted, id)
		})
		c.SetPolicyHook(cloud.PolicyHookFunc(func(_ context.Context, req *cloud.PolicyRequest) error {
			if req.Operation != cloud.OpWrite {
				return nil
			}
			if req.Document["location"] == "northpole" {
				return arm.Errorf(http.StatusForbidden, "RequestDisallowedByPolicy", "Resource '%s' was disallowed by policy.", req.Document["name"])
			}
			tags, _ := req.Document["tags"].(map[string]any)
			if tags == nil {
				tags = map[string]any{}
			}
			tags["stamped"] = "yes"
			req.Document["tags"] = tags
			return nil
		}))
		c.SetComplianceHook(rec)
		return nil
	}
	e := newEnv(t, setup)
	admin := e.adminToken(t)
	rg := "/subscriptions/" + e.sub + "/resourceGroups/hooks"
	e.do(t, "PUT", rg+v, admin, []byte(`{"location":"westeurope"}`))
	vault := rg + "/providers/Microsoft.KeyVault/vaults/kv1"
	const vv = "?api-version=2023-07-01" // a version of vaults
	r, b := e.do(t, "PUT", vault+vv, admin, []byte(`{"location":"westeurope","properties":{"sku":{"name":"standard"}}}`))
	var doc struct {
		Tags       map[string]string
		Properties map[string]any
	}
	_ = json.Unmarshal(b, &doc)
	if r.StatusCode != 201 || doc.Properties["vaultUri"] != "https://kv1.vault.example/" || doc.Tags["stamped"] != "yes" {
		t.Fatalf("hooked put: %d %s", r.StatusCode, b)
	}
	if r, b := e.do(t, "PUT", vault+vv, admin, []byte(`{"location":"westeurope"}`)); r.StatusCode != 400 {
		t.Errorf("put hook refusal: %d %s", r.StatusCode, b)
	}
	if r, _ := e.do(t, "PUT", rg+"/providers/Microsoft.Web/sites/cold"+v, admin, []byte(`{"location":"northpole"}`)); r.StatusCode != 403 {
		t.Errorf("policy deny: %d", r.StatusCode)
	}
	if r, _ := e.do(t, "GET", rg+"/providers/Microsoft.Web/sites/cold"+v, admin, nil); r.StatusCode != 404 {
		t.Errorf("a denied resource was stored: %d", r.StatusCode)
	}
	events, _, _ := e.s.Cloud.ActivityLog(context.Background(), e.sub, 100, "")
	denied := false
	for _, ev := range events {
		denied = denied || ev.ResourceID == rg+"/providers/Microsoft.Web/sites/cold" && ev.Status.Value == "Failed" &&
			ev.Properties["statusCode"] == "Forbidden" && strings.Contains(ev.Properties["statusMessage"], "RequestDisallowedByPolicy")
	}
	if !denied {
		t.Errorf("the denied write is not in the activity log: %+v", events)
	}
	e.do(t, "DELETE", rg+v, admin, nil)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	got := strings.Join(rec.changes, "\n")
	for _, want := range []string{"write " + rg, "write " + vault, "delete " + rg, "delete " + vault} {
		if !strings.Contains(got, want) {
			t.Errorf("compliance hook missed %q in:\n%s", want, got)
		}
	}
	if len(rec.deleted) != 1 || rec.deleted[0] != vault {
		t.Errorf("delete hook saw %v", rec.deleted)
	}
}

func TestActivityLogAndETags(t *testing.T) {
	e := newEnv(t)
	admin := e.adminToken(t)
	rg := "/subscriptions/" + e.sub + "/resourceGroups/audit"
	r, _ := e.do(t, "PUT", rg+v, admin, []byte(`{"location":"westeurope"}`), "x-ms-correlation-request-id", "c0ffee00-0000-0000-0000-000000000001")
	if r.Header.Get("x-ms-correlation-request-id") != "c0ffee00-0000-0000-0000-000000000001" || r.Header.Get("x-ms-request-id") == "" ||
		r.Header.Get("x-ms-ratelimit-remaining-subscription-writes") == "" {
		t.Errorf("headers: %v", r.Header)
	}
	res := rg + "/providers/Microsoft.Network/virtualNetworks/vnet"
	r, _ = e.do(t, "PUT", res+v, admin, []byte(`{"location":"westeurope"}`))
	etag := r.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	cases := []struct {
		name   string
		method string
		hdr    []string
		want   int
	}{
		{"matching If-Match", "PUT", []string{"If-Match", etag}, 200},
		{"stale If-Match", "PUT", []string{"If-Match", etag}, 412},
		{"If-None-Match * on an existing resource", "PUT", []string{"If-None-Match", "*"}, 412},
		{"If-Match * on an existing resource", "PATCH", []string{"If-Match", "*"}, 200},
		{"stale If-Match on delete", "DELETE", []string{"If-Match", etag}, 412},
	}
	for _, c := range cases {
		if r, b := e.do(t, c.method, res+v, admin, []byte(`{"location":"westeurope","tags":{"k":"v"}}`), c.hdr...); r.StatusCode != c.want {
			t.Errorf("%s: %d %s", c.name, r.StatusCode, b)
		}
	}
	events, _, err := e.s.Cloud.ActivityLog(context.Background(), e.sub, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	inGroup, failed := 0, 0
	for _, ev := range events {
		if strings.HasPrefix(ev.ResourceID, rg) && ev.Status.Value == "Succeeded" {
			inGroup++
		}
		if ev.Status.Value == "Failed" && ev.Properties["statusCode"] == "PreconditionFailed" {
			failed++
		}
		if ev.OperationName.Value == cloud.TypeResourceGroup+"/write" && ev.ResourceID == rg {
			found = ev.CorrelationID == "c0ffee00-0000-0000-0000-000000000001" && ev.Caller == e.s.Bootstrap.ClientID &&
				ev.Status.Value == "Succeeded" && ev.SubscriptionID == e.sub
		}
	}
	if !found || inGroup != 4 || failed != 3 {
		t.Errorf("activity log (%d successes in the group, want 4; %d failures, want 3) lacks the group's write: %+v", inGroup, failed, events)
	}
	// The same events through the REST API, filtered and paged.
	from := url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	path := "/subscriptions/" + e.sub + "/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01&$top=2&$filter=" +
		url.QueryEscape("eventTimestamp ge '") + from + url.QueryEscape("' and resourceGroupName eq 'audit' and status eq 'Succeeded'")
	var total, pages int
	for path != "" && pages < 10 {
		r, b := e.do(t, "GET", path, admin, nil)
		var page struct {
			Value []struct {
				ResourceGroupName string
				OperationName     struct{ Value string }
			}
			NextLink string
		}
		if err := json.Unmarshal(b, &page); err != nil || r.StatusCode != 200 {
			t.Fatalf("activity API: %d %s", r.StatusCode, b)
		}
		for _, ev := range page.Value {
			if ev.ResourceGroupName != "audit" {
				t.Errorf("filter let through %+v", ev)
			}
		}
		total += len(page.Value)
		pages++
		path = strings.TrimPrefix(page.NextLink, strings.TrimSuffix(e.s.BaseURL, "/"))
	}
	if total != 4 || pages < 2 {
		t.Errorf("activity API listed %d events in %d pages, want 4 in 2+", total, pages)
	}
	if r, _ := e.do(t, "GET", "/subscriptions/"+e.sub+"/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01", admin, nil); r.StatusCode != 400 {
		t.Errorf("activity API without a time filter: %d", r.StatusCode)
	}
}

func TestConcurrentPutsOfOneResourceCreateItOnce(t *testing.T) {
	e := newEnv(t, unthrottled)
	admin := e.adminToken(t)
	rg := "/subscriptions/" + e.sub + "/resourceGroups/race"
	e.do(t, "PUT", rg+v, admin, []byte(`{"location":"westeurope"}`))
	res := rg + "/providers/Microsoft.Web/sites/contended"
	const n = 8
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _ := e.do(t, "PUT", res+v, admin, []byte(fmt.Sprintf(`{"location":"westeurope","tags":{"i":"%d"}}`, i)))
			codes <- r.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	created := 0
	for c := range codes {
		switch c {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Errorf("concurrent PUT answered %d", c)
		}
	}
	if created != 1 {
		t.Errorf("%d PUTs reported creating the resource, want 1", created)
	}
}
