package rbac

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/steward-gov/steward/internal/rbac/abac"
)

// Engine answers access checks over a catalog of role definitions and the
// role and deny assignments added to it. Assignments are indexed by scope and
// principal: a check looks only at the scopes on the target's chain and the
// principal's own IDs there. Add and Check may run concurrently.
type Engine struct {
	roles *Catalog
	hier  Hierarchy
	now   func() time.Time

	mu      sync.RWMutex
	grants  map[string]map[string][]*boundAssignment // scope key -> principal key -> assignments
	denies  map[string][]*boundDeny                  // scope key -> deny assignments
	nGrants int
}

// boundAssignment is a role assignment with its condition parsed.
type boundAssignment struct {
	RoleAssignment
	roleGUID string
	cond     abac.Expr
}

// boundDeny is a deny assignment with its principal sets built.
type boundDeny struct {
	DenyAssignment
	everyone   bool
	principals map[string]bool
	excluded   map[string]bool
}

// Option configures an Engine.
type Option func(*Engine)

// WithHierarchy sets where subscriptions and management groups sit; without
// it every subscription and management group is directly under the root.
func WithHierarchy(h Hierarchy) Option { return func(e *Engine) { e.hier = h } }

// WithClock sets the clock that @Environment[UtcNow] reads.
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.now = now } }

// NewEngine returns an engine over the roles in c.
func NewEngine(c *Catalog, opts ...Option) *Engine {
	e := &Engine{roles: c, now: time.Now, grants: map[string]map[string][]*boundAssignment{}, denies: map[string][]*boundDeny{}}
	for _, o := range opts {
		o(e)
	}
	return e
}

// Catalog returns the engine's role catalog.
func (e *Engine) Catalog() *Catalog { return e.roles }

// Hierarchy returns the engine's management-group hierarchy (possibly nil).
func (e *Engine) Hierarchy() Hierarchy { return e.hier }

// AddRoleAssignment validates and indexes a role assignment: its scope must
// be valid, its role must exist and be assignable at the scope, and its
// condition must parse (conditionVersion 2.0).
func (e *Engine) AddRoleAssignment(ra RoleAssignment) error {
	if ra.Scope == "" {
		ra.Scope = scopeOfExtension(ra.ID, "roleAssignments")
	}
	key, err := canonicalScope(ra.Scope)
	if err != nil {
		return fmt.Errorf("role assignment %q: %w", ra.ID, err)
	}
	if strings.TrimSpace(ra.PrincipalID) == "" {
		return fmt.Errorf("role assignment %q: principalId is required", ra.ID)
	}
	rd, ok := e.roles.Get(ra.RoleDefinitionID)
	if !ok {
		return fmt.Errorf("role assignment %q: role definition %q does not exist", ra.ID, ra.RoleDefinitionID)
	}
	if !rd.AssignableAt(ra.Scope, e.hier) {
		return fmt.Errorf("role assignment %q: role %q is not assignable at %s (assignable scopes %v)", ra.ID, rd.RoleName, ra.Scope, rd.AssignableScopes)
	}
	b := &boundAssignment{RoleAssignment: ra, roleGUID: rd.Name}
	if ra.Condition != "" {
		if v := ra.ConditionVersion; v != "" && v != "2.0" {
			return fmt.Errorf("role assignment %q: conditionVersion must be \"2.0\", got %q", ra.ID, v)
		}
		if b.cond, err = abac.Parse(ra.Condition); err != nil {
			return fmt.Errorf("role assignment %q: %w", ra.ID, err)
		}
	}
	pk := principalKey(ra.PrincipalID)
	e.mu.Lock()
	defer e.mu.Unlock()
	m := e.grants[key]
	if m == nil {
		m = map[string][]*boundAssignment{}
		e.grants[key] = m
	}
	m[pk] = append(m[pk], b)
	e.nGrants++
	return nil
}

// AddDenyAssignment validates and indexes a deny assignment.
func (e *Engine) AddDenyAssignment(d DenyAssignment) error {
	if d.Scope == "" {
		d.Scope = scopeOfExtension(d.ID, "denyAssignments")
	}
	key, err := canonicalScope(d.Scope)
	if err != nil {
		return fmt.Errorf("deny assignment %q: %w", d.Name, err)
	}
	if len(d.Principals) == 0 {
		return fmt.Errorf("deny assignment %q: at least one principal is required", d.Name)
	}
	b := &boundDeny{DenyAssignment: d, principals: map[string]bool{}, excluded: map[string]bool{}}
	b.Permissions = append([]Permission(nil), d.Permissions...)
	hasAction := false
	for i := range b.Permissions {
		b.Permissions[i].compile()
		hasAction = hasAction || len(b.Permissions[i].Actions)+len(b.Permissions[i].DataActions) > 0
	}
	if !hasAction {
		return fmt.Errorf("deny assignment %q: needs actions or dataActions", d.Name)
	}
	for _, p := range d.Principals {
		k := principalKey(p.ID)
		if k == everyone {
			b.everyone = true
		}
		b.principals[k] = true
	}
	for _, p := range d.ExcludePrincipals {
		k := principalKey(p.ID)
		if k == everyone {
			return fmt.Errorf("deny assignment %q: the all-principals ID cannot be excluded", d.Name)
		}
		b.excluded[k] = true
	}
	e.mu.Lock()
	e.denies[key] = append(e.denies[key], b)
	e.mu.Unlock()
	return nil
}

// Len returns the number of role assignments indexed.
func (e *Engine) Len() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.nGrants
}

// RoleAssignments returns the indexed role assignments (in no set order).
func (e *Engine) RoleAssignments() []RoleAssignment {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var out []RoleAssignment
	for _, m := range e.grants {
		for _, list := range m {
			for _, b := range list {
				out = append(out, b.RoleAssignment)
			}
		}
	}
	return out
}
