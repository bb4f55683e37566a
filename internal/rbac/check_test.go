package rbac

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/rbac/abac"
)

func TestDenyAssignmentsWin(t *testing.T) {
	e := newTestEngine(t)
	assign(t, e, "o", sub, OwnerRoleID, alice, "")
	assign(t, e, "o2", sub, OwnerRoleID, bob, "")
	deny := DenyAssignment{ID: rg + "/providers/Microsoft.Authorization/denyAssignments/d1", Name: "managed-app-lock", Scope: rg,
		Permissions:       []Permission{{Actions: []string{"*"}, NotActions: []string{"*/read"}}},
		Principals:        []PrincipalRef{{ID: everyone, Type: "SystemDefined"}},
		ExcludePrincipals: []PrincipalRef{{ID: opsTeam, Type: "Group"}}}
	if err := e.AddDenyAssignment(deny); err != nil {
		t.Fatal(err)
	}
	childOnly := deny
	childOnly.Name, childOnly.Scope, childOnly.DoNotApplyToChildScopes = "sub-only", sub, true
	childOnly.ID = sub + "/providers/Microsoft.Authorization/denyAssignments/d2"
	childOnly.Permissions = []Permission{{Actions: []string{"Microsoft.Resources/subscriptions/resourceGroups/delete"}}}
	if err := e.AddDenyAssignment(childOnly); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		req     Request
		want    bool
		denyHit string
	}{
		{"deny beats Owner", Request{PrincipalID: alice, Action: "Microsoft.Compute/virtualMachines/delete", Scope: vm}, false, "managed-app-lock"},
		{"notActions exempt reads from the deny", Request{PrincipalID: alice, Action: "Microsoft.Compute/virtualMachines/read", Scope: vm}, true, ""},
		{"excluded group escapes the deny", Request{PrincipalID: bob, Groups: []string{opsTeam}, Action: "Microsoft.Compute/virtualMachines/delete", Scope: vm}, true, ""},
		{"deny at its own scope", Request{PrincipalID: alice, Action: "Microsoft.Resources/subscriptions/resourceGroups/delete", Scope: sub}, false, "sub-only"},
		{"doNotApplyToChildScopes stops inheritance", Request{PrincipalID: alice, Action: "Microsoft.Resources/subscriptions/resourceGroups/delete", Scope: sub + "/resourceGroups/other"}, true, ""},
	}
	for _, c := range cases {
		d := check(t, e, c.req)
		if d.Allowed != c.want {
			t.Errorf("%s: allowed = %v (%s)", c.name, d.Allowed, d.Reason)
		}
		if c.denyHit != "" && (d.Deny == nil || d.Deny.Name != c.denyHit) {
			t.Errorf("%s: deny = %+v, want %s", c.name, d.Deny, c.denyHit)
		}
	}
	if err := e.AddDenyAssignment(DenyAssignment{Name: "bad", Scope: sub, Permissions: deny.Permissions,
		Principals: []PrincipalRef{{ID: alice}}, ExcludePrincipals: []PrincipalRef{{ID: everyone}}}); err == nil {
		t.Error("excluding all principals was accepted")
	}
}

