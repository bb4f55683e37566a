package cloud

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/store"
)

// serveGeneric serves resources of types no provider registered: stored
// documents with PUT, PATCH, GET, HEAD, DELETE and lists of a type.
func (c *Cloud) serveGeneric(ctx context.Context, call *Call) (*Response, error) {
	t := call.Target
	if t.Collection {
		if call.Method != http.MethodGet {
			return nil, methodNotAllowed(call.Method)
		}
		return c.listOfType(ctx, call)
	}
	switch call.Method {
	case http.MethodPut, http.MethodPatch:
		if missing, refused := c.notImplemented(t.Type); refused {
			return nil, refuseUnimplemented(t.Type, missing)
		}
	}
	switch call.Method {
	case http.MethodGet, http.MethodHead:
		return c.getResource(ctx, call)
	case http.MethodPut:
		return c.putGeneric(ctx, call)
	case http.MethodPatch:
		return c.patchGeneric(ctx, call)
	case http.MethodDelete:
		return c.deleteGeneric(ctx, call)
	}
	return nil, methodNotAllowed(call.Method)
}

// getResource answers GET (the document) and HEAD (204) of any stored
// resource; a missing one is reported at the first missing level.
func (c *Cloud) getResource(ctx context.Context, call *Call) (*Response, error) {
	r, err := c.Get(ctx, call.Target.ID)
	if errors.Is(err, store.ErrNotFound) {
		if call.Method == http.MethodHead {
			return &Response{Status: http.StatusNotFound}, nil
		}
		r := call.Target.Resource
		if serr := c.RequireScope(ctx, &arm.ResourceID{SubscriptionID: r.SubscriptionID, ResourceGroup: r.ResourceGroup}); serr != nil {
			return nil, serr
		}
		return nil, resourceNotFound(call.Target)
	}
	if err != nil {
		return nil, storeError(err)
	}
	if call.Method == http.MethodHead {
		return &Response{Status: http.StatusNoContent, ETag: r.ETag}, nil
	}
	return documentResponse(http.StatusOK, r), nil
}

func (c *Cloud) putGeneric(ctx context.Context, call *Call) (*Response, error) {
	t := call.Target
	body, err := call.Document()
	if err != nil {
		return nil, err
	}
	if err := c.RequireScope(ctx, containerOf(t.Resource)); err != nil {
		return nil, err
	}
	r, created, err := c.Put(ctx, call, PutRequest{ID: t.ID, Type: t.Type, Cond: call.Precondition(),
		Build: func(existing *Resource) (map[string]any, error) {
			id, typ := t.ID, t.Type
			if existing != nil {
				// The first spelling of the ID and type stays.
				id, typ = orDefault(stringAt(existing.Doc, "id"), id), orDefault(stringAt(existing.Doc, "type"), typ)
			}
			return newDocument(id, lastSegment(id), typ, body)
		}})
	if err != nil {
		return nil, err
	}
	return putResponse(r, created), nil
}

// patchGeneric merges a body into a stored resource: tags, sku, identity,
// kind, plan and managedBy are replaced when given, properties are merged
// as a JSON merge patch.
func (c *Cloud) patchGeneric(ctx context.Context, call *Call) (*Response, error) {
	t := call.Target
	body, err := call.Document()
	if err != nil {
		return nil, err
	}
	r, _, err := c.Put(ctx, call, PutRequest{ID: t.ID, Type: t.Type, Cond: call.Precondition(),
		Build: func(existing *Resource) (map[string]any, error) {
			if existing == nil {
				return nil, resourceNotFound(t)
			}
			return patchDocument(existing.Doc, body)
		}})
	if err != nil {
		return nil, err
	}
	return documentResponse(http.StatusOK, r), nil
}

// patchDocument applies a PATCH body to a stored document.
func patchDocument(stored, body map[string]any) (map[string]any, error) {
	doc := cloneDoc(stored)
	for _, k := range topLevelFields {
		v, ok := lookupFold(body, k)
		if !ok {
			continue
		}
		switch {
		case k == "location":
			continue // a resource does not move by PATCH
		case k == "properties":
			p, isObj := v.(map[string]any)
			if v != nil && !isObj {
				return nil, invalidContent("properties", "an object")
			}
			cur, _ := doc["properties"].(map[string]any)
			doc["properties"] = mergePatch(cur, p)
		case v == nil:
			delete(doc, k)
		default:
			doc[k] = v
		}
	}
	if err := validateDocument(doc); err != nil {
		return nil, err
	}
	return doc, nil
}

func (c *Cloud) deleteGeneric(ctx context.Context, call *Call) (*Response, error) {
	_, found, err := c.Delete(ctx, call, DeleteRequest{ID: call.Target.ID, Cond: call.Precondition()})
	if err != nil {
		return nil, err
	}
	if !found {
		return &Response{Status: http.StatusNoContent}, nil
	}
	return &Response{Status: http.StatusOK}, nil
}

// listOfType lists the resources of one type in a scope
// (GET {scope}/providers/{ns}/{type}).
func (c *Cloud) listOfType(ctx context.Context, call *Call) (*Response, error) {
	size, after, err := call.Paging()
	if err != nil {
		return nil, err
	}
	if scope, perr := arm.ParseResourceID(call.Target.Scope); perr == nil {
		if err := c.RequireScope(ctx, scope); err != nil {
			return nil, err
		}
	}
	rs, next, err := c.List(ctx, ListQuery{Type: call.Target.Type, Scope: call.Target.Scope, Limit: size, After: after,
		Keep: func(r Resource) bool { return inListScope(r.ID, call.Target.Scope) }})
	if err != nil {
		return nil, listError(err)
	}
	return call.docList(rs, next), nil
}

// inListScope reports whether a list of a type at scope includes id: the
// resources directly in scope and, for a subscription, those directly in
// its resource groups too (ARM's ListBySubscription operations).
func inListScope(id, scope string) bool {
	if directlyIn(id, scope) {
		return true
	}
	s, err := arm.ParseResourceID(scope)
	if err != nil || s.Kind() != arm.ScopeSubscription {
		return false
	}
	r, err := arm.ParseResourceID(id)
	if err != nil || r.ResourceGroup == "" || !strings.EqualFold(r.SubscriptionID, s.SubscriptionID) {
		return false
	}
	c := containerOf(r)
	return c.Kind() == arm.ScopeResourceGroup
}

// directlyIn reports whether id's container is scope (resources of a
// resource group, children of a resource), rather than something deeper.
func directlyIn(id, scope string) bool {
	r, err := arm.ParseResourceID(id)
	if err != nil {
		return false
	}
	return arm.EqualIDs(containerOf(r).String(), scope)
}

// listError maps a bad continuation token to 400.
func listError(err error) error {
	if errors.Is(err, store.ErrInvalid) {
		return invalidSkipToken()
	}
	return storeError(err)
}

func lastSegment(id string) string {
	return id[strings.LastIndexByte(id, '/')+1:]
}

// orDefault is s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
