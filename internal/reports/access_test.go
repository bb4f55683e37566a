package reports

import (
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
)

// builtInRoles reads the built-in role definitions Steward serves.
func builtInRoles(t testing.TB) []RoleDefinition {
	t.Helper()
	b, err := os.ReadFile("../rbac/builtin_roles.json")
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	if err := json.Unmarshal(b, &docs); err != nil {
		t.Fatal(err)
	}
	out := make([]RoleDefinition, 0, len(docs))
	for _, d := range docs {
		out = append(out, RoleFromDoc(d))
	}
	return out
}

func roleID(t testing.TB, roles []RoleDefinition, name string) string {
	for _, r := range roles {
		if r.Name == name {
			return r.ID
		}
	}
	t.Fatalf("no built-in role %q", name)
	return ""
}

func TestAccessFindsUnusedAndOverPrivilegedAssignments(t *testing.T) {
	roles := builtInRoles(t)
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	sub := "/subscriptions/00000000-0000-0000-0000-0000000000aa"
	rg := func(n string) string { return sub + "/resourceGroups/" + n }
	vault := rg("sec") + "/providers/Microsoft.KeyVault/vaults/kv1"
	assign := func(id, scope, principal, role string) RoleAssignment {
		return RoleAssignment{ID: scope + "/providers/Microsoft.Authorization/roleAssignments/" + id, Scope: scope,
			PrincipalID: principal, PrincipalType: "User", RoleDefinitionID: sub + "/providers/Microsoft.Authorization/roleDefinitions/" + roleKey(roleID(t, roles, role))}
	}
	assignments := []RoleAssignment{
		assign("a1", sub, "alice", "Owner"),
		assign("a2", rg("two"), "bob", "Reader"),
		assign("a3", vault, "app1", "Key Vault Secrets User"),
		assign("a4", rg("three"), "carol", "Contributor"),
		assign("a5", sub, "dave", "Contributor"),
		assign("a6", sub, "dave", "Reader"),
		{ID: sub + "/providers/Microsoft.Authorization/roleAssignments/a7", Scope: sub, PrincipalID: "erin", RoleDefinitionID: sub + "/providers/Microsoft.Authorization/roleDefinitions/custom-gone"},
	}
	day := 24 * time.Hour
	ops := []Operation{
		{PrincipalID: "alice", Action: "Microsoft.Resources/subscriptions/resourceGroups/write", Scope: rg("one"), Time: now.Add(-3 * day)},
		{PrincipalID: "ALICE", Action: "Microsoft.Resources/subscriptions/resourceGroups/write", Scope: rg("four"), Time: now.Add(-5 * day)},
		{PrincipalID: "app1", Action: "Microsoft.KeyVault/vaults/secrets/getSecret/action", Scope: vault + "/secrets/db", Time: now.Add(-day), Data: true},
		// Outside the window, and outside bob's scope.
		{PrincipalID: "carol", Action: "Microsoft.Resources/subscriptions/resourceGroups/write", Scope: rg("three"), Time: now.Add(-120 * day)},
		{PrincipalID: "bob", Action: "Microsoft.Storage/storageAccounts/read", Scope: rg("one") + "/providers/Microsoft.Storage/storageAccounts/s", Time: now.Add(-day)},
		{PrincipalID: "dave", Action: "Microsoft.Storage/storageAccounts/write", Scope: rg("one") + "/providers/Microsoft.Storage/storageAccounts/s", Time: now.Add(-day)},
		{PrincipalID: "dave", Action: "Microsoft.Storage/storageAccounts/read", Scope: rg("one") + "/providers/Microsoft.Storage/storageAccounts/s", Time: now.Add(-day)},
	}
	got := Access(assignments, roles, ops, AccessOptions{Now: now, Window: 90 * day})
	var lines []string
	byID := map[string]Finding{}
	for _, f := range got {
		id := f.ResourceID[strings.LastIndexByte(f.ResourceID, '/')+1:]
		byID[id] = f
		line := id + " " + f.Kind + " " + f.Severity
		if s, ok := f.Details["suggestedRole"]; ok {
			line += " -> " + s.(string)
		}
		lines = append(lines, line)
	}
	sort.Strings(lines)
	want := []string{
		"a1 OverPrivilegedRoleAssignment low -> Managed Application Contributor Role",
		"a2 UnusedRoleAssignment low",
		"a4 UnusedRoleAssignment medium",
		"a7 UnknownRole low",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if b := byID["a1"].Details["breaksIfRemoved"].([]string); len(b) != 1 || b[0] != "Microsoft.Resources/subscriptions/resourceGroups/write" {
		t.Errorf("a1 what-if: %v", b)
	}
	// dave's Contributor is used and no narrower built-in role covers a
	// storage account write; removing it would break the write only (his
	// Reader assignment still covers the read).
	other := Access(assignments[4:5], roles, ops, AccessOptions{Now: now, Window: 90 * day})
	if len(other) != 0 {
		t.Errorf("dave's Contributor: %v", other)
	}
	breaks := whatBreaks(&assignments[4], []*Operation{&ops[5], &ops[6]}, []*RoleAssignment{&assignments[4], &assignments[5]},
		map[string]*RoleDefinition{roleKey(assignments[5].RoleDefinitionID): &roles[2]}, newMatcher(roles))
	if len(breaks) != 1 || breaks[0] != "Microsoft.Storage/storageAccounts/write" {
		t.Errorf("removing dave's Contributor breaks %v, want the storage write only", breaks)
	}
}

func TestWildcard(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"*", "microsoft.storage/storageaccounts/read", true},
		{"*/read", "microsoft.storage/storageaccounts/read", true},
		{"*/read", "microsoft.storage/storageaccounts/write", false},
		{"microsoft.authorization/*/read", "microsoft.authorization/roleassignments/read", true},
		{"microsoft.keyvault/vaults/*/read", "microsoft.keyvault/vaults/secrets/read", true},
		{"microsoft.keyvault/vaults/*/read", "microsoft.keyvault/vaults/secrets/getsecret/action", false},
		{"microsoft.solutions/*/action", "microsoft.solutions/applications/refresh/action", true},
		{"microsoft.resources/subscriptions/resourcegroups/*", "microsoft.resources/subscriptions/resourcegroups/write", true},
		{"microsoft.resources/subscriptions/resourcegroups/read", "microsoft.resources/subscriptions/resourcegroups/write", false},
	} {
		if got := wildcard(c.p, c.s); got != c.want {
			t.Errorf("wildcard(%q, %q) = %v", c.p, c.s, got)
		}
	}
}
