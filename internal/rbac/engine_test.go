package rbac

import (
	"context"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/rbac/abac"
)

const (
	sub     = "/subscriptions/00000000-0000-0000-0000-0000000000aa"
	rg      = sub + "/resourceGroups/app-rg"
	vm      = rg + "/providers/Microsoft.Compute/virtualMachines/vm1"
	alice   = "a11ce000-0000-0000-0000-000000000001"
	bob     = "b0b00000-0000-0000-0000-000000000002"
	devTeam = "de000000-0000-0000-0000-0000000000d1"
	opsTeam = "0b500000-0000-0000-0000-0000000000d2"
)

func newTestEngine(t *testing.T, opts ...Option) *Engine {
	t.Helper()
	c, err := BuiltInCatalog()
	if err != nil {
		t.Fatal(err)
	}
	return NewEngine(c, opts...)
}

func assign(t *testing.T, e *Engine, name, scope, role, principal, cond string) {
	t.Helper()
	ra := RoleAssignment{ID: scope + "/providers/Microsoft.Authorization/roleAssignments/" + name, Name: name,
		Scope: scope, RoleDefinitionID: role, PrincipalID: principal, PrincipalType: PrincipalUser, Condition: cond}
	if cond != "" {
		ra.ConditionVersion = "2.0"
	}
	if err := e.AddRoleAssignment(ra); err != nil {
		t.Fatal(err)
	}
}

