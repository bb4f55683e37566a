package solutions

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/rbac"
	"github.com/steward-gov/steward/internal/store"
)

// canRead reports whether the caller may read an application: through
// RBAC, or as one of the publisher's authorized principals. Azure lets the
// publisher read the applications of its offer (the seed's notification
// handler GETs the application with the publisher's service principal).
func (p *Provider) canRead(ctx context.Context, pr identity.Principal, r cloud.Resource) bool {
	if p.c.Allowed(ctx, pr, rbac.Request{Action: TypeApplication + "/read", Scope: r.ID}) {
		return true
	}
	return isPublisher(r.Doc, pr)
}

// isPublisher reports whether pr (or one of its groups) is among the
// application's authorizations.
func isPublisher(doc map[string]any, pr identity.Principal) bool {
	props, _ := doc["properties"].(map[string]any)
	list, _ := props["authorizations"].([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		id := stringOf(m["principalId"])
		if id == "" {
			continue
		}
		if strings.EqualFold(id, pr.ObjectID) {
			return true
		}
		for _, g := range pr.Groups {
			if strings.EqualFold(id, g) {
				return true
			}
		}
	}
	return false
}

func appNotFound(t cloud.Target) *arm.Error {
	rg := ""
	if t.Resource != nil {
		rg = t.Resource.ResourceGroup
	}
	return arm.NotFound("ResourceNotFound",
		"The Resource '%s/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
		TypeApplication, t.Name, rg)
}

// getApplication answers GET and HEAD of an application (also reached as
// applications.get_by_id: the ID is the path).
func (p *Provider) getApplication(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	t := call.Target
	r, err := p.c.Get(ctx, t.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Whoever may not read the group learns nothing of what it holds.
		if err := call.Authorize(ctx, TypeApplication+"/read", t.ID); err != nil {
			return nil, err
		}
		return nil, appNotFound(t)
	case err != nil:
		call.SkipAuthorization()
		return nil, err
	}
	if !p.canRead(ctx, call.Principal, r) {
		return nil, call.Authorize(ctx, TypeApplication+"/read", t.ID)
	}
	call.SkipAuthorization()
	if call.Method == http.MethodHead {
		return &cloud.Response{Status: http.StatusOK}, nil
	}
	return &cloud.Response{Status: http.StatusOK, Body: r.Doc, ETag: r.ETag}, nil
}

// listApplications lists the applications of a resource group or a
// subscription that the caller may read (RBAC or publisher).
func (p *Provider) listApplications(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	scope, err := arm.ParseResourceID(call.Target.Scope)
	if err != nil || (scope.Kind() != arm.ScopeSubscription && scope.Kind() != arm.ScopeResourceGroup) {
		call.SkipAuthorization()
		return nil, arm.BadRequest("InvalidResourceType", "Applications are listed by subscription or resource group.")
	}
	whole := p.c.Allowed(ctx, call.Principal, rbac.Request{Action: TypeApplication + "/read", Scope: scope.String()})
	call.SkipAuthorization()
	if err := p.c.RequireScope(ctx, scope); err != nil {
		return nil, err
	}
	size, after, err := call.Paging()
	if err != nil {
		return nil, err
	}
	prefix := strings.ToLower(scope.String()) + "/"
	rs, next, err := p.c.List(ctx, cloud.ListQuery{Type: TypeApplication, Scope: scope.String(), Limit: size, After: after,
		Keep: func(r cloud.Resource) bool {
			return strings.HasPrefix(strings.ToLower(r.ID), prefix) && (whole || p.canRead(ctx, call.Principal, r))
		}})
	if err != nil {
		return nil, err
	}
	if !whole && len(rs) == 0 && next == "" {
		return nil, call.Authorize(ctx, TypeApplication+"/read", scope.String())
	}
	out := cloud.List{Value: make([]any, 0, len(rs)), NextLink: call.NextLink(next)}
	for _, r := range rs {
		out.Value = append(out.Value, r.Doc)
	}
	return &cloud.Response{Status: http.StatusOK, Body: out}, nil
}

// putApplication creates or updates an application: the document is
// stored Accepted, the managed resource group is provisioned, and the
// answer is Azure's long-running one (201/200 with Azure-AsyncOperation).
// Provisioning runs before the answer: its size is bounded by the
// template limits, and a client that polls finds it finished.
func (p *Provider) putApplication(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	resp, err := p.c.ServeGeneric(ctx, call)
	if err != nil {
		return nil, err
	}
	// Once stored, the application is provisioned to its end even if the
	// client goes away.
	ctx = context.WithoutCancel(ctx)
	accepted, _ := resp.Body.(map[string]any)
	app := cloud.Resource{ID: call.Target.ID, Doc: accepted}
	op := p.startOperation()
	outputs, perr := p.provision(ctx, call, app, resp.Status == http.StatusCreated)
	state := "Succeeded"
	if perr != nil {
		state = "Failed"
		p.log.Info("managed application provisioning failed", "application", app.ID, "err", perr)
	}
	final, err := p.finish(ctx, app.ID, state, outputs)
	if err != nil {
		return nil, err
	}
	p.enqueue(ctx, final, "PUT", state, perr)
	if err := p.endOperation(ctx, op, app.ID, state, perr); err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("Azure-AsyncOperation", p.operationURL(call, app.ID, op.ID))
	h.Set("Retry-After", "0")
	return &cloud.Response{Status: resp.Status, Body: accepted, Header: h}, nil
}

// patchApplication updates tags and the other patchable fields, and tells
// the publisher (PATCH Succeeded).
func (p *Provider) patchApplication(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	resp, err := p.c.ServeGeneric(context.WithValue(ctx, patchWrite{}, true), call)
	if err != nil {
		return nil, err
	}
	doc, _ := resp.Body.(map[string]any)
	p.enqueue(context.WithoutCancel(ctx), doc, "PATCH", "Succeeded", nil)
	return resp, nil
}

// deleteApplication removes the application, then its managed resource
// group with everything in it (resources, policy, role and deny
// assignments), telling the publisher DELETE Deleting, then Deleted (or
// Failed).
func (p *Provider) deleteApplication(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	t := call.Target
	r, err := p.c.Get(ctx, t.ID)
	if errors.Is(err, store.ErrNotFound) {
		return &cloud.Response{Status: http.StatusNoContent}, nil
	}
	if err != nil {
		return nil, err
	}
	ctx = context.WithoutCancel(ctx)
	op := p.startOperation()
	deleting := cloneMap(r.Doc)
	setState(deleting, "Deleting")
	p.enqueue(ctx, deleting, "DELETE", "Deleting", nil)
	if _, _, err := p.c.Delete(context.WithValue(ctx, directDelete{}, true), call, cloud.DeleteRequest{ID: t.ID, Cond: call.Precondition()}); err != nil {
		return nil, err
	}
	state := "Deleted"
	derr := p.deleteManagedGroup(ctx, r.Doc)
	if derr != nil {
		state = "Failed"
		p.log.Error("deleting a managed resource group failed", "application", t.ID, "err", derr)
	}
	setState(deleting, state)
	p.enqueue(ctx, deleting, "DELETE", state, derr)
	opState := "Succeeded"
	if derr != nil {
		opState = "Failed"
	}
	if err := p.endOperation(ctx, op, t.ID, opState, derr); err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("Azure-AsyncOperation", p.operationURL(call, t.ID, op.ID))
	h.Set("Retry-After", "0")
	return &cloud.Response{Status: http.StatusAccepted, Header: h}, nil
}

// directDelete marks the context of an application's own DELETE, which
// cleans up itself.
type directDelete struct{}

// onDelete cleans up after an application removed otherwise than by its
// own DELETE (its resource group was deleted): the managed resource group
// goes too, as in Azure, and the publisher is told. Without it the group
// would stay behind, locked by its deny assignment.
func (p *Provider) onDelete(ctx context.Context, _ string, doc map[string]any) {
	if ctx.Value(directDelete{}) != nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	deleting := cloneMap(doc)
	setState(deleting, "Deleting")
	p.enqueue(ctx, deleting, "DELETE", "Deleting", nil)
	state := "Deleted"
	err := p.deleteManagedGroup(ctx, doc)
	if err != nil {
		state = "Failed"
		p.log.Error("deleting a managed resource group failed", "application", stringOf(doc["id"]), "err", err)
	}
	setState(deleting, state)
	p.enqueue(ctx, deleting, "DELETE", state, err)
}

// deleteManagedGroup deletes the application's managed resource group,
// if it is still the one the application manages.
func (p *Provider) deleteManagedGroup(ctx context.Context, app map[string]any) error {
	props, _ := app["properties"].(map[string]any)
	mrg := stringOf(props["managedResourceGroupId"])
	if mrg == "" {
		return nil
	}
	g, err := p.c.Get(ctx, mrg)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !strings.EqualFold(stringOf(g.Doc["managedBy"]), stringOf(app["id"])) {
		return nil // not ours (anymore): leave it
	}
	_, _, err = p.c.Delete(ctx, nil, cloud.DeleteRequest{ID: g.ID})
	return err
}

// finish records the outcome of provisioning on the application.
func (p *Provider) finish(ctx context.Context, id, state string, outputs map[string]any) (map[string]any, error) {
	r, _, err := p.c.Put(context.WithValue(ctx, platformWrite{}, true), nil, cloud.PutRequest{ID: id, Type: TypeApplication,
		Build: func(existing *cloud.Resource) (map[string]any, error) {
			if existing == nil {
				return nil, arm.NotFound("ResourceNotFound", "The application was deleted while it was provisioned.")
			}
			doc := cloneMap(existing.Doc)
			setState(doc, state)
			if outputs != nil {
				doc["properties"].(map[string]any)["outputs"] = outputs
			}
			return doc, nil
		}})
	if err != nil {
		return nil, err
	}
	return r.Doc, nil
}

func setState(doc map[string]any, state string) {
	props, _ := doc["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
		doc["properties"] = props
	}
	props["provisioningState"] = state
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			out[k] = cloneMap(sub)
			continue
		}
		out[k] = v
	}
	return out
}
