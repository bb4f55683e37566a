package cloud

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/store"
)

const mgPrefix = "/providers/Microsoft.Management/managementGroups/"

// serveManagementGroup answers PUT, PATCH, GET and DELETE of management
// groups and their list. A group's parent is properties.details.parent.id;
// without one it sits under the tenant root group, as in Azure.
func (c *Cloud) serveManagementGroup(ctx context.Context, call *Call) (*Response, error) {
	t := call.Target
	if t.Collection {
		if call.Method != http.MethodGet {
			return nil, methodNotAllowed(call.Method)
		}
		return c.listReadable(ctx, call, TypeManagementGroup, "")
	}
	if t.Action != "" {
		return unsupportedAction(ctx, call)
	}
	if err := call.Authorize(ctx, defaultAction(call.Method, t), t.ID); err != nil {
		return nil, err
	}
	switch call.Method {
	case http.MethodGet, http.MethodHead:
		r, err := c.Get(ctx, t.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, mgNotFound(t.Name)
		}
		if err != nil {
			return nil, storeError(err)
		}
		return documentResponse(http.StatusOK, r), nil
	case http.MethodPut, http.MethodPatch:
		return c.putManagementGroup(ctx, call)
	case http.MethodDelete:
		return c.deleteManagementGroup(ctx, call)
	}
	return nil, methodNotAllowed(call.Method)
}

func mgNotFound(name string) *arm.Error {
	return arm.NotFound("NotFound", "'%s' not found", truncate(name, 100))
}

// rootGroup is the name of the tenant root group.
func (c *Cloud) rootGroup() string { return c.opts.TenantID }

func (c *Cloud) putManagementGroup(ctx context.Context, call *Call) (*Response, error) {
	t := call.Target
	var body struct {
		Properties struct {
			DisplayName string `json:"displayName"`
			Details     struct {
				Parent struct {
					ID string `json:"id"`
				} `json:"parent"`
			} `json:"details"`
		} `json:"properties"`
		DisplayName string `json:"displayName"`
		ParentGroup string `json:"parentGroupId"`
	}
	if err := call.Decode(&body); err != nil {
		return nil, err
	}
	if len(t.Name) > 90 || strings.ContainsAny(t.Name, " %&?\\") {
		return nil, arm.BadRequest("InvalidManagementGroupName", "The management group name '%s' is invalid.", truncate(t.Name, 100))
	}
	display := body.Properties.DisplayName
	if display == "" {
		display = body.DisplayName
	}
	parentID := body.Properties.Details.Parent.ID
	if parentID == "" {
		parentID = body.ParentGroup
	}
	r, _, err := c.Put(ctx, call, PutRequest{ID: t.ID, Type: TypeManagementGroup, Cond: call.Precondition(),
		Build: func(existing *Resource) (map[string]any, error) {
			if call.Method == http.MethodPatch && existing == nil {
				return nil, mgNotFound(t.Name)
			}
			parent, err := c.resolveParent(ctx, t.Name, parentID, existing)
			if err != nil {
				return nil, err
			}
			name := t.Name
			if existing != nil {
				name = stringAt(existing.Doc, "name")
				if display == "" {
					display = stringAt(existing.Doc, "properties.displayName")
				}
			}
			if display == "" {
				display = name
			}
			details := map[string]any{"version": 1, "updatedTime": c.Now().Format(timeFormat), "updatedBy": call.Principal.ObjectID}
			if parent != nil {
				details["parent"] = parent
			}
			return map[string]any{"id": mgPrefix + name, "type": TypeManagementGroup, "name": name,
				"properties": map[string]any{"tenantId": c.opts.TenantID, "displayName": display, "details": details}}, nil
		}})
	if err != nil {
		return nil, err
	}
	// Azure answers a completed create with 200, like an update.
	return documentResponse(http.StatusOK, r), nil
}

