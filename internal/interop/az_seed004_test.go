package interop

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/cloud/policyprovider"
	"github.com/steward-gov/steward/internal/server"
)

// Built-in role definition IDs the seed's policies name.
const (
	roleOwner                 = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	roleContributor           = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	roleReader                = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
	roleUserAccessAdmin       = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
	roleKeyVaultAdministrator = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
	seedCustomRoleID          = "5eed0004-1111-4111-8111-000000000001"
	seedTeamGroupID           = "5eed0004-0000-0000-0000-00000000600d"
)

// TestSeed004WithAzureCLI plays seed 004 with az alone: the platform team
// creates the DevOps team's group and deployment principal (Microsoft
// Graph), the custom roleassignments role, the seed's three policies on the
// team's resource group, and grants the group Contributor and the custom
// role; the team principal then signs in and may grant the agreed roles
// but is refused Owner, User Access Administrator, Contributor to anyone
// but its group, and roles outside the allow-list. Role assignments go
// through `az rest`: Debian's az 2.45 `az role assignment create` fails in
// the client (see TestAzureCLIDirectoryThroughGraph).
func TestSeed004WithAzureCLI(t *testing.T) {
	t.Parallel()
	s := serve(t, func(_ context.Context, _ *server.Steward, c *cloud.Cloud) error {
		_, err := policyprovider.Register(c, policyprovider.Options{})
		return err
	})
	admin := newAzCLI(t, s)
	admin.registerGraphCloud(t)
	admin.json(t, nil, "login", "--service-principal", "-u", s.Info.ClientID, "-p", s.Info.ClientSecret, "--tenant", s.Info.TenantID)
	sub := "/subscriptions/" + s.Info.SubscriptionID
	rg := sub + "/resourceGroups/team-rg"
	admin.json(t, nil, "group", "create", "-n", "team-rg", "-l", "westeurope")

	// The team's group, its deployment principal (a member), and a user to
	// grant roles to.
	var group struct{ ID string }
	admin.json(t, &group, "ad", "group", "create", "--display-name", "devops-team", "--mail-nickname", "devops-team")
	var principal struct{ AppID, Password, Tenant string }
	admin.json(t, &principal, "ad", "sp", "create-for-rbac", "-n", "devops-deployer", "--only-show-errors")
	var sp struct{ ID string }
	admin.json(t, &sp, "ad", "sp", "show", "--id", principal.AppID)
	admin.json(t, nil, "ad", "group", "member", "add", "--group", "devops-team", "--member-id", sp.ID)
	var user struct{ ID string }
	admin.json(t, &user, "ad", "user", "create", "--display-name", "App Reader", "--password", "Corr3ct-Horse!", "--user-principal-name", "reader@steward.test")

	// The custom role of the seed.
	dir := t.TempDir()
	write := func(name string, v any) string {
		b, _ := json.Marshal(v)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var role struct{ Name string }
	admin.json(t, &role, "role", "definition", "create", "--only-show-errors", "--role-definition", "@"+write("role.json", map[string]any{
		"Name": "roleassignments", "Description": "Custom Role to allow roleAssignments",
		"Actions": []string{"Microsoft.Authorization/roleAssignments/read", "Microsoft.Authorization/roleAssignments/write",
			"Microsoft.Authorization/roleAssignments/delete"},
		"AssignableScopes": []string{sub}}))
	if role.Name == "" {
		t.Fatal("az role definition create returned no role ID")
	}

	// The seed's three policies (the second assigned twice), with the
	// seed's IDs replaced by this Steward's group and custom role.
	replace := strings.NewReplacer(seedTeamGroupID, group.ID, seedCustomRoleID, role.Name)
	files, err := filepath.Glob("../../examples/rbac/policies/*.json")
	if err != nil || len(files) != 4 {
		t.Fatalf("seed policies: %v %v", files, err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Definition *struct {
				Properties struct{ PolicyRule, Parameters json.RawMessage }
			}
			Properties struct{ PolicyRule, Parameters json.RawMessage }
			Parameters json.RawMessage
		}
		if err := json.Unmarshal([]byte(replace.Replace(string(raw))), &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		props := doc.Properties
		if doc.Definition != nil {
			props = doc.Definition.Properties
		}
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		args := []string{"policy", "definition", "create", "--only-show-errors", "-n", name, "--mode", "All", "--rules", "@" + write(name+"-rule.json", props.PolicyRule)}
		if len(props.Parameters) > 0 && string(props.Parameters) != "{}" {
			args = append(args, "--params", "@"+write(name+"-params.json", props.Parameters))
		}
		admin.json(t, nil, args...)
		args = []string{"policy", "assignment", "create", "-n", name, "--policy", name, "--scope", rg, "--only-show-errors"}
		if len(doc.Parameters) > 0 {
			args = append(args, "--params", "@"+write(name+"-values.json", doc.Parameters))
		}
		admin.json(t, nil, args...)
	}

	assign := func(az *azCLI, roleID, principalID, principalType string) (string, error) {
		body, _ := json.Marshal(map[string]any{"properties": map[string]any{
			"roleDefinitionId": sub + "/providers/Microsoft.Authorization/roleDefinitions/" + roleID,
			"principalId":      principalID, "principalType": principalType}})
		url := strings.TrimSuffix(s.BaseURL, "/") + rg + "/providers/Microsoft.Authorization/roleAssignments/" + uuid.NewString() + "?api-version=2022-04-01"
		return az.run("rest", "--method", "put", "--url", url, "--body", string(body))
	}
	// The platform team grants the group Contributor and roleassignments;
	// even it may not grant Owner (policy 1 binds everyone).
	for _, r := range []string{roleContributor, role.Name} {
		if out, err := assign(admin, r, group.ID, "Group"); err != nil {
			t.Fatalf("granting the team group %s: %v\n%s", r, err, out)
		}
	}
	if out, err := assign(admin, roleOwner, group.ID, "Group"); err == nil || !strings.Contains(out, "RequestDisallowedByPolicy") {
		t.Fatalf("Owner to the team group: %v\n%s", err, out)
	}

	// The team principal signs in and manages its own role assignments.
	team := newAzCLI(t, s)
	team.registerGraphCloud(t)
	team.json(t, nil, "login", "--service-principal", "-u", principal.AppID, "-p", principal.Password, "--tenant", s.Info.TenantID)
	cases := []struct {
		name          string
		role, to, typ string
		refusedBy     string // "" when allowed
	}{
		{"Reader to a user (agreed role)", roleReader, user.ID, "User", ""},
		{"Owner", roleOwner, user.ID, "User", "RequestDisallowedByPolicy"},
		{"User Access Administrator", roleUserAccessAdmin, user.ID, "User", "RequestDisallowedByPolicy"},
		{"Contributor to someone but the team group", roleContributor, user.ID, "User", "RequestDisallowedByPolicy"},
		{"roleassignments to someone but the team group", role.Name, user.ID, "User", "RequestDisallowedByPolicy"},
		{"a role outside the allow-list", roleKeyVaultAdministrator, user.ID, "User", "RequestDisallowedByPolicy"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := assign(team, tc.role, tc.to, tc.typ)
			if tc.refusedBy == "" {
				if err != nil {
					t.Fatalf("refused: %v\n%s", err, out)
				}
				return
			}
			if err == nil || !strings.Contains(out, tc.refusedBy) {
				t.Fatalf("want refusal %s, got %v\n%s", tc.refusedBy, err, out)
			}
		})
	}
}
