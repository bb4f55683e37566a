package authorization_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/steward-gov/steward/internal/cloud/policyprovider"
	"github.com/steward-gov/steward/internal/policy"
)

func TestPolicyDefinitionWithUnknownAliasIsRefused(t *testing.T) {
	aliases, err := policy.BuiltinAliases()
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, policyprovider.Options{Aliases: aliases})
	rule := func(field string) []byte {
		b, _ := json.Marshal(map[string]any{"properties": map[string]any{"mode": "All", "policyRule": map[string]any{
			"if": map[string]any{"field": field, "equals": false}, "then": map[string]any{"effect": "deny"}}}})
		return b
	}
	tests := []struct {
		name, field string
		status      int
		code        string
	}{
		{"unknown alias", "Microsoft.Storage/storageAccounts/noSuchAlias", http.StatusBadRequest, policy.CodeInvalidPolicyAlias},
		{"unknown alias in a known namespace's unknown type", "Microsoft.Storage/noSuchType/x", http.StatusBadRequest, policy.CodeInvalidPolicyAlias},
		{"known alias", "Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly", http.StatusCreated, ""},
		{"plain property path", "properties.supportsHttpsTrafficOnly", http.StatusCreated, ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := "/subscriptions/" + e.sub + "/providers/Microsoft.Authorization/policyDefinitions/alias-" + string(rune('a'+i)) + "?api-version=2021-06-01"
			resp, body := e.do(t, http.MethodPut, path, rule(tc.field))
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.code == "" {
				return
			}
			var env struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(body, &env); err != nil || env.Error.Code != tc.code {
				t.Fatalf("want code %s, got %s", tc.code, body)
			}
		})
	}
}
