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
func scopeChain(scope string, h Hierarchy) ([]string, error) {
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
	return id.ParentScope()
}