// resolveParent checks a requested parent and returns the parent object
// of the document: {id, name, displayName}, nil for the root group.
func (c *Cloud) resolveParent(ctx context.Context, name, parentID string, existing *Resource) (map[string]any, error) {
	if strings.EqualFold(name, c.rootGroup()) {
		return nil, nil
	}
	if parentID == "" {
		if existing != nil {
			if p, ok := existing.Doc["properties"].(map[string]any)["details"].(map[string]any)["parent"].(map[string]any); ok {
				return p, nil
			}
		}
		parentID = mgPrefix + c.rootGroup()
	}
	pr, err := arm.ParseResourceID(parentID)
	if err != nil || pr.Kind() != arm.ScopeManagementGroup {
		return nil, arm.BadRequest("InvalidParentId", "The parent '%s' is not a management group ID.", truncate(parentID, 200))
	}
	if strings.EqualFold(pr.ManagementGroup, name) || c.currentHierarchy().wouldCycle(name, pr.ManagementGroup) {
		return nil, arm.BadRequest("InvalidParentId", "The parent '%s' would put management group '%s' below itself.", pr.ManagementGroup, name)
	}
	p, err := c.Get(ctx, mgPrefix+pr.ManagementGroup)
	if errors.Is(err, store.ErrNotFound) {
		return nil, arm.BadRequest("ParentNotFound", "The parent management group '%s' could not be found.", truncate(pr.ManagementGroup, 100))
	}
	if err != nil {
		return nil, storeError(err)
	}
	return map[string]any{"id": mgPrefix + stringAt(p.Doc, "name"), "name": stringAt(p.Doc, "name"),
		"displayName": stringAt(p.Doc, "properties.displayName")}, nil
}

// deleteManagementGroup removes an empty group: one with child groups or
// subscriptions is refused, as in Azure.
func (c *Cloud) deleteManagementGroup(ctx context.Context, call *Call) (*Response, error) {
	t := call.Target
	if strings.EqualFold(t.Name, c.rootGroup()) {
		return nil, arm.BadRequest("CannotDeleteRootManagementGroup", "The tenant root management group cannot be deleted.")
	}
	children, err := c.listAll(ctx, TypeManagementGroup)
	if err != nil {
		return nil, storeError(err)
	}
	for _, g := range children {
		if strings.EqualFold(mgParentName(g.Doc), t.Name) {
			return nil, arm.BadRequest("ManagementGroupHasChildren", "The management group '%s' has children and cannot be deleted.", t.Name)
		}
	}
	if subs, _, err := c.List(ctx, ListQuery{Type: TypeMGSubscription, Scope: mgPrefix + t.Name, Limit: 1}); err != nil {
		return nil, storeError(err)
	} else if len(subs) > 0 {
		return nil, arm.BadRequest("ManagementGroupHasChildren", "The management group '%s' has subscriptions and cannot be deleted.", t.Name)
	}
	_, found, err := c.Delete(ctx, call, DeleteRequest{ID: t.ID, Cond: call.Precondition()})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, mgNotFound(t.Name)
	}
	// Azure answers 202 and an Azure-AsyncOperation to poll; the delete is
	// complete here, and 204 is the other status the spec allows.
	return &Response{Status: http.StatusNoContent}, nil
}

// serveMGSubscription answers PUT, GET and DELETE of
// /providers/Microsoft.Management/managementGroups/{mg}/subscriptions/{s}:
// a subscription's membership in a group.
func (c *Cloud) serveMGSubscription(ctx context.Context, call *Call) (*Response, error) {
	t := call.Target
	mg := strings.TrimPrefix(t.Scope, mgPrefix)
	if t.Collection {
		if call.Method != http.MethodGet {
			return nil, methodNotAllowed(call.Method)
		}
		if err := call.Authorize(ctx, TypeManagementGroup+"/read", t.Scope); err != nil {
			return nil, err
		}
		return c.listReadable(ctx, call, TypeMGSubscription, t.Scope)
	}
	// Moving a subscription takes write on the group and, as Azure asks,
	// Owner-level rights (role-assignment write) on the subscription.
	if err := call.Authorize(ctx, defaultAction(call.Method, t), t.Scope); err != nil {
		return nil, err
	}
	if call.Method != http.MethodGet {
		if err := call.Authorize(ctx, TypeRoleAssignment+"/write", "/subscriptions/"+t.Name); err != nil {
			return nil, err
		}
	}
	switch call.Method {
	case http.MethodGet:
		r, err := c.Get(ctx, t.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, arm.NotFound("NotFound", "Subscription '%s' is not under management group '%s'.", truncate(t.Name, 100), truncate(mg, 100))
		}
		if err != nil {
			return nil, storeError(err)
		}
		return documentResponse(http.StatusOK, r), nil
	case http.MethodPut:
		if err := c.placeSubscription(ctx, call, mg, t.Name); err != nil {
			return nil, err
		}
		r, err := c.Get(ctx, t.ID)
		if err != nil {
			return nil, storeError(err)
		}
		return documentResponse(http.StatusOK, r), nil
	case http.MethodDelete:
		if _, _, err := c.Delete(ctx, call, DeleteRequest{ID: t.ID}); err != nil {
			return nil, err
		}
		return &Response{Status: http.StatusOK}, nil
	}
	return nil, methodNotAllowed(call.Method)
}

