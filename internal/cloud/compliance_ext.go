package cloud

import (
	"strings"

	"github.com/steward-gov/steward/internal/arm"
)

// ManagementGroupsAbove returns the names of the management groups above a
// subscription, nearest first and ending with the tenant root group, from
// the hierarchy the Cloud keeps. Compliance uses it for assignments made at
// management groups and for the managementGroupIds of policy states.
func (c *Cloud) ManagementGroupsAbove(subscriptionID string) []string {
	h := c.currentHierarchy()
	var out []string
	name, kind := subscriptionID, arm.ScopeSubscription
	for range 1000 { // the hierarchy has no loops; the bound is a guard
		p := h.ParentGroup(kind, name)
		if p == "" {
			break
		}
		out = append(out, p)
		name, kind = p, arm.ScopeManagementGroup
	}
	return out
}

// BaseURL is the scheme and host the request reached the Cloud at, for
// handlers that answer with absolute URLs (Location headers, query URIs).
func (c *Call) BaseURL() string { return strings.TrimRight(c.baseURL(), "/") }
