package rbac_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/rbac"
)

// Seed 004: a DevOps team gets Contributor and a custom "roleassignments"
// role on its resource group, and three Azure policies keep what it can
// grant in bounds.
const (
	seedSub       = "/subscriptions/5eed0004-0000-0000-0000-000000000001"
	seedRG        = seedSub + "/resourceGroups/team-rg"
	seedUser      = "5eed0004-0000-0000-0000-00000000a001"
	seedTeam      = "5eed0004-0000-0000-0000-00000000600d" // the team's Entra group
	seedOther     = "5eed0004-0000-0000-0000-0000000000fe" // some other group
	seedCustomID  = "5eed0004-1111-4111-8111-000000000001"
	storageReader = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
	secretsUser   = "4633458b-17de-408a-b874-0445c86b69e6"
)

// seedCustomRole is the seed's custom role, verbatim from the seed, with
// its placeholders filled in.
func seedCustomRole(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("testdata/seed004/custom-role.json")
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer("<subscriptionId>", strings.TrimPrefix(seedSub, "/subscriptions/"),
		"<roleDefinitionId>", seedCustomID).Replace(string(data))
}

// seedEngine builds the team's situation: built-in roles plus the custom
// role, Contributor and roleassignments assigned to the team group.
func seedEngine(t *testing.T) *rbac.Engine {
	t.Helper()
	c, err := rbac.BuiltInCatalog()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Import(strings.NewReader(seedCustomRole(t))); err != nil {
		t.Fatal(err)
	}
	e := rbac.NewEngine(c)
	for i, role := range []string{rbac.ContributorRoleID, seedCustomID} {
		ra := rbac.RoleAssignment{ID: fmt.Sprintf("%s/providers/Microsoft.Authorization/roleAssignments/5eed0004-2222-4222-8222-00000000000%d", seedRG, i),
			Scope: seedRG, RoleDefinitionID: role, PrincipalID: seedTeam, PrincipalType: rbac.PrincipalGroup}
		if err := e.AddRoleAssignment(ra); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func seedAnalyze(t *testing.T, e *rbac.Engine, p rbac.RoleAssignmentPolicy) *rbac.DelegationReport {
	t.Helper()
	rep, err := e.Analyze(context.Background(), rbac.DelegationRequest{PrincipalID: seedUser, Groups: []string{seedTeam},
		Scope: seedRG, Targets: []string{seedTeam, seedOther}, Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// allowedPairs lists "role -> target kind" for allowed cells of one
// principal type.
func allowedPairs(rep *rbac.DelegationReport, ptype string) []string {
	var out []string
	for _, c := range rep.Cells {
		if c.Allowed && c.PrincipalType == ptype {
			out = append(out, c.RoleName+" -> "+c.TargetKind)
		}
	}
	sort.Strings(out)
	return out
}

func hasEscalation(rep *rbac.DelegationReport, role, kind, target string) bool {
	for _, e := range rep.Escalations {
		if e.RoleName == role && e.Kind == kind && e.TargetKind == target {
			return true
		}
	}
	return false
}

func TestSeed004WithoutGuardrailsTeamCanGrantOwner(t *testing.T) {
	rep := seedAnalyze(t, seedEngine(t), nil)
	for _, c := range rep.Cells {
		if !c.Allowed {
			t.Errorf("without guardrails %s to %s %s refused: %s", c.RoleName, c.PrincipalType, c.TargetKind, c.Reason)
		}
	}
	if !hasEscalation(rep, "Owner", "owner-equivalent", rbac.TargetSelf) || !hasEscalation(rep, "Owner", "owner-equivalent", rbac.TargetAny) {
		t.Errorf("Owner to self/any not flagged: %+v", rep.Escalations)
	}
	if !hasEscalation(rep, "User Access Administrator", "authorization-write", rbac.TargetAny) {
		t.Errorf("User Access Administrator to anyone not flagged")
	}
	if hasEscalation(rep, "Reader", "authorization-write", rbac.TargetAny) {
		t.Errorf("Reader flagged as an escalation")
	}
}

// seedPolicies stands in for the seed's three policy definitions, written
// in Go over the same role-assignment document the policy engine sees. The
// test with the real policy engine is seed004_policy_test.go.
type seedPolicies struct {
	denyOwnerUAA  bool
	onlyToGroups  map[string][]string // role GUID -> allowed principal IDs
	allowedRoleIn []string
}

func roleGUIDOf(doc map[string]any) string {
	id := doc["properties"].(map[string]any)["roleDefinitionId"].(string)
	parts := strings.SplitN(id, "roleDefinitions/", 2)
	if len(parts) < 2 {
		return ""
	}
	return parts[1]
}

func (p seedPolicies) EvaluateRoleAssignment(_ context.Context, _ string, doc map[string]any) (bool, string, error) {
	if doc["type"] != "Microsoft.Authorization/roleAssignments" {
		return false, "", nil
	}
	role := roleGUIDOf(doc)
	principal := doc["properties"].(map[string]any)["principalId"].(string)
	if p.denyOwnerUAA && (role == rbac.OwnerRoleID || role == rbac.UserAccessAdministratorRoleID) {
		return true, "deny-owner-useraccessadmin-roleassignment", nil
	}
	for r, groups := range p.onlyToGroups {
		if strings.Contains(doc["properties"].(map[string]any)["roleDefinitionId"].(string), r) && !contains(groups, principal) {
			return true, "ensure-role-assignments", nil
		}
	}
	if p.allowedRoleIn != nil && !contains(p.allowedRoleIn, role) {
		return true, "allowed-role-definitions", nil
	}
	return false, "", nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// seedAllowList is the third policy's parameter: the roles of the second
// policy plus the roles agreed with the team.
var seedAllowList = []string{rbac.ContributorRoleID, seedCustomID, rbac.ReaderRoleID, storageReader, secretsUser}

// wantGuardedPairs is the allowed set with all three policies, per
// principal type: the agreed roles to anyone; Contributor and the custom
// role only to the team's own group.
func wantGuardedPairs() []string {
	var out []string
	for _, role := range []string{"Reader", "Storage Blob Data Reader", "Key Vault Secrets User"} {
		for _, k := range []string{rbac.TargetAny, rbac.TargetSelf, rbac.TargetGroup, rbac.TargetListed} {
			out = append(out, role+" -> "+k)
		}
	}
	out = append(out, "Contributor -> "+rbac.TargetGroup, "roleassignments -> "+rbac.TargetGroup)
	sort.Strings(out)
	return out
}

func checkGuarded(t *testing.T, rep *rbac.DelegationReport) {
	t.Helper()
	want := strings.Join(wantGuardedPairs(), "\n")
	for _, pt := range []string{rbac.PrincipalUser, rbac.PrincipalGroup, rbac.PrincipalServicePrincipal} {
		if got := strings.Join(allowedPairs(rep, pt), "\n"); got != want {
			t.Errorf("%s: allowed grants\n%s\nwant\n%s", pt, got, want)
		}
	}
	for _, c := range rep.Cells {
		if !c.Allowed && c.RefusedBy != "policy" {
			t.Errorf("%s refused by %s, want policy", c.RoleName, c.RefusedBy)
		}
	}
	if hasEscalation(rep, "Owner", "owner-equivalent", rbac.TargetSelf) {
		t.Error("Owner still grantable with the guardrails")
	}
}

func TestSeed004WithThreePoliciesOnlyTheAgreedGrantsRemain(t *testing.T) {
	p := seedPolicies{denyOwnerUAA: true,
		onlyToGroups:  map[string][]string{rbac.ContributorRoleID: {seedTeam}, seedCustomID: {seedTeam}},
		allowedRoleIn: seedAllowList}
	checkGuarded(t, seedAnalyze(t, seedEngine(t), p))
}

func TestSeed004OnlyTheFirstPolicyLeavesOtherRolesImplicitlyAllowed(t *testing.T) {
	rep := seedAnalyze(t, seedEngine(t), seedPolicies{denyOwnerUAA: true})
	checkFirstPolicyOnly(t, rep)
}

func checkFirstPolicyOnly(t *testing.T, rep *rbac.DelegationReport) {
	t.Helper()
	allowed := rep.AllowedRoles()
	if contains(allowed, "Owner") || contains(allowed, "User Access Administrator") {
		t.Errorf("first policy did not stop Owner/UAA: %v", allowed)
	}
	for _, role := range []string{"Role Based Access Control Administrator", "Key Vault Data Access Administrator", "Contributor", "roleassignments"} {
		if !contains(allowed, role) {
			t.Errorf("%s is not implicitly allowed with only the first policy", role)
		}
	}
	if !hasEscalation(rep, "Role Based Access Control Administrator", "authorization-write", rbac.TargetSelf) {
		t.Errorf("granting itself RBAC Administrator is not flagged: %+v", rep.Escalations)
	}
}

func TestSeed004RegrantingTheTeamItsOwnRolesIsNotAnEscalation(t *testing.T) {
	rep := seedAnalyze(t, seedEngine(t), nil)
	for _, x := range rep.Escalations {
		if x.TargetKind == rbac.TargetGroup && (x.RoleName == "roleassignments" || x.RoleName == "Contributor") {
			t.Errorf("re-granting the team group its own %s flagged: %+v", x.RoleName, x)
		}
	}
	if !hasEscalation(rep, "roleassignments", "authorization-write", rbac.TargetSelf) {
		t.Error("granting the user itself roleassignments directly is not flagged")
	}
}
