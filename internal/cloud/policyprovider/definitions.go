package policyprovider

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/policy"
)

// kind tells policy definitions from policy set definitions, which share
// their scopes, lists and lifecycle.
type kind int

const (
	kindDefinition kind = iota
	kindSet
)

func (k kind) typ() string {
	if k == kindSet {
		return TypeSetDefinition
	}
	return TypeDefinition
}

func (k kind) notFound(name string) *arm.Error {
	if k == kindSet {
		return arm.NotFound("PolicySetDefinitionNotFound", "The policy set definition '%s' could not be found.", name)
	}
	return arm.NotFound("PolicyDefinitionNotFound", "The policy definition '%s' could not be found.", name)
}

// definitionRoutes serves one kind.
type definitionRoutes struct {
	p *Provider
	k kind
}

func (p *Provider) definitions(k kind) definitionRoutes { return definitionRoutes{p: p, k: k} }

// serve answers definitions at the tenant (built-in, read only),
// management-group and subscription levels.
func (d definitionRoutes) serve(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	t := call.Target
	scope := scopeOf(t.Scope)
	root := scopeKind(scope) == arm.ScopeRoot
	if t.Collection {
		if call.Method != http.MethodGet {
			call.SkipAuthorization()
			return nil, methodNotAllowed(call.Method)
		}
		return d.list(ctx, call, scope, root)
	}
	if root {
		// Built-ins are readable by every authenticated caller.
		call.SkipAuthorization()
		if call.Method != http.MethodGet && call.Method != http.MethodHead {
			return nil, arm.Errorf(http.StatusForbidden, "BuiltInPolicyDefinitionReadOnly", "Built-in policy definitions cannot be changed.")
		}
		doc, ok := d.p.builtins.get(d.k, t.Name)
		if !ok {
			return nil, d.k.notFound(t.Name)
		}
		return &cloud.Response{Status: http.StatusOK, Body: doc}, nil
	}
	switch call.Method {
	case http.MethodGet, http.MethodHead:
		if err := call.Authorize(ctx, d.k.typ()+"/read", t.ID); err != nil {
			return nil, err
		}
		r, err := d.p.get(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		if r == nil {
			return nil, d.k.notFound(t.Name)
		}
		return &cloud.Response{Status: http.StatusOK, Body: r.Doc}, nil
	case http.MethodPut:
		if err := call.Authorize(ctx, d.k.typ()+"/write", t.ID); err != nil {
			return nil, err
		}
		return d.put(ctx, call)
	case http.MethodDelete:
		if err := call.Authorize(ctx, d.k.typ()+"/delete", t.ID); err != nil {
			return nil, err
		}
		deleted, found, err := d.p.c.Delete(ctx, call, cloud.DeleteRequest{ID: t.ID, Cond: call.Precondition()})
		d.p.invalidate()
		if err != nil {
			return nil, err
		}
		if !found {
			return &cloud.Response{Status: http.StatusNoContent}, nil
		}
		return &cloud.Response{Status: http.StatusOK, Body: deleted.Doc}, nil
	}
	call.SkipAuthorization()
	return nil, methodNotAllowed(call.Method)
}

// list answers the built-ins plus, below the root, the custom definitions
// stored at the scope and above it; $filter=policyType eq '...' and
// category eq '...' narrow it.
func (d definitionRoutes) list(ctx context.Context, call *cloud.Call, scope string, root bool) (*cloud.Response, error) {
	if root {
		call.SkipAuthorization()
	} else if err := call.Authorize(ctx, d.k.typ()+"/read", scope); err != nil {
		return nil, err
	}
	f, err := cloud.ParseFuncFilter(call.Query.Get("$filter"), nil, []string{"policytype", "category"})
	if err != nil {
		return nil, err
	}
	keep := func(doc map[string]any) bool {
		if v, ok := f.Eq["policytype"]; ok && !strings.EqualFold(stringAt(doc, "properties", "policyType"), v) {
			return false
		}
		if v, ok := f.Eq["category"]; ok && !strings.EqualFold(stringAt(doc, "properties", "metadata", "category"), v) {
			return false
		}
		return true
	}
	var items []any
	for _, doc := range d.p.builtins.list(d.k) {
		if keep(doc) {
			items = append(items, doc)
		}
	}
	if !root {
		anc := d.p.c.ScopeAncestry(scope)
		stored, err := d.p.listAll(ctx, d.k.typ(), func(r cloud.Resource) bool {
			return anc[strings.ToLower(scopeFromID(r.ID))] && keep(r.Doc)
		})
		if err != nil {
			return nil, err
		}
		for _, r := range stored {
			items = append(items, r.Doc)
		}
	}
	return call.PageItems(items)
}

// put validates a custom definition with the policy engine and stores it.
func (d definitionRoutes) put(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	t := call.Target
	if k := scopeKind(t.Scope); k != arm.ScopeSubscription && k != arm.ScopeManagementGroup {
		return nil, arm.BadRequest("InvalidPolicyDefinitionScope", "Policy definitions can be created at a management group or a subscription, not at '%s'.", scopeOf(t.Scope))
	}
	if err := d.p.requireScope(ctx, t.Scope); err != nil {
		return nil, err
	}
	body, err := call.Document()
	if err != nil {
		return nil, err
	}
	props := propsOf(body)
	if pt := stringAt(body, "properties", "policyType"); pt != "" && !strings.EqualFold(pt, "Custom") && !strings.EqualFold(pt, "NotSpecified") {
		return nil, arm.BadRequest("InvalidPolicyType", "The policy type '%s' is not allowed: definitions created through the API are Custom.", pt)
	}
	props["policyType"] = "Custom"
	if d.k == kindDefinition {
		if stringAt(body, "properties", "mode") == "" {
			props["mode"] = "Indexed"
		}
	}
	doc := map[string]any{"id": t.ID, "name": t.Name, "type": d.k.typ(), "properties": props}
	if err := d.p.validateDefinition(ctx, d.k, doc); err != nil {
		return nil, err
	}
	now := timestamp(d.p.c)
	meta, _ := props["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		props["metadata"] = meta
	}
	meta["createdBy"], meta["createdOn"] = call.Principal.ObjectID, now
	meta["updatedBy"], meta["updatedOn"] = call.Principal.ObjectID, now
	r, created, err := d.p.c.Put(ctx, call, cloud.PutRequest{ID: t.ID, Type: d.k.typ(), Cond: call.Precondition(),
		Build: func(existing *cloud.Resource) (map[string]any, error) {
			if existing != nil {
				for _, k := range []string{"createdBy", "createdOn"} {
					if v := stringAt(existing.Doc, "properties", "metadata", k); v != "" {
						meta[k] = v
					}
				}
			}
			return doc, nil
		}})
	d.p.invalidate()
	if err != nil {
		return nil, err
	}
	// The spec answers a definition's PUT with 201 whether it created or
	// updated; a set's PUT with 200 or 201.
	status := http.StatusCreated
	if !created && d.k == kindSet {
		status = http.StatusOK
	}
	return &cloud.Response{Status: status, Body: r.Doc}, nil
}

// validateDefinition parses and compiles a definition or set with the
// policy engine; errors become ARM's 400s.
func (p *Provider) validateDefinition(ctx context.Context, k kind, doc map[string]any) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return arm.BadRequest("InvalidRequestContent", "The request content was invalid and could not be deserialized.")
	}
	opts := policy.CompileOptions{Aliases: p.opts.Aliases}
	if k == kindDefinition {
		def, err := policy.ParseDefinition(b)
		if err != nil {
			return definitionError(err)
		}
		if _, err := policy.Compile(def, opts); err != nil {
			return definitionError(err)
		}
		return nil
	}
	set, err := policy.ParseSetDefinition(b)
	if err != nil {
		return definitionError(err)
	}
	for _, m := range set.Members {
		if _, err := p.resolveDefinition(ctx, m.DefinitionID); err != nil {
			return err
		}
	}
	if _, err := policy.CompileSet(set, p.resolver(ctx), opts); err != nil {
		return definitionError(err)
	}
	return nil
}
