package cloud

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/store"
)

// serveTags answers the Tags API, {scope}/providers/Microsoft.Resources/tags/default:
// GET reads the tags of the scope's resource (subscription, resource group
// or resource), PUT replaces them, PATCH merges, replaces or deletes some
// (body {"operation", "properties": {"tags"}}), DELETE removes them all.
// The change is a write of the scope's resource and passes its pipeline.
func (c *Cloud) serveTags(ctx context.Context, call *Call) (*Response, error) {
	t := call.Target
	if t.Collection || t.Action != "" || !strings.EqualFold(t.Name, "default") {
		return nil, arm.NotFound("NotFound", "The Tags API is served at {scope}/providers/Microsoft.Resources/tags/default.")
	}
	scope := containerOf(t.Resource)
	scopeID := scope.String()
	if scope.Kind() == arm.ScopeRoot || scope.Kind() == arm.ScopeManagementGroup {
		return nil, arm.BadRequest("InvalidScope", "Tags are supported on subscriptions, resource groups and resources.")
	}
	switch call.Method {
	case http.MethodGet:
		r, err := c.Get(ctx, scopeID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, c.missingScope(ctx, scope)
		}
		if err != nil {
			return nil, storeError(err)
		}
		return &Response{Status: http.StatusOK, Body: tagsResource(t.ID, r.Doc)}, nil
	case http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return nil, methodNotAllowed(call.Method)
	}
	var body struct {
		Operation  string `json:"operation"`
		Properties struct {
			Tags map[string]any `json:"tags"`
		} `json:"properties"`
	}
	if call.Method != http.MethodDelete {
		if err := call.Decode(&body); err != nil {
			return nil, err
		}
		if _, err := validateTags(orEmpty(body.Properties.Tags)); err != nil {
			return nil, err
		}
	}
	op := strings.ToLower(body.Operation)
	if call.Method == http.MethodPatch && op != "merge" && op != "replace" && op != "delete" {
		return nil, arm.BadRequest("InvalidRequestContent", "The request content was invalid and could not be deserialized: 'operation' must be Merge, Replace or Delete.")
	}
	typ := scope.ResourceType()
	r, _, err := c.Put(ctx, call, PutRequest{ID: scopeID, Type: typ, Build: func(existing *Resource) (map[string]any, error) {
		if existing == nil {
			return nil, c.missingScope(ctx, scope)
		}
		doc := cloneDoc(existing.Doc)
		cur, _ := doc["tags"].(map[string]any)
		next := map[string]any{}
		switch {
		case call.Method == http.MethodDelete:
		case call.Method == http.MethodPut || op == "replace":
			next = orEmpty(body.Properties.Tags)
		case op == "merge":
			for k, v := range cur {
				next[k] = v
			}
			for k, v := range body.Properties.Tags {
				next[k] = v
			}
		case op == "delete":
			for k, v := range cur {
				if dv, ok := body.Properties.Tags[k]; !ok || (dv != "" && dv != v) {
					next[k] = v
				}
			}
		}
		doc["tags"] = next
		return doc, validateDocument(doc)
	}})
	if err != nil {
		return nil, err
	}
	if call.Method == http.MethodDelete {
		return &Response{Status: http.StatusOK}, nil
	}
	return &Response{Status: http.StatusOK, Body: tagsResource(t.ID, r.Doc)}, nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// tagsResource is the TagsResource shape.
func tagsResource(id string, doc map[string]any) map[string]any {
	tags, _ := doc["tags"].(map[string]any)
	return map[string]any{"id": id, "name": "default", "type": TypeTags,
		"properties": map[string]any{"tags": orEmpty(tags)}}
}

// missingScope is the 404 for a scope that does not exist.
func (c *Cloud) missingScope(ctx context.Context, scope *arm.ResourceID) error {
	if err := c.RequireScope(ctx, containerOf(scope)); err != nil {
		return err
	}
	switch scope.Kind() {
	case arm.ScopeSubscription:
		return subscriptionNotFound(scope.SubscriptionID)
	case arm.ScopeResourceGroup:
		return resourceGroupNotFound(scope.ResourceGroup)
	}
	return resourceNotFound(Target{Type: scope.ResourceType(), Name: scope.Name(), Resource: scope})
}
