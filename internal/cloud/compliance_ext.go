package cloud

import (
	"context"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
)

// ManagementGroupsAbove returns the names of the management groups above a
// subscription, nearest first and ending with the tenant root group, from
// the hierarchy the Cloud keeps. Compliance uses it for assignments made at
// management groups and for the managementGroupIds of policy states.
//
// A subscription that trusts another tenant (Subscription.TenantID) ends
// with that tenant's root group instead of the home tenant's: in Azure a
// subscription sits in its own directory's hierarchy, whose root group is
// named by the tenant ID.
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
	if t := c.subscriptionTenant(subscriptionID); t != "" && len(out) > 0 && strings.EqualFold(out[len(out)-1], c.opts.TenantID) &&
		!strings.EqualFold(t, c.opts.TenantID) {
		out[len(out)-1] = t
	}
	return out
}

// subscriptionTenant is the tenant a stored subscription trusts ("" when
// it cannot be read).
func (c *Cloud) subscriptionTenant(subscriptionID string) string {
	r, err := c.Get(context.Background(), "/subscriptions/"+strings.ToLower(subscriptionID))
	if err != nil {
		return ""
	}
	return stringAt(r.Doc, "tenantId")
}

// BaseURL is the scheme and host the request reached the Cloud at, for
// handlers that answer with absolute URLs (Location headers, query URIs).
func (c *Call) BaseURL() string { return strings.TrimRight(c.baseURL(), "/") }
