package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/rbac"
)

const (
	rbacExample = "../../examples/rbac/state.json"
	rbacUser    = "5eed0004-0000-0000-0000-00000000a001"
	rbacTeam    = "5eed0004-0000-0000-0000-00000000600d"
	rbacRG      = "/subscriptions/5eed0004-0000-0000-0000-000000000001/resourceGroups/team-rg"
)

// runSteward runs the CLI in-process and returns its output and error.
func runSteward(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func exitCode(err error) int {
	var ex *exitError
	if errors.As(err, &ex) {
		return ex.code
	}
	if err != nil {
		return 2
	}
	return 0
}

func TestRbacCanExplainsAndSetsExitStatus(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		code   int
		reason string
	}{
		{"contributor through the team group", []string{rbacUser, "Microsoft.Compute/virtualMachines/write", rbacRG + "/providers/Microsoft.Compute/virtualMachines/vm1"}, 0, `role \"Contributor\"`},
		{"deny assignment", []string{rbacUser, "Microsoft.Network/virtualNetworks/delete", rbacRG + "/providers/Microsoft.Network/virtualNetworks/spoke"}, 1, `deny assignment \"protect-network\"`},
		{"reader inherited from a management group", []string{rbacUser, "Microsoft.Resources/subscriptions/read", "/subscriptions/5eed0004-0000-0000-0000-000000000001"}, 0, `role \"Reader\"`},
		{"condition not met", []string{"5eed0004-0000-0000-0000-00000000b0b0", "Microsoft.Authorization/roleAssignments/write",
			"/subscriptions/5eed0004-0000-0000-0000-000000000001/resourceGroups/data-rg",
			"--request", "Microsoft.Authorization/roleAssignments:RoleDefinitionId=" + rbac.OwnerRoleID,
			"--request", "Microsoft.Authorization/roleAssignments:PrincipalType=User"}, 1, "condition"},
	}
	for _, c := range cases {
		out, err := runSteward(t, append([]string{"rbac", "can", "--state", rbacExample, "-o", "json"}, c.args...)...)
		if got := exitCode(err); got != c.code {
			t.Errorf("%s: exit %d (%v), want %d\n%s", c.name, got, err, c.code, out)
		}
		var d rbac.Decision
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Errorf("%s: output is not a decision: %v\n%s", c.name, err, out)
		}
		if !strings.Contains(out, c.reason) {
			t.Errorf("%s: output lacks %q:\n%s", c.name, c.reason, out)
		}
	}
}

func TestRbacDelegationWithSeedPolicies(t *testing.T) {
	args := []string{"rbac", "delegation", "--state", rbacExample, "--principal", rbacUser, "--scope", rbacRG, "--target", rbacTeam, "-o", "json"}
	out, err := runSteward(t, args...)
	if exitCode(err) != 1 || !strings.Contains(out, `"owner-equivalent"`) {
		t.Fatalf("without policies: exit %d, want 1 with an Owner escalation\n%.400s", exitCode(err), out)
	}
	policies, _ := filepath.Glob("../../examples/rbac/policies/*.json")
	if len(policies) != 4 {
		t.Fatalf("found %d example policies, want 4", len(policies))
	}
	for _, p := range policies {
		args = append(args, "--policy", p)
	}
	out, err = runSteward(t, args...)
	if exitCode(err) != 0 {
		t.Fatalf("with the seed's policies: exit %d (%v)\n%.400s", exitCode(err), err, out)
	}
	var rep rbac.DelegationReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	want := []string{"Contributor", "Key Vault Secrets User", "Reader", "Storage Blob Data Reader", "roleassignments"}
	if got := rep.AllowedRoles(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("allowed roles %v, want %v", got, want)
	}
}

