package insights

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/policy"
	"github.com/steward-gov/steward/internal/store"
)

// TypeRemediations is the remediation task resource type.
const TypeRemediations = "Microsoft.PolicyInsights/remediations"

// RemediationAPIVersions are the api-versions of remediations.
var RemediationAPIVersions = []string{"2018-07-01-preview", "2019-07-01", "2021-10-01", "2024-10-01"}

// tableRemediationDeployments holds a remediation's deployments, keyed by
// the lower-case remediation ID.
const tableRemediationDeployments = "insights.remediation_deployments"

// Remediation limits: Azure's documented resourceCount range and default.
const (
	defaultResourceCount = 500
	maxResourceCount     = 50000
	maxParallel          = 30
)

func (e *Engine) remediationRoutes() cloud.Routes {
	return cloud.Routes{
		{Type: TypeRemediations, APIVersions: RemediationAPIVersions, Handler: e.serveRemediation},
		{Type: TypeRemediations, Action: "cancel", APIVersions: RemediationAPIVersions, Handler: e.serveRemediationCancel},
		// listDeployments is a read on Azure
		// (Microsoft.PolicyInsights/remediations/listDeployments/read).
		{Type: TypeRemediations, Action: "listDeployments", APIVersions: RemediationAPIVersions, SelfAuthorize: true, Handler: e.serveRemediationDeployments},
	}
}

// remediationDeployment is one entry of listDeployments.
type remediationDeployment struct {
	RemediatedResourceID string         `json:"remediatedResourceId"`
	DeploymentID         string         `json:"deploymentId,omitempty"`
	Status               string         `json:"status"`
	ResourceLocation     string         `json:"resourceLocation,omitempty"`
	Error                map[string]any `json:"error,omitempty"`
	CreatedOn            string         `json:"createdOn"`
	LastUpdatedOn        string         `json:"lastUpdatedOn"`
}

// remediationInput is the writable part of a remediation's properties.
type remediationInput struct {
	AssignmentID  string
	ReferenceID   string
	Discovery     string
	Locations     []string
	ResourceIDs   []string
	ResourceCount int
	Parallel      int
	Failure       float64
	HasFailure    bool
}

func (e *Engine) serveRemediation(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	switch call.Method {
	case http.MethodPut:
		return e.createRemediation(ctx, call)
	case http.MethodPatch:
		return nil, arm.Errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "Remediations are updated with PUT.")
	case http.MethodDelete:
		resp, err := e.cloud.ServeGeneric(ctx, call)
		if err == nil && call.Target.ID != "" {
			_ = e.cloud.Store().Update(ctx, func(tx store.Tx) error {
				err := tx.Delete(ctx, tableRemediationDeployments, strings.ToLower(call.Target.ID), store.Cond{})
				if errors.Is(err, store.ErrNotFound) {
					return nil
				}
				return err
			})
		}
		return resp, err
	default:
		return e.cloud.ServeGeneric(ctx, call)
	}
}

// remediationScope is the scope a remediation ID sits at.
func remediationScope(id string) (string, error) {
	i := strings.LastIndex(strings.ToLower(id), "/providers/microsoft.policyinsights/remediations/")
	if i <= 0 {
		return "", arm.BadRequest("InvalidRequestUri", "Remediations are created at a management group, subscription, resource group or resource.")
	}
	return id[:i], nil
}

