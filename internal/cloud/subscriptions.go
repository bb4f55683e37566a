package cloud

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/rbac"
	"github.com/steward-gov/steward/internal/store"
)

// Subscription is what the administrator gives to create a subscription.
type Subscription struct {
	// ID is the subscription GUID.
	ID          string
	DisplayName string
	// ManagementGroup optionally places the subscription under a group.
	ManagementGroup string
	Tags            map[string]string
	// TenantID is the directory the subscription trusts; empty means the
	// home tenant.
	TenantID string
}

// subscriptionDocument is the ARM shape of a subscription
// (Subscriptions_Get in the resources spec).
func (c *Cloud) subscriptionDocument(s Subscription, prev map[string]any) map[string]any {
	doc := map[string]any{
		"id":                  "/subscriptions/" + s.ID,
		"authorizationSource": "RoleBased",
		"managedByTenants":    []any{},
		"subscriptionId":      s.ID,
		"tenantId":            c.opts.TenantID,
		"displayName":         s.DisplayName,
		"state":               "Enabled",
		"subscriptionPolicies": map[string]any{
			"locationPlacementId": "Public_2014-09-01",
			"quotaId":             "PayAsYouGo_2014-09-01",
			"spendingLimit":       "Off",
		},
	}
	if s.TenantID != "" {
		doc["tenantId"] = strings.ToLower(s.TenantID)
	} else if t := stringAt(prev, "tenantId"); t != "" {
		doc["tenantId"] = t
	}
	if st := stringAt(prev, "state"); st != "" {
		doc["state"] = st
	}
	if len(s.Tags) > 0 {
		tags := map[string]any{}
		for k, v := range s.Tags {
			tags[k] = v
		}
		doc["tags"] = tags
	} else if t, ok := prev["tags"]; ok {
		doc["tags"] = t
	}
	return doc
}

// CreateSubscription creates or updates a subscription of the home tenant
// on the administrator's behalf (call may be nil for Steward itself), and
// places it under its management group when one is named.
func (c *Cloud) CreateSubscription(ctx context.Context, call *Call, s Subscription) (Resource, bool, error) {
	if _, err := uuid.Parse(s.ID); err != nil {
		return Resource{}, false, arm.BadRequest("InvalidSubscriptionId", "The subscription ID '%s' is not a GUID.", truncate(s.ID, 100))
	}
	s.ID = strings.ToLower(s.ID)
	if s.DisplayName == "" {
		s.DisplayName = "Steward subscription " + s.ID[:8]
	}
	id := "/subscriptions/" + s.ID
	r, created, err := c.Put(ctx, call, PutRequest{ID: id, Type: TypeSubscription,
		Build: func(existing *Resource) (map[string]any, error) {
			var prev map[string]any
			if existing != nil {
				prev = existing.Doc
			}
			return c.subscriptionDocument(s, prev), nil
		}})
	if err != nil {
		return Resource{}, false, err
	}
	if s.ManagementGroup != "" {
		if err := c.placeSubscription(ctx, call, s.ManagementGroup, s.ID); err != nil {
			return r, created, err
		}
	}
	return r, created, nil
}

// EnsureOwner makes principalID Owner at scope through the pipeline, once:
// the bootstrap grant of the administrator. The assignment's name is
// derived from its inputs, so repeating the call changes nothing.
func (c *Cloud) EnsureOwner(ctx context.Context, scope, principalID, principalType string) error {
	doc := rbac.RoleAssignmentDocument(scope, rbac.OwnerRoleID, principalID, principalType)
	props, _ := doc["properties"].(map[string]any)
	if props != nil {
		props["roleDefinitionId"] = "/providers/Microsoft.Authorization/roleDefinitions/" + rbac.OwnerRoleID
		props["description"] = "Steward administrator (bootstrap)"
	}
	id, _ := doc["id"].(string)
	if ok, err := c.Exists(ctx, id); err != nil || ok {
		return err
	}
	_, _, err := c.Put(ctx, nil, PutRequest{ID: id, Type: TypeRoleAssignment, Doc: doc})
	return err
}

// serveSubscription answers GET of /subscriptions and /subscriptions/{s},
// and PUT of a subscription (a Steward extension for the administrator:
// body {"displayName", "tags", "managementGroupId"}).
func (c *Cloud) serveSubscription(ctx context.Context, call *Call) (*Response, error) {
	t := call.Target
	if t.Collection {
		if call.Method != http.MethodGet {
			return nil, methodNotAllowed(call.Method)
		}
		return c.listSubscriptions(ctx, call)
	}
	if t.Action != "" {
		return unsupportedAction(ctx, call)
	}
	switch call.Method {
	case http.MethodGet, http.MethodHead:
		if err := call.Authorize(ctx, TypeSubscription+"/read", t.ID); err != nil {
			return nil, err
		}
		r, err := c.Get(ctx, t.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, subscriptionNotFound(t.Name)
		}
		if err != nil {
			return nil, storeError(err)
		}
		return documentResponse(http.StatusOK, r), nil
	case http.MethodPut:
		if err := call.Authorize(ctx, TypeSubscription+"/write", t.ID); err != nil {
			return nil, err
		}
		var body struct {
			DisplayName       string            `json:"displayName"`
			Tags              map[string]string `json:"tags"`
			ManagementGroupID string            `json:"managementGroupId"`
		}
		if err := call.Decode(&body); err != nil {
			return nil, err
		}
		if err := validateSubscriptionBody(body.DisplayName, body.Tags); err != nil {
			return nil, err
		}
		mg := body.ManagementGroupID
		if r, err := arm.ParseResourceID(mg); err == nil && r.Kind() == arm.ScopeManagementGroup {
			mg = r.ManagementGroup
		}
		r, created, err := c.CreateSubscription(ctx, call, Subscription{ID: t.Name, DisplayName: body.DisplayName,
			ManagementGroup: mg, Tags: body.Tags})
		if err != nil {
			return nil, err
		}
		return putResponse(r, created), nil
	}
	return nil, methodNotAllowed(call.Method)
}

// maxSubscriptionName is the longest subscription display name Azure
// accepts (64 characters).
const maxSubscriptionName = 64

// validateSubscriptionBody checks a subscription's display name and tags
// against Azure's limits.
func validateSubscriptionBody(displayName string, tags map[string]string) error {
	if utf8.RuneCountInString(displayName) > maxSubscriptionName || strings.ContainsFunc(displayName, unicode.IsControl) {
		return arm.BadRequest("InvalidSubscriptionName",
			"The subscription display name must be at most %d characters without control characters.", maxSubscriptionName)
	}
	if tags == nil {
		return nil
	}
	m := make(map[string]any, len(tags))
	for k, v := range tags {
		m[k] = v
	}
	_, err := validateTags(m)
	return err
}

// listSubscriptions lists the subscriptions the caller has any access to.
func (c *Cloud) listSubscriptions(ctx context.Context, call *Call) (*Response, error) {
	call.authorized = true
	size, after, err := call.Paging()
	if err != nil {
		return nil, err
	}
	rs, next, err := c.List(ctx, ListQuery{Type: TypeSubscription, Limit: size, After: after,
		Keep: func(r Resource) bool {
			return c.Allowed(ctx, call.Principal, rbacRead(TypeSubscription, r.ID)) || c.anyGrantBelow(ctx, call, r.ID)
		}})
	if err != nil {
		return nil, listError(err)
	}
	return call.docList(rs, next), nil
}

func rbacRead(typ, scope string) rbac.Request {
	return rbac.Request{Action: typ + "/read", Scope: scope}
}
