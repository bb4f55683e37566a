package cloud_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armlocks"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/rbac"
)

// lockEnv is a Steward with a group "app" holding sites a and b, and a
// group "other" holding site c, reached by the SDK's locks client.
type lockEnv struct {
	*env
	locks *armlocks.ManagementLocksClient
	admin string
	sub   string
}

func newLockEnv(t *testing.T) *lockEnv {
	t.Helper()
	e := newEnv(t, unthrottled)
	locks, err := armlocks.NewManagementLocksClient(e.sub, e.cred, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	le := &lockEnv{env: e, locks: locks, admin: e.adminToken(t), sub: "/subscriptions/" + e.sub}
	for _, rg := range []string{"app", "other"} {
		le.want(t, "PUT", le.rg(rg)+"?api-version=2021-04-01", `{"location":"westeurope"}`, http.StatusCreated, "")
	}
	for _, s := range []string{"app/a", "app/b", "other/c"} {
		g, name, _ := strings.Cut(s, "/")
		le.want(t, "PUT", le.site(g, name)+"?api-version=2022-09-01", `{"location":"westeurope","properties":{}}`, http.StatusCreated, "")
	}
	return le
}

func (e *lockEnv) rg(name string) string { return e.sub + "/resourceGroups/" + name }

func (e *lockEnv) site(rg, name string) string {
	return e.rg(rg) + "/providers/Microsoft.Web/sites/" + name
}

// want sends a request as the administrator and checks its status and,
// when code is set, the ARM error code.
func (e *lockEnv) want(t *testing.T, method, path, body string, status int, code string) []byte {
	t.Helper()
	return e.wantAs(t, e.admin, method, path, body, status, code)
}

func (e *lockEnv) wantAs(t *testing.T, token, method, path, body string, status int, code string) []byte {
	t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	r, out := e.do(t, method, path, token, b)
	if r.StatusCode != status {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, r.StatusCode, status, out)
	}
	if code != "" {
		var env struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal(out, &env); err != nil || env.Error.Code != code {
			t.Fatalf("%s %s: want code %s, got %s", method, path, code, out)
		}
	}
	return out
}

func lockObject(level armlocks.LockLevel) armlocks.ManagementLockObject {
	return armlocks.ManagementLockObject{Properties: &armlocks.ManagementLockProperties{Level: to.Ptr(level), Notes: to.Ptr("test")}}
}