func parseRemediationInput(doc map[string]any) (*remediationInput, error) {
	props, ok := doc["properties"].(map[string]any)
	if !ok {
		return nil, arm.BadRequest("InvalidRequestContent", "The remediation must have an object 'properties'.")
	}
	in := &remediationInput{ResourceCount: defaultResourceCount, Parallel: 10}
	str := func(k string) (string, error) {
		v, ok := lookupFold(props, k)
		if !ok || v == nil {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", arm.BadRequest("InvalidRequestContent", "The remediation property '%s' must be a string.", k)
		}
		return s, nil
	}
	num := func(k string, lo, hi float64) (float64, bool, error) {
		v, ok := lookupFold(props, k)
		if !ok || v == nil {
			return 0, false, nil
		}
		f, ok := number(v)
		if !ok || f < lo || f > hi || f != math.Trunc(f) {
			return 0, false, arm.BadRequest("InvalidRequestContent", "The remediation property '%s' must be a whole number from %g to %g.", k, lo, hi)
		}
		return f, true, nil
	}
	var err error
	if in.AssignmentID, err = str("policyAssignmentId"); err != nil {
		return nil, err
	}
	if in.AssignmentID == "" {
		return nil, arm.BadRequest("InvalidRequestContent", "The remediation must name a policy assignment in 'properties.policyAssignmentId'.")
	}
	if in.ReferenceID, err = str("policyDefinitionReferenceId"); err != nil {
		return nil, err
	}
	if in.Discovery, err = str("resourceDiscoveryMode"); err != nil {
		return nil, err
	}
	switch {
	case in.Discovery == "" || strings.EqualFold(in.Discovery, "ExistingNonCompliant"):
		in.Discovery = "ExistingNonCompliant"
	case strings.EqualFold(in.Discovery, "ReEvaluateCompliance"):
		in.Discovery = "ReEvaluateCompliance"
	default:
		return nil, arm.BadRequest("InvalidRequestContent", "The resource discovery mode '%s' is not valid: use ExistingNonCompliant or ReEvaluateCompliance.", truncate(in.Discovery, 40))
	}
	if f, ok, err := num("resourceCount", 1, maxResourceCount); err != nil {
		return nil, err
	} else if ok {
		in.ResourceCount = int(f)
	}
	if f, ok, err := num("parallelDeployments", 1, maxParallel); err != nil {
		return nil, err
	} else if ok {
		in.Parallel = int(f)
	}
	if ft, ok := lookupFold(props, "failureThreshold"); ok && ft != nil {
		m, ok := ft.(map[string]any)
		if !ok {
			return nil, arm.BadRequest("InvalidRequestContent", "The remediation property 'failureThreshold' must be an object.")
		}
		if v, ok := lookupFold(m, "percentage"); ok && v != nil {
			f, ok := number(v)
			if !ok || f < 0 || f > 1 {
				return nil, arm.BadRequest("InvalidRequestContent", "The failure threshold percentage must be a number from 0 to 1.")
			}
			in.Failure, in.HasFailure = f, true
		}
	}
	if fl, ok := lookupFold(props, "filters"); ok && fl != nil {
		m, ok := fl.(map[string]any)
		if !ok {
			return nil, arm.BadRequest("InvalidRequestContent", "The remediation property 'filters' must be an object.")
		}
		list := func(k string) ([]string, error) {
			v, ok := lookupFold(m, k)
			if !ok || v == nil {
				return nil, nil
			}
			a, ok := v.([]any)
			if !ok {
				return nil, arm.BadRequest("InvalidRequestContent", "The remediation filter '%s' must be an array of strings.", k)
			}
			out := make([]string, 0, len(a))
			for _, x := range a {
				s, ok := x.(string)
				if !ok {
					return nil, arm.BadRequest("InvalidRequestContent", "The remediation filter '%s' must be an array of strings.", k)
				}
				out = append(out, s)
			}
			return out, nil
		}
		if in.Locations, err = list("locations"); err != nil {
			return nil, err
		}
		if in.ResourceIDs, err = list("resourceIds"); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// number reads a JSON number, decoded as float64 or json.Number.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

func lookupFold(m map[string]any, k string) (any, bool) {
	if v, ok := m[k]; ok {
		return v, true
	}
	for kk, v := range m {
		if strings.EqualFold(kk, k) {
			return v, true
		}
	}
	return nil, false
}

// within reports whether id is scope or below it.
func within(id, scope string) bool {
	id, scope = strings.ToLower(id), strings.ToLower(strings.TrimRight(scope, "/"))
	return id == scope || strings.HasPrefix(id, scope+"/")
}

func (e *Engine) createRemediation(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	id := call.Target.ID
	scope, err := remediationScope(id)
	if err != nil {
		return nil, err
	}
	sr, err := arm.ParseResourceID(scope)
	if err != nil {
		return nil, arm.BadRequest("InvalidRequestUri", "The request URI is not valid.")
	}
	if err := e.cloud.RequireScope(ctx, sr); err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := call.Decode(&doc); err != nil {
		return nil, err
	}
	in, err := parseRemediationInput(doc)
	if err != nil {
		return nil, err
	}
	ps, err := e.current(ctx)
	if err != nil {
		return nil, err
	}
	var c *compiled
	for _, x := range ps.assigned {
		if arm.EqualIDs(x.a.ID, in.AssignmentID) {
			c = x
			break
		}
	}
	if c == nil {
		return nil, arm.BadRequest("PolicyAssignmentNotFound", "The policy assignment '%s' is not found.", truncate(in.AssignmentID, 300))
	}
	aScope := assignmentScope(c.a.ID)
	if sr.Kind() != arm.ScopeManagementGroup && !within(scope, aScope) && !strings.Contains(strings.ToLower(aScope), "/managementgroups/") {
		return nil, arm.BadRequest("InvalidCreateRemediationRequest", "The policy assignment '%s' does not apply at the remediation's scope '%s'.", truncate(c.a.ID, 300), truncate(scope, 300))
	}
	if c.eval.Set != nil && in.ReferenceID == "" {
		return nil, arm.BadRequest("InvalidCreateRemediationRequest", "The policy assignment assigns a policy set: name the member to remediate in 'properties.policyDefinitionReferenceId'.")
	}
	if c.eval.Set == nil {
		in.ReferenceID = ""
	} else if !setHasMember(c, in.ReferenceID) {
		return nil, arm.BadRequest("InvalidCreateRemediationRequest", "The policy set of the assignment has no member with reference ID '%s'.", truncate(in.ReferenceID, 100))
	}
	// The deployments run as the assignment's identity: an assignment with
	// resources to remediate and no identity is refused now.
	if in.Discovery == "ExistingNonCompliant" {
		targets, err := e.remediationTargets(ctx, scope, sr, c, in)
		if err != nil {
			return nil, err
		}
		if len(targets) > 0 {
			if _, err := e.assignmentPrincipal(ctx, c.a.ID); err != nil {
				return nil, err
			}
		}
	}
	// A remediation that has not ended is not replaced.
	if prev, err := e.cloud.Get(ctx, id); err == nil {
		pp, _ := prev.Doc["properties"].(map[string]any)
		if st := stringOf(pp["provisioningState"]); remediationInProgress(st) && e.remediationQueued(ctx, id) {
			return nil, arm.Errorf(http.StatusConflict, "RemediationInProgress", "The remediation '%s' is %s: cancel it or wait for its end before creating it again.", truncate(call.Target.Name, 100), st)
		}
	}
	now := e.stamp()
	out := map[string]any{"id": id, "name": call.Target.Name, "type": TypeRemediations}
	props := map[string]any{
		"policyAssignmentId":    c.a.ID,
		"resourceDiscoveryMode": in.Discovery,
		"resourceCount":         in.ResourceCount,
		"parallelDeployments":   in.Parallel,
		"provisioningState":     remAccepted,
		"createdOn":             now,
		"lastUpdatedOn":         now,
		"correlationId":         call.CorrelationID,
		"deploymentStatus":      map[string]any{"totalDeployments": 0, "successfulDeployments": 0, "failedDeployments": 0},
	}
	if in.ReferenceID != "" {
		props["policyDefinitionReferenceId"] = in.ReferenceID
	}
	if in.HasFailure {
		props["failureThreshold"] = map[string]any{"percentage": in.Failure}
	}
	filters := map[string]any{}
	if in.Locations != nil {
		filters["locations"] = in.Locations
	}
	if in.ResourceIDs != nil {
		filters["resourceIds"] = in.ResourceIDs
	}
	if len(filters) > 0 {
		props["filters"] = filters
	}
	out["properties"] = props
	stored, created, err := e.cloud.Put(ctx, call, cloud.PutRequest{ID: id, Type: TypeRemediations, Doc: out, Cond: call.Precondition()})
	if err != nil {
		return nil, err
	}
	// The deployments run in the background; GET shows their progress.
	if err := e.cloud.Store().Update(ctx, func(tx store.Tx) error {
		err := tx.Delete(ctx, tableRemediationDeployments, strings.ToLower(id), store.Cond{})
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}); err != nil {
		return nil, err
	}
	if err := e.queueRemediation(ctx, remediationJob{ID: stored.ID, Scope: scope, Input: *in, Host: call.HTTP.Host, TLS: call.HTTP.TLS != nil,
		CorrelationID: call.CorrelationID, Created: now}); err != nil {
		return nil, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return &cloud.Response{Status: status, Body: stored.Doc, ETag: stored.ETag}, nil
}

func setHasMember(c *compiled, ref string) bool {
	for _, m := range c.eval.Set.Members {
		if strings.EqualFold(m.ReferenceID, ref) {
			return true
		}
	}
	return false
}

// remediationTargets lists the non-compliant deployIfNotExists and modify
// states of the assignment (and member) in scope, filtered and capped.
func (e *Engine) remediationTargets(ctx context.Context, scope string, sr *arm.ResourceID, c *compiled, in *remediationInput) ([]*State, error) {
	prefix := strings.ToLower(scope)
	mg := ""
	if sr.Kind() == arm.ScopeManagementGroup {
		prefix, mg = "", sr.ManagementGroup
	}
	var out []*State
	_, err := e.scanStates(ctx, prefix, "", readStore, func(s *State) bool {
		if len(out) >= in.ResourceCount {
			return false
		}
		if !arm.EqualIDs(s.AssignmentID, c.a.ID) || s.State != policy.StateNonCompliant ||
			(in.ReferenceID != "" && !strings.EqualFold(s.ReferenceID, in.ReferenceID)) {
			return true
		}
		if !strings.EqualFold(s.Effect, policy.EffectDeployIfNotExists) && !strings.EqualFold(s.Effect, policy.EffectModify) {
			return true
		}
		if mg != "" && !containsFold(s.ManagementGroups, mg) {
			return true
		}
		if mg == "" && !within(s.ResourceID, scope) {
			return true
		}
		if in.Locations != nil && !containsFold(in.Locations, s.Location) {
			return true
		}
		if in.ResourceIDs != nil && !containsID(in.ResourceIDs, s.ResourceID) {
			return true
		}
		out = append(out, s)
		return true
	})
	return out, err
}

func containsID(list []string, id string) bool {
	for _, x := range list {
		if arm.EqualIDs(x, id) {
			return true
		}
	}
	return false
}

// remediate evaluates the assignment for one resource again, to get the
// effect's details with the resource's values, and applies them.
func (e *Engine) remediate(ctx context.Context, call *cloud.Call, ps *policies, c *compiled, ref string, s *State, name string) remediationDeployment {
	d := remediationDeployment{RemediatedResourceID: s.ResourceID, ResourceLocation: s.Location, Status: "Failed"}
	fail := func(code, format string, args ...any) remediationDeployment {
		d.Error = map[string]any{"code": code, "message": fmt.Sprintf(format, args...)}
		return d
	}
	r, err := e.cloud.Get(ctx, s.ResourceID)
	if err != nil {
		return fail("ResourceNotFound", "The resource '%s' could not be read.", s.ResourceID)
	}
	m, ok := e.memberResult(ctx, ps, c, r, ref, s.ReferenceID)
	if !ok || m.State != policy.StateNonCompliant {
		d.Status = "Succeeded"
		return d
	}
	sub, group := resourceParts(s.ResourceID)
	details, _ := m.Details.(map[string]any)
	switch {
	case strings.EqualFold(m.Effect, policy.EffectDeployIfNotExists):
		dep, _ := lookupFold(details, "deployment")
		dm, _ := dep.(map[string]any)
		if dm == nil {
			return fail("InvalidPolicyDeployment", "The deployIfNotExists details have no deployment.")
		}
		body := maps.Clone(dm)
		target := "/subscriptions/" + sub + "/resourceGroups/" + group
		if ds, _ := lookupFold(details, "deploymentScope"); strings.EqualFold(stringOf(ds), "subscription") {
			target = "/subscriptions/" + sub
			if _, ok := body["location"]; !ok {
				body["location"] = s.Location
			}
		} else if group == "" {
			return fail("InvalidPolicyDeployment", "The resource '%s' is not in a resource group: the deployment needs deploymentScope subscription.", s.ResourceID)
		}
		return e.deploy(ctx, call, target, name, body, d)
	case strings.EqualFold(m.Effect, policy.EffectModify):
		// Writing the resource again runs the write pipeline, whose
		// policy step applies the assignment's modify operations.
		if group == "" {
			return fail("InvalidResourceScope", "Only resources in a resource group are remediated by modify.")
		}
		tmpl, err := e.rewriteTemplate(r)
		if err != nil {
			return fail("InvalidResource", "%v", err)
		}
		return e.deploy(ctx, call, "/subscriptions/"+sub+"/resourceGroups/"+group, name,
			map[string]any{"properties": map[string]any{"mode": "Incremental", "template": tmpl}}, d)
	}
	return fail("InvalidPolicyEffect", "The effect '%s' cannot be remediated.", m.Effect)
}

func (e *Engine) deploy(ctx context.Context, call *cloud.Call, scope, name string, body map[string]any, d remediationDeployment) remediationDeployment {
	d.DeploymentID = scope + "/providers/Microsoft.Resources/deployments/" + name
	doc, err := e.cloud.Deploy(ctx, call, scope, name, body)
	if err != nil {
		var ae *arm.Error
		if errors.As(err, &ae) {
			d.Error = map[string]any{"code": ae.Code, "message": ae.Message}
		} else {
			d.Error = map[string]any{"code": "DeploymentFailed", "message": err.Error()}
		}
		return d
	}
	props, _ := doc["properties"].(map[string]any)
	d.Status = stringOf(props["provisioningState"])
	if d.Status != "Succeeded" {
		if e, ok := props["error"].(map[string]any); ok {
			d.Error = e
		}
		if d.Status == "" {
			d.Status = "Failed"
		}
	}
	return d
}

// rewriteTemplate is a template that writes the resource as it is stored.
func (e *Engine) rewriteTemplate(r cloud.Resource) (map[string]any, error) {
	id, err := arm.ParseResourceID(r.ID)
	if err != nil || len(id.Names) == 0 {
		return nil, fmt.Errorf("the resource ID %q cannot be written by a template", r.ID)
	}
	res := map[string]any{}
	for k, v := range r.Doc {
		switch strings.ToLower(k) {
		case "id", "name", "type", "systemdata", "etag", "managedby":
			continue
		}
		res[k] = escapeTemplate(v)
	}
	res["type"] = id.ResourceType()
	res["name"] = strings.Join(id.Names, "/")
	// A type without a route accepts any api-version; the deployment
	// engine's own writes of such types use the same one.
	res["apiVersion"] = e.cloud.LatestAPIVersion(id.ResourceType())
	if res["apiVersion"] == "" {
		res["apiVersion"] = "2021-04-01"
	}
	return map[string]any{
		"$schema":        "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
		"contentVersion": "1.0.0.0",
		"resources":      []any{res},
	}, nil
}

// escapeTemplate keeps strings that look like template expressions
// literal ("[x]" is written "[[x]").
func escapeTemplate(v any) any {
	switch x := v.(type) {
	case string:
		if strings.HasPrefix(x, "[") && strings.HasSuffix(x, "]") {
			return "[" + x
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, vv := range x {
			out[k] = escapeTemplate(vv)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, vv := range x {
			out[i] = escapeTemplate(vv)
		}
		return out
	}
	return v
}

// memberResult evaluates the assignment for a resource and returns the
// member's result (the only one of a single policy).
func (e *Engine) memberResult(ctx context.Context, ps *policies, c *compiled, r cloud.Resource, ref, stateRef string) (policy.MemberResult, bool) {
	doc := r.Doc
	if t, _ := doc["type"].(string); r.Type != "" && !strings.EqualFold(t, r.Type) {
		doc = maps.Clone(doc)
		doc["type"] = r.Type
	}
	env := newScanEnv(e)
	res := policy.NewResource(doc)
	sub, group := resourceParts(r.ID)
	_, mgNames := env.groups(sub)
	now := e.now()
	opts := policy.EvalOptions{Now: now, Related: e.related(), RequestContext: env.requestContext(r.Type)}
	if sub != "" {
		opts.Subscription = subscriptionValue(env.doc(ctx, "/subscriptions/"+sub), sub, e.cloud.TenantID())
	}
	if group != "" {
		opts.ResourceGroup = env.doc(ctx, "/subscriptions/"+sub+"/resourceGroups/"+group)
	}
	ar := c.eval.Evaluate(ctx, res, ps.exemptionsFor(mgNames), now, opts)
	want := ref
	if want == "" {
		want = stateRef
	}
	for _, m := range ar.Members {
		if strings.EqualFold(m.ReferenceID, want) {
			return m, true
		}
	}
	return policy.MemberResult{}, false
}

// assignmentPrincipal is the managed identity of a policy assignment: its
// system-assigned principal, or the principal of its user-assigned
// identity. An assignment without one cannot remediate.
func (e *Engine) assignmentPrincipal(ctx context.Context, assignmentID string) (identity.Principal, error) {
	missing := arm.BadRequest("InvalidCreateRemediationRequest", "The policy assignment '%s' has no managed identity: a remediation deploys and writes as the assignment's identity.", truncate(assignmentID, 300))
	r, err := e.cloud.Get(ctx, assignmentID)
	if err != nil {
		return identity.Principal{}, missing
	}
	id, _ := r.Doc["identity"].(map[string]any)
	pid := ""
	switch t, _ := id["type"].(string); strings.ToLower(t) {
	case "systemassigned":
		pid, _ = id["principalId"].(string)
	case "userassigned":
		uais, _ := id["userAssignedIdentities"].(map[string]any)
		for uai := range uais {
			u, err := e.cloud.Get(ctx, uai)
			if err != nil {
				return identity.Principal{}, arm.BadRequest("InvalidCreateRemediationRequest", "The user-assigned identity '%s' of the policy assignment is not found.", truncate(uai, 300))
			}
			props, _ := u.Doc["properties"].(map[string]any)
			pid, _ = props["principalId"].(string)
		}
	}
	if pid == "" {
		return identity.Principal{}, missing
	}
	return identity.Principal{ObjectID: pid, TenantID: e.cloud.TenantID(), AppID: pid, IdentityType: "app"}, nil
}

// storedRemediation reads the remediation an action is on.
func (e *Engine) storedRemediation(ctx context.Context, call *cloud.Call) (cloud.Resource, error) {
	if call.Method != http.MethodPost {
		return cloud.Resource{}, notSupportedMethod(call.Method, call.Target.Action)
	}
	r, err := e.cloud.Get(ctx, call.Target.ID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return cloud.Resource{}, arm.Errorf(http.StatusNotFound, "RemediationNotFound", "The remediation '%s' could not be found.", truncate(call.Target.Name, 100))
		}
		return cloud.Resource{}, err
	}
	return r, nil
}

func (e *Engine) serveRemediationDeployments(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	if err := call.Authorize(ctx, TypeRemediations+"/listDeployments/read", call.Target.ID); err != nil {
		return nil, err
	}
	if _, err := e.storedRemediation(ctx, call); err != nil {
		return nil, err
	}
	var deps []remediationDeployment
	err := e.cloud.Store().View(ctx, func(tx store.Tx) error {
		rec, err := tx.Get(ctx, tableRemediationDeployments, strings.ToLower(call.Target.ID))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return json.Unmarshal(rec.Value, &deps)
	})
	if err != nil {
		return nil, err
	}
	if deps == nil {
		deps = []remediationDeployment{}
	}
	return &cloud.Response{Status: http.StatusOK, Body: map[string]any{"value": deps}}, nil
}
