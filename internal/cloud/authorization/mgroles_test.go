package authorization_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/google/uuid"
)

// A custom role assignable at a management group is listed and assignable
// in the subscriptions below it, and only there.
func TestCustomRoleAtManagementGroup(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mg := "/providers/Microsoft.Management/managementGroups/corp"
	other := "/providers/Microsoft.Management/managementGroups/other"
	for _, w := range []struct{ path, body string }{
		{mg + "?api-version=2023-04-01", `{"properties":{"displayName":"Corp"}}`},
		{other + "?api-version=2023-04-01", `{"properties":{"displayName":"Other"}}`},
		{mg + "/subscriptions/" + e.sub + "?api-version=2023-04-01", ``},
	} {
		if r, b := e.do(t, "PUT", w.path, []byte(w.body)); r.StatusCode >= 300 {
			t.Fatalf("PUT %s: %d %s", w.path, r.StatusCode, b)
		}
	}
	defs, _ := armauthorization.NewRoleDefinitionsClient(e.cred, e.opts)
	guid := uuid.NewString()
	if _, err := defs.CreateOrUpdate(ctx, mg[1:], guid, customRole("corp operator", mg, seedRoleActions...), nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		scope string
		want  int
	}{{"subscriptions/" + e.sub, 1}, {mg[1:], 1}, {other[1:], 0}} {
		if got := len(listRoles(t, defs, tc.scope, "type eq 'CustomRole'")); got != tc.want {
			t.Errorf("custom roles at %s: %d, want %d", tc.scope, got, tc.want)
		}
	}
	ras, _ := armauthorization.NewRoleAssignmentsClient(e.sub, e.cred, e.opts)
	assign := func(scope string) error {
		_, err := ras.Create(ctx, scope, uuid.NewString(), armauthorization.RoleAssignmentCreateParameters{Properties: &armauthorization.RoleAssignmentProperties{
			RoleDefinitionID: to.Ptr(mg + "/providers/Microsoft.Authorization/roleDefinitions/" + guid), PrincipalID: to.Ptr(uuid.NewString()),
			PrincipalType: to.Ptr(armauthorization.PrincipalTypeGroup)}}, nil)
		return err
	}
	if err := assign("subscriptions/" + e.sub); err != nil {
		t.Fatalf("assign below the group: %v", err)
	}
	wantCode(t, assign(other[1:]), http.StatusBadRequest, "InvalidRoleAssignment")
}
