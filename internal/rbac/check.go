package rbac

import (
	"context"
	"fmt"
	"strings"

	"github.com/steward-gov/steward/internal/rbac/abac"
)

// Request is one access check: may this principal perform this action at
// this scope?
type Request struct {
	PrincipalID string
	// Groups are the principal's groups, transitively: Steward does not
	// expand nesting, the caller (the token, the directory) does.
	Groups []string
	// Action is an operation such as Microsoft.Compute/virtualMachines/write.
	Action string
	// DataAction says Action is a data-plane action, matched against
	// dataActions instead of actions.
	DataAction bool
	Scope      string
	// SubOperation and Attributes feed role-assignment conditions.
	SubOperation string
	Attributes   Attributes
}

// Attributes are condition attribute values by source and name.
type Attributes map[abac.Source]map[string][]string

// Set gives an attribute its values.
func (a Attributes) Set(src abac.Source, name string, values ...string) {
	m := a[src]
	if m == nil {
		m = map[string][]string{}
		a[src] = m
	}
	m[name] = values
}

// Grant is the role assignment and permission that allowed a check.
type Grant struct {
	AssignmentID     string `json:"assignmentId"`
	Scope            string `json:"scope"`
	PrincipalID      string `json:"principalId"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	RoleName         string `json:"roleName"`
	Permission       string `json:"permission"`
}

// DenyMatch is the deny assignment that blocked a check.
type DenyMatch struct {
	DenyAssignmentID string `json:"denyAssignmentId"`
	Name             string `json:"name"`
	Scope            string `json:"scope"`
	Permission       string `json:"permission"`
}

// ConditionFailure is a role assignment whose role covered the action but
// whose condition (on the assignment or on the role's permission) did not
// hold or could not be evaluated.
type ConditionFailure struct {
	AssignmentID string `json:"assignmentId"`
	RoleName     string `json:"roleName"`
	// On is "roleAssignment" or "roleDefinition".
	On        string `json:"on"`
	Condition string `json:"condition"`
	Error     string `json:"error,omitempty"`
}

// Decision is the answer to a check, with why.
type Decision struct {
	Allowed          bool               `json:"allowed"`
	Reason           string             `json:"reason"`
	Grant            *Grant             `json:"grant,omitempty"`
	Deny             *DenyMatch         `json:"deny,omitempty"`
	FailedConditions []ConditionFailure `json:"failedConditions,omitempty"`
}

// Check decides a request the way ARM does: a deny assignment that applies
// blocks it; otherwise any role assignment of the principal or its groups at
// the scope or above whose role allows the action (actions minus notActions
// of the same permission) and whose conditions hold allows it; otherwise it
// is denied. The error is for malformed requests only.
func (e *Engine) Check(ctx context.Context, req Request) (Decision, error) {
	if err := ctx.Err(); err != nil {
		return Decision{}, err
	}
	if strings.TrimSpace(req.Action) == "" || strings.TrimSpace(req.PrincipalID) == "" {
		return Decision{}, fmt.Errorf("access check needs a principal and an action")
	}
	chain, err := scopeChain(req.Scope, e.hier)
	if err != nil {
		return Decision{}, err
	}
	ids := make([]string, 0, 1+len(req.Groups))
	ids = append(ids, principalKey(req.PrincipalID))
	for _, g := range req.Groups {
		ids = append(ids, principalKey(g))
	}
	action := strings.ToLower(req.Action)

	e.mu.RLock()
	defer e.mu.RUnlock()
	for i, key := range chain {
		for _, d := range e.denies[key] {
			if i > 0 && d.DoNotApplyToChildScopes {
				continue
			}
			if pat, ok := d.applies(ids, action, req.DataAction); ok {
				return Decision{Reason: fmt.Sprintf("deny assignment %q at %s blocks %s (%s)", d.Name, d.Scope, req.Action, pat),
					Deny: &DenyMatch{DenyAssignmentID: d.ID, Name: d.Name, Scope: d.Scope, Permission: pat}}, nil
			}
		}
	}
	var env *abac.Env
	var failures []ConditionFailure
	for _, key := range chain {
		byPrincipal := e.grants[key]
		if byPrincipal == nil {
			continue
		}
		for _, pid := range ids {
			for _, b := range byPrincipal[pid] {
				rd, ok := e.roles.getCanonical(b.roleGUID)
				if !ok {
					continue
				}
				for pi := range rd.Permissions {
					perm := &rd.Permissions[pi]
					pat, ok := perm.allows(action, req.DataAction)
					if !ok {
						continue
					}
					if env == nil && (perm.Condition != "" || b.cond != nil) {
						env = e.env(req)
					}
					if f, ok := conditionHolds(perm.cond, perm.condErr, perm.Condition, "roleDefinition", env); !ok {
						f.AssignmentID, f.RoleName = b.ID, rd.RoleName
						failures = append(failures, f)
						continue
					}
					if f, ok := conditionHolds(b.cond, nil, b.Condition, "roleAssignment", env); !ok {
						f.AssignmentID, f.RoleName = b.ID, rd.RoleName
						failures = append(failures, f)
						continue
					}
					return Decision{Allowed: true,
						Reason: fmt.Sprintf("role %q assigned at %s grants %s through %q", rd.RoleName, b.Scope, req.Action, pat),
						Grant: &Grant{AssignmentID: b.ID, Scope: b.Scope, PrincipalID: b.PrincipalID,
							RoleDefinitionID: rd.ID, RoleName: rd.RoleName, Permission: pat}}, nil
				}
			}
		}
	}
	d := Decision{FailedConditions: failures}
	if len(failures) > 0 {
		f := failures[0]
		d.Reason = fmt.Sprintf("role %q covers %s but the condition on its %s is not met", f.RoleName, req.Action, f.On)
		if f.Error != "" {
			d.Reason += ": " + f.Error
		}
	} else {
		kind := "action"
		if req.DataAction {
			kind = "data action"
		}
		d.Reason = fmt.Sprintf("no role assignment at %s or above grants the %s %s", req.Scope, kind, req.Action)
	}
	return d, nil
}

// env builds the condition environment of a request.
func (e *Engine) env(req Request) *abac.Env {
	env := &abac.Env{Action: req.Action, SubOperation: req.SubOperation, Now: e.now()}
	for src, m := range req.Attributes {
		for k, v := range m {
			env.Set(src, k, v...)
		}
	}
	return env
}

// conditionHolds evaluates an optional condition; a condition that did not
// parse or cannot be evaluated does not hold.
func conditionHolds(x abac.Expr, parseErr error, text, on string, env *abac.Env) (ConditionFailure, bool) {
	if text == "" {
		return ConditionFailure{}, true
	}
	f := ConditionFailure{On: on, Condition: text}
	if parseErr != nil {
		f.Error = parseErr.Error()
		return f, false
	}
	ok, err := abac.Eval(x, env)
	if err != nil {
		f.Error = err.Error()
		return f, false
	}
	return f, ok
}

// applies reports whether the deny assignment covers one of the principal
// IDs (and none is excluded) and the action, returning the matching pattern.
func (d *boundDeny) applies(ids []string, action string, data bool) (string, bool) {
	hit := d.everyone
	for _, id := range ids {
		if d.excluded[id] {
			return "", false
		}
		hit = hit || d.principals[id]
	}
	if !hit {
		return "", false
	}
	for i := range d.Permissions {
		if pat, ok := d.Permissions[i].allows(action, data); ok {
			return pat, true
		}
	}
	return "", false
}
