package rbac

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/steward-gov/steward/internal/rbac/abac"
)

// The action whose authorization the delegation analysis enumerates.
const roleAssignmentWrite = "Microsoft.Authorization/roleAssignments/write"

// AnyPrincipal stands for "a principal nobody listed" in the delegation
// analysis: a fixed GUID that matches no real object, so a condition or
// policy that only lets the grant through for listed principals refuses it.
var AnyPrincipal = deterministicGUID("any principal")

// Target kinds in a delegation report.
const (
	TargetAny    = "any"
	TargetSelf   = "self"
	TargetGroup  = "own group"
	TargetListed = "listed"
)

// DelegationRequest asks what a principal can grant at a scope.
type DelegationRequest struct {
	PrincipalID string
	// Groups are the principal's groups, transitively.
	Groups []string
	Scope  string
	// Roles limits the analysis to these roles (GUIDs, IDs or names); empty
	// means every role in the catalog.
	Roles []string
	// PrincipalTypes defaults to User, Group and ServicePrincipal.
	PrincipalTypes []string
	// Targets are principals to test besides "any" and the principal itself.
	Targets []string
	// Policy, when set, is consulted for every grant RBAC allows.
	Policy RoleAssignmentPolicy
}

// Cell is one entry of the delegation matrix: can the principal assign this
// role to this target of this principal type at the scope?
type Cell struct {
	RoleName         string `json:"roleName"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	PrincipalType    string `json:"principalType"`
	Target           string `json:"target"`
	TargetKind       string `json:"targetKind"`
	Allowed          bool   `json:"allowed"`
	// RefusedBy is "", "assignableScopes", "rbac", "condition", "deny" or
	// "policy".
	RefusedBy string `json:"refusedBy,omitempty"`
	Reason    string `json:"reason"`
}

// Escalation is a grant the analysis flags: the principal can give itself
// (or one of its groups) or anyone a role that manages access or equals
// Owner. Re-granting a role the target already holds at the scope or above
// adds no rights and is not flagged.
type Escalation struct {
	RoleName      string `json:"roleName"`
	PrincipalType string `json:"principalType"`
	Target        string `json:"target"`
	TargetKind    string `json:"targetKind"`
	// Kind is "owner-equivalent" or "authorization-write".
	Kind string `json:"kind"`
	// Actions are the Microsoft.Authorization writes the role allows.
	Actions []string `json:"actions"`
}

// DelegationReport is the result of Analyze.
type DelegationReport struct {
	PrincipalID string       `json:"principalId"`
	Scope       string       `json:"scope"`
	Cells       []Cell       `json:"cells"`
	Escalations []Escalation `json:"escalations"`
}

// AllowedRoles returns the names of the roles allowed in at least one cell,
// sorted.
func (r *DelegationReport) AllowedRoles() []string {
	seen := map[string]bool{}
	for _, c := range r.Cells {
		if c.Allowed {
			seen[c.RoleName] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// authorizationWriteProbes are the Microsoft.Authorization writes whose
// holder controls access or guardrails.
var authorizationWriteProbes = []string{
	"Microsoft.Authorization/roleAssignments/write",
	"Microsoft.Authorization/roleDefinitions/write",
	"Microsoft.Authorization/policyAssignments/write",
	"Microsoft.Authorization/policyDefinitions/write",
	"Microsoft.Authorization/policySetDefinitions/write",
	"Microsoft.Authorization/policyExemptions/write",
	"Microsoft.Authorization/locks/write",
}

// unknownActionProbe is an action no provider defines: only a role that
// allows every action ('*' without relevant notActions) allows it.
const unknownActionProbe = "Steward.Probe/anyResourceType/write"

// privilege classifies a role for escalation flags.
func privilege(rd *RoleDefinition) (kind string, writes []string) {
	for _, a := range authorizationWriteProbes {
		if _, ok := rd.Allows(a, false); ok {
			writes = append(writes, a)
		}
	}
	if len(writes) == 0 {
		return "", nil
	}
	_, all := rd.Allows(unknownActionProbe, false)
	if _, ra := rd.Allows(roleAssignmentWrite, false); all && ra {
		return "owner-equivalent", writes
	}
	return "authorization-write", writes
}

type delegationTarget struct{ id, kind string }

// Analyze enumerates, for every role x principal type x target, whether the
// principal may create that role assignment at the scope: the role must be
// assignable there, RBAC must allow Microsoft.Authorization/roleAssignments/write
// with the request attributes a real write would carry (so conditions such
// as "constrain roles" apply), and the policy hook, if any, must not deny
// the resulting document.
func (e *Engine) Analyze(ctx context.Context, req DelegationRequest) (*DelegationReport, error) {
	if strings.TrimSpace(req.PrincipalID) == "" {
		return nil, fmt.Errorf("delegation analysis needs a principal")
	}
	if _, err := canonicalScope(req.Scope); err != nil {
		return nil, err
	}
	roles, err := e.rolesFor(req.Roles)
	if err != nil {
		return nil, err
	}
	types := req.PrincipalTypes
	if len(types) == 0 {
		types = []string{PrincipalUser, PrincipalGroup, PrincipalServicePrincipal}
	}
	targets := []delegationTarget{{AnyPrincipal, TargetAny}, {req.PrincipalID, TargetSelf}}
	own := map[string]bool{}
	for _, g := range req.Groups {
		own[principalKey(g)] = true
	}
	seen := map[string]bool{principalKey(AnyPrincipal): true, principalKey(req.PrincipalID): true}
	for _, t := range req.Targets {
		k := principalKey(t)
		if seen[k] {
			continue
		}
		seen[k] = true
		kind := TargetListed
		if own[k] {
			kind = TargetGroup
		}
		targets = append(targets, delegationTarget{t, kind})
	}

	rep := &DelegationReport{PrincipalID: req.PrincipalID, Scope: req.Scope}
	for _, rd := range roles {
		kind, writes := privilege(rd)
		assignable := rd.AssignableAt(req.Scope, e.hier)
		for _, pt := range types {
			for _, t := range targets {
				c, err := e.cell(ctx, req, rd, pt, t, assignable)
				if err != nil {
					return nil, err
				}
				rep.Cells = append(rep.Cells, c)
				if c.Allowed && kind != "" && t.kind != TargetListed && !e.holds(t.id, rd.Name, req.Scope) {
					rep.Escalations = append(rep.Escalations, Escalation{RoleName: rd.RoleName, PrincipalType: pt,
						Target: c.Target, TargetKind: t.kind, Kind: kind, Actions: writes})
				}
			}
		}
	}
	return rep, nil
}

func (e *Engine) rolesFor(refs []string) ([]*RoleDefinition, error) {
	if len(refs) == 0 {
		return e.roles.List(), nil
	}
	out := make([]*RoleDefinition, 0, len(refs))
	for _, r := range refs {
		rd, ok := e.roles.Find(r)
		if !ok {
			return nil, fmt.Errorf("role %q is not in the catalog", r)
		}
		out = append(out, rd)
	}
	return out, nil
}

// cell decides one grant.
func (e *Engine) cell(ctx context.Context, req DelegationRequest, rd *RoleDefinition, ptype string, t delegationTarget, assignable bool) (Cell, error) {
	c := Cell{RoleName: rd.RoleName, RoleDefinitionID: rd.ID, PrincipalType: ptype, Target: t.id, TargetKind: t.kind}
	if t.kind == TargetAny {
		c.Target = TargetAny
	}
	if !assignable {
		c.RefusedBy = "assignableScopes"
		c.Reason = fmt.Sprintf("role is not assignable at %s (assignable scopes %v)", req.Scope, rd.AssignableScopes)
		return c, nil
	}
	doc := RoleAssignmentDocument(req.Scope, rd.Name, t.id, ptype)
	attrs := Attributes{}
	// A write carries what it asks for as @Request attributes.
	attrs.Set(abac.Request, "Microsoft.Authorization/roleAssignments:RoleDefinitionId", rd.Name)
	attrs.Set(abac.Request, "Microsoft.Authorization/roleAssignments:PrincipalId", t.id)
	attrs.Set(abac.Request, "Microsoft.Authorization/roleAssignments:PrincipalType", ptype)
	d, err := e.Check(ctx, Request{PrincipalID: req.PrincipalID, Groups: req.Groups, Action: roleAssignmentWrite,
		Scope: doc["id"].(string), Attributes: attrs})
	if err != nil {
		return c, err
	}
	if !d.Allowed {
		switch {
		case d.Deny != nil:
			c.RefusedBy = "deny"
		case len(d.FailedConditions) > 0:
			c.RefusedBy = "condition"
		default:
			c.RefusedBy = "rbac"
		}
		c.Reason = d.Reason
		return c, nil
	}
	if req.Policy != nil {
		denied, why, err := req.Policy.EvaluateRoleAssignment(ctx, req.Scope, doc)
		if err != nil {
			return c, fmt.Errorf("policy for %s to %s: %w", rd.RoleName, t.id, err)
		}
		if denied {
			c.RefusedBy = "policy"
			c.Reason = why
			return c, nil
		}
	}
	c.Allowed = true
	c.Reason = d.Reason
	return c, nil
}

// holds reports whether principal already has role assigned at scope or
// above, unconditionally.
func (e *Engine) holds(principal, role, scope string) bool {
	chain, err := scopeChain(scope, e.hier)
	if err != nil {
		return false
	}
	pk := principalKey(principal)
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, key := range chain {
		for _, b := range e.grants[key][pk] {
			if b.roleGUID == role && b.cond == nil {
				return true
			}
		}
	}
	return false
}