func check(t *testing.T, e *Engine, req Request) Decision {
	t.Helper()
	d, err := e.Check(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestActionMatching(t *testing.T) {
	cases := []struct {
		pattern, action string
		want            bool
	}{
		{"*", "Microsoft.Compute/virtualMachines/write", true},
		{"*/read", "Microsoft.Network/virtualNetworks/subnets/read", true},
		{"*/read", "Microsoft.Network/virtualNetworks/write", false},
		{"Microsoft.Network/*/read", "Microsoft.Network/virtualNetworks/subnets/read", true},
		{"Microsoft.Compute/*", "Microsoft.Compute/virtualMachines/start/action", true},
		{"Microsoft.Compute/*", "Microsoft.ComputeSchedule/things/read", false},
		{"Microsoft.Compute/virtualMachines/*", "Microsoft.Compute/virtualMachines/extensions/write", true},
		{"microsoft.web/sites/restart/Action", "Microsoft.Web/sites/restart/action", true},
		{"Microsoft.Authorization/*/Write", "Microsoft.Authorization/roleAssignments/write", true},
		{"Microsoft.Authorization/*/Write", "Microsoft.Authorization/roleAssignments/read", false},
		{"Microsoft.Storage/*/blobs/read", "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read", true},
		{"Microsoft.Storage/storageAccounts/read", "Microsoft.Storage/storageAccounts/read/extra", false},
	}
	for _, c := range cases {
		if got := abac.MatchAction(c.pattern, c.action); got != c.want {
			t.Errorf("MatchAction(%q, %q) = %v, want %v", c.pattern, c.action, got, c.want)
		}
	}
}

func TestControlPlaneDoesNotGrantData(t *testing.T) {
	e := newTestEngine(t)
	assign(t, e, "1", sub, OwnerRoleID, alice, "")
	assign(t, e, "2", sub, "ba92f5b4-2d11-453d-a403-e96b0029c9fe", bob, "") // Storage Blob Data Contributor
	blobRead := Request{Action: "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read", DataAction: true, Scope: rg}
	blobRead.PrincipalID = alice
	if d := check(t, e, blobRead); d.Allowed {
		t.Errorf("Owner reads blobs through the data plane: %s", d.Reason)
	}
	blobRead.PrincipalID = bob
	if d := check(t, e, blobRead); !d.Allowed {
		t.Errorf("Storage Blob Data Contributor cannot read blobs: %s", d.Reason)
	}
}

func TestScopeInheritance(t *testing.T) {
	h := NewStaticHierarchy(map[string]string{"00000000-0000-0000-0000-0000000000AA": "corp"},
		map[string]string{"corp": "root-mg"})
	e := newTestEngine(t, WithHierarchy(h))
	assign(t, e, "1", "/providers/Microsoft.Management/managementGroups/root-mg", ReaderRoleID, alice, "")
	assign(t, e, "2", rg, ContributorRoleID, bob, "")
	cases := []struct {
		name      string
		principal string
		action    string
		scope     string
		want      bool
	}{
		{"MG assignment reaches a VM two groups down", alice, "Microsoft.Compute/virtualMachines/read", vm, true},
		{"MG assignment reaches the child MG", alice, "Microsoft.Compute/virtualMachines/read", "/providers/Microsoft.Management/managementGroups/corp", true},
		{"MG assignment does not reach a subscription outside it", alice, "Microsoft.Compute/virtualMachines/read", "/subscriptions/00000000-0000-0000-0000-0000000000bb", false},
		{"RG assignment reaches its resources", bob, "Microsoft.Compute/virtualMachines/write", vm, true},
		{"resource-group segment is case-insensitive", bob, "Microsoft.Compute/virtualMachines/write", strings.ToUpper(sub) + "/resourcegroups/APP-RG/providers/microsoft.compute/virtualmachines/VM1", true},
		{"RG assignment does not reach the subscription", bob, "Microsoft.Compute/virtualMachines/write", sub, false},
		{"prefix without a segment boundary is not an ancestor", bob, "Microsoft.Compute/virtualMachines/write", sub + "/resourceGroups/app-rg2", false},
	}
	for _, c := range cases {
		d := check(t, e, Request{PrincipalID: c.principal, Action: c.action, Scope: c.scope})
		if d.Allowed != c.want {
			t.Errorf("%s: allowed = %v (%s)", c.name, d.Allowed, d.Reason)
		}
	}
}

func TestNotActionsSubtractOnlyWithinTheirRole(t *testing.T) {
	e := newTestEngine(t)
	assign(t, e, "c", rg, ContributorRoleID, alice, "")
	write := Request{PrincipalID: alice, Action: "Microsoft.Authorization/roleAssignments/write", Scope: rg}
	if d := check(t, e, write); d.Allowed {
		t.Fatalf("Contributor alone writes role assignments: %s", d.Reason)
	}
	assign(t, e, "u", sub, UserAccessAdministratorRoleID, devTeam, "")
	write.Groups = []string{devTeam}
	d := check(t, e, write)
	if !d.Allowed || d.Grant.RoleName != "User Access Administrator" || d.Grant.Permission != "Microsoft.Authorization/*" {
		t.Fatalf("Contributor + UAA through a group: %+v", d)
	}
}

func TestAssignmentValidation(t *testing.T) {
	e := newTestEngine(t)
	custom := &RoleDefinition{Name: "11111111-1111-1111-1111-111111111111", RoleName: "rg-only", Type: CustomRole,
		AssignableScopes: []string{rg}, Permissions: []Permission{{Actions: []string{"*/read"}}}}
	if err := e.Catalog().Add(custom); err != nil {
		t.Fatal(err)
	}
	bad := []RoleAssignment{
		{Scope: "not-a-scope", RoleDefinitionID: ReaderRoleID, PrincipalID: alice},
		{Scope: rg, RoleDefinitionID: "99999999-9999-9999-9999-999999999999", PrincipalID: alice},
		{Scope: rg, RoleDefinitionID: ReaderRoleID},
		{Scope: sub, RoleDefinitionID: custom.Name, PrincipalID: alice},
		{Scope: rg, RoleDefinitionID: ReaderRoleID, PrincipalID: alice, Condition: "@Request[x] StringEquals", ConditionVersion: "2.0"},
		{Scope: rg, RoleDefinitionID: ReaderRoleID, PrincipalID: alice, Condition: "Exists @Request[x]", ConditionVersion: "1.0"},
	}
	for i, ra := range bad {
		if err := e.AddRoleAssignment(ra); err == nil {
			t.Errorf("case %d accepted: %+v", i, ra)
		}
	}
	if err := e.AddRoleAssignment(RoleAssignment{Scope: vm, RoleDefinitionID: custom.Name, PrincipalID: alice}); err != nil {
		t.Errorf("custom role below its assignable scope: %v", err)
	}
}

func TestCustomRoleLimits(t *testing.T) {
	base := func() *RoleDefinition {
		return &RoleDefinition{Name: "22222222-2222-2222-2222-222222222222", RoleName: "custom", Type: CustomRole,
			AssignableScopes: []string{sub}, Permissions: []Permission{{Actions: []string{"Microsoft.Compute/*/read"}}}}
	}
	cases := map[string]func(*RoleDefinition){
		"two wildcards":  func(r *RoleDefinition) { r.Permissions[0].Actions = []string{"Microsoft.*/*/read"} },
		"wildcard scope": func(r *RoleDefinition) { r.AssignableScopes = []string{"/subscriptions/*"} },
		"root scope":     func(r *RoleDefinition) { r.AssignableScopes = []string{"/"} },
		"no scopes":      func(r *RoleDefinition) { r.AssignableScopes = nil },
		"no name":        func(r *RoleDefinition) { r.RoleName = "" },
		"no permissions": func(r *RoleDefinition) { r.Permissions = nil },
		"two management groups": func(r *RoleDefinition) {
			r.AssignableScopes = []string{"/providers/Microsoft.Management/managementGroups/a", "/providers/Microsoft.Management/managementGroups/b"}
		},
		"data actions at an MG": func(r *RoleDefinition) {
			r.AssignableScopes = []string{"/providers/Microsoft.Management/managementGroups/a"}
			r.Permissions[0].DataActions = []string{"Microsoft.Storage/*"}
		},
		"bad condition": func(r *RoleDefinition) {
			r.Permissions[0].Condition, r.Permissions[0].ConditionVersion = "@Request[x] StringEquals 1", "2.0"
		},
	}
	if err := NewCatalog().Add(base()); err != nil {
		t.Fatalf("valid custom role rejected: %v", err)
	}
	for name, mutate := range cases {
		r := base()
		mutate(r)
		if err := NewCatalog().Add(r); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCheckRejectsMalformedRequests(t *testing.T) {
	e := newTestEngine(t)
	for _, req := range []Request{
		{PrincipalID: alice, Action: "x/read", Scope: "subscriptions/no-slash"},
		{PrincipalID: alice, Scope: rg},
		{Action: "x/read", Scope: rg},
	} {
		if _, err := e.Check(context.Background(), req); err == nil {
			t.Errorf("%+v accepted", req)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Check(ctx, Request{PrincipalID: alice, Action: "x/read", Scope: rg}); err == nil {
		t.Error("cancelled context accepted")
	}
}

func TestPrincipalKeysNormaliseGUIDSpellings(t *testing.T) {
	for _, in := range []string{alice, strings.ToUpper(alice), "{" + alice + "}", strings.ReplaceAll(alice, "-", "")} {
		if got := principalKey(in); got != alice {
			t.Errorf("principalKey(%q) = %q, want %q", in, got, alice)
		}
	}
	if got := principalKey(" Not-A-Guid "); got != "not-a-guid" {
		t.Errorf("non-GUID principal key %q", got)
	}
}

func TestAssignmentErrorsCarryARMCodes(t *testing.T) {
	e := newTestEngine(t)
	assign(t, e, "first", rg, ReaderRoleID, alice, "")
	cases := []struct {
		ra     RoleAssignment
		code   string
		status int
	}{
		{RoleAssignment{ID: rg + "/providers/Microsoft.Authorization/roleAssignments/second", Scope: rg, RoleDefinitionID: ReaderRoleID, PrincipalID: strings.ToUpper(alice)}, CodeRoleAssignmentExists, 409},
		{RoleAssignment{Scope: rg, RoleDefinitionID: "99999999-9999-9999-9999-999999999999", PrincipalID: alice}, CodeRoleDefinitionDoesNotExist, 400},
		{RoleAssignment{Scope: rg, RoleDefinitionID: ReaderRoleID, PrincipalID: bob, PrincipalType: "Robot"}, CodeInvalidRoleAssignment, 400},
		{RoleAssignment{Scope: rg, RoleDefinitionID: ReaderRoleID, PrincipalID: bob, Condition: "nope", ConditionVersion: "2.0"}, CodeInvalidCondition, 400},
	}
	for _, c := range cases {
		err := e.AddRoleAssignment(c.ra)
		ae := arm.AsError(err)
		if err == nil || ae.Code != c.code || ae.Status != c.status {
			t.Errorf("%+v: got %v (status %d), want %s/%d", c.ra, err, ae.Status, c.code, c.status)
		}
	}
}

func TestReplaceAndRemoveAssignments(t *testing.T) {
	e := newTestEngine(t)
	assign(t, e, "x", rg, ReaderRoleID, alice, "")
	id := rg + "/providers/Microsoft.Authorization/roleAssignments/x"
	// Re-putting the same ID is an update, not a conflict.
	if err := e.AddRoleAssignment(RoleAssignment{ID: id, RoleDefinitionID: ContributorRoleID, PrincipalID: alice}); err != nil {
		t.Fatal(err)
	}
	if e.Len() != 1 {
		t.Fatalf("%d assignments after update, want 1", e.Len())
	}
	write := Request{PrincipalID: alice, Action: "Microsoft.Compute/virtualMachines/write", Scope: vm}
	if d := check(t, e, write); !d.Allowed || d.Grant.RoleName != "Contributor" {
		t.Fatalf("after update: %+v", d)
	}
	if err := e.RemoveRoleAssignment(strings.ToUpper(id)); err != nil {
		t.Fatal(err)
	}
	if d := check(t, e, write); d.Allowed {
		t.Fatalf("after removal: %s", d.Reason)
	}
	if err := e.RemoveRoleAssignment(id); arm.AsError(err).Code != CodeRoleAssignmentNotFound {
		t.Errorf("second removal: %v", err)
	}
}
