package cloud

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/store"
)

// Deployment resource types.
const (
	TypeDeployment          = "Microsoft.Resources/deployments"
	TypeDeploymentOperation = "Microsoft.Resources/deployments/operations"
	TypeDeploymentStatus    = "Microsoft.Resources/deployments/operationStatuses"
)

// deploymentRoutes are the routes of template deployments at every scope:
// the deployments themselves, their actions (validate, whatIf, cancel,
// exportTemplate), their operations and the status of their asynchronous
// operation.
func (c *Cloud) deploymentRoutes() []Route {
	v := arm.TypeAPIVersions(TypeDeployment)
	return []Route{
		{Type: TypeDeployment, APIVersions: v, Handler: c.serveDeployment},
		{Type: TypeDeployment, Action: "validate", APIVersions: v, Handler: c.serveValidate},
		{Type: TypeDeployment, Action: "whatIf", APIVersions: v, Handler: c.serveWhatIf},
		{Type: TypeDeployment, Action: "cancel", APIVersions: v, Handler: c.serveCancel},
		{Type: TypeDeployment, Action: "exportTemplate", APIVersions: v, Handler: c.serveExportTemplate},
		{Type: TypeDeploymentOperation, APIVersions: v, Handler: c.serveDeploymentOperations},
		{Type: TypeDeploymentStatus, APIVersions: v, Handler: c.serveDeploymentStatus},
	}
}

// deploymentScope is the scope a deployment target sits in and its name.
func deploymentScope(t Target) (scope, name string) {
	if t.Resource == nil {
		return t.Scope, ""
	}
	return containerOf(t.Resource).String(), t.Resource.Names[0]
}

func deploymentNotFound(name string) *arm.Error {
	return arm.NotFound("DeploymentNotFound", "Deployment '%s' could not be found.", truncate(name, 100))
}

func (c *Cloud) serveDeployment(ctx context.Context, call *Call) (*Response, error) {
	t := call.Target
	if t.Collection {
		if call.Method != http.MethodGet {
			return nil, methodNotAllowed(call.Method)
		}
		return c.serveDeploymentList(ctx, call)
	}
	scope, name := deploymentScope(t)
	switch call.Method {
	case http.MethodGet, http.MethodHead:
		rec, err := c.getDeployment(ctx, scope, name)
		if errors.Is(err, store.ErrNotFound) {
			if call.Method == http.MethodHead {
				return &Response{Status: http.StatusNotFound}, nil
			}
			return nil, deploymentNotFound(name)
		}
		if err != nil {
			return nil, storeError(err)
		}
		rec = c.settle(ctx, scope, name, rec)
		if call.Method == http.MethodHead {
			return &Response{Status: http.StatusNoContent}, nil
		}
		return &Response{Status: http.StatusOK, Body: rec.Doc}, nil
	case http.MethodPut:
		return c.createDeployment(ctx, call)
	case http.MethodDelete:
		if rec, err := c.getDeployment(ctx, scope, name); err == nil && inProgress(c.settle(ctx, scope, name, rec).state()) {
			return nil, arm.Errorf(http.StatusConflict, "DeploymentActive",
				"The deployment '%s' is still running and cannot be deleted; cancel it first, or wait for it to end.", truncate(name, 100))
		}
		found, err := c.deleteDeployment(ctx, scope, name)
		if err != nil {
			return nil, storeError(err)
		}
		if !found {
			return &Response{Status: http.StatusNoContent}, nil
		}
		sub := t.Resource.SubscriptionID
		if sub == "" {
			return &Response{Status: http.StatusNoContent}, nil
		}
		opID, err := c.recordOperation(ctx, call, sub, t.ID, "Succeeded")
		if err != nil {
			return nil, err
		}
		h := http.Header{}
		h.Set("Location", call.baseURL()+"/subscriptions/"+url.PathEscape(sub)+"/operationresults/"+opID+"?api-version="+url.QueryEscape(call.APIVersion))
		h.Set("Retry-After", "0")
		return &Response{Status: http.StatusAccepted, Header: h}, nil
	}
	return nil, methodNotAllowed(call.Method)
}

func (c *Cloud) serveDeploymentList(ctx context.Context, call *Call) (*Response, error) {
	size, after, err := call.Paging()
	if err != nil {
		return nil, err
	}
	if scope, perr := arm.ParseResourceID(call.Target.Scope); perr == nil {
		if err := c.RequireScope(ctx, scope); err != nil {
			return nil, err
		}
	}
	docs, next, err := c.listDeployments(ctx, call.Target.Scope, size, after)
	if err != nil {
		return nil, listError(err)
	}
	f := call.Query.Get("$filter")
	items := make([]any, 0, len(docs))
	for _, d := range docs {
		d = c.settleDoc(ctx, d)
		if f != "" && !matchProvisioningFilter(f, d) {
			continue
		}
		items = append(items, d)
	}
	body := map[string]any{"value": items}
	if next != "" {
		body["nextLink"] = call.NextLink(next)
	}
	return &Response{Status: http.StatusOK, Body: body}, nil
}

