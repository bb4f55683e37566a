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

// scopedType describes assignments and exemptions, which live at every
// scope below the root and share their lifecycle.
type scopedType struct {
	typ string
	// field is the lower-case $filter field compared with the property at
	// path (policyDefinitionId, policyAssignmentId).
	field string
	path  []string
	// notFound is the 404 code and noun.
	notFound, noun string
	// write validates and stores a body (a PUT's, or a PATCH merged into
	// the stored document).
	write func(ctx context.Context, call *cloud.Call, body map[string]any) (cloud.Resource, bool, error)
	// alwaysCreated answers every PUT with 201, as the spec of
	// assignments says.
	alwaysCreated bool
}

// serveScoped answers a scoped type. The Cloud has already authorized
// {type}/read|write|delete at the target.
func (p *Provider) serveScoped(st scopedType) cloud.Handler {
	return func(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
		t := call.Target
		if t.Collection {
			if call.Method != http.MethodGet {
				return nil, methodNotAllowed(call.Method)
			}
			return p.listScoped(ctx, call, st.typ, st.field, st.path...)
		}
		switch call.Method {
		case http.MethodGet, http.MethodHead:
			return p.getScoped(ctx, call, arm.NotFound(st.notFound, "The %s '%s' is not found.", st.noun, t.Name))
		case http.MethodPut, http.MethodPatch:
			body, err := call.Document()
			if err != nil {
				return nil, err
			}
			if call.Method == http.MethodPatch {
				stored, err := p.get(ctx, t.ID)
				if err != nil {
					return nil, err
				}
				if stored == nil {
					return nil, arm.NotFound(st.notFound, "The %s '%s' is not found.", st.noun, t.Name)
				}
				body = mergePatch(stored.Doc, body)
			}
			r, created, err := st.write(ctx, call, body)
			p.invalidate()
			if err != nil {
				return nil, err
			}
			status := http.StatusOK
			if call.Method == http.MethodPut && (created || st.alwaysCreated) {
				status = http.StatusCreated
			}
			return &cloud.Response{Status: status, Body: r.Doc}, nil
		case http.MethodDelete:
			return p.deleteScoped(ctx, call)
		}
		return nil, methodNotAllowed(call.Method)
	}
}

func (p *Provider) getScoped(ctx context.Context, call *cloud.Call, notFound *arm.Error) (*cloud.Response, error) {
	r, err := p.get(ctx, call.Target.ID)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, notFound
	}
	return &cloud.Response{Status: http.StatusOK, Body: r.Doc}, nil
}

func (p *Provider) deleteScoped(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	deleted, found, err := p.c.Delete(ctx, call, cloud.DeleteRequest{ID: call.Target.ID, Cond: call.Precondition()})
	p.invalidate()
	if err != nil {
		return nil, err
	}
	if !found {
		return &cloud.Response{Status: http.StatusNoContent}, nil
	}
	return &cloud.Response{Status: http.StatusOK, Body: deleted.Doc}, nil
}

// listScoped lists assignments or exemptions at, above and below a scope.
// atScope() keeps those at and above, atExactScope() those at it; field
// eq 'value' compares the property at path.
func (p *Provider) listScoped(ctx context.Context, call *cloud.Call, typ, field string, path ...string) (*cloud.Response, error) {
	scope := scopeOf(call.Target.Scope)
	f, err := cloud.ParseFuncFilter(call.Query.Get("$filter"), []string{"atscope", "atexactscope", "excludeexpired"}, []string{field})
	if err != nil {
		return nil, err
	}
	anc := p.c.ScopeAncestry(scope)
	now := p.c.Now()
	rs, err := p.listAll(ctx, typ, func(r cloud.Resource) bool {
		if v, ok := f.Eq[field]; ok && !arm.EqualIDs(stringAt(r.Doc, path...), v) && !strings.EqualFold(stringAt(r.Doc, path...), v) {
			return false
		}
		if f.Has("excludeexpired") {
			if exp := stringAt(r.Doc, "properties", "expiresOn"); exp != "" && expired(exp, now) {
				return false
			}
		}
		s := scopeFromID(r.ID)
		switch {
		case f.Has("atexactscope"):
			return arm.EqualIDs(s, scope)
		case anc[strings.ToLower(s)]:
			return true
		}
		return !f.Has("atscope") && arm.IsScopeAncestor(scope, s)
	})
	if err != nil {
		return nil, err
	}
	items := make([]any, 0, len(rs))
	for _, r := range rs {
		items = append(items, r.Doc)
	}
	return call.PageItems(items)
}

