package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/store"
)

// resourceGroupDocType is the type resource groups carry in their body.
const resourceGroupDocType = "Microsoft.Resources/resourceGroups"

// serveResourceGroup answers PUT, PATCH, GET, HEAD and DELETE of
// /subscriptions/{s}/resourceGroups/{rg}, and the list of a subscription's
// resource groups.
func (c *Cloud) serveResourceGroup(ctx context.Context, call *Call) (*Response, error) {
	if call.Target.Collection {
		if call.Method != http.MethodGet {
			return nil, methodNotAllowed(call.Method)
		}
		return c.listResourceGroups(ctx, call)
	}
	if call.Target.Action != "" {
		return unsupportedAction(ctx, call)
	}
	if err := call.Authorize(ctx, defaultAction(call.Method, call.Target), call.Target.ID); err != nil {
		return nil, err
	}
	switch call.Method {
	case http.MethodGet, http.MethodHead:
		r, err := c.Get(ctx, call.Target.ID)
		if errors.Is(err, store.ErrNotFound) {
			if call.Method == http.MethodHead {
				return &Response{Status: http.StatusNotFound}, nil
			}
			return nil, resourceGroupNotFound(call.Target.Name)
		}
		if err != nil {
			return nil, storeError(err)
		}
		if call.Method == http.MethodHead {
			return &Response{Status: http.StatusNoContent}, nil
		}
		return documentResponse(http.StatusOK, r), nil
	case http.MethodPut:
		return c.putResourceGroup(ctx, call)
	case http.MethodPatch:
		return c.patchResourceGroup(ctx, call)
	case http.MethodDelete:
		return c.deleteResourceGroup(ctx, call)
	}
	return nil, methodNotAllowed(call.Method)
}

// ValidResourceGroupName checks ARM's rules: 1 to 90 characters of
// letters, digits, '_', '-', '.', '(' and ')', not ending in '.'.
func ValidResourceGroupName(name string) bool {
	if name == "" || utf8.RuneCountInString(name) > 90 || strings.HasSuffix(name, ".") {
		return false
	}
	for _, r := range name {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_-.()", r)) {
			return false
		}
	}
	return true
}

func (c *Cloud) putResourceGroup(ctx context.Context, call *Call) (*Response, error) {
	t := call.Target
	if !ValidResourceGroupName(t.Name) {
		return nil, arm.BadRequest("InvalidResourceGroup",
			"The provided resource group name '%s' has these invalid characters: the name must be 1 to 90 letters, digits, underscores, hyphens, periods or parentheses and may not end in a period.", truncate(t.Name, 100))
	}
	body, err := call.Document()
	if err != nil {
		return nil, err
	}
	loc, _ := lookupFold(body, "location")
	if s, ok := loc.(string); !ok || strings.TrimSpace(s) == "" {
		return nil, arm.BadRequest("LocationRequired", "The location property is required for this definition.")
	}
	if err := c.RequireScope(ctx, &arm.ResourceID{SubscriptionID: t.Resource.SubscriptionID}); err != nil {
		return nil, err
	}
	r, created, err := c.Put(ctx, call, PutRequest{ID: t.ID, Type: TypeResourceGroup, Cond: call.Precondition(),
		Build: func(existing *Resource) (map[string]any, error) {
			fields := map[string]any{"location": loc}
			for _, k := range []string{"tags", "managedBy"} {
				if v, ok := lookupFold(body, k); ok && v != nil {
					fields[k] = v
				}
			}
			id := t.ID
			if existing != nil {
				id = orDefault(stringAt(existing.Doc, "id"), id)
				if was := stringAt(existing.Doc, "location"); was != NormalizeLocation(loc.(string)) {
					return nil, arm.Errorf(http.StatusConflict, "InvalidResourceGroupLocation",
						"Invalid resource group location '%s'. The Resource group already exists in location '%s'.", truncate(loc.(string), 60), was)
				}
			}
			doc, err := newDocument(id, lastSegment(id), resourceGroupDocType, fields)
			if err != nil {
				return nil, err
			}
			doc["properties"] = map[string]any{"provisioningState": "Succeeded"}
			return doc, nil
		}})
	if err != nil {
		return nil, err
	}
	return putResponse(r, created), nil
}

// patchResourceGroup updates tags and managedBy (ResourceGroupPatchable).
func (c *Cloud) patchResourceGroup(ctx context.Context, call *Call) (*Response, error) {
	t := call.Target
	body, err := call.Document()
	if err != nil {
		return nil, err
	}
	r, _, err := c.Put(ctx, call, PutRequest{ID: t.ID, Type: TypeResourceGroup, Cond: call.Precondition(),
		Build: func(existing *Resource) (map[string]any, error) {
			if existing == nil {
				return nil, resourceGroupNotFound(t.Name)
			}
			doc := cloneDoc(existing.Doc)
			for _, k := range []string{"tags", "managedBy"} {
				if v, ok := lookupFold(body, k); ok {
					if v == nil {
						delete(doc, k)
					} else {
						doc[k] = v
					}
				}
			}
			return doc, validateDocument(doc)
		}})
	if err != nil {
		return nil, err
	}
	return documentResponse(http.StatusOK, r), nil
}

