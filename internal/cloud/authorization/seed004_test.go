package authorization_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armpolicy"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/rbac"
)

// The three policy definitions of seed 004, as the blog post gives them.
const (
	seedDenyOwnerUAA = `{"properties":{"displayName":"Deny Owner and User Access Administrator Role Definitions","policyType":"Custom","mode":"All",
"description":"This policy will Deny the Owner and User Access Administrator Role ","metadata":{"category":"IAM"},"parameters":{},
"policyRule":{"if":{"allOf":[{"equals":"Microsoft.Authorization/roleAssignments","field":"type"},
{"in":["8e3af657-a8ff-443c-a75c-2fe8c4bcb635","18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"],
"value":"[split(field('Microsoft.Authorization/roleAssignments/roleDefinitionId'),'roleDefinitions/')[1]]"}]},"then":{"effect":"Deny"}}}}`
	seedEnsureGroup = `{"properties":{"displayName":"Ensure role is only assigned to specific AD group","policyType":"Custom","mode":"All",
"description":"This policy is used to ensure role is only assigned to specific AD group","metadata":{"category":"IAM"},
"parameters":{"aadGroupIds":{"type":"array","metadata":{"description":"IDs of AAD group","displayName":"IDs of AAD group"}},
"roleDefId":{"type":"string","metadata":{"description":"Role Definition ID of (Custom) Role","displayName":"Role Definition ID of (Custom) Role"}}},
"policyRule":{"if":{"anyOf":[{"allOf":[{"equals":"Microsoft.Authorization/roleAssignments","field":"type"},
{"contains":"[parameters('roleDefId')]","field":"Microsoft.Authorization/roleAssignments/roleDefinitionId"},
{"field":"Microsoft.Authorization/roleAssignments/principalId","notIn":"[parameters('aadGroupIds')]"}]}]},"then":{"effect":"Deny"}}}}`
	seedAllowedRoles = `{"properties":{"displayName":"Allowed Role Definitions","policyType":"Custom","mode":"All",
"description":"This policy defines an allow list of role definitions that can be used in IAM","metadata":{"category":"IAM"},
"parameters":{"roleDefinitionIds":{"type":"array","metadata":{"description":"The list of Approved Role Definition Ids","displayName":"The list of Approved Role Definition Ids"}}},
"policyRule":{"if":{"allOf":[{"equals":"Microsoft.Authorization/roleAssignments","field":"type"},
{"notIn":"[parameters('roleDefinitionIds')]","value":"[split(field('Microsoft.Authorization/roleAssignments/roleDefinitionId'),'roleDefinitions/')[1]]"}]},
"then":{"effect":"Deny"}}}}`
)

const (
	storageBlobDataReader = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
	storageBlobDataOwner  = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
)

// definition decodes a definition document into the SDK's model.
func definition(t *testing.T, doc string) armpolicy.Definition {
	t.Helper()
	var d armpolicy.Definition
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func params(kv ...any) map[string]*armpolicy.ParameterValuesValue {
	out := map[string]*armpolicy.ParameterValuesValue{}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = &armpolicy.ParameterValuesValue{Value: kv[i+1]}
	}
	return out
}