func TestCanNotDeleteLockAtAResourceGroup(t *testing.T) {
	e := newLockEnv(t)
	ctx := context.Background()
	res, err := e.locks.CreateOrUpdateAtResourceGroupLevel(ctx, "app", "keep", lockObject(armlocks.LockLevelCanNotDelete), nil)
	if err != nil {
		t.Fatal(err)
	}
	if *res.ID != e.rg("app")+"/providers/Microsoft.Authorization/locks/keep" || *res.Type != cloud.TypeLock ||
		*res.Properties.Level != armlocks.LockLevelCanNotDelete {
		t.Fatalf("created lock: %+v", res.ManagementLockObject)
	}
	// Writes go on, deletes in the group and of the group stop.
	e.want(t, "PUT", e.site("app", "a")+"?api-version=2022-09-01", `{"location":"westeurope","properties":{"x":1}}`, http.StatusOK, "")
	e.want(t, "PUT", e.site("app", "new")+"?api-version=2022-09-01", `{"location":"westeurope"}`, http.StatusCreated, "")
	out := e.want(t, "DELETE", e.site("app", "a")+"?api-version=2022-09-01", "", http.StatusConflict, "ScopeLocked")
	if !strings.Contains(string(out), "cannot perform delete operation") || !strings.Contains(string(out), e.rg("app")+"'") {
		t.Errorf("the message must name the operation and the locked scope: %s", out)
	}
	e.want(t, "DELETE", e.rg("app")+"?api-version=2021-04-01", "", http.StatusConflict, "ScopeLocked")
	e.want(t, "DELETE", e.site("other", "c")+"?api-version=2022-09-01", "", http.StatusOK, "")
	// Removing the lock lifts it.
	if _, err := e.locks.DeleteAtResourceGroupLevel(ctx, "app", "keep", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.locks.GetAtResourceGroupLevel(ctx, "app", "keep", nil); !isCode(err, http.StatusNotFound, "LockNotFound") {
		t.Errorf("get of a deleted lock: %v", err)
	}
	e.want(t, "DELETE", e.site("app", "a")+"?api-version=2022-09-01", "", http.StatusOK, "")
}

func TestReadOnlyLockAtAResource(t *testing.T) {
	e := newLockEnv(t)
	ctx := context.Background()
	if _, err := e.locks.CreateOrUpdateByScope(ctx, e.site("app", "a"), "frozen", lockObject(armlocks.LockLevelReadOnly), nil); err != nil {
		t.Fatal(err)
	}
	e.want(t, "GET", e.site("app", "a")+"?api-version=2022-09-01", "", http.StatusOK, "")
	e.want(t, "PUT", e.site("app", "a")+"?api-version=2022-09-01", `{"location":"westeurope"}`, http.StatusConflict, "ScopeLocked")
	e.want(t, "PATCH", e.site("app", "a")+"?api-version=2022-09-01", `{"tags":{"x":"y"}}`, http.StatusConflict, "ScopeLocked")
	e.want(t, "POST", e.site("app", "a")+"/restart?api-version=2022-09-01", "", http.StatusConflict, "ScopeLocked")
	e.want(t, "DELETE", e.site("app", "a")+"?api-version=2022-09-01", "", http.StatusConflict, "ScopeLocked")
	// The sibling and the group are not locked, but deleting the group
	// would delete the locked site.
	e.want(t, "PUT", e.site("app", "b")+"?api-version=2022-09-01", `{"location":"westeurope"}`, http.StatusOK, "")
	e.want(t, "DELETE", e.rg("app")+"?api-version=2021-04-01", "", http.StatusConflict, "ScopeLocked")
	// Locks themselves stay manageable under a ReadOnly lock.
	if _, err := e.locks.CreateOrUpdateByScope(ctx, e.site("app", "a"), "second", lockObject(armlocks.LockLevelCanNotDelete), nil); err != nil {
		t.Fatalf("a lock under a ReadOnly lock: %v", err)
	}
	// Steward's own writes (no caller) are not subject to locks.
	id := e.site("app", "a")
	if _, _, err := e.s.Cloud.Put(ctx, nil, cloud.PutRequest{ID: id, Type: "Microsoft.Web/sites",
		Doc: map[string]any{"id": id, "name": "a", "type": "Microsoft.Web/sites", "location": "westeurope"}}); err != nil {
		t.Errorf("a platform write under a ReadOnly lock: %v", err)
	}
}

func TestReadOnlyLockAtTheSubscription(t *testing.T) {
	e := newLockEnv(t)
	ctx := context.Background()
	if _, err := e.locks.CreateOrUpdateAtSubscriptionLevel(ctx, "freeze", lockObject(armlocks.LockLevelReadOnly), nil); err != nil {
		t.Fatal(err)
	}
	e.want(t, "PUT", e.rg("new")+"?api-version=2021-04-01", `{"location":"westeurope"}`, http.StatusConflict, "ScopeLocked")
	e.want(t, "PUT", e.site("other", "c")+"?api-version=2022-09-01", `{"location":"westeurope"}`, http.StatusConflict, "ScopeLocked")
	e.want(t, "GET", e.sub+"/resources?api-version=2021-04-01", "", http.StatusOK, "")
	if _, err := e.locks.DeleteAtSubscriptionLevel(ctx, "freeze", nil); err != nil {
		t.Fatal(err)
	}
	e.want(t, "PUT", e.rg("new")+"?api-version=2021-04-01", `{"location":"westeurope"}`, http.StatusCreated, "")
}

func TestListLocksAtEveryScope(t *testing.T) {
	e := newLockEnv(t)
	ctx := context.Background()
	for _, l := range []struct{ scope, name string }{{e.sub, "s"}, {e.rg("app"), "g"}, {e.site("app", "a"), "r"}, {e.site("other", "c"), "o"}} {
		if _, err := e.locks.CreateOrUpdateByScope(ctx, l.scope, l.name, lockObject(armlocks.LockLevelCanNotDelete), nil); err != nil {
			t.Fatal(err)
		}
	}
	names := func(p interface {
		More() bool
		NextPage(context.Context) (armlocks.ManagementLocksClientListByScopeResponse, error)
	}) string {
		var out []string
		for p.More() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range page.Value {
				out = append(out, *l.Name)
			}
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		scope, filter, want string
	}{
		{e.sub, "", "g,o,r,s"},
		{e.rg("app"), "", "g,r"},
		{e.site("app", "a"), "", "r"},
		{e.site("app", "a"), "atScope()", "g,r,s"},
		{e.rg("other"), "atScope()", "s"},
	}
	for _, tc := range tests {
		var opts *armlocks.ManagementLocksClientListByScopeOptions
		if tc.filter != "" {
			opts = &armlocks.ManagementLocksClientListByScopeOptions{Filter: to.Ptr(tc.filter)}
		}
		got := names(e.locks.NewListByScopePager(tc.scope, opts))
		if sorted := strings.Join(sortedSplit(got), ","); sorted != tc.want {
			t.Errorf("list at %s %s: %s, want %s", tc.scope, tc.filter, sorted, tc.want)
		}
	}
	// The SDK's subscription- and group-level lists are the same lists.
	p := e.locks.NewListAtResourceGroupLevelPager("app", nil)
	n := 0
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Value)
	}
	if n != 2 {
		t.Errorf("ListAtResourceGroupLevel: %d locks, want 2", n)
	}
}

