package rbac_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/policy"
	"github.com/steward-gov/steward/internal/rbac"
)

// policyAdapter lets the rbac delegation analysis consult compiled Azure
// Policy definitions: every definition is evaluated against the
// role-assignment document, and a deny effect refuses the grant. This is
// the wiring the embedded ARM does for real writes; rbac itself does not
// import policy.
type policyAdapter struct {
	names    []string
	policies []*policy.Policy
}

func (a *policyAdapter) EvaluateRoleAssignment(ctx context.Context, _ string, doc map[string]any) (bool, string, error) {
	res := policy.NewResource(doc)
	for i, p := range a.policies {
		r := p.Evaluate(ctx, res, policy.EvalOptions{})
		if r.Err != nil {
			return false, "", fmt.Errorf("policy %s: %w", a.names[i], r.Err)
		}
		if r.Effect == policy.EffectDeny {
			return true, "RequestDisallowedByPolicy: " + a.names[i], nil
		}
	}
	return false, "", nil
}

// add compiles one of the seed's definitions with assignment parameters.
func (a *policyAdapter) add(t *testing.T, file string, params map[string]any) {
	t.Helper()
	data, err := os.ReadFile("testdata/seed004/" + file)
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.ParseAndCompile(data, policy.CompileOptions{Parameters: params})
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	a.names = append(a.names, strings.TrimSuffix(file, ".json"))
	a.policies = append(a.policies, p)
}

func anys(s ...string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// seedPolicyEngine assigns the seed's three policies as the blog describes:
// deny Owner/UAA; Contributor and the custom role each only to the team's
// group (the second definition assigned twice); and the allow-list.
func seedPolicyEngine(t *testing.T, all bool) *policyAdapter {
	a := &policyAdapter{}
	a.add(t, "deny-owner-useraccessadmin-roleassignment.json", map[string]any{})
	if all {
		for _, role := range []string{rbac.ContributorRoleID, seedCustomID} {
			a.add(t, "ensure-role-assignments.json", map[string]any{"aadGroupIds": anys(seedTeam), "roleDefId": role})
		}
		a.add(t, "allowed-role-definitions.json", map[string]any{"roleDefinitionIds": anys(seedAllowList...)})
	}
	return a
}

func TestSeed004PolicyEngineWithThreePolicies(t *testing.T) {
	checkGuarded(t, seedAnalyze(t, seedEngine(t), seedPolicyEngine(t, true)))
}

func TestSeed004PolicyEngineWithOnlyTheFirstPolicy(t *testing.T) {
	checkFirstPolicyOnly(t, seedAnalyze(t, seedEngine(t), seedPolicyEngine(t, false)))
}
