package authorization_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/rbac"
)

func TestSDKDenyAssignmentsAreReadOnlyAndBlock(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rgs, _ := armresources.NewResourceGroupsClient(e.sub, e.cred, e.opts)
	if _, err := rgs.CreateOrUpdate(ctx, "locked", armresources.ResourceGroup{Location: to.Ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	rgScope := "/subscriptions/" + e.sub + "/resourceGroups/locked"
	reader := e.newPrincipal(t, "reader")
	ras, _ := armauthorization.NewRoleAssignmentsClient(e.sub, e.cred, e.opts)
	if _, err := ras.Create(ctx, rgScope[1:], uuid.NewString(), armauthorization.RoleAssignmentCreateParameters{Properties: &armauthorization.RoleAssignmentProperties{
		RoleDefinitionID: to.Ptr("/providers/Microsoft.Authorization/roleDefinitions/" + rbac.ReaderRoleID), PrincipalID: to.Ptr(reader.id),
		PrincipalType: to.Ptr(armauthorization.PrincipalTypeServicePrincipal)}}, nil); err != nil {
		t.Fatal(err)
	}
	asReader, _ := armresources.NewResourceGroupsClient(e.sub, reader.cred, reader.opts)
	if _, err := asReader.Get(ctx, "locked", nil); err != nil {
		t.Fatalf("reader before the deny: %v", err)
	}

	// Deny assignments are written by Steward itself, not through the API.
	name := uuid.NewString()
	da := rbac.DenyAssignment{ID: rgScope + "/providers/Microsoft.Authorization/denyAssignments/" + name, Name: name, Scope: rgScope,
		Description: "locked", Permissions: []rbac.Permission{{Actions: []string{"*/read"}}},
		Principals: []rbac.PrincipalRef{{ID: reader.id, Type: "ServicePrincipal"}}}
	b, _ := json.Marshal(&da)
	var doc map[string]any
	_ = json.Unmarshal(b, &doc)
	if _, _, err := e.s.Cloud.Put(ctx, nil, cloud.PutRequest{ID: da.ID, Type: cloud.TypeDenyAssignment, Doc: doc}); err != nil {
		t.Fatal(err)
	}
	_, err := asReader.Get(ctx, "locked", nil)
	wantCode(t, err, http.StatusForbidden, "AuthorizationFailed")

	denies, _ := armauthorization.NewDenyAssignmentsClient(e.sub, e.cred, e.opts)
	got, err := denies.Get(ctx, rgScope[1:], name, nil)
	if err != nil || *got.Name != name || *got.Properties.Principals[0].ID != reader.id {
		t.Fatalf("get: %+v %v", got, err)
	}
	for _, tc := range []struct {
		scope, filter string
		want          int
	}{
		{rgScope[1:], "atScope()", 1},
		{"subscriptions/" + e.sub, "atScope()", 0},
		{"subscriptions/" + e.sub, "", 1},
		{"subscriptions/" + e.sub, "principalId eq '" + uuid.NewString() + "'", 0},
	} {
		page, err := denies.NewListForScopePager(tc.scope, &armauthorization.DenyAssignmentsClientListForScopeOptions{Filter: to.Ptr(tc.filter)}).NextPage(ctx)
		if err != nil || len(page.Value) != tc.want {
			t.Errorf("list %s %q: %d %v, want %d", tc.scope, tc.filter, len(page.Value), err, tc.want)
		}
	}
	r, body := e.do(t, "PUT", da.ID+"?api-version=2022-04-01", []byte(`{}`))
	if r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT of a deny assignment: %d %s", r.StatusCode, body)
	}
}