func TestLockRequestsAreValidated(t *testing.T) {
	e := newLockEnv(t)
	lock := func(scope, name string) string {
		return scope + "/providers/Microsoft.Authorization/locks/" + name + "?api-version=2020-05-01"
	}
	e.want(t, "PUT", lock(e.rg("app"), "x"), `{"properties":{"level":"NotSpecified"}}`, http.StatusBadRequest, "InvalidLockLevel")
	e.want(t, "PUT", lock(e.rg("app"), "x"), `{"properties":{}}`, http.StatusBadRequest, "InvalidLockLevel")
	e.want(t, "PUT", lock(e.rg("app"), "x"), `{"properties":{"level":"ReadOnly","notes":"`+strings.Repeat("n", 513)+`"}}`, http.StatusBadRequest, "InvalidRequestContent")
	e.want(t, "PUT", lock(e.rg("nope"), "x"), `{"properties":{"level":"ReadOnly"}}`, http.StatusNotFound, "ResourceGroupNotFound")
	e.want(t, "PUT", lock(e.site("app", "nope"), "x"), `{"properties":{"level":"ReadOnly"}}`, http.StatusNotFound, "ParentResourceNotFound")
	e.want(t, "PUT", lock("/providers/Microsoft.Management/managementGroups/mg", "x"), `{"properties":{"level":"ReadOnly"}}`, http.StatusBadRequest, "InvalidScope")
	e.want(t, "GET", e.rg("app")+"/providers/Microsoft.Authorization/locks?api-version=2020-05-01&$filter=ownerId%20eq%20'x'", "", http.StatusBadRequest, "InvalidFilter")
	// Casing is accepted and stored canonical; an update answers 200.
	out := e.want(t, "PUT", lock(e.rg("app"), "x"), `{"properties":{"level":"canNotDelete"}}`, http.StatusCreated, "")
	if !strings.Contains(string(out), `"level":"CanNotDelete"`) {
		t.Errorf("stored level: %s", out)
	}
	e.want(t, "PUT", lock(e.rg("app"), "x"), `{"properties":{"level":"ReadOnly"}}`, http.StatusOK, "")
	e.want(t, "DELETE", lock(e.rg("app"), "gone"), "", http.StatusNoContent, "")
}

