package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/rbac"
)

// The delegation analysis over a Steward's data sees its stored policy
// assignments: seed 004's Owner/UAA deny refuses what RBAC would allow.
func TestRoleDelegationConsultsStoredPolicies(t *testing.T) {
	dir, s := serveAuthorization(t)
	_, must := cliOn(t, dir)
	sub := "/subscriptions/" + s.Bootstrap.SubscriptionID
	rg := sub + "/resourceGroups/team-rg"
	must("group", "create", "team-rg", "--location", "westeurope")
	_, team, err := s.Identity.CreateApplication(context.Background(), s.Bootstrap.TenantID, "team")
	if err != nil {
		t.Fatal(err)
	}
	must("role", "assignment", "create", "--assignee", team.ID, "--role", rbac.RBACAdministratorRoleID, "--scope", rg)

	defID := sub + "/providers/Microsoft.Authorization/policyDefinitions/deny-owner-uaa"
	var doc map[string]any
	if err := json.Unmarshal([]byte(`{"name":"deny-owner-uaa","type":"Microsoft.Authorization/policyDefinitions","properties":{"mode":"All",
		"policyRule":{"if":{"allOf":[{"equals":"Microsoft.Authorization/roleAssignments","field":"type"},
		{"in":["8e3af657-a8ff-443c-a75c-2fe8c4bcb635","18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"],
		"value":"[split(field('Microsoft.Authorization/roleAssignments/roleDefinitionId'),'roleDefinitions/')[1]]"}]},"then":{"effect":"Deny"}}}}`), &doc); err != nil {
		t.Fatal(err)
	}
	doc["id"] = defID
	if _, _, err := s.Cloud.Put(context.Background(), nil, cloud.PutRequest{ID: defID, Type: "Microsoft.Authorization/policyDefinitions", Doc: doc}); err != nil {
		t.Fatal(err)
	}
	analyze := func() []string {
		out, err := runCLI(t, "rbac", "delegation", "--data", dir, "--principal", team.ID, "--scope", rg, "--type", "ServicePrincipal",
			"--role", "Owner", "--role", "Reader", "--role", "User Access Administrator", "-o", "json")
		var ee *exitError
		if err != nil && !asExit(err, &ee) {
			t.Fatalf("delegation: %v\n%s", err, out)
		}
		var rep rbac.DelegationReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return rep.AllowedRoles()
	}
	if got := strings.Join(analyze(), ","); got != "Owner,Reader,User Access Administrator" {
		t.Errorf("without the policy: %s", got)
	}
	must("policy", "assignment", "create", "deny-owner-uaa", "--policy", "deny-owner-uaa", "--scope", rg)
	if got := strings.Join(analyze(), ","); got != "Reader" {
		t.Errorf("with the policy: %s", got)
	}
}