func TestConditionsOnAssignments(t *testing.T) {
	e := newTestEngine(t)
	// Constrain roles: only Backup Contributor and Backup Reader.
	cond := `((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {5e467623-bb1f-42f4-a55d-6e525e11384b, a795c7a0-d4a2-40c1-ae25-d81f01202912})) AND ((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {5e467623-bb1f-42f4-a55d-6e525e11384b, a795c7a0-d4a2-40c1-ae25-d81f01202912}))`
	assign(t, e, "rbac", rg, RBACAdministratorRoleID, alice, cond)
	req := func(role string) Request {
		a := Attributes{}
		a.Set(abac.Request, "Microsoft.Authorization/roleAssignments:RoleDefinitionId", role)
		return Request{PrincipalID: alice, Action: "Microsoft.Authorization/roleAssignments/write", Scope: rg, Attributes: a}
	}
	if d := check(t, e, req("a795c7a0-d4a2-40c1-ae25-d81f01202912")); !d.Allowed {
		t.Errorf("Backup Reader refused: %s", d.Reason)
	}
	d := check(t, e, req(OwnerRoleID))
	if d.Allowed || len(d.FailedConditions) != 1 || d.FailedConditions[0].On != "roleAssignment" {
		t.Errorf("Owner through constrained RBAC admin: %+v", d)
	}
	// The condition does not restrict other actions of the role.
	if d := check(t, e, Request{PrincipalID: alice, Action: "Microsoft.Compute/virtualMachines/read", Scope: vm}); !d.Allowed {
		t.Errorf("read refused: %s", d.Reason)
	}
}

func TestRoleDefinitionConditionOfKeyVaultDataAccessAdmin(t *testing.T) {
	e := newTestEngine(t)
	assign(t, e, "kv", rg, "8b54135c-b56d-4d72-a534-26097cfdc8d8", alice, "")
	try := func(role string) Decision {
		a := Attributes{}
		a.Set(abac.Request, "Microsoft.Authorization/roleAssignments:RoleDefinitionId", role)
		return check(t, e, Request{PrincipalID: alice, Action: "Microsoft.Authorization/roleAssignments/write", Scope: rg, Attributes: a})
	}
	if d := try("4633458b-17de-408a-b874-0445c86b69e6"); !d.Allowed {
		t.Errorf("Key Vault Secrets User refused: %s", d.Reason)
	}
	if d := try(OwnerRoleID); d.Allowed || len(d.FailedConditions) == 0 || d.FailedConditions[0].On != "roleDefinition" {
		t.Errorf("Owner allowed through Key Vault Data Access Administrator: %+v", d)
	}
}

func TestEnvironmentUtcNowUsesInjectedClock(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	e := newTestEngine(t, WithClock(func() time.Time { return now }))
	assign(t, e, "r", rg, ReaderRoleID, alice, `@Environment[UtcNow] DateTimeLessThan '2026-12-01T00:00:00.0000000Z'`)
	if d := check(t, e, Request{PrincipalID: alice, Action: "Microsoft.Compute/virtualMachines/read", Scope: rg}); !d.Allowed {
		t.Errorf("before expiry: %s", d.Reason)
	}
	now = now.AddDate(0, 1, 0)
	if d := check(t, e, Request{PrincipalID: alice, Action: "Microsoft.Compute/virtualMachines/read", Scope: rg}); d.Allowed {
		t.Errorf("after expiry: %s", d.Reason)
	}
}

// TestChecksRunConcurrentlyWithUpdates is meant for -race: checks, adds
// and removals interleave on one engine.
func TestChecksRunConcurrentlyWithUpdates(t *testing.T) {
	e := newTestEngine(t)
	assign(t, e, "base", sub, ReaderRoleID, alice, "")
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if w == 0 {
					id := fmt.Sprintf("%s/providers/Microsoft.Authorization/roleAssignments/c%d", rg, i)
					if err := e.AddRoleAssignment(RoleAssignment{ID: id, RoleDefinitionID: ContributorRoleID, PrincipalID: fmt.Sprintf("%08d-0000-0000-0000-000000000000", i)}); err != nil {
						t.Error(err)
						return
					}
					if err := e.RemoveRoleAssignment(id); err != nil {
						t.Error(err)
						return
					}
					continue
				}
				d, err := e.Check(context.Background(), Request{PrincipalID: alice, Action: "Microsoft.Compute/virtualMachines/read", Scope: vm})
				if err != nil || !d.Allowed {
					t.Errorf("concurrent check: %+v %v", d, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	if e.Len() != 1 {
		t.Errorf("%d assignments left, want 1", e.Len())
	}
}
