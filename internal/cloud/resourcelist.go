package cloud

import (
	"context"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
)

// listFields are the properties of a resource in the resource lists
// (GenericResourceExpanded): everything but properties and systemData.
var listFields = []string{"id", "name", "type", "location", "kind", "managedBy", "sku", "identity", "plan",
	"tags", "extendedLocation", "zones"}

// serveResourceList answers GET /subscriptions/{s}/resources and
// GET /subscriptions/{s}/resourceGroups/{rg}/resources: the top-level
// resources of the scope, with $filter, $top and $expand.
func (c *Cloud) serveResourceList(ctx context.Context, call *Call) (*Response, error) {
	if call.Method != http.MethodGet {
		return nil, methodNotAllowed(call.Method)
	}
	scope, err := arm.ParseResourceID(call.Target.Scope)
	if err != nil {
		return nil, badURI(call.HTTP.URL.Path)
	}
	action := "Microsoft.Resources/subscriptions/resources/read"
	if scope.ResourceGroup != "" {
		action = "Microsoft.Resources/subscriptions/resourceGroups/resources/read"
	}
	if err := call.Authorize(ctx, action, call.Target.Scope); err != nil {
		return nil, err
	}
	f, err := ParseFilter(call.Query.Get("$filter"))
	if err != nil {
		return nil, err
	}
	size, after, err := call.Paging()
	if err != nil {
		return nil, err
	}
	if err := c.RequireScope(ctx, scope); err != nil {
		return nil, err
	}
	expand := strings.ToLower(call.Query.Get("$expand"))
	q := ListQuery{Scope: call.Target.Scope, Limit: size, After: after, Type: f.resourceType(),
		Keep: func(r Resource) bool { return isTopLevel(r.ID) && f.Match(r.Doc, r.Type) }}
	rs, next, err := c.List(ctx, q)
	if err != nil {
		return nil, listError(err)
	}
	out := List{Value: make([]any, 0, len(rs))}
	for _, r := range rs {
		item := map[string]any{}
		for _, k := range listFields {
			if v, ok := r.Doc[k]; ok {
				item[k] = v
			}
		}
		if strings.Contains(expand, "createdtime") {
			item["createdTime"] = r.Created.UTC().Format(timeFormat)
		}
		if strings.Contains(expand, "changedtime") {
			item["changedTime"] = r.Updated.UTC().Format(timeFormat)
		}
		if strings.Contains(expand, "provisioningstate") {
			if ps := stringAt(r.Doc, "properties.provisioningState"); ps != "" {
				item["provisioningState"] = ps
			}
		}
		out.Value = append(out.Value, item)
	}
	out.NextLink = call.NextLink(next)
	return &Response{Status: http.StatusOK, Body: out}, nil
}

// isTopLevel reports whether id names a top-level resource of a resource
// group or subscription: not a child, not an extension resource, not a
// scope document.
func isTopLevel(id string) bool {
	r, err := arm.ParseResourceID(id)
	return err == nil && r.Kind() == arm.ScopeResource && r.Parent == nil && len(r.Types) == 1 && len(r.Names) == 1
}
