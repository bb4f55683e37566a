package reports

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// RoleDefinition is a role definition as ARM returns it, reduced to what
// the access report reads (the union of its permissions blocks).
type RoleDefinition struct {
	ID      string `json:"id"`
	Name    string `json:"roleName"`
	BuiltIn bool   `json:"builtIn"`
	// Actions and the others are the union of the role's permissions.
	Actions, NotActions, DataActions, NotDataActions []string
}

// RoleAssignment is a role assignment as ARM returns it.
type RoleAssignment struct {
	ID               string `json:"id"`
	Scope            string `json:"scope"`
	PrincipalID      string `json:"principalId"`
	PrincipalType    string `json:"principalType"`
	RoleDefinitionID string `json:"roleDefinitionId"`
}

// Operation is one thing a principal did and was allowed to do: a
// succeeded event of the activity log (control plane), or a data-plane
// access record (a vault secret read, a table query).
type Operation struct {
	// PrincipalID is the caller's object ID (the oid claim).
	PrincipalID string
	// Action is the operation: "Microsoft.Resources/subscriptions/
	// resourceGroups/write", or a data action for a data-plane record.
	Action string
	// Scope is the resource the operation targeted.
	Scope string
	Time  time.Time
	// Data marks a data-plane operation, matched against the roles'
	// DataActions.
	Data bool
	// scope and action are Scope and Action lowered once (see lower).
	scope, action string
}

// lower fills the lowered forms.
func (o *Operation) lower() {
	if o.action == "" {
		o.scope, o.action = strings.ToLower(strings.TrimRight(o.Scope, "/")), strings.ToLower(o.Action)
	}
}

// AccessOptions configure the access report.
type AccessOptions struct {
	// Now and Window bound the operations considered: those after Now -
	// Window (N days).
	Now    time.Time
	Window time.Duration
}

// Access finds the role assignments whose principal used none of the
// role's permissions at the assignment's scope (or below) in the window
// (UnusedRoleAssignment), and those whose principal used only a part that
// a narrower built-in role covers (OverPrivilegedRoleAssignment, naming
// that role). Each finding carries a what-if: the operations of the
// window that would fail if the assignment were removed, because no
// other assignment of the principal grants them there.
//
// Group assignments are judged on the operations of the group's object
// ID only: membership is not expanded, so a group used by its members
// reads as unused (docs/decisions/reports.md).
func Access(assignments []RoleAssignment, roles []RoleDefinition, ops []Operation, opt AccessOptions) []Finding {
	byRole := map[string]*RoleDefinition{}
	for i := range roles {
		byRole[roleKey(roles[i].ID)] = &roles[i]
	}
	from := opt.Now.Add(-opt.Window)
	// Operations are lowered once: the loops below compare them with many
	// assignments.
	byPrincipal := map[string][]*Operation{}
	lowered := make([]Operation, 0, len(ops))
	for i := range ops {
		o := ops[i]
		if o.Time.Before(from) || o.Time.After(opt.Now) {
			continue
		}
		o.lower()
		lowered = append(lowered, o)
	}
	for i := range lowered {
		o := &lowered[i]
		k := strings.ToLower(o.PrincipalID)
		byPrincipal[k] = append(byPrincipal[k], o)
	}
	assignmentsOf := map[string][]*RoleAssignment{}
	for i := range assignments {
		k := strings.ToLower(assignments[i].PrincipalID)
		assignmentsOf[k] = append(assignmentsOf[k], &assignments[i])
	}
	m := newMatcher(roles)
	days := int(opt.Window.Hours() / 24)
	var out []Finding
	for i := range assignments {
		a := &assignments[i]
		role := byRole[roleKey(a.RoleDefinitionID)]
		if role == nil {
			out = append(out, Finding{Report: "access", Kind: "UnknownRole", Severity: Low, ResourceID: a.ID,
				Message: fmt.Sprintf("assigns role definition %s, which the role definitions read do not hold; its use cannot be judged", a.RoleDefinitionID)})
			continue
		}
		var used []*Operation
		scope := strings.ToLower(strings.TrimRight(a.Scope, "/"))
		for _, o := range byPrincipal[strings.ToLower(a.PrincipalID)] {
			if underLowerScope(o.scope, scope) && m.permits(role, o) {
				used = append(used, o)
			}
		}
		details := map[string]any{"principalId": a.PrincipalID, "principalType": a.PrincipalType, "role": role.Name,
			"scope": a.Scope, "days": days}
		if len(used) == 0 {
			sev := Low
			if m.writes(role) {
				sev = Medium
			}
			details["breaksIfRemoved"] = []string{}
			out = append(out, Finding{Report: "access", Kind: "UnusedRoleAssignment", Severity: sev, ResourceID: a.ID,
				Message: fmt.Sprintf("%s %s has not used role %s at this scope in %d days; removing it breaks nothing seen",
					strings.ToLower(orDefault(a.PrincipalType, "principal")), a.PrincipalID, role.Name, days),
				Details: details})
			continue
		}
		actions := distinctActions(used)
		breaks := whatBreaks(a, used, assignmentsOf[strings.ToLower(a.PrincipalID)], byRole, m)
		details["usedActions"] = actions
		details["breaksIfRemoved"] = breaks
		if narrow := m.narrowest(roles, used, role); narrow != nil {
			details["suggestedRole"] = narrow.Name
			details["suggestedRoleId"] = narrow.ID
			out = append(out, Finding{Report: "access", Kind: "OverPrivilegedRoleAssignment", Severity: Low, ResourceID: a.ID,
				Message: fmt.Sprintf("%s used %d of role %s's operations in %d days (%s); built-in role %s covers them",
					a.PrincipalID, len(actions), role.Name, days, summarize(actions, 3), narrow.Name),
				Details: details})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ResourceID < out[j].ResourceID })
	return out
}