// matchProvisioningFilter supports the one filter the deployments list
// documents: provisioningState eq '{state}'.
func matchProvisioningFilter(f string, doc map[string]any) bool {
	parts := strings.Fields(f)
	if len(parts) != 3 || !strings.EqualFold(parts[0], "provisioningState") || !strings.EqualFold(parts[1], "eq") {
		return true
	}
	props, _ := doc["properties"].(map[string]any)
	state, _ := props["provisioningState"].(string)
	return strings.EqualFold(strings.Trim(parts[2], "'"), state)
}

// loadDeployment reads the deployment an action targets.
func (c *Cloud) loadDeployment(ctx context.Context, call *Call) (*deploymentRecord, error) {
	scope, name := deploymentScope(call.Target)
	rec, err := c.getDeployment(ctx, scope, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, deploymentNotFound(name)
	}
	if err != nil {
		return nil, storeError(err)
	}
	return c.settle(ctx, scope, name, rec), nil
}

func (c *Cloud) serveExportTemplate(ctx context.Context, call *Call) (*Response, error) {
	if call.Method != http.MethodPost {
		return nil, methodNotAllowed(call.Method)
	}
	rec, err := c.loadDeployment(ctx, call)
	if err != nil {
		return nil, err
	}
	return &Response{Status: http.StatusOK, Body: map[string]any{"template": rec.Template}}, nil
}

// serveDeploymentOperations lists a deployment's operations or returns one.
func (c *Cloud) serveDeploymentOperations(ctx context.Context, call *Call) (*Response, error) {
	if call.Method != http.MethodGet {
		return nil, methodNotAllowed(call.Method)
	}
	t := call.Target
	var dep, opID string
	if t.Collection {
		dep = t.Scope
	} else {
		dep, opID = t.Scope, t.Name
	}
	r, err := arm.ParseResourceID(dep)
	if err != nil || len(r.Names) == 0 {
		return nil, badURI(call.HTTP.URL.Path)
	}
	scope, name := containerOf(r).String(), r.Names[0]
	if _, err := c.getDeployment(ctx, scope, name); errors.Is(err, store.ErrNotFound) {
		return nil, deploymentNotFound(name)
	} else if err != nil {
		return nil, storeError(err)
	}
	ops, err := c.listOperations(ctx, scope, name, opID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, arm.NotFound("DeploymentOperationNotFound", "Operation '%s' of deployment '%s' could not be found.", truncate(opID, 100), name)
	}
	if err != nil {
		return nil, storeError(err)
	}
	if opID != "" {
		return &Response{Status: http.StatusOK, Body: ops[0]}, nil
	}
	items := make([]any, len(ops))
	for i, op := range ops {
		items[i] = op
	}
	return &Response{Status: http.StatusOK, Body: map[string]any{"value": items}}, nil
}

// serveDeploymentStatus answers the Azure-AsyncOperation URL of a
// deployment: {"status", "error"}.
func (c *Cloud) serveDeploymentStatus(ctx context.Context, call *Call) (*Response, error) {
	if call.Method != http.MethodGet {
		return nil, methodNotAllowed(call.Method)
	}
	r, err := arm.ParseResourceID(call.Target.Scope)
	if err != nil || len(r.Names) == 0 {
		return nil, badURI(call.HTTP.URL.Path)
	}
	scope, name := containerOf(r).String(), r.Names[0]
	rec, err := c.getDeployment(ctx, scope, name)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !strings.EqualFold(rec.OperationID, call.Target.Name)) {
		return nil, arm.NotFound("OperationNotFound", "The operation '%s' could not be found.", truncate(call.Target.Name, 100))
	}
	if err != nil {
		return nil, storeError(err)
	}
	rec = c.settle(ctx, scope, name, rec)
	props, _ := rec.Doc["properties"].(map[string]any)
	body := map[string]any{"status": props["provisioningState"]}
	if e, ok := props["error"]; ok {
		body["error"] = e
	}
	var h http.Header
	if inProgress(rec.state()) {
		// Pollers wait this long before asking again (the SDK's default
		// is 30 seconds without it).
		h = http.Header{"Retry-After": []string{"1"}}
	}
	return &Response{Status: http.StatusOK, Body: body, Header: h}, nil
}
