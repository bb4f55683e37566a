package interop

import (
	"slices"
	"strings"
	"testing"
)

// TestPythonSDKKeyVaultSecretsOnStewardsAddress pins down why SecretClient
// cannot use a vault on Steward's own address (path routing,
// https://HOST:PORT/vaults/{name}); docs/decisions/interop.md has the
// reasons. Each subtest fails when its gap closes, so the decision record
// and docs/interop.md get updated.
func TestPythonSDKKeyVaultSecretsOnStewardsAddress(t *testing.T) {
	t.Parallel()
	py := pythonWith(t, "azure.identity", "azure.keyvault.secrets")
	s := serve(t)
	url := s.BaseURL + "vaults/steward"
	t.Run("challenge verification refuses a host outside vault.azure.net", func(t *testing.T) {
		var got struct {
			SetID      string `json:"set_id"`
			ParseError string `json:"parse_error"`
		}
		runPython(t, s, py, "secret", "keyvault.py", &got, url, "verify")
		if !strings.Contains(got.ParseError, "does not match the requested domain") {
			t.Fatalf("got %+v; want the SDK's challenge-resource refusal (if this now works, update docs/interop.md)", got)
		}
	})
	t.Run("the secret is stored but its ID does not parse", func(t *testing.T) {
		var got struct {
			SetID      string `json:"set_id"`
			ParseError string `json:"parse_error"`
		}
		runPython(t, s, py, "secret", "keyvault.py", &got, url, "noverify")
		want := "'" + url + "/secrets/interop/"
		if !strings.HasPrefix(got.ParseError, want) || !strings.HasSuffix(got.ParseError, "is not a valid ID") {
			t.Fatalf("got %+v; want the SDK to refuse the ID %s... (if this now works, update docs/interop.md)", got, want)
		}
		if !strings.Contains(s.requestLog(), `"method":"PUT","path":"/vaults/steward/secrets/interop","route":"vault","status":200`) {
			t.Errorf("Steward did not answer the PUT of the secret with 200:\n%s", s.requestLog())
		}
	})
}

// TestPythonSDKManagesRoleAssignments creates a role assignment on a
// resource group with AuthorizationManagementClient and lists it back.
func TestPythonSDKManagesRoleAssignments(t *testing.T) {
	t.Parallel()
	survey(t, pyDirect, "role assignments: AuthorizationManagementClient role_assignments.create", "role assignments: list_for_resource_group",
		"role assignments: list_for_subscription")
	py := pythonWith(t, "azure.identity", "azure.mgmt.resource", "azure.mgmt.authorization")
	s := serve(t)
	const name = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
	var got struct {
		Created      string
		Listed       []string
		Subscription []string
	}
	runPython(t, s, py, "secret", "authorization.py", &got, "py-rbac", name, s.Info.ObjectID)
	want := "/subscriptions/" + s.Info.SubscriptionID + "/resourceGroups/py-rbac/providers/Microsoft.Authorization/roleAssignments/" + name
	if !strings.EqualFold(got.Created, want) {
		t.Errorf("created %q, want %q", got.Created, want)
	}
	if !slices.ContainsFunc(got.Listed, func(id string) bool { return strings.EqualFold(id, want) }) {
		t.Errorf("resource group list %v lacks %s", got.Listed, want)
	}
	// Azure's list for a subscription without $filter holds the
	// assignments at, above and below it, so the group's assignment is
	// there too (the former gap "role-assignment-list-scope").
	rg := "/subscriptions/" + s.Info.SubscriptionID + "/resourceGroups/py-rbac"
	if !slices.ContainsFunc(got.Subscription, func(sc string) bool { return strings.EqualFold(sc, rg) }) {
		t.Errorf("subscription list %v lacks the group's assignment at %s", got.Subscription, rg)
	}
}

// TestPythonSDKBetaIgnoresDisableInstanceDiscovery pins down that Debian's
// azure-identity 1.13.0b2 ignores disable_instance_discovery=True (the
// spelling of 1.13.0 and later, which docs/serve.md gives) and runs
// instance discovery, so its users must write instance_discovery=False.
func TestPythonSDKBetaIgnoresDisableInstanceDiscovery(t *testing.T) {
	t.Parallel()
	py := pythonWith(t, "azure.identity")
	s := serve(t)
	var got struct {
		Token bool
		Error string
	}
	runPython(t, s, py, "secret", "spelling.py", &got)
	if got.Token {
		t.Skip("this azure-identity honours disable_instance_discovery=True (1.13.0 or later)")
	}
	if strings.Contains(s.requestLog(), "/oauth2/v2.0/token") {
		t.Errorf("the credential failed (%s) but reached Steward's token endpoint", got.Error)
	}
}
