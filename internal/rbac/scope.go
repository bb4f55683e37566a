package rbac

import (
	"fmt"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
)

// Hierarchy tells where subscriptions and management groups sit among
// management groups, which scope strings alone do not say.
type Hierarchy interface {
	// ParentGroup returns the name of the management group directly above
	// the subscription (kind arm.ScopeSubscription) or management group
	// (kind arm.ScopeManagementGroup) called name, or "" when it sits
	// directly under the tenant root "/".
	ParentGroup(kind arm.ScopeKind, name string) string
}

// StaticHierarchy is a Hierarchy held in memory. Keys and values are names
// (a subscription ID, a management group name); lookups ignore case.
type StaticHierarchy struct {
	subs, groups map[string]string
}

// NewStaticHierarchy builds a hierarchy from subscription -> management
// group and management group -> parent management group maps.
func NewStaticHierarchy(subscriptions, managementGroups map[string]string) *StaticHierarchy {
	h := &StaticHierarchy{subs: map[string]string{}, groups: map[string]string{}}
	for k, v := range subscriptions {
		h.subs[strings.ToLower(k)] = v
	}
	for k, v := range managementGroups {
		h.groups[strings.ToLower(k)] = v
	}
	return h
}

// ParentGroup implements Hierarchy.
func (h *StaticHierarchy) ParentGroup(kind arm.ScopeKind, name string) string {
	if h == nil {
		return ""
	}
	switch kind {
	case arm.ScopeSubscription:
		return h.subs[strings.ToLower(name)]
	case arm.ScopeManagementGroup:
		return h.groups[strings.ToLower(name)]
	}
	return ""
}

// maxScopeDepth bounds a scope chain, so a cycle in a hierarchy (a
// management group that is its own ancestor) ends instead of looping.
const maxScopeDepth = 64

// canonicalScope is the index key of a scope: ARM's canonical spelling,
// lower-cased.
func canonicalScope(scope string) (string, error) {
	id, err := arm.ParseResourceID(scope)
	if err != nil {
		return "", err
	}
	return strings.ToLower(id.String()), nil
}

// scopeChain returns the index keys of scope and every scope above it,
// nearest first, ending with the root "/". Subscriptions and management
// groups climb through h.
//
// This runs on every access check, so instead of formatting each ancestor
// it formats the scope once and takes the ancestors as prefixes of that
// string: in ARM's canonical form every ancestor of an ID (a parent
// resource, the resource group, the subscription, the parent of an
// extension resource) ends where a name segment ends, at a pair of
// segments that is not "providers/{namespace}" (but for a tenant-level
// provider at the root).
func scopeChain(scope string, h Hierarchy) ([]string, error) {
	id, err := arm.ParseResourceID(scope)
	if err != nil {
		return nil, err
	}
	full := strings.ToLower(id.String())
	chain := make([]string, 0, 8)
	chain = append(chain, full)
	if full == "/" {
		return chain, nil
	}
	var ends [maxScopeDepth]int
	n := 0
	for i := 1; i < len(full) && n < len(ends); {
		j := nextSlash(full, i)
		if j >= len(full) {
			break // a lone trailing segment: a type without a name
		}
		k := nextSlash(full, j+1)
		// "providers/{namespace}" is not a scope, except at the root where
		// it names a tenant-level provider such as /providers/Microsoft.Capacity
		// (an assignable scope of the reservation roles), and where a bare
		// namespace is itself the parent of an extension resource.
		if full[i:j] != "providers" || i == 1 && id.ManagementGroup == "" || strings.HasPrefix(full[k:], "/providers/") {
			ends[n] = k
			n++
		}
		i = k + 1
	}
	for x := n - 1; x >= 0; x-- {
		if ends[x] < len(full) {
			chain = append(chain, full[:ends[x]])
		}
	}
	var kind arm.ScopeKind
	var name string
	switch {
	case id.SubscriptionID != "":
		kind, name = arm.ScopeSubscription, id.SubscriptionID
	case id.ManagementGroup != "":
		kind, name = arm.ScopeManagementGroup, id.ManagementGroup
	}
	for h != nil && name != "" {
		mg := h.ParentGroup(kind, name)
		if mg == "" {
			break
		}
		if len(chain) >= maxScopeDepth {
			return nil, fmt.Errorf("scope %q: hierarchy deeper than %d levels (is there a management-group cycle?)", scope, maxScopeDepth)
		}
		chain = append(chain, "/providers/microsoft.management/managementgroups/"+strings.ToLower(mg))
		kind, name = arm.ScopeManagementGroup, mg
	}
	return append(chain, "/"), nil
}

// nextSlash returns the index of the next '/' at or after i, or len(s).
func nextSlash(s string, i int) int {
	if j := strings.IndexByte(s[i:], '/'); j >= 0 {
		return i + j
	}
	return len(s)
}

// scopeChainByParents is the straightforward form of scopeChain, walking
// ParentScope and formatting every ancestor. Tests hold the fast form to it.
func scopeChainByParents(scope string, h Hierarchy) ([]string, error) {
	id, err := arm.ParseResourceID(scope)
	if err != nil {
		return nil, err
	}
	chain := make([]string, 0, 8)
	for cur := id; cur != nil; cur = parentScope(cur, h) {
		if len(chain) == maxScopeDepth {
			return nil, fmt.Errorf("scope %q: hierarchy deeper than %d levels (is there a management-group cycle?)", scope, maxScopeDepth)
		}
		chain = append(chain, strings.ToLower(cur.String()))
	}
	return chain, nil
}

// parentScope is arm's ParentScope with management-group parents taken
// from the hierarchy.
func parentScope(id *arm.ResourceID, h Hierarchy) *arm.ResourceID {
	if h != nil {
		switch k := id.Kind(); k {
		case arm.ScopeSubscription:
			if mg := h.ParentGroup(k, id.SubscriptionID); mg != "" {
				return &arm.ResourceID{ManagementGroup: mg}
			}
		case arm.ScopeManagementGroup:
			if mg := h.ParentGroup(k, id.ManagementGroup); mg != "" {
				return &arm.ResourceID{ManagementGroup: mg}
			}
		}
	}
	p := id.ParentScope()
	if p != nil && p.Kind() == arm.ScopeRoot && id.SubscriptionID == "" && id.ManagementGroup == "" &&
		id.Namespace != "" && (len(id.Types) > 0 || id.Parent != nil) {
		// A tenant-level resource sits in its provider's namespace scope.
		return &arm.ResourceID{Namespace: id.Namespace}
	}
	return p
}
