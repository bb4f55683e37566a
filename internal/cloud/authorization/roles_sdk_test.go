package authorization_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/rbac"
)

// seedRoleActions are the actions of seed 004's custom role.
var seedRoleActions = []*string{to.Ptr("Microsoft.Authorization/roleAssignments/read"),
	to.Ptr("Microsoft.Authorization/roleAssignments/write"), to.Ptr("Microsoft.Authorization/roleAssignments/delete")}

func customRole(name, scope string, actions ...*string) armauthorization.RoleDefinition {
	return armauthorization.RoleDefinition{Properties: &armauthorization.RoleDefinitionProperties{
		RoleName: to.Ptr(name), Description: to.Ptr("test role"), RoleType: to.Ptr("CustomRole"),
		AssignableScopes: []*string{to.Ptr(scope)},
		Permissions:      []*armauthorization.Permission{{Actions: actions, NotActions: []*string{}}},
	}}
}

func listRoles(t *testing.T, c *armauthorization.RoleDefinitionsClient, scope, filter string) []*armauthorization.RoleDefinition {
	t.Helper()
	var out []*armauthorization.RoleDefinition
	pager := c.NewListPager(scope, &armauthorization.RoleDefinitionsClientListOptions{Filter: to.Ptr(filter)})
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Value...)
	}
	return out
}

func TestSDKRoleDefinitionsBuiltInAndCustom(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	defs, err := armauthorization.NewRoleDefinitionsClient(e.cred, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	subScope := "subscriptions/" + e.sub
	got := listRoles(t, defs, subScope, "roleName eq 'Contributor'")
	if len(got) != 1 || *got[0].Name != rbac.ContributorRoleID || *got[0].Properties.RoleType != "BuiltInRole" ||
		*got[0].ID != "/subscriptions/"+e.sub+"/providers/Microsoft.Authorization/roleDefinitions/"+rbac.ContributorRoleID {
		t.Fatalf("Contributor by name: %+v", got)
	}
	all := listRoles(t, defs, subScope, "type eq 'BuiltInRole'")
	if len(all) < 5 {
		t.Fatalf("built-in roles: %d", len(all))
	}

	guid := uuid.NewString()
	created, err := defs.CreateOrUpdate(ctx, subScope, guid, customRole("roleassignments", "/subscriptions/"+e.sub, seedRoleActions...), nil)
	if err != nil {
		t.Fatal(err)
	}
	if *created.Properties.RoleType != "CustomRole" || *created.Name != guid || len(created.Properties.Permissions[0].Actions) != 3 {
		t.Fatalf("created: %+v", created.Properties)
	}
	custom := listRoles(t, defs, subScope, "type eq 'CustomRole'")
	if len(custom) != 1 || *custom[0].Properties.RoleName != "roleassignments" {
		t.Fatalf("custom roles: %+v", custom)
	}
	if g, err := defs.Get(ctx, subScope, guid, nil); err != nil || *g.Properties.RoleName != "roleassignments" {
		t.Fatalf("get: %+v %v", g, err)
	}
	if g, err := defs.GetByID(ctx, "/subscriptions/"+e.sub+"/providers/Microsoft.Authorization/roleDefinitions/"+rbac.ReaderRoleID, nil); err != nil || *g.Properties.RoleName != "Reader" {
		t.Fatalf("get by id: %+v %v", g, err)
	}

	tests := []struct {
		name   string
		role   armauthorization.RoleDefinition
		status int
		code   string
	}{
		{"same name as another custom role", customRole("RoleAssignments", "/subscriptions/"+e.sub, seedRoleActions...), http.StatusConflict, "RoleDefinitionWithSameNameExists"},
		{"two wildcards in one action", customRole("wild", "/subscriptions/"+e.sub, to.Ptr("Microsoft.*/*/read")), http.StatusBadRequest, rbac.CodeInvalidRoleDefinition},
		{"root assignable scope", customRole("rooted", "/", seedRoleActions...), http.StatusBadRequest, rbac.CodeInvalidRoleDefinition},
		{"no permissions", customRole("empty", "/subscriptions/"+e.sub), http.StatusBadRequest, rbac.CodeInvalidRoleDefinition},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := defs.CreateOrUpdate(ctx, subScope, uuid.NewString(), tc.role, nil)
			wantCode(t, err, tc.status, tc.code)
		})
	}
	_, err = defs.CreateOrUpdate(ctx, subScope, rbac.OwnerRoleID, customRole("owner2", "/subscriptions/"+e.sub, seedRoleActions...), nil)
	wantCode(t, err, http.StatusForbidden, "RoleDefinitionIsBuiltIn")

	if _, err := defs.Delete(ctx, subScope, guid, nil); err != nil {
		t.Fatal(err)
	}
	_, err = defs.Get(ctx, subScope, guid, nil)
	wantCode(t, err, http.StatusNotFound, rbac.CodeRoleDefinitionDoesNotExist)
}

func TestSDKRoleAssignmentsLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rgs, _ := armresources.NewResourceGroupsClient(e.sub, e.cred, e.opts)
	if _, err := rgs.CreateOrUpdate(ctx, "team", armresources.ResourceGroup{Location: to.Ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	ras, err := armauthorization.NewRoleAssignmentsClient(e.sub, e.cred, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	reader := e.newPrincipal(t, "reader")
	rgScope := "subscriptions/" + e.sub + "/resourceGroups/team"
	readerRole := "/subscriptions/" + e.sub + "/providers/Microsoft.Authorization/roleDefinitions/" + rbac.ReaderRoleID
	create := func(name, role, principal string) (armauthorization.RoleAssignmentsClientCreateResponse, error) {
		return ras.Create(ctx, rgScope, name, armauthorization.RoleAssignmentCreateParameters{Properties: &armauthorization.RoleAssignmentProperties{
			RoleDefinitionID: to.Ptr(role), PrincipalID: to.Ptr(principal),
			PrincipalType: to.Ptr(armauthorization.PrincipalTypeServicePrincipal)}}, nil)
	}

	// Before the grant the principal cannot read the group.
	asReader, _ := armresources.NewResourceGroupsClient(e.sub, reader.cred, reader.opts)
	_, err = asReader.Get(ctx, "team", nil)
	wantCode(t, err, http.StatusForbidden, "AuthorizationFailed")

	name := uuid.NewString()
	created, err := create(name, readerRole, reader.id)
	if err != nil {
		t.Fatal(err)
	}
	p := created.Properties
	if *created.Name != name || *p.PrincipalType != armauthorization.PrincipalTypeServicePrincipal ||
		!strings.EqualFold(*p.Scope, "/"+rgScope) || !strings.HasSuffix(*p.RoleDefinitionID, rbac.ReaderRoleID) || p.CreatedOn == nil {
		t.Fatalf("created: %+v", p)
	}
	if _, err := asReader.Get(ctx, "team", nil); err != nil {
		t.Fatalf("reader after grant: %v", err)
	}
	if got, err := ras.GetByID(ctx, *created.ID, nil); err != nil || *got.Name != name {
		t.Fatalf("get by id: %+v %v", got, err)
	}

	_, err = create(uuid.NewString(), readerRole, reader.id)
	wantCode(t, err, http.StatusConflict, rbac.CodeRoleAssignmentExists)
	_, err = create(uuid.NewString(), "/providers/Microsoft.Authorization/roleDefinitions/"+uuid.NewString(), reader.id)
	wantCode(t, err, http.StatusBadRequest, rbac.CodeRoleDefinitionDoesNotExist)
	_, err = create("not-a-guid", readerRole, reader.id)
	wantCode(t, err, http.StatusBadRequest, "InvalidRoleAssignmentId")
	_, err = create(name, "/providers/Microsoft.Authorization/roleDefinitions/"+rbac.ContributorRoleID, reader.id)
	wantCode(t, err, http.StatusBadRequest, "RoleAssignmentUpdateNotPermitted")

	count := func(scope, filter string) int {
		n := 0
		pager := ras.NewListForScopePager(scope, &armauthorization.RoleAssignmentsClientListForScopeOptions{Filter: to.Ptr(filter)})
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			n += len(page.Value)
		}
		return n
	}
	subScope := "subscriptions/" + e.sub
	for _, tc := range []struct {
		scope, filter string
		want          int
	}{
		{rgScope, "principalId eq '" + reader.id + "'", 1},
		{rgScope, "atScope()", 2},                                         // the reader's and the administrator's at the root
		{subScope, "atScope()", 1},                                        // only the administrator's
		{subScope, "", 2},                                                 // and below
		{subScope, "assignedTo('" + reader.id + "')", 1},                  // one principal's
		{subScope, "atScope() and principalId eq '" + reader.id + "'", 0}, // the reader's is below
	} {
		if got := count(tc.scope, tc.filter); got != tc.want {
			t.Errorf("list %s %q = %d, want %d", tc.scope, tc.filter, got, tc.want)
		}
	}
	_, err = ras.NewListForScopePager(subScope, &armauthorization.RoleAssignmentsClientListForScopeOptions{Filter: to.Ptr("roleName eq 'x'")}).NextPage(ctx)
	wantCode(t, err, http.StatusBadRequest, "InvalidFilterInQueryString")

	perms, _ := armauthorization.NewPermissionsClient(e.sub, reader.cred, reader.opts)
	page, err := perms.NewListForResourceGroupPager("team", nil).NextPage(ctx)
	if err != nil || len(page.Value) != 1 || *page.Value[0].Actions[0] != "*/read" {
		t.Fatalf("permissions: %+v %v", page.Value, err)
	}

	if _, err := ras.Delete(ctx, rgScope, name, nil); err != nil {
		t.Fatal(err)
	}
	_, err = asReader.Get(ctx, "team", nil)
	wantCode(t, err, http.StatusForbidden, "AuthorizationFailed")
	if r, err := ras.Delete(ctx, rgScope, name, nil); err != nil || r.ID != nil {
		t.Fatalf("second delete: %+v %v", r, err)
	}
}

// The seed's delegation pattern through an ABAC condition instead of
// policy: Role Based Access Control Administrator constrained to Reader.
func TestSDKConditionConstrainsDelegatedWrites(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rgs, _ := armresources.NewResourceGroupsClient(e.sub, e.cred, e.opts)
	if _, err := rgs.CreateOrUpdate(ctx, "team", armresources.ResourceGroup{Location: to.Ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	admin, _ := armauthorization.NewRoleAssignmentsClient(e.sub, e.cred, e.opts)
	delegate := e.newPrincipal(t, "delegate")
	target := e.newPrincipal(t, "workload")
	rgScope := "subscriptions/" + e.sub + "/resourceGroups/team"
	roleID := func(g string) *string {
		return to.Ptr("/subscriptions/" + e.sub + "/providers/Microsoft.Authorization/roleDefinitions/" + g)
	}
	cond := "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {" + rbac.ReaderRoleID + "}))" +
		" AND ((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {" + rbac.ReaderRoleID + "}))"
	if _, err := admin.Create(ctx, rgScope, uuid.NewString(), armauthorization.RoleAssignmentCreateParameters{Properties: &armauthorization.RoleAssignmentProperties{
		RoleDefinitionID: roleID(rbac.RBACAdministratorRoleID), PrincipalID: to.Ptr(delegate.id),
		PrincipalType: to.Ptr(armauthorization.PrincipalTypeServicePrincipal), Condition: to.Ptr(cond)}}, nil); err != nil {
		t.Fatal(err)
	}
	_, err := admin.Create(ctx, rgScope, uuid.NewString(), armauthorization.RoleAssignmentCreateParameters{Properties: &armauthorization.RoleAssignmentProperties{
		RoleDefinitionID: roleID(rbac.ReaderRoleID), PrincipalID: to.Ptr(target.id), Condition: to.Ptr("((broken"), ConditionVersion: to.Ptr("2.0")}}, nil)
	wantCode(t, err, http.StatusBadRequest, rbac.CodeInvalidCondition)

	asDelegate, _ := armauthorization.NewRoleAssignmentsClient(e.sub, delegate.cred, delegate.opts)
	grant := func(role string) error {
		_, err := asDelegate.Create(ctx, rgScope, uuid.NewString(), armauthorization.RoleAssignmentCreateParameters{Properties: &armauthorization.RoleAssignmentProperties{
			RoleDefinitionID: roleID(role), PrincipalID: to.Ptr(target.id), PrincipalType: to.Ptr(armauthorization.PrincipalTypeServicePrincipal)}}, nil)
		return err
	}
	if err := grant(rbac.ReaderRoleID); err != nil {
		t.Fatalf("Reader through the condition: %v", err)
	}
	for _, role := range []string{rbac.ContributorRoleID, rbac.OwnerRoleID} {
		wantCode(t, grant(role), http.StatusForbidden, "AuthorizationFailed")
	}

	// Deletes are constrained by the @Resource attributes of the stored
	// assignment: the delegate may remove Reader grants only.
	contributorGrant := uuid.NewString()
	if _, err := admin.Create(ctx, rgScope, contributorGrant, armauthorization.RoleAssignmentCreateParameters{Properties: &armauthorization.RoleAssignmentProperties{
		RoleDefinitionID: roleID(rbac.ContributorRoleID), PrincipalID: to.Ptr(target.id), PrincipalType: to.Ptr(armauthorization.PrincipalTypeServicePrincipal)}}, nil); err != nil {
		t.Fatal(err)
	}
	_, err = asDelegate.Delete(ctx, rgScope, contributorGrant, nil)
	wantCode(t, err, http.StatusForbidden, "AuthorizationFailed")
	page, err := asDelegate.NewListForScopePager(rgScope, &armauthorization.RoleAssignmentsClientListForScopeOptions{
		Filter: to.Ptr("principalId eq '" + target.id + "'")}).NextPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	deleted := 0
	for _, ra := range page.Value {
		if strings.HasSuffix(*ra.Properties.RoleDefinitionID, rbac.ReaderRoleID) {
			if _, err := asDelegate.DeleteByID(ctx, *ra.ID, nil); err != nil {
				t.Fatalf("delete of the Reader grant: %v", err)
			}
			deleted++
		}
	}
	if deleted != 1 {
		t.Errorf("deleted %d Reader grants, want 1", deleted)
	}
}