// putAssignment validates an assignment (its definition exists and is
// visible from the scope, its parameters bind) and stores it with the
// defaults ARM fills in; a system-assigned identity gets its principal.
func (p *Provider) writeAssignment(ctx context.Context, call *cloud.Call, body map[string]any) (cloud.Resource, bool, error) {
	t := call.Target
	scope := scopeOf(t.Scope)
	if scopeKind(scope) == arm.ScopeRoot {
		return cloud.Resource{}, false, arm.BadRequest("InvalidPolicyAssignmentScope", "Policy assignments cannot be created at the tenant root '/'.")
	}
	if err := p.requireScope(ctx, scope); err != nil {
		return cloud.Resource{}, false, err
	}
	props := propsOf(body)
	defID := stringAt(body, "properties", "policyDefinitionId")
	if defID == "" {
		return cloud.Resource{}, false, arm.BadRequest("InvalidRequestContent", "The policy assignment is missing the required property 'policyDefinitionId'.")
	}
	k := kindDefinition
	if strings.Contains(strings.ToLower(defID), "/policysetdefinitions/") {
		k = kindSet
	}
	if _, err := p.lookup(ctx, k, defID); err != nil {
		return cloud.Resource{}, false, err
	}
	if !p.c.ScopeAncestry(scope)[strings.ToLower(scopeFromID(defID))] {
		return cloud.Resource{}, false, outOfScope(t.Name)
	}
	props["scope"] = scope
	if _, ok := props["notScopes"]; !ok {
		props["notScopes"] = []any{}
	}
	if stringAt(body, "properties", "enforcementMode") == "" {
		props["enforcementMode"] = "Default"
	}
	doc := map[string]any{"id": t.ID, "name": t.Name, "type": TypeAssignment, "properties": props}
	for _, key := range []string{"location", "identity"} {
		if v, ok := body[key]; ok && v != nil {
			doc[key] = v
		}
	}
	b, _ := json.Marshal(doc)
	a, err := policy.ParseAssignment(b)
	if err != nil {
		return cloud.Resource{}, false, definitionError(err)
	}
	a.Scope = ""
	if _, err := policy.CompileAssignment(a, p.resolvers(ctx), policy.CompileOptions{Aliases: p.opts.Aliases, AllowUnknownAliases: true}); err != nil {
		return cloud.Resource{}, false, definitionError(err)
	}
	return p.c.Put(ctx, call, cloud.PutRequest{ID: t.ID, Type: TypeAssignment, Cond: call.Precondition(),
		Build: func(existing *cloud.Resource) (map[string]any, error) {
			var prev map[string]any
			if existing != nil {
				prev, _ = existing.Doc["identity"].(map[string]any)
			}
			if err := p.completeIdentity(doc, prev); err != nil {
				return nil, err
			}
			return doc, nil
		}})
}

// completeIdentity gives a SystemAssigned identity its principalId (kept
// across updates) and tenantId; None removes the identity.
func (p *Provider) completeIdentity(doc, prev map[string]any) error {
	id, ok := doc["identity"].(map[string]any)
	if !ok {
		delete(doc, "identity")
		return nil
	}
	switch typ, _ := id["type"].(string); strings.ToLower(typ) {
	case "systemassigned":
		pid, _ := prev["principalId"].(string)
		if pid == "" {
			pid = p.opts.NewID()
		}
		id["type"], id["principalId"], id["tenantId"] = "SystemAssigned", pid, p.c.TenantID()
	case "userassigned":
		if m, ok := id["userAssignedIdentities"].(map[string]any); !ok || len(m) != 1 {
			return arm.BadRequest("InvalidPolicyAssignmentIdentity", "A UserAssigned identity must name exactly one user-assigned identity.")
		}
		id["type"] = "UserAssigned"
	case "none", "":
		delete(doc, "identity")
	default:
		return arm.BadRequest("InvalidPolicyAssignmentIdentity", "The identity type '%s' is not supported.", typ)
	}
	return nil
}

// mergePatch applies a PATCH body to a stored assignment or exemption:
// identity and location are replaced when given, properties are merged
// key by key.
func mergePatch(stored, patch map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range []string{"location", "identity"} {
		if v, ok := stored[k]; ok {
			out[k] = v
		}
		if v, ok := patch[k]; ok {
			out[k] = v
		}
	}
	props := map[string]any{}
	if sp, ok := stored["properties"].(map[string]any); ok {
		for k, v := range sp {
			props[k] = v
		}
	}
	if pp, ok := patch["properties"].(map[string]any); ok {
		for k, v := range pp {
			props[k] = v
		}
	}
	out["properties"] = props
	return out
}