func TestRbacRolesImportShowAndList(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	roles := filepath.Join(t.TempDir(), "roles.json")
	doc := `{"value": [{"id": "/subscriptions/00000000-0000-0000-0000-0000000000aa/providers/Microsoft.Authorization/roleDefinitions/66666666-6666-6666-6666-666666666666",
	  "properties": {"roleName": "Tag Editor", "type": "CustomRole", "assignableScopes": ["/subscriptions/00000000-0000-0000-0000-0000000000aa"],
	  "permissions": [{"actions": ["Microsoft.Resources/tags/*"]}]}}]}`
	if err := os.WriteFile(roles, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runSteward(t, "rbac", "roles", "import", "--state", state, roles); err != nil || !strings.Contains(out, "1 role definitions") {
		t.Fatalf("import: %v\n%s", err, out)
	}
	out, err := runSteward(t, "rbac", "roles", "show", "--state", state, "tag editor")
	if err != nil || !strings.Contains(out, "Microsoft.Resources/tags/*") {
		t.Fatalf("show: %v\n%s", err, out)
	}
	out, err = runSteward(t, "rbac", "roles", "list", "--state", state)
	if err != nil || !strings.Contains(out, "Tag Editor") || !strings.Contains(out, "Owner") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	_ = os.WriteFile(bad, []byte(strings.Replace(doc, `"Microsoft.Resources/tags/*"`, `"Microsoft.*/tags/*"`, 1)), 0o644)
	if _, err := runSteward(t, "rbac", "roles", "import", "--state", state, bad); err == nil {
		t.Error("a custom role with two wildcards was imported")
	}
	if _, err := runSteward(t, "rbac", "roles", "import", roles); err == nil {
		t.Error("import without --state succeeded")
	}
}

func TestRbacStateFileMustExistAndParse(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.json")
	broken := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(broken, []byte(`{"roleAssignments": [`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, state := range []string{missing, broken} {
		for _, args := range [][]string{
			{"rbac", "can", "--state", state, rbacUser, "Microsoft.Compute/virtualMachines/read", rbacRG},
			{"rbac", "roles", "show", "--state", state, "Owner"},
			{"rbac", "roles", "list", "--state", state},
			{"rbac", "delegation", "--state", state, "--principal", rbacTeam, "--scope", rbacRG},
		} {
			t.Run(filepath.Base(state)+" "+strings.Join(args[1:3], " "), func(t *testing.T) {
				out, err := runSteward(t, args...)
				if code := exitCode(err); code != 2 {
					t.Errorf("exit %d, want 2 (input error); output:\n%s", code, out)
				}
				var ex *exitError
				if !errors.As(err, &ex) || !strings.Contains(ex.msg, state) {
					t.Errorf("the error must name the file: %v", err)
				}
			})
		}
	}
}

// TestRbacRolesShowAfterImportingAzCLIOutput imports the flattened shape
// `az role definition list` prints (name is the GUID, roleName the name),
// which "roles show NAME" used to miss.
func TestRbacRolesShowAfterImportingAzCLIOutput(t *testing.T) {
	dir := t.TempDir()
	state, roles := filepath.Join(dir, "state.json"), filepath.Join(dir, "roles.json")
	doc := `[{"assignableScopes": ["/"], "description": "Lets you manage virtual machines.",
	  "id": "/subscriptions/00000000-0000-0000-0000-0000000000aa/providers/Microsoft.Authorization/roleDefinitions/9980e02c-c2be-4d73-94e8-173b1dc7cf3c",
	  "name": "9980e02c-c2be-4d73-94e8-173b1dc7cf3c",
	  "permissions": [{"actions": ["Microsoft.Compute/virtualMachines/*"], "notActions": [], "dataActions": [], "notDataActions": []}],
	  "roleName": "Virtual Machine Contributor", "roleType": "BuiltInRole", "type": "Microsoft.Authorization/roleDefinitions"}]`
	if err := os.WriteFile(roles, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runSteward(t, "rbac", "roles", "import", "--state", state, roles); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	for _, ref := range []string{"Virtual Machine Contributor", "9980e02c-c2be-4d73-94e8-173b1dc7cf3c"} {
		out, err := runSteward(t, "rbac", "roles", "show", "--state", state, ref, "-o", "json")
		if err != nil {
			t.Fatalf("show %q: %v\n%s", ref, err, out)
		}
		var rd rbac.RoleDefinition
		if err := json.Unmarshal([]byte(out), &rd); err != nil || rd.RoleName != "Virtual Machine Contributor" || rd.Type != "BuiltInRole" {
			t.Errorf("show %q: %+v %v", ref, rd, err)
		}
	}
	if _, err := runSteward(t, "rbac", "roles", "show", "--state", state, "No Such Role"); exitCode(err) != 1 {
		t.Errorf("an unknown role: exit %d, want 1", exitCode(err))
	}
}