// deleteResourceGroup deletes the group and everything in it in one
// transaction, then answers 202 with a Location to poll, which reports
// completion at once (docs/decisions/cloud.md).
func (c *Cloud) deleteResourceGroup(ctx context.Context, call *Call) (*Response, error) {
	t := call.Target
	_, found, err := c.Delete(ctx, call, DeleteRequest{ID: t.ID, Cond: call.Precondition()})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, resourceGroupNotFound(t.Name)
	}
	opID, err := c.recordOperation(ctx, call, t.Resource.SubscriptionID, t.ID, "Succeeded")
	if err != nil {
		return nil, err
	}
	loc := call.baseURL() + "/subscriptions/" + url.PathEscape(t.Resource.SubscriptionID) + "/operationresults/" + opID +
		"?api-version=" + url.QueryEscape(call.APIVersion)
	h := http.Header{}
	h.Set("Location", loc)
	h.Set("Retry-After", "0")
	return &Response{Status: http.StatusAccepted, Header: h}, nil
}

// listResourceGroups lists a subscription's groups that the caller may
// read: all of them with read access on the subscription, else those
// granted group by group.
func (c *Cloud) listResourceGroups(ctx context.Context, call *Call) (*Response, error) {
	scope := call.Target.Scope
	sub := strings.TrimPrefix(scope, "/subscriptions/")
	call.authorized = true
	whole := c.Allowed(ctx, call.Principal, rbacRead(TypeResourceGroup, scope))
	if !whole && !c.Allowed(ctx, call.Principal, rbacRead(TypeSubscription, scope)) && !c.anyGrantBelow(ctx, call, scope) {
		return nil, authorizationFailed(call.Principal, TypeResourceGroup+"/read", scope)
	}
	f, err := ParseFilter(call.Query.Get("$filter"))
	if err != nil {
		return nil, err
	}
	size, after, err := call.Paging()
	if err != nil {
		return nil, err
	}
	if err := c.RequireScope(ctx, &arm.ResourceID{SubscriptionID: sub}); err != nil {
		return nil, err
	}
	rs, next, err := c.List(ctx, ListQuery{Type: TypeResourceGroup, Scope: scope, Limit: size, After: after,
		Keep: func(r Resource) bool {
			return f.Match(r.Doc, resourceGroupDocType) &&
				(whole || c.Allowed(ctx, call.Principal, rbacRead(TypeResourceGroup, r.ID)))
		}})
	if err != nil {
		return nil, listError(err)
	}
	return call.docList(rs, next), nil
}

// anyGrantBelow reports whether the caller holds some role assignment
// inside scope, which lets it list what it may see there.
func (c *Cloud) anyGrantBelow(ctx context.Context, call *Call, scope string) bool {
	ids := map[string]bool{strings.ToLower(call.Principal.ObjectID): true}
	for _, g := range call.Principal.Groups {
		ids[strings.ToLower(g)] = true
	}
	for _, ra := range c.Engine().RoleAssignments() {
		if ids[strings.ToLower(ra.PrincipalID)] && arm.IsScopeAncestor(scope, ra.Scope) {
			return true
		}
	}
	return false
}

// recordOperation stores the result of an asynchronous operation for its
// operationresults URL and returns the operation's ID.
func (c *Cloud) recordOperation(ctx context.Context, call *Call, sub, resourceID, status string) (string, error) {
	id := strings.ReplaceAll(c.newID(), "-", "")
	b, err := json.Marshal(map[string]string{"status": status, "resourceId": resourceID, "subscriptionId": sub,
		"principal": call.Principal.ObjectID})
	if err != nil {
		return "", err
	}
	err = c.store.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Put(ctx, tableOperations, strings.ToLower(sub)+"/"+id, b, store.Cond{})
		return err
	})
	return id, storeError(err)
}

// serveOperationResult answers the polling of an asynchronous operation:
// 200 when it has completed, 202 while it runs, 404 for an unknown one.
// The principal that started the operation may poll it (its access may
// have gone with the deleted group), and so may readers of the
// subscription.
func (c *Cloud) serveOperationResult(ctx context.Context, call *Call) (*Response, error) {
	if call.Method != http.MethodGet {
		return nil, methodNotAllowed(call.Method)
	}
	call.authorized = true
	sub := strings.TrimPrefix(call.Target.Scope, "/subscriptions/")
	var rec store.Record
	err := c.store.View(ctx, func(tx store.Tx) error {
		var err error
		rec, err = tx.Get(ctx, tableOperations, strings.ToLower(sub)+"/"+strings.ToLower(call.Target.Name))
		return err
	})
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid) {
		return nil, arm.NotFound("OperationNotFound", "The operation '%s' could not be found.", truncate(call.Target.Name, 100))
	}
	if err != nil {
		return nil, storeError(err)
	}
	var op map[string]string
	_ = json.Unmarshal(rec.Value, &op)
	if !strings.EqualFold(op["principal"], call.Principal.ObjectID) {
		if err := call.Authorize(ctx, TypeSubscription+"/read", call.Target.Scope); err != nil {
			return nil, err
		}
	}
	if op["status"] != "Succeeded" {
		h := http.Header{}
		h.Set("Location", call.baseURL()+call.HTTP.URL.RequestURI())
		h.Set("Retry-After", "1")
		return &Response{Status: http.StatusAccepted, Header: h}, nil
	}
	return &Response{Status: http.StatusOK}, nil
}
