package cloud

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
)

// serve is the one entry point of every management request (after
// authentication): target, api-version, throttling, authorization, then
// the route's handler, and the response or the ARM error envelope.
func (c *Cloud) serve(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	h := w.Header()
	if h.Get("x-ms-request-id") == "" {
		id := r.Header.Get("x-ms-request-id")
		if id == "" {
			id = c.newID()
		}
		h.Set("x-ms-request-id", id)
	}
	corr := r.Header.Get("x-ms-correlation-request-id")
	if !validGUIDish(corr) {
		corr = c.newID()
	}
	h.Set("x-ms-correlation-request-id", corr)
	call, resp, err := c.dispatch(ctx, w, r, corr)
	if err != nil {
		if ae, ok := err.(*arm.Error); !ok || ae.Status >= 500 {
			c.log.Error("management request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		if call != nil {
			c.recordFailure(ctx, call, err)
		}
		arm.WriteError(w, err)
		return
	}
	writeResponse(w, r, resp)
}

// dispatch serves the request; call is set once the request was
// understood (target, api-version, throttling), so that failures after
// that point can be logged.
func (c *Cloud) dispatch(ctx context.Context, w http.ResponseWriter, r *http.Request, corr string) (call *Call, _ *Response, _ error) {
	p := principalFrom(ctx)
	if p.ObjectID == "" {
		return nil, nil, arm.Errorf(http.StatusUnauthorized, "InvalidAuthenticationToken", "The access token is invalid.")
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodPost:
	default:
		return nil, nil, methodNotAllowed(r.Method)
	}
	rawPath := CanonicalPath(r.URL.EscapedPath())
	path, err := url.PathUnescape(rawPath)
	if err != nil {
		return nil, nil, badURI(r.URL.EscapedPath())
	}
	if strings.Contains(rawPath, "%2F") || strings.Contains(rawPath, "%2f") {
		return nil, nil, badURI(rawPath)
	}
	t, err := parseTarget(r.Method, path, c.routes)
	if err != nil {
		return nil, nil, err
	}
	if len(t.ID) > maxIDLen || len(t.Scope) > maxIDLen {
		return nil, nil, badURI(path)
	}
	q := r.URL.Query()
	route := c.routeFor(t)
	ver, err := c.checkAPIVersion(ctx, r, q, t, route)
	if err != nil {
		return nil, nil, err
	}
	if !isInternal(ctx) {
		if err := c.throttle(w, r.Method, subscriptionOf(t), p.ObjectID); err != nil {
			return nil, nil, err
		}
	}
	c.refreshRBAC(ctx)
	call = &Call{Cloud: c, HTTP: r, Method: r.Method, Target: t, APIVersion: ver, Query: q, Principal: p, CorrelationID: corr}
	if !route.SelfAuthorize {
		if err := call.Authorize(ctx, defaultAction(r.Method, t), t.AccessScope()); err != nil {
			return call, nil, err
		}
	}
	if r.Method == http.MethodPost && t.Action != "" && !readOnlyAction(t) {
		if err := c.checkLocks(ctx, call, OpAction, t.ID, t.Type); err != nil {
			return call, nil, err
		}
	}
	resp, err := route.Handler(ctx, call)
	if err == nil && route.SelfAuthorize && !call.authorized {
		c.log.Error("self-authorizing route answered without an access check", "type", t.Type, "action", t.Action)
		return call, nil, arm.ErrInternal
	}
	return call, resp, err
}

// routeFor picks the registered route of the target, or the generic
// resource route.
func (c *Cloud) routeFor(t Target) *Route {
	if rt := c.routes.lookup(t.Type, t.Action); rt != nil {
		return rt
	}
	if t.Action != "" {
		return &Route{Type: t.Type, Action: t.Action, Handler: unsupportedAction}
	}
	return c.generic
}

// subscriptionOf is the subscription a target is in ("" for tenant-level
// targets), which selects its throttling bucket.
func subscriptionOf(t Target) string {
	id := t.ID
	if id == "" {
		id = t.Scope
	}
	segs := strings.SplitN(strings.TrimPrefix(id, "/"), "/", 3)
	if len(segs) >= 2 && strings.EqualFold(segs[0], "subscriptions") {
		return segs[1]
	}
	return ""
}

func methodNotAllowed(m string) *arm.Error {
	if len(m) > 20 {
		m = m[:20]
	}
	return arm.Errorf(http.StatusMethodNotAllowed, "MethodNotAllowed",
		"The requested resource does not support http method '%s'.", m)
}

func unsupportedAction(_ context.Context, call *Call) (*Response, error) {
	return nil, arm.BadRequest("InvalidResourceType", "The action '%s' is not supported on resource type '%s'.",
		call.Target.Action, call.Target.Type)
}

// validGUIDish accepts a client's correlation ID when it is short and
// printable; anything else is replaced.
func validGUIDish(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// writeResponse sends a handler's response as JSON.
func writeResponse(w http.ResponseWriter, r *http.Request, resp *Response) {
	if resp == nil {
		resp = &Response{Status: http.StatusOK}
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if resp.ETag != "" {
		w.Header().Set("ETag", quoteETag(resp.ETag))
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	if resp.Body == nil || r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	b, err := json.Marshal(resp.Body)
	if err != nil {
		arm.WriteError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
