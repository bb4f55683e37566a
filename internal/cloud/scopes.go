package cloud

import (
	"context"
	"errors"
	"net/http"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/store"
)

// RequireScope checks that the scope a resource is written in exists: its
// subscription (enabled), resource group, management group, parent
// resource, or the resource an extension resource is attached to. It
// returns ARM's 404 for the first missing level.
func (c *Cloud) RequireScope(ctx context.Context, scope *arm.ResourceID) error {
	if scope == nil {
		return nil
	}
	if scope.Parent != nil {
		if err := c.RequireScope(ctx, scope.Parent); err != nil {
			return err
		}
	}
	if scope.ManagementGroup != "" && scope.SubscriptionID == "" && scope.Parent == nil {
		if err := c.requireDoc(ctx, "/providers/Microsoft.Management/managementGroups/"+scope.ManagementGroup,
			func() *arm.Error {
				return arm.NotFound("ManagementGroupNotFound", "The management group '%s' could not be found.", scope.ManagementGroup)
			}); err != nil {
			return err
		}
	}
	if scope.SubscriptionID != "" {
		sub, err := c.Get(ctx, "/subscriptions/"+scope.SubscriptionID)
		if errors.Is(err, store.ErrNotFound) {
			return subscriptionNotFound(scope.SubscriptionID)
		}
		if err != nil {
			return storeError(err)
		}
		if st := stringAt(sub.Doc, "state"); st != "" && st != "Enabled" {
			return arm.Errorf(http.StatusConflict, "ReadOnlyDisabledSubscription",
				"The subscription '%s' is disabled and therefore marked as read only. You cannot perform any write actions on this subscription until it is re-enabled.", scope.SubscriptionID)
		}
	}
	if scope.ResourceGroup != "" {
		if err := c.requireDoc(ctx, "/subscriptions/"+scope.SubscriptionID+"/resourceGroups/"+scope.ResourceGroup,
			func() *arm.Error { return resourceGroupNotFound(scope.ResourceGroup) }); err != nil {
			return err
		}
	}
	if scope.Kind() == arm.ScopeResource && len(scope.Types) > 0 {
		name := scope.Name()
		if err := c.requireDoc(ctx, scope.String(), func() *arm.Error {
			return arm.NotFound("ParentResourceNotFound",
				"Can not perform requested operation on nested resource. Parent resource '%s' not found.", name)
		}); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cloud) requireDoc(ctx context.Context, id string, missing func() *arm.Error) error {
	ok, err := c.Exists(ctx, id)
	if err != nil {
		return storeError(err)
	}
	if !ok {
		return missing()
	}
	return nil
}

func subscriptionNotFound(s string) *arm.Error {
	return arm.NotFound("SubscriptionNotFound", "The subscription '%s' could not be found.", truncate(s, 100))
}

func resourceGroupNotFound(rg string) *arm.Error {
	return arm.NotFound("ResourceGroupNotFound", "Resource group '%s' could not be found.", truncate(rg, 100))
}
