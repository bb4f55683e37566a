package authorization

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/rbac"
	"github.com/steward-gov/steward/internal/store"
)

// TypePermissions is the pseudo type of {scope}/providers/Microsoft.Authorization/permissions.
const TypePermissions = "Microsoft.Authorization/permissions"

// Provider serves the access-control types of Microsoft.Authorization.
type Provider struct {
	c *cloud.Cloud
}

// New returns the provider over a Cloud.
func New(c *cloud.Cloud) *Provider { return &Provider{c: c} }

// Register adds the provider's routes to c; it does nothing when c already
// serves them, so every Cloud can have it registered by default.
func Register(c *cloud.Cloud) error {
	if c.Serves(cloud.TypeRoleAssignment) {
		return nil
	}
	return c.Register(New(c))
}

// Routes implements cloud.Provider. Every route checks access itself:
// role-assignment writes carry condition attributes, and some reads are
// open to every authenticated caller.
func (p *Provider) Routes() []cloud.Route {
	return []cloud.Route{
		{Type: cloud.TypeRoleDefinition, SelfAuthorize: true, Handler: p.serveRoleDefinitions},
		{Type: cloud.TypeRoleAssignment, SelfAuthorize: true, Handler: p.serveRoleAssignments},
		{Type: cloud.TypeDenyAssignment, SelfAuthorize: true, Handler: p.serveDenyAssignments},
		{Type: TypePermissions, SelfAuthorize: true, Handler: p.servePermissions},
		{Type: TypeDelegationAnalysis, SelfAuthorize: true, Handler: p.serveDelegationAnalysis},
	}
}

// scopeOf normalizes a target's scope: the tenant root is "/".
func scopeOf(s string) string {
	if s == "" {
		return "/"
	}
	return s
}

// ancestry is the set of scopes at and above scope (lower-cased).
func (p *Provider) ancestry(scope string) map[string]bool { return p.c.ScopeAncestry(scope) }

// atOrAbove reports whether an item at itemScope is at or above the scope
// whose ancestry anc is.
func (p *Provider) atOrAbove(anc map[string]bool, itemScope string) bool {
	return anc[strings.ToLower(scopeOf(itemScope))]
}

// pageOf answers a list computed in memory.
func pageOf(call *cloud.Call, items []any) (*cloud.Response, error) { return call.PageItems(items) }

// listStored answers a list of stored documents of a type that keep selects.
func (p *Provider) listStored(ctx context.Context, call *cloud.Call, typ string, keep func(cloud.Resource) bool) (*cloud.Response, error) {
	size, after, err := call.Paging()
	if err != nil {
		return nil, err
	}
	rs, next, err := p.c.List(ctx, cloud.ListQuery{Type: typ, Keep: keep, Limit: size, After: after})
	if err != nil {
		return nil, err
	}
	out := cloud.List{Value: make([]any, 0, len(rs))}
	for _, r := range rs {
		out.Value = append(out.Value, r.Doc)
	}
	out.NextLink = call.NextLink(next)
	return &cloud.Response{Status: http.StatusOK, Body: out}, nil
}

// requireScope checks that a scope exists (the root always does).
func (p *Provider) requireScope(ctx context.Context, scope string) error {
	if scope == "/" || scope == "" {
		return nil
	}
	r, err := arm.ParseResourceID(scope)
	if err != nil {
		return arm.BadRequest("InvalidScope", "The scope '%s' is not valid.", scope)
	}
	return p.c.RequireScope(ctx, r)
}

// get reads a stored document; missing is (nil, nil).
func (p *Provider) get(ctx context.Context, id string) (*cloud.Resource, error) {
	r, err := p.c.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// roleGUID is the GUID at the end of a role definition ID (or the GUID
// itself), lower-cased; "" when it is not one.
func roleGUID(ref string) string {
	ref = strings.TrimRight(ref, "/")
	if i := strings.LastIndexByte(ref, '/'); i >= 0 {
		ref = ref[i+1:]
	}
	return canonicalGUID(ref)
}

// canonicalGUID lower-cases a GUID in 8-4-4-4-12 form; "" when s is not one.
func canonicalGUID(s string) string {
	if len(s) != 36 {
		return ""
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return ""
			}
		default:
			if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
				return ""
			}
		}
	}
	return strings.ToLower(s)
}

// subscriptionRoleID is the role definition ID as ARM shows it in a scope:
// subscription-scoped inside a subscription, tenant-level elsewhere.
func subscriptionRoleID(scope, guid string) string {
	id := "/providers/Microsoft.Authorization/roleDefinitions/" + guid
	if r, err := arm.ParseResourceID(scope); err == nil && r.SubscriptionID != "" {
		return "/subscriptions/" + r.SubscriptionID + id
	}
	return id
}

// callerIDs is the caller's object ID and groups, lower-cased, as a set.
func callerIDs(call *cloud.Call) map[string]bool {
	ids := map[string]bool{strings.ToLower(call.Principal.ObjectID): true}
	for _, g := range call.Principal.Groups {
		ids[strings.ToLower(g)] = true
	}
	return ids
}

// roleCatalog is the live catalog of the Cloud's engine.
func (p *Provider) roleCatalog() *rbac.Catalog { return p.c.Engine().Catalog() }

func methodNotAllowed(m string) error {
	return arm.Errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "The requested resource does not support http method '%s'.", m)
}

func stringAt(doc map[string]any, path ...string) string {
	var cur any = doc
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[k]
	}
	s, _ := cur.(string)
	return s
}