// placeSubscription moves a subscription under a management group,
// removing its previous membership.
func (c *Cloud) placeSubscription(ctx context.Context, call *Call, mg, sub string) error {
	g, err := c.Get(ctx, mgPrefix+mg)
	if errors.Is(err, store.ErrNotFound) {
		return mgNotFound(mg)
	}
	if err != nil {
		return storeError(err)
	}
	s, err := c.Get(ctx, "/subscriptions/"+sub)
	if errors.Is(err, store.ErrNotFound) {
		return subscriptionNotFound(sub)
	}
	if err != nil {
		return storeError(err)
	}
	sub = stringAt(s.Doc, "subscriptionId")
	if old := c.currentHierarchy().ParentGroup(arm.ScopeSubscription, sub); old != "" && !strings.EqualFold(old, mg) {
		if _, _, err := c.Delete(ctx, call, DeleteRequest{ID: mgPrefix + old + "/subscriptions/" + sub}); err != nil {
			return err
		}
	}
	name := stringAt(g.Doc, "name")
	doc := map[string]any{"id": mgPrefix + name + "/subscriptions/" + sub, "type": TypeMGSubscription, "name": sub,
		"properties": map[string]any{"tenant": c.opts.TenantID, "displayName": stringAt(s.Doc, "displayName"),
			"state":  stringAt(s.Doc, "state"),
			"parent": map[string]any{"id": mgPrefix + name}}}
	_, _, err = c.Put(ctx, call, PutRequest{ID: doc["id"].(string), Type: TypeMGSubscription, Doc: doc})
	return err
}

// listReadable lists a type (in scope) filtered to what the caller may
// read.
func (c *Cloud) listReadable(ctx context.Context, call *Call, typ, scope string) (*Response, error) {
	call.authorized = true
	size, after, err := call.Paging()
	if err != nil {
		return nil, err
	}
	rs, next, err := c.List(ctx, ListQuery{Type: typ, Scope: scope, Limit: size, After: after,
		Keep: func(r Resource) bool {
			// Memberships are readable with their group, checked by the caller.
			return typ == TypeMGSubscription || c.Allowed(ctx, call.Principal, rbacRead(typ, r.ID))
		}})
	if err != nil {
		return nil, listError(err)
	}
	return call.docList(rs, next), nil
}

// ensureRootGroup creates the tenant root group on first start.
func (c *Cloud) ensureRootGroup(ctx context.Context) error {
	if c.opts.TenantID == "" {
		return nil
	}
	id := mgPrefix + c.rootGroup()
	if ok, err := c.Exists(ctx, id); err != nil || ok {
		return err
	}
	doc := map[string]any{"id": id, "type": TypeManagementGroup, "name": c.rootGroup(),
		"properties": map[string]any{"tenantId": c.opts.TenantID, "displayName": "Tenant Root Group",
			"details": map[string]any{"version": 1, "updatedTime": c.Now().Format(timeFormat), "updatedBy": "Steward"}}}
	_, _, err := c.Put(ctx, nil, PutRequest{ID: id, Type: TypeManagementGroup, Doc: doc})
	return err
}
