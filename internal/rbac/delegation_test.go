package rbac

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
)

func TestDelegationHonoursConditionsPerTarget(t *testing.T) {
	e := newTestEngine(t)
	// Constrain roles and principals: Backup roles, to two groups only.
	cond := `((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {5e467623-bb1f-42f4-a55d-6e525e11384b, a795c7a0-d4a2-40c1-ae25-d81f01202912} AND @Request[Microsoft.Authorization/roleAssignments:PrincipalId] ForAnyOfAnyValues:GuidEquals {28c35fea-2099-4cf5-8ad9-473547bc9423, 86951b8b-723a-407b-a74a-1bca3f0c95d0}))`
	assign(t, e, "d", rg, RBACAdministratorRoleID, alice, cond)
	rep, err := e.Analyze(context.Background(), DelegationRequest{PrincipalID: alice, Scope: rg,
		Targets: []string{"28c35fea-2099-4cf5-8ad9-473547bc9423"}, PrincipalTypes: []string{PrincipalGroup}})
	if err != nil {
		t.Fatal(err)
	}
	var allowed []string
	for _, c := range rep.Cells {
		if c.Allowed {
			allowed = append(allowed, c.RoleName+" -> "+c.TargetKind)
		} else if c.RefusedBy != "condition" {
			t.Errorf("%s to %s refused by %s (%s), want condition", c.RoleName, c.TargetKind, c.RefusedBy, c.Reason)
		}
	}
	sort.Strings(allowed)
	if got, want := strings.Join(allowed, ", "), "Backup Contributor -> listed, Backup Reader -> listed"; got != want {
		t.Errorf("allowed %s, want %s", got, want)
	}
	if len(rep.Escalations) != 0 {
		t.Errorf("escalations %+v, want none", rep.Escalations)
	}
}

func TestDelegationFlagsSelfGrantThroughGroup(t *testing.T) {
	e := newTestEngine(t)
	assign(t, e, "u", sub, UserAccessAdministratorRoleID, devTeam, "")
	rep, err := e.Analyze(context.Background(), DelegationRequest{PrincipalID: alice, Groups: []string{devTeam}, Scope: rg,
		Roles: []string{"Owner", "reader"}, Targets: []string{devTeam}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Cells) != 2*3*3 {
		t.Fatalf("%d cells, want 18", len(rep.Cells))
	}
	kinds := map[string]bool{}
	for _, x := range rep.Escalations {
		if x.RoleName != "Owner" || x.Kind != "owner-equivalent" {
			t.Errorf("unexpected escalation %+v", x)
		}
		kinds[x.TargetKind] = true
	}
	for _, k := range []string{TargetAny, TargetSelf, TargetGroup} {
		if !kinds[k] {
			t.Errorf("no escalation to %s", k)
		}
	}
}

func TestDelegationRefusesRolesNotAssignableAtScope(t *testing.T) {
	e := newTestEngine(t)
	assign(t, e, "o", sub, OwnerRoleID, alice, "")
	custom := &RoleDefinition{Name: "33333333-3333-3333-3333-333333333333", RoleName: "other-sub-role", Type: CustomRole,
		AssignableScopes: []string{"/subscriptions/00000000-0000-0000-0000-0000000000cc"}, Permissions: []Permission{{Actions: []string{"*/read"}}}}
	if err := e.Catalog().Add(custom); err != nil {
		t.Fatal(err)
	}
	rep, err := e.Analyze(context.Background(), DelegationRequest{PrincipalID: alice, Scope: rg, Roles: []string{custom.Name}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Cells {
		if c.Allowed || c.RefusedBy != "assignableScopes" {
			t.Errorf("%+v", c)
		}
	}
}

func TestDelegationPropagatesPolicyErrors(t *testing.T) {
	e := newTestEngine(t)
	assign(t, e, "o", sub, OwnerRoleID, alice, "")
	boom := RoleAssignmentPolicyFunc(func(context.Context, string, map[string]any) (bool, string, error) {
		return false, "", errors.New("policy store unavailable")
	})
	if _, err := e.Analyze(context.Background(), DelegationRequest{PrincipalID: alice, Scope: rg, Roles: []string{"Reader"}, Policy: boom}); err == nil {
		t.Error("policy error swallowed")
	}
	if _, err := e.Analyze(context.Background(), DelegationRequest{PrincipalID: alice, Scope: rg, Roles: []string{"No Such Role"}}); err == nil {
		t.Error("unknown role accepted")
	}
}

func TestRoleAssignmentDocumentShape(t *testing.T) {
	doc := RoleAssignmentDocument(rg, strings.ToUpper(OwnerRoleID), alice, PrincipalUser)
	props := doc["properties"].(map[string]any)
	if doc["type"] != "Microsoft.Authorization/roleAssignments" ||
		props["roleDefinitionId"] != sub+"/providers/Microsoft.Authorization/roleDefinitions/"+OwnerRoleID ||
		props["principalId"] != alice || props["principalType"] != PrincipalUser ||
		doc["id"] != rg+"/providers/Microsoft.Authorization/roleAssignments/"+doc["name"].(string) {
		t.Errorf("document %+v", doc)
	}
	again := RoleAssignmentDocument(rg, OwnerRoleID, alice, PrincipalUser)
	if again["name"] != doc["name"] {
		t.Error("name is not deterministic")
	}
	if _, ok := canonicalGUID(doc["name"].(string)); !ok {
		t.Errorf("name %v is not a GUID", doc["name"])
	}
	mg := RoleAssignmentDocument("/providers/Microsoft.Management/managementGroups/corp", OwnerRoleID, alice, PrincipalUser)
	if got := mg["properties"].(map[string]any)["roleDefinitionId"]; got != "/providers/Microsoft.Authorization/roleDefinitions/"+OwnerRoleID {
		t.Errorf("MG-scope roleDefinitionId %v", got)
	}
}
