package cloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/rbac"
	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/template"
)

// deployment is one deployment request being served.
type deployment struct {
	c     *Cloud
	call  *Call
	ctx   context.Context
	scope string // the deployment's scope ID
	name  string
	id    string
	req   *deploymentRequest
	tmpl  *template.Template
	opts  template.Options

	ops     []map[string]any
	opSeq   int
	started time.Time
	// job is the context of the background job running the deployment
	// (nil for validate and what-if): done when the Cloud stops.
	job context.Context
}

func (c *Cloud) newDeployment(ctx context.Context, call *Call) (*deployment, error) {
	scope, name := deploymentScope(call.Target)
	r, _ := arm.ParseResourceID(scope)
	kind := "tenant"
	if r != nil {
		kind = r.Kind().String()
		if r.Kind() == arm.ScopeRoot {
			kind = "tenant"
		}
	}
	req, err := c.parseDeploymentRequest(call, kind)
	if err != nil {
		return nil, err
	}
	ts, err := c.templateScope(ctx, orDefault(scope, "/"), req)
	if err != nil {
		return nil, err
	}
	var spec *templateSpecSource
	if req.TemplateSpecID != "" {
		if spec, err = c.loadTemplateSpec(ctx, call, req.TemplateSpecID); err != nil {
			return nil, err
		}
		req.Template = spec.main
	}
	d := &deployment{c: c, call: call, ctx: ctx, scope: scope, name: name, id: call.Target.ID, req: req,
		tmpl: template.FromDocument(req.Template), started: c.Now()}
	d.opts = template.Options{Scope: ts, DeploymentName: name, Parameters: req.Parameters, Mode: req.Mode,
		Now: c.Now, NewGUID: c.newID, TemplateLink: req.TemplateLink}
	if spec != nil {
		d.opts.Link = spec.link
	}
	if res := c.secretResolver(); res != nil {
		d.opts.KeyVault = func(vaultID, secret, version string) (string, error) { return res(ctx, vaultID, secret, version) }
	}
	return d, nil
}

// preflight expands the template without writing, as Azure's validation
// does (reference() reads resources that exist and the template's own as
// declared; list* stays unevaluated), and checks each resource against
// RBAC and policy. It returns the expansion, or the 400 a deployment would
// get.
func (d *deployment) preflight() (*template.Result, error) {
	opts := d.opts
	opts.State = func(id, apiVersion string) (map[string]any, bool, error) {
		doc, found, err := d.state(id, apiVersion)
		if err == nil && !found {
			// Not there yet: the deployment may create it (a nested
			// deployment, another writer); the write decides.
			return nil, false, fmt.Errorf("reference('%s'): %w", id, template.ErrDeferred)
		}
		return doc, found, err
	}
	res, err := template.Expand(d.tmpl, opts)
	if err != nil {
		return nil, templateError(err)
	}
	var details []*arm.Error
	policyOnly := true
	for _, r := range res.Resources {
		if r.Nested {
			continue
		}
		if missing, refused := d.c.notImplemented(r.Type); refused {
			e := refuseUnimplemented(r.Type, missing)
			e.Status, e.Target = 0, r.Name
			details = append(details, e)
			policyOnly = false
			continue
		}
		if !d.c.Allowed(d.ctx, d.call.Principal, rbac.Request{Action: r.Type + "/write", Scope: r.ID}) {
			details = append(details, authorizationFailed(d.call.Principal, r.Type+"/write", r.ID))
			policyOnly = false
			continue
		}
		if _, err := d.c.policyDryRun(d.ctx, d.call, r); err != nil {
			e := arm.AsError(err)
			if e.Code != "RequestDisallowedByPolicy" {
				policyOnly = false
			}
			c := *e
			c.Status = 0
			if c.Target == "" {
				c.Target = r.Name
			}
			details = append(details, &c)
		}
	}
	if len(details) > 0 {
		msg := fmt.Sprintf("The template deployment '%s' is not valid according to the validation procedure. The tracking id is '%s'. See inner errors for details.", d.name, d.c.newID())
		if policyOnly {
			msg = "The template deployment failed because of policy violation. Please see details for more information."
		}
		return nil, &arm.Error{Status: http.StatusBadRequest, Code: "InvalidTemplateDeployment", Message: msg, Details: details}
	}
	return res, nil
}

