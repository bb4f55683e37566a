package cloud

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
)

// ScopeAncestry returns the scopes at and above id, lower-cased, as a set:
// its parents up to the subscription, the management groups above the
// subscription (from the stored hierarchy, up to the tenant root group)
// and the root "/". Providers use it to find what applies to a resource
// from above (role assignments, policy assignments).
func (c *Cloud) ScopeAncestry(id string) map[string]bool {
	out := map[string]bool{"/": true}
	r, err := arm.ParseResourceID(id)
	if err != nil {
		return out
	}
	h := c.currentHierarchy()
	for cur := r; cur != nil; cur = cur.ParentScope() {
		var name string
		kind := cur.Kind()
		switch kind {
		case arm.ScopeRoot:
			continue
		case arm.ScopeSubscription:
			name = cur.SubscriptionID
		case arm.ScopeManagementGroup:
			name = cur.ManagementGroup
		}
		out[strings.ToLower(cur.String())] = true
		if name == "" {
			continue
		}
		for i := 0; h != nil && i < 64; i++ {
			mg := h.ParentGroup(kind, name)
			if mg == "" {
				break
			}
			out[strings.ToLower("/providers/Microsoft.Management/managementGroups/"+mg)] = true
			kind, name = arm.ScopeManagementGroup, mg
		}
		if cur.Kind() == arm.ScopeManagementGroup || cur.Kind() == arm.ScopeSubscription {
			break
		}
	}
	return out
}

// PageItems answers a list computed in memory, paged by position with
// $top and $skiptoken like the stored lists.
func (c *Call) PageItems(items []any) (*Response, error) {
	size, after, err := c.Paging()
	if err != nil {
		return nil, err
	}
	start := 0
	if after != "" {
		n, err := strconv.Atoi(after)
		if err != nil || n < 0 || n > len(items) {
			return nil, invalidSkipToken()
		}
		start = n
	}
	end := min(start+size, len(items))
	out := List{Value: append([]any{}, items[start:end]...)}
	if end < len(items) {
		out.NextLink = c.NextLink(strconv.Itoa(end))
	}
	return &Response{Status: http.StatusOK, Body: out}, nil
}