// whatBreaks lists the actions of used that no other assignment of the
// principal grants at the operation's scope.
func whatBreaks(a *RoleAssignment, used []*Operation, others []*RoleAssignment, byRole map[string]*RoleDefinition, m *matcher) []string {
	set := map[string]bool{}
	for _, o := range used {
		o.lower()
		covered := false
		for _, b := range others {
			if b == a || !underLowerScope(o.scope, strings.ToLower(strings.TrimRight(b.Scope, "/"))) {
				continue
			}
			if r := byRole[roleKey(b.RoleDefinitionID)]; r != nil && m.permits(r, o) {
				covered = true
				break
			}
		}
		if !covered {
			set[o.Action] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func distinctActions(ops []*Operation) []string {
	set := map[string]bool{}
	for _, o := range ops {
		set[o.Action] = true
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func summarize(list []string, n int) string {
	if len(list) <= n {
		return strings.Join(list, ", ")
	}
	return strings.Join(list[:n], ", ") + fmt.Sprintf(" and %d more", len(list)-n)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// roleKey is a role definition ID reduced to its GUID, so that the
// tenant-level form (/providers/Microsoft.Authorization/roleDefinitions/X)
// and the subscription-level form compare equal.
func roleKey(id string) string {
	return strings.ToLower(id[strings.LastIndexByte(id, '/')+1:])
}

// underLowerScope reports whether resource id sits at or below scope
// (both lower case, without a trailing slash).
func underLowerScope(id, scope string) bool {
	return scope == "" || id == scope || len(id) > len(scope) && id[len(scope)] == '/' && strings.HasPrefix(id, scope)
}

// matcher answers "does this role permit this action", memoized: a role's
// patterns are matched once per distinct action.
type matcher struct {
	memo    map[memoKey]bool
	breadth map[*RoleDefinition]int
	// universe is every concrete action the roles name, the measure of a
	// role's breadth.
	universe []string
}

type memoKey struct {
	role   *RoleDefinition
	action string
	data   bool
}

func newMatcher(roles []RoleDefinition) *matcher {
	set := map[string]bool{}
	for _, r := range roles {
		for _, list := range [][]string{r.Actions, r.DataActions} {
			for _, a := range list {
				if !strings.Contains(a, "*") {
					set[strings.ToLower(a)] = true
				}
			}
		}
	}
	m := &matcher{memo: map[memoKey]bool{}, breadth: map[*RoleDefinition]int{}}
	for a := range set {
		m.universe = append(m.universe, a)
	}
	sort.Strings(m.universe)
	return m
}

func (m *matcher) permits(r *RoleDefinition, o *Operation) bool {
	o.lower()
	k := memoKey{r, o.action, o.Data}
	if v, ok := m.memo[k]; ok {
		return v
	}
	allow, deny := r.Actions, r.NotActions
	if o.Data {
		allow, deny = r.DataActions, r.NotDataActions
	}
	v := matchAny(allow, k.action) && !matchAny(deny, k.action)
	m.memo[k] = v
	return v
}

// writes reports whether a role grants more than reads.
func (m *matcher) writes(r *RoleDefinition) bool {
	if len(r.DataActions) > 0 {
		return true
	}
	for _, a := range r.Actions {
		if !strings.HasSuffix(strings.ToLower(a), "/read") {
			return true
		}
	}
	return false
}

// width is how many actions of the universe a role permits, control and
// data plane: the measure "narrowest" minimizes.
func (m *matcher) width(r *RoleDefinition) int {
	if w, ok := m.breadth[r]; ok {
		return w
	}
	w := 0
	for _, a := range m.universe {
		if matchAny(r.Actions, a) && !matchAny(r.NotActions, a) {
			w++
		}
		if matchAny(r.DataActions, a) && !matchAny(r.NotDataActions, a) {
			w++
		}
	}
	// A wildcard role is wider than every concrete action it lists.
	for _, list := range [][]string{r.Actions, r.DataActions} {
		for _, a := range list {
			if strings.Contains(a, "*") {
				w++
			}
		}
	}
	m.breadth[r] = w
	return w
}

// narrowest is the built-in role, narrower than current, that permits all
// of used, with the fewest permissions; nil when none is narrower.
func (m *matcher) narrowest(roles []RoleDefinition, used []*Operation, current *RoleDefinition) *RoleDefinition {
	var best *RoleDefinition
	cw := m.width(current)
	for i := range roles {
		r := &roles[i]
		if !r.BuiltIn || r == current {
			continue
		}
		ok := true
		for _, o := range used {
			if !m.permits(r, o) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		w := m.width(r)
		if w >= cw {
			continue
		}
		if best == nil || w < m.width(best) || w == m.width(best) && r.Name < best.Name {
			best = r
		}
	}
	return best
}

func matchAny(patterns []string, action string) bool {
	for _, p := range patterns {
		if wildcard(strings.ToLower(p), action) {
			return true
		}
	}
	return false
}

// wildcard matches an action against an RBAC pattern whose "*" stands
// for any run of characters (both lower case).
func wildcard(p, s string) bool {
	for {
		i := strings.IndexByte(p, '*')
		if i < 0 {
			return p == s
		}
		if !strings.HasPrefix(s, p[:i]) {
			return false
		}
		s, p = s[i:], p[i+1:]
		if p == "" {
			return true
		}
		// Try every position for the rest of the pattern.
		for j := 0; j <= len(s); j++ {
			if wildcard(p, s[j:]) {
				return true
			}
		}
		return false
	}
}

// RoleFromDoc reads a role definition from its ARM JSON (properties.roleName,
// properties.type, properties.permissions), or from the flat form of the
// built-in role list (name, type, permissions at the top).
func RoleFromDoc(doc map[string]any) RoleDefinition {
	src := doc
	if p, ok := doc["properties"].(map[string]any); ok {
		src = p
	}
	r := RoleDefinition{}
	r.ID, _ = doc["id"].(string)
	r.Name, _ = src["roleName"].(string)
	if r.Name == "" {
		r.Name, _ = src["name"].(string)
	}
	typ, _ := src["type"].(string)
	r.BuiltIn = strings.EqualFold(typ, "BuiltInRole")
	perms, _ := src["permissions"].([]any)
	strs := func(v any) []string {
		list, _ := v.([]any)
		out := make([]string, 0, len(list))
		for _, x := range list {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	for _, p := range perms {
		pm, _ := p.(map[string]any)
		r.Actions = append(r.Actions, strs(pm["actions"])...)
		r.NotActions = append(r.NotActions, strs(pm["notActions"])...)
		r.DataActions = append(r.DataActions, strs(pm["dataActions"])...)
		r.NotDataActions = append(r.NotDataActions, strs(pm["notDataActions"])...)
	}
	return r
}