// policyDryRun asks the policy hook what it would say about writing r,
// without writing: a denial, or the document as append and modify would
// leave it.
func (c *Cloud) policyDryRun(ctx context.Context, call *Call, r *template.Resource) (map[string]any, error) {
	doc, err := newDocument(r.ID, lastSegment(r.ID), r.Type, cloneDoc(r.Body))
	if err != nil {
		return nil, err
	}
	_, _, pol, _ := c.hooks(r.Type)
	if pol == nil {
		return doc, nil
	}
	var existing map[string]any
	if cur, err := c.Get(ctx, r.ID); err == nil {
		existing = cur.Doc
	}
	req := &PolicyRequest{Operation: OpWrite, ID: r.ID, Type: r.Type, APIVersion: r.APIVersion,
		Document: doc, Existing: existing, Principal: call.Principal}
	if err := pol.BeforeWrite(ctx, req); err != nil {
		return nil, err
	}
	return req.Document, nil
}

func (c *Cloud) serveValidate(ctx context.Context, call *Call) (*Response, error) {
	if call.Method != http.MethodPost {
		return nil, methodNotAllowed(call.Method)
	}
	d, err := c.newDeployment(ctx, call)
	if err != nil {
		return nil, err
	}
	res, err := d.preflight()
	if err != nil {
		return nil, err
	}
	doc := d.document(res, "Succeeded", nil)
	props := doc["properties"].(map[string]any)
	var validated []any
	for _, r := range res.Resources {
		validated = append(validated, map[string]any{"id": r.ID})
	}
	props["validatedResources"] = validated
	delete(props, "outputs")
	delete(props, "outputResources")
	return &Response{Status: http.StatusOK, Body: doc}, nil
}

