package rbac

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/steward-gov/steward/internal/arm"
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
	byID    map[string]*boundAssignment              // lower-cased assignment ID -> assignment
	denies  map[string][]*boundDeny                  // scope key -> deny assignments
	nGrants int
}

// boundAssignment is a role assignment with its condition parsed.
type boundAssignment struct {
	RoleAssignment
	roleGUID      string
	cond          abac.Expr
	scopeKey, pid string // where it is indexed
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
	e := &Engine{roles: c, now: time.Now, grants: map[string]map[string][]*boundAssignment{},
		byID: map[string]*boundAssignment{}, denies: map[string][]*boundDeny{}}
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
// be valid, its role must exist and be assignable at the scope, its
// principal type known, its condition must parse (conditionVersion 2.0),
// and no other assignment may give the same role to the same principal at
// the same scope. An assignment with the ID of an indexed one replaces it.
// Errors are *arm.Error values carrying ARM codes.
func (e *Engine) AddRoleAssignment(ra RoleAssignment) error {
	if ra.Scope == "" {
		ra.Scope = scopeOfExtension(ra.ID, "roleAssignments")
	}
	key, err := canonicalScope(ra.Scope)
	if err != nil {
		return badRequest(CodeInvalidRoleAssignment, "role assignment %q: %v", ra.ID, err)
	}
	if strings.TrimSpace(ra.PrincipalID) == "" {
		return badRequest(CodeInvalidRoleAssignment, "role assignment %q: principalId is required", ra.ID)
	}
	if !validPrincipalType(ra.PrincipalType) {
		return badRequest(CodeInvalidRoleAssignment, "role assignment %q: principalType %q is not User, Group, ServicePrincipal, ForeignGroup or Device", ra.ID, ra.PrincipalType)
	}
	rd, ok := e.roles.Get(ra.RoleDefinitionID)
	if !ok {
		return badRequest(CodeRoleDefinitionDoesNotExist, "The specified role definition with ID '%s' does not exist.", ra.RoleDefinitionID)
	}
	if !rd.AssignableAt(ra.Scope, e.hier) {
		return badRequest(CodeInvalidRoleAssignment, "role %q cannot be assigned at %s: it is assignable at %v", rd.RoleName, ra.Scope, rd.AssignableScopes)
	}
	b := &boundAssignment{RoleAssignment: ra, roleGUID: rd.Name, scopeKey: key}
	if ra.Condition != "" {
		if v := ra.ConditionVersion; v != "" && v != "2.0" {
			return badRequest(CodeInvalidCondition, "role assignment %q: conditionVersion must be \"2.0\", got %q", ra.ID, v)
		}
		if b.cond, err = abac.Parse(ra.Condition); err != nil {
			return badRequest(CodeInvalidCondition, "role assignment %q: %v", ra.ID, err)
		}
	}
	pk := principalKey(ra.PrincipalID)
	b.pid = pk
	e.mu.Lock()
	defer e.mu.Unlock()
	m := e.grants[key]
	if m == nil {
		m = map[string][]*boundAssignment{}
		e.grants[key] = m
	}
	for _, old := range m[pk] {
		if old.roleGUID == b.roleGUID && !strings.EqualFold(old.ID, ra.ID) {
			existing := old.Name
			if existing == "" {
				existing = old.ID
			}
			return arm.Errorf(http.StatusConflict, CodeRoleAssignmentExists, "The role assignment already exists. The ID of the existing role assignment is %s.", existing)
		}
	}
	if ra.ID != "" {
		e.removeLocked(ra.ID)
	}
	m[pk] = append(m[pk], b)
	if ra.ID != "" {
		e.byID[strings.ToLower(ra.ID)] = b
	}
	e.nGrants++
	return nil
}

// RemoveRoleAssignment drops the role assignment with the given ID.
func (e *Engine) RemoveRoleAssignment(id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.removeLocked(id) {
		return arm.NotFound(CodeRoleAssignmentNotFound, "role assignment %q not found", id)
	}
	return nil
}

// removeLocked removes an assignment by ID; the caller holds mu.
func (e *Engine) removeLocked(id string) bool {
	lid := strings.ToLower(id)
	b, ok := e.byID[lid]
	if !ok {
		return false
	}
	delete(e.byID, lid)
	list := e.grants[b.scopeKey][b.pid]
	for i, x := range list {
		if x == b {
			e.grants[b.scopeKey][b.pid] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	e.nGrants--
	return true
}

func validPrincipalType(t string) bool {
	switch strings.ToLower(t) {
	case "", "user", "group", "serviceprincipal", "foreigngroup", "device":
		return true
	}
	return false
}

// AddDenyAssignment validates and indexes a deny assignment.
func (e *Engine) AddDenyAssignment(d DenyAssignment) error {
	if d.Scope == "" {
		d.Scope = scopeOfExtension(d.ID, "denyAssignments")
	}
	key, err := canonicalScope(d.Scope)
	if err != nil {
		return badRequest(CodeInvalidDenyAssignment, "deny assignment %q: %v", d.Name, err)
	}
	if len(d.Principals) == 0 {
		return badRequest(CodeInvalidDenyAssignment, "deny assignment %q: at least one principal is required", d.Name)
	}
	b := &boundDeny{DenyAssignment: d, principals: map[string]bool{}, excluded: map[string]bool{}}
	b.Permissions = append([]Permission(nil), d.Permissions...)
	hasAction := false
	for i := range b.Permissions {
		b.Permissions[i].compile()
		hasAction = hasAction || len(b.Permissions[i].Actions)+len(b.Permissions[i].DataActions) > 0
	}
	if !hasAction {
		return badRequest(CodeInvalidDenyAssignment, "deny assignment %q: needs actions or dataActions", d.Name)
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
			return badRequest(CodeInvalidDenyAssignment, "deny assignment %q: the all-principals ID cannot be excluded", d.Name)
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