// TestSeed004DelegatedRoleAssignments drives seed 004 over the API with
// the Azure SDK: the landing-zone administrator gives a DevOps team
// Contributor and the custom role at its resource group, assigns the
// three policies there, and the team can then create only the agreed
// role assignments.
func TestSeed004DelegatedRoleAssignments(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub := "/subscriptions/" + e.sub
	rgs, _ := armresources.NewResourceGroupsClient(e.sub, e.cred, e.opts)
	if _, err := rgs.CreateOrUpdate(ctx, "team-rg", armresources.ResourceGroup{Location: to.Ptr("westeurope")}, nil); err != nil {
		t.Fatal(err)
	}
	rgScope := sub + "/resourceGroups/team-rg"
	team := e.newPrincipal(t, "devops-team")
	workload := e.newPrincipal(t, "workload-identity")
	listedGroup := uuid.NewString()

	// The custom role and the team's two grants.
	defs, _ := armauthorization.NewRoleDefinitionsClient(e.cred, e.opts)
	customGUID := uuid.NewString()
	if _, err := defs.CreateOrUpdate(ctx, sub[1:], customGUID, customRole("roleassignments", sub, seedRoleActions...), nil); err != nil {
		t.Fatal(err)
	}
	roleID := func(g string) string { return sub + "/providers/Microsoft.Authorization/roleDefinitions/" + g }
	admin, _ := armauthorization.NewRoleAssignmentsClient(e.sub, e.cred, e.opts)
	for _, g := range []string{rbac.ContributorRoleID, customGUID} {
		if _, err := admin.Create(ctx, rgScope[1:], uuid.NewString(), armauthorization.RoleAssignmentCreateParameters{
			Properties: &armauthorization.RoleAssignmentProperties{RoleDefinitionID: to.Ptr(roleID(g)), PrincipalID: to.Ptr(team.id),
				PrincipalType: to.Ptr(armauthorization.PrincipalTypeServicePrincipal)}}, nil); err != nil {
			t.Fatal(err)
		}
	}

	// The policies, defined at the subscription and assigned at the group.
	pdefs, _ := armpolicy.NewDefinitionsClient(e.sub, e.cred, e.opts)
	for name, doc := range map[string]string{"deny-owner-useraccessadmin-roleassignment": seedDenyOwnerUAA,
		"ensure-role-assignments": seedEnsureGroup, "allowed-role-definitions": seedAllowedRoles} {
		if _, err := pdefs.CreateOrUpdate(ctx, name, definition(t, doc), nil); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	pas, _ := armpolicy.NewAssignmentsClient(e.sub, e.cred, e.opts)
	defID := func(n string) *string {
		return to.Ptr(sub + "/providers/Microsoft.Authorization/policyDefinitions/" + n)
	}
	for name, a := range map[string]armpolicy.AssignmentProperties{
		"deny-owner-uaa": {PolicyDefinitionID: defID("deny-owner-useraccessadmin-roleassignment"), DisplayName: to.Ptr("Deny Owner and UAA")},
		"contributor-to-group": {PolicyDefinitionID: defID("ensure-role-assignments"),
			Parameters: params("roleDefId", rbac.ContributorRoleID, "aadGroupIds", []any{listedGroup})},
		"custom-to-group": {PolicyDefinitionID: defID("ensure-role-assignments"),
			Parameters: params("roleDefId", customGUID, "aadGroupIds", []any{listedGroup})},
		"allowed-roles": {PolicyDefinitionID: defID("allowed-role-definitions"),
			Parameters: params("roleDefinitionIds", []any{rbac.ContributorRoleID, customGUID, rbac.ReaderRoleID, storageBlobDataReader})},
	} {
		if _, err := pas.Create(ctx, rgScope[1:], name, armpolicy.Assignment{Properties: &a}, nil); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}

	asTeam, _ := armauthorization.NewRoleAssignmentsClient(e.sub, team.cred, team.opts)
	grant := func(role, principal string) error {
		_, err := asTeam.Create(ctx, rgScope[1:], uuid.NewString(), armauthorization.RoleAssignmentCreateParameters{
			Properties: &armauthorization.RoleAssignmentProperties{RoleDefinitionID: to.Ptr(roleID(role)), PrincipalID: to.Ptr(principal),
				PrincipalType: to.Ptr(armauthorization.PrincipalTypeServicePrincipal)}}, nil)
		return err
	}
	tests := []struct {
		name      string
		role      string
		principal string
		allowed   bool
		assigned  string // the assignment that refuses it
	}{
		{"agreed role to the workload identity", storageBlobDataReader, workload.id, true, ""},
		{"Reader to the workload identity", rbac.ReaderRoleID, workload.id, true, ""},
		{"Owner", rbac.OwnerRoleID, workload.id, false, "deny-owner-uaa"},
		{"User Access Administrator", rbac.UserAccessAdministratorRoleID, workload.id, false, "deny-owner-uaa"},
		{"a role off the list", storageBlobDataOwner, workload.id, false, "allowed-roles"},
		{"Contributor to another principal", rbac.ContributorRoleID, workload.id, false, "contributor-to-group"},
		{"the custom role to another principal", customGUID, workload.id, false, "custom-to-group"},
		{"Contributor to the listed group", rbac.ContributorRoleID, listedGroup, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := grant(tc.role, tc.principal)
			if tc.allowed {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			re := wantCode(t, err, http.StatusForbidden, "RequestDisallowedByPolicy")
			var env struct {
				Error struct {
					Message        string `json:"message"`
					AdditionalInfo []struct {
						Type string         `json:"type"`
						Info map[string]any `json:"info"`
					} `json:"additionalInfo"`
				} `json:"error"`
			}
			if err := json.NewDecoder(re.RawResponse.Body).Decode(&env); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(env.Error.Message, "was disallowed by policy. Policy identifiers: '[{") {
				t.Errorf("message: %s", env.Error.Message)
			}
			found := false
			for _, ai := range env.Error.AdditionalInfo {
				if ai.Type == "PolicyViolation" && strings.HasSuffix(ai.Info["policyAssignmentId"].(string), "/"+tc.assigned) {
					found = ai.Info["policyDefinitionEffect"] != nil && ai.Info["evaluationDetails"] != nil
				}
			}
			if !found {
				t.Errorf("no PolicyViolation of %s in %+v", tc.assigned, env.Error.AdditionalInfo)
			}
		})
	}

	// The delegation analysis consults the same assignments.
	eng := e.s.Cloud.Engine()
	rep, err := eng.Analyze(ctx, rbac.DelegationRequest{PrincipalID: team.id, Scope: rgScope,
		Roles:  []string{rbac.OwnerRoleID, rbac.ReaderRoleID, storageBlobDataOwner},
		Policy: e.policy, PrincipalTypes: []string{rbac.PrincipalServicePrincipal}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rep.AllowedRoles(), ","); got != "Reader" {
		t.Errorf("delegation allows %s, want Reader", got)
	}
}