// TestOnlyOwnersManageLocks: the lock actions are Microsoft.Authorization
// actions, which Contributor lacks and Owner and User Access
// Administrator hold.
func TestOnlyOwnersManageLocks(t *testing.T) {
	e := newLockEnv(t)
	ctx := context.Background()
	roles := map[string]string{"contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c", "uaa": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
		"reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7"}
	tokens := map[string]string{}
	for name, role := range roles {
		oid, tok := e.newPrincipal(t, name)
		doc := rbac.RoleAssignmentDocument(e.sub, role, oid, rbac.PrincipalServicePrincipal)
		id, _ := doc["id"].(string)
		if _, _, err := e.s.Cloud.Put(ctx, nil, cloud.PutRequest{ID: id, Type: cloud.TypeRoleAssignment, Doc: doc}); err != nil {
			t.Fatal(err)
		}
		tokens[name] = tok
	}
	lock := e.rg("app") + "/providers/Microsoft.Authorization/locks/l?api-version=2020-05-01"
	body := `{"properties":{"level":"CanNotDelete"}}`
	e.wantAs(t, tokens["contributor"], "PUT", lock, body, http.StatusForbidden, "AuthorizationFailed")
	e.wantAs(t, tokens["reader"], "PUT", lock, body, http.StatusForbidden, "AuthorizationFailed")
	e.wantAs(t, tokens["uaa"], "PUT", lock, body, http.StatusCreated, "")
	e.wantAs(t, tokens["reader"], "GET", lock, "", http.StatusOK, "")
	e.wantAs(t, tokens["contributor"], "DELETE", lock, "", http.StatusForbidden, "AuthorizationFailed")
	// Contributor may write in the group, but not delete past the lock.
	e.wantAs(t, tokens["contributor"], "DELETE", e.site("app", "a")+"?api-version=2022-09-01", "", http.StatusConflict, "ScopeLocked")
	e.wantAs(t, tokens["uaa"], "DELETE", lock, "", http.StatusOK, "")
}

func isCode(err error, status int, code string) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == status && re.ErrorCode == code
}

func sortedSplit(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		for j := i + 1; j < len(parts); j++ {
			if parts[j] < parts[i] {
				parts[i], parts[j] = parts[j], parts[i]
			}
		}
	}
	return parts
}

// TestLockAtResourceLevelThroughTheSDK uses the SDK's resource-level
// methods, which send an empty parentResourcePath ("Microsoft.Web//sites").
func TestLockAtResourceLevelThroughTheSDK(t *testing.T) {
	e := newLockEnv(t)
	ctx := context.Background()
	if _, err := e.locks.CreateOrUpdateAtResourceLevel(ctx, "app", "Microsoft.Web", "", "sites", "b", "rl", lockObject(armlocks.LockLevelReadOnly), nil); err != nil {
		t.Fatal(err)
	}
	got, err := e.locks.GetAtResourceLevel(ctx, "app", "Microsoft.Web", "", "sites", "b", "rl", nil)
	if err != nil || *got.ID != e.site("app", "b")+"/providers/Microsoft.Authorization/locks/rl" {
		t.Fatalf("get: %+v %v", got, err)
	}
	e.want(t, "PUT", e.site("app", "b")+"?api-version=2022-09-01", `{"location":"westeurope"}`, http.StatusConflict, "ScopeLocked")
	if _, err := e.locks.DeleteAtResourceLevel(ctx, "app", "Microsoft.Web", "", "sites", "b", "rl", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.locks.GetByScope(ctx, e.site("app", "b"), "rl", nil); !isCode(err, http.StatusNotFound, "LockNotFound") {
		t.Errorf("get by scope after delete: %v", err)
	}
}
