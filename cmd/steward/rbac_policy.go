package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/steward-gov/steward/internal/policy"
)

// rbacPolicies are Azure Policy definitions, compiled with their assignment
// parameters, that steward rbac delegation consults for every role
// assignment RBAC allows: the first deny refuses the grant.
type rbacPolicies struct {
	names []string
	rules []*policy.Policy
}

// loadRbacPolicies reads --policy files. A file holds either a policy
// definition, or {"definition": {...}, "parameters": {...}} to assign one
// with parameter values.
func loadRbacPolicies(files []string) (*rbacPolicies, error) {
	if len(files) == 0 {
		return nil, nil
	}
	out := &rbacPolicies{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var wrapped struct {
			Definition json.RawMessage `json:"definition"`
			Parameters map[string]any  `json:"parameters"`
		}
		if err := json.Unmarshal(data, &wrapped); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		def, params := data, map[string]any{}
		if len(wrapped.Definition) > 0 {
			def = wrapped.Definition
			if wrapped.Parameters != nil {
				params = wrapped.Parameters
			}
		}
		p, err := policy.ParseAndCompile(def, policy.CompileOptions{Parameters: params})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out.names = append(out.names, filepath.Base(f))
		out.rules = append(out.rules, p)
	}
	return out, nil
}

// EvaluateRoleAssignment implements rbac.RoleAssignmentPolicy.
func (ps *rbacPolicies) EvaluateRoleAssignment(ctx context.Context, _ string, doc map[string]any) (bool, string, error) {
	res := policy.NewResource(doc)
	for i, p := range ps.rules {
		switch r := p.Evaluate(ctx, res, policy.EvalOptions{}); {
		case r.Err != nil:
			return false, "", fmt.Errorf("policy %s: %w", ps.names[i], r.Err)
		case r.Effect == policy.EffectDeny:
			return true, "disallowed by policy " + ps.names[i], nil
		}
	}
	return false, "", nil
}