// createDeployment starts a deployment: preflight within the PUT (a
// template or policy error is its 400), then the deployment is stored
// Accepted and runs in the background (run); the PUT answers 201 (200 when
// it replaces a deployment of the same name) with the Accepted deployment
// and an Azure-AsyncOperation URL that reports its outcome.
func (c *Cloud) createDeployment(ctx context.Context, call *Call) (*Response, error) {
	// Once accepted, a deployment runs to its end (or its cancel) and is
	// recorded even though the client is gone. Its size is bounded by the
	// template limits.
	ctx = context.WithoutCancel(ctx)
	d, err := c.newDeployment(ctx, call)
	if err != nil {
		return nil, err
	}
	if _, err := d.preflight(); err != nil {
		return nil, err
	}
	key := deploymentKey(d.scope, d.name)
	lock, ok, err := c.store.TryLock(ctx, deploymentLockName(key))
	if err != nil {
		return nil, storeError(err)
	}
	if !ok {
		return nil, arm.Errorf(http.StatusConflict, "DeploymentActive",
			"The deployment with resource id '%s' cannot be saved, because this would overwrite an existing deployment which is still active.", d.id)
	}
	started := false
	defer func() {
		if !started {
			_ = lock.Release(ctx)
		}
	}()
	_, existsErr := c.getDeployment(ctx, d.scope, d.name)
	created := errors.Is(existsErr, store.ErrNotFound)
	if existsErr != nil && !created {
		return nil, storeError(existsErr)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	opID := fmt.Sprintf("%016X", uint64(c.Now().UnixNano()))
	doc := d.document(nil, "Accepted", nil)
	rec := &deploymentRecord{Doc: doc, Template: d.req.Template, OperationID: opID, Principal: call.Principal.ObjectID}
	job, done, end, ok := c.deploys.start(key)
	if !ok {
		return nil, arm.Errorf(http.StatusServiceUnavailable, "ServiceUnavailable", "Steward is shutting down; deploy again once it is back.")
	}
	if err := c.putDeployment(ctx, d.scope, d.name, rec, nil, nil); err != nil {
		end()
		return nil, storeError(err)
	}
	started = true
	d.job = job
	go func() {
		defer end()
		defer func() { _ = lock.Release(context.Background()) }()
		d.run(status)
	}()
	if isInternal(ctx) {
		// A deployment other cloud code starts (Deploy, a managed
		// application's mainTemplate) ends before its PUT answers, so the
		// caller reads the outcome with one GET.
		<-done
	}
	h := http.Header{}
	h.Set("Azure-AsyncOperation", call.baseURL()+d.id+"/operationStatuses/"+opID+"?api-version="+url.QueryEscape(call.APIVersion))
	h.Set("Retry-After", "0")
	accepted := cloneDoc(doc)
	props := accepted["properties"].(map[string]any)
	delete(props, "error")
	delete(props, "outputs")
	delete(props, "outputResources")
	return &Response{Status: status, Body: accepted, Header: h}, nil
}

// run is a deployment's background work: every resource through the write
// pipeline in dependency order, then Complete mode's deletions; each
// operation is stored as it ends, and the deployment's outcome
// (Succeeded, Failed or Canceled) last, with its activity-log event.
func (d *deployment) run(status int) {
	c := d.c
	if _, err := c.updateDeployment(d.ctx, d.scope, d.name, func(r *deploymentRecord) bool {
		if r.state() != "Accepted" {
			return false
		}
		r.Doc["properties"].(map[string]any)["provisioningState"] = "Running"
		return true
	}, nil); err != nil {
		c.log.Error("deployment: recording Running", "deployment", d.id, "err", err)
	}
	opts := d.opts
	opts.Write = d.write
	opts.State = d.state
	opts.List = d.list
	res, runErr := template.Expand(d.tmpl, opts)
	if runErr == nil && d.req.Mode == "Complete" {
		runErr = d.completeMode(res)
	}
	state, failure := "Succeeded", (*arm.Error)(nil)
	switch {
	case errors.Is(runErr, errDeploymentCanceled):
		state = "Canceled"
	case runErr != nil:
		state = "Failed"
		failure = d.failure(runErr)
	}
	doc := d.document(res, state, failure)
	// The activity log records the deployment as Azure's does
	// (Microsoft.Resources/deployments/write), failed or not, beside the
	// writes of its resources.
	activity := func(tx store.Tx) error {
		return c.recordActivity(d.ctx, tx, d.call, TypeDeployment+"/write", d.id, status, failure)
	}
	if _, err := c.updateDeployment(d.ctx, d.scope, d.name, func(r *deploymentRecord) bool {
		r.Doc = doc
		return true
	}, activity); err != nil {
		c.log.Error("deployment: recording its outcome", "deployment", d.id, "state", state, "err", err)
	}
}

// deployFailed is a resource write that failed during a deployment.
type deployFailed struct{ err *arm.Error }

func (e *deployFailed) Error() string { return e.err.Error() }

// failure is the deployment's error: DeploymentFailed with the failed
// operation's error as its detail, as Azure reports it.
func (d *deployment) failure(err error) *arm.Error {
	var df *deployFailed
	var detail *arm.Error
	switch {
	case errors.As(err, &df):
		detail = df.err
	default:
		detail = templateError(err)
	}
	c := *detail
	c.Status = 0
	return &arm.Error{Code: "DeploymentFailed", Message: "At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-deployment-operations for usage details.",
		Details: []*arm.Error{&c}}
}

// write puts one resource through the pipeline as the caller.
func (d *deployment) write(r *template.Resource) (map[string]any, error) {
	if err := d.checkStop(); err != nil {
		return nil, err
	}
	if r.Nested {
		return d.writeNested(r)
	}
	start := d.c.Now()
	status, body := d.c.subRequest(d.ctx, d.call, http.MethodPut, r.ID, r.APIVersion, r.Body)
	var doc map[string]any
	_ = json.Unmarshal(body, &doc)
	if status >= 300 {
		e := arm.DecodeError(status, body)
		if e == nil {
			e = arm.Errorf(status, "ResourceDeploymentFailure", "The resource operation completed with terminal provisioning state 'Failed'.")
		}
		d.op("Create", r.ID, r.Type, r.Name, status, start, map[string]any{"status": "Failed", "error": e})
		return nil, &deployFailed{err: e}
	}
	d.op("Create", r.ID, r.Type, r.Name, status, start, nil)
	return doc, nil
}

// writeNested records a nested deployment whose resources were written.
func (d *deployment) writeNested(r *template.Resource) (map[string]any, error) {
	start := d.c.Now()
	scope := r.Scope.ID()
	props := map[string]any{"provisioningState": "Succeeded", "mode": "Incremental", "outputs": r.Outputs,
		"timestamp": start.Format(time.RFC3339Nano), "correlationId": d.call.CorrelationID, "duration": "PT0S"}
	doc := map[string]any{"id": r.ID, "name": r.Name, "type": TypeDeployment, "properties": props}
	pm, _ := r.Body["properties"].(map[string]any)
	tmpl, _ := pm["template"].(map[string]any)
	rec := &deploymentRecord{Doc: doc, Template: tmpl, OperationID: fmt.Sprintf("%016X", uint64(start.UnixNano())), Principal: d.call.Principal.ObjectID}
	if err := d.c.putDeployment(d.ctx, scope, r.Name, rec, nil, nil); err != nil {
		return nil, storeError(err)
	}
	d.op("Create", r.ID, r.Type, r.Name, http.StatusOK, start, nil)
	return doc, nil
}

// state reads a resource for reference().
func (d *deployment) state(id, _ string) (map[string]any, bool, error) {
	r, err := d.c.Get(d.ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return r.Doc, true, nil
}

// list calls a list* action on a resource as the caller.
func (d *deployment) list(id, apiVersion, action string, body any) (any, error) {
	if body == nil {
		body = map[string]any{}
	}
	status, out := d.c.subRequest(d.ctx, d.call, http.MethodPost, id+"/"+action, apiVersion, body)
	if status >= 300 {
		if e := arm.DecodeError(status, out); e != nil {
			return nil, &deployFailed{err: e}
		}
		return nil, &deployFailed{err: arm.Errorf(status, "InvalidResourceOperation", "The action '%s' on '%s' failed.", action, id)}
	}
	var v any
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, &deployFailed{err: arm.BadRequest("InvalidResourceOperation", "The action '%s' on '%s' returned no JSON.", action, id)}
	}
	return v, nil
}

// completeMode deletes the resources of the resource group the template
// does not name (docs/decisions/templates.md says which are kept).
func (d *deployment) completeMode(res *template.Result) error {
	keep := map[string]bool{}
	for _, r := range res.Resources {
		keep[resKey(r.ID)] = true
	}
	for _, id := range res.Existing {
		keep[resKey(id)] = true
	}
	var doomed []Resource
	after := ""
	for {
		rs, next, err := d.c.List(d.ctx, ListQuery{Scope: d.scope, Limit: store.MaxPageSize, After: after,
			Keep: func(r Resource) bool { return directlyIn(r.ID, d.scope) }})
		if err != nil {
			return err
		}
		for _, r := range rs {
			ns := strings.ToLower(strings.SplitN(r.Type, "/", 2)[0])
			if keep[resKey(r.ID)] || ns == "microsoft.authorization" || ns == "microsoft.resources" {
				continue
			}
			doomed = append(doomed, r)
		}
		if next == "" {
			break
		}
		after = next
	}
	for _, r := range doomed {
		if err := d.checkStop(); err != nil {
			return err
		}
		start := d.c.Now()
		status, body := d.c.subRequest(d.ctx, d.call, http.MethodDelete, r.ID, d.c.apiVersionFor(r.Type), nil)
		if status >= 300 {
			e := arm.DecodeError(status, body)
			if e == nil {
				e = arm.Errorf(status, "ResourceDeletionFailure", "The resource '%s' could not be deleted.", r.ID)
			}
			d.op("Delete", r.ID, r.Type, lastSegment(r.ID), status, start, map[string]any{"status": "Failed", "error": e})
			return &deployFailed{err: e}
		}
		d.op("Delete", r.ID, r.Type, lastSegment(r.ID), status, start, nil)
	}
	return nil
}

// apiVersionFor picks an api-version the type's route accepts.
func (c *Cloud) apiVersionFor(typ string) string {
	if rt := c.routes.lookup(typ, ""); rt != nil && len(rt.APIVersions) > 0 {
		return rt.APIVersions[len(rt.APIVersions)-1]
	}
	return "2021-04-01"
}

// op records a deployment operation.
func (d *deployment) op(kind, id, typ, name string, status int, start time.Time, message map[string]any) {
	d.opSeq++
	opID := fmt.Sprintf("%016X", uint64(d.started.UnixNano())+uint64(d.opSeq))
	state := "Succeeded"
	if status >= 300 {
		state = "Failed"
	}
	props := map[string]any{
		"provisioningOperation": kind, "provisioningState": state,
		"timestamp": d.c.Now().Format(time.RFC3339Nano), "duration": isoDuration(d.c.Now().Sub(start)),
		"trackingId": d.c.newID(), "serviceRequestId": d.c.newID(), "statusCode": statusWord(status),
		"targetResource": map[string]any{"id": id, "resourceType": typ, "resourceName": name},
	}
	if message != nil {
		props["statusMessage"] = message
	}
	o := map[string]any{"id": d.id + "/operations/" + opID, "operationId": opID, "properties": props}
	d.ops = append(d.ops, o)
	if d.job != nil {
		if err := d.c.putDeploymentOp(d.ctx, d.scope, d.name, o); err != nil {
			d.c.log.Error("deployment: recording an operation", "deployment", d.id, "err", err)
		}
	}
}

func isoDuration(dur time.Duration) string {
	return "PT" + strconv.FormatFloat(dur.Seconds(), 'f', -1, 64) + "S"
}

// document is the deployment as the API returns it.
func (d *deployment) document(res *template.Result, state string, failure *arm.Error) map[string]any {
	props := map[string]any{
		"provisioningState": state, "mode": d.req.Mode, "correlationId": d.call.CorrelationID,
		"timestamp": d.c.Now().Format(time.RFC3339Nano), "duration": isoDuration(d.c.Now().Sub(d.started)),
		"templateHash": templateHash(d.req.Template),
	}
	if d.req.TemplateLink != nil {
		props["templateLink"] = d.req.TemplateLink
	}
	if res != nil {
		props["parameters"] = res.Parameters
		props["outputs"] = res.Outputs
		var out, deps []any
		providers := map[string]map[string]map[string]bool{}
		for _, r := range res.Resources {
			out = append(out, map[string]any{"id": r.ID})
			if len(r.DependsOn) > 0 {
				var on []any
				for _, id := range r.DependsOn {
					on = append(on, map[string]any{"id": id, "resourceType": typeOfID(id), "resourceName": lastSegment(id)})
				}
				deps = append(deps, map[string]any{"id": r.ID, "resourceType": r.Type, "resourceName": r.Name, "dependsOn": on})
			}
			ns, rest, _ := strings.Cut(r.Type, "/")
			if providers[ns] == nil {
				providers[ns] = map[string]map[string]bool{}
			}
			if providers[ns][rest] == nil {
				providers[ns][rest] = map[string]bool{}
			}
			if loc, _ := r.Body["location"].(string); loc != "" {
				providers[ns][rest][NormalizeLocation(loc)] = true
			}
		}
		props["outputResources"] = listOrEmpty(out)
		props["dependencies"] = listOrEmpty(deps)
		props["providers"] = providerList(providers)
	} else {
		props["parameters"] = redactedParameters(d.tmpl, d.req.Parameters)
	}
	if failure != nil {
		props["error"] = failure
	}
	doc := map[string]any{"id": d.id, "name": d.name, "type": TypeDeployment, "properties": props}
	if d.req.Location != "" {
		doc["location"] = NormalizeLocation(d.req.Location)
	}
	if d.req.Tags != nil {
		doc["tags"] = d.req.Tags
	}
	return doc
}

func listOrEmpty(v []any) []any {
	if v == nil {
		return []any{}
	}
	return v
}

func providerList(p map[string]map[string]map[string]bool) []any {
	var out []any
	nss := make([]string, 0, len(p))
	for ns := range p {
		nss = append(nss, ns)
	}
	sort.Strings(nss)
	for _, ns := range nss {
		var types []any
		names := make([]string, 0, len(p[ns]))
		for t := range p[ns] {
			names = append(names, t)
		}
		sort.Strings(names)
		for _, t := range names {
			locs := []any{}
			for l := range p[ns][t] {
				locs = append(locs, l)
			}
			types = append(types, map[string]any{"resourceType": t, "locations": locs})
		}
		out = append(out, map[string]any{"namespace": ns, "resourceTypes": types})
	}
	return listOrEmpty(out)
}

// redactedParameters are the given parameters without the values of the
// template's secure ones, for a deployment that failed to expand.
func redactedParameters(t *template.Template, given map[string]any) map[string]any {
	decls, _ := t.Doc["parameters"].(map[string]any)
	out := map[string]any{}
	for k, v := range given {
		d, _ := lookupFold(decls, k)
		dm, _ := d.(map[string]any)
		typ, _ := lookupFold(dm, "type")
		ts, _ := typ.(string)
		if strings.HasPrefix(strings.ToLower(ts), "secure") {
			out[k] = map[string]any{"type": ts}
			continue
		}
		out[k] = v
	}
	return out
}

func typeOfID(id string) string {
	r, err := arm.ParseResourceID(id)
	if err != nil {
		return ""
	}
	return r.ResourceType()
}

// templateHash is a stable decimal hash of the template, the form of
// Azure's templateHash.
func templateHash(t map[string]any) string {
	b, _ := json.Marshal(t)
	h := fnv.New64a()
	_, _ = h.Write(b)
	return strconv.FormatUint(h.Sum64(), 10)
}

// internalCall marks a request the deployment engine makes on the
// caller's behalf: it is not throttled again (Azure counts the deployment,
// not its resource writes, against the caller).
type internalCall struct{}

func isInternal(ctx context.Context) bool { return ctx.Value(internalCall{}) != nil }

// subRequest serves a request through the whole pipeline (routing,
// api-version, RBAC, policy, the type's handler) as the caller.
func (c *Cloud) subRequest(ctx context.Context, call *Call, method, path, apiVersion string, body any) (int, []byte) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return http.StatusBadRequest, nil
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.WithValue(ctx, internalCall{}, true), method, "/", rd)
	if err != nil {
		return http.StatusBadRequest, nil
	}
	req.URL = &url.URL{Path: path, RawQuery: "api-version=" + url.QueryEscape(apiVersion)}
	req.RequestURI = req.URL.RequestURI()
	req.Host, req.TLS, req.RemoteAddr = call.HTTP.Host, call.HTTP.TLS, call.HTTP.RemoteAddr
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-ms-correlation-request-id", call.CorrelationID)
	w := &recorder{header: http.Header{}}
	c.serve(w, req)
	return w.status, w.body.Bytes()
}

// recorder is the ResponseWriter of a sub-request.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
