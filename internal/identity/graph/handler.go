// Package graph serves a Microsoft Graph v1.0 subset over Steward's
// directory (internal/identity): applications, service principals,
// groups, users, directory objects, the organization, the signed-in user,
// directory role assignments and consent records, and two beta APIs
// (betaPaths), with OData $select, $filter, $top, $count and paging,
// Graph's error shape, and Entra's directory-role authorization on every
// call.
//
// The handler answers both under MountPath on Steward's main port
// ("/graph/v1.0/...") and at a host root ("/v1.0/..."), which is how a
// forward proxy serving graph.microsoft.com mounts it.
package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/identity"
)

// MountPath is where Steward's main port serves Graph: the Graph base URL
// on the main port is {BaseURL}graph/ and the v1.0 API is under
// {BaseURL}graph/v1.0/.
const MountPath = "/graph"

// Version is the Graph API version served.
const Version = "v1.0"

// DefaultResource is Microsoft Graph's resource identifier: tokens for
// "https://graph.microsoft.com/.default" have it as their audience.
const DefaultResource = "https://graph.microsoft.com"

// maxBodyBytes caps a request body: the largest legitimate one is an
// application with certificates, a few hundred KiB at most.
const maxBodyBytes = 1 << 20

// Options configures the Graph handler.
type Options struct {
	// Identity is the directory and token service.
	Identity *identity.Service
	// Validator checks bearer tokens; its audiences are Graph's resource
	// IDs (DefaultResource and Steward's own {BaseURL}graph).
	Validator *identity.Validator
	// PageSize is the default page size of lists (default 100; Graph's).
	PageSize int
	// HomeTenant is the tenant whose Global Administrators may create
	// tenants (TenantsHandler).
	HomeTenant string
	// CredentialActivity, when set, serves the last sign-in of application
	// credentials (beta reports/appCredentialSignInActivities); nil
	// answers that report 501.
	CredentialActivity CredentialActivityFunc
}

// Handler serves Graph.
type Handler struct {
	opts Options
	id   *identity.Service
	dir  *identity.Directory
}

// New returns a Graph handler.
func New(opts Options) *Handler {
	if opts.PageSize <= 0 {
		opts.PageSize = 100
	}
	return &Handler{opts: opts, id: opts.Identity, dir: opts.Identity.Directory()}
}

// Matches reports whether a request's path is Graph's under MountPath on
// the main port.
func Matches(r *http.Request) bool {
	return r.URL.Path == MountPath || strings.HasPrefix(r.URL.Path, MountPath+"/")
}

// graphError is an error answered in Graph's shape.
type graphError struct {
	Status  int
	Code    string
	Message string
}

func (e *graphError) Error() string { return e.Code + ": " + e.Message }

func gerr(status int, code, format string, args ...any) *graphError {
	return &graphError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *graphError {
	return gerr(http.StatusBadRequest, "Request_BadRequest", format, args...)
}

func notFound(id string) *graphError {
	return gerr(http.StatusNotFound, "Request_ResourceNotFound",
		"Resource '%s' does not exist or one of its queried reference-property objects are not present.", id)
}

func denied() *graphError {
	return gerr(http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
}

func unsupportedQuery(format string, args ...any) *graphError {
	return gerr(http.StatusBadRequest, "Request_UnsupportedQuery", format, args...)
}

func noRoute(r *http.Request) *graphError {
	return gerr(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '%s' (%s %s is not served by Steward's Graph).",
		lastSegment(r.URL.Path), r.Method, r.URL.Path)
}

func methodNotAllowed(r *http.Request) *graphError {
	return gerr(http.StatusMethodNotAllowed, "Request_BadRequest", "Specified HTTP method is not allowed for the request target: %s %s.", r.Method, r.URL.Path)
}

func lastSegment(p string) string {
	p = strings.TrimSuffix(p, "/")
	return p[strings.LastIndex(p, "/")+1:]
}

// call is one Graph request: the caller and helpers to answer.
type call struct {
	h      *Handler
	w      http.ResponseWriter
	r      *http.Request
	ctx    context.Context
	p      identity.Principal
	tenant string
	base   string // "https://host/graph/v1.0"
	reqID  string
	roles  []string
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{h: h, w: w, r: r, ctx: r.Context()}
	c.reqID = r.Header.Get("x-ms-request-id")
	if c.reqID == "" {
		c.reqID = uuid.NewString()
	}
	defer func() {
		if p := recover(); p != nil {
			if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(p)
			}
			c.fail(gerr(http.StatusInternalServerError, "generalException", "An internal error occurred."))
		}
	}()
	path := r.URL.Path
	prefix := ""
	if strings.HasPrefix(path, MountPath+"/") {
		prefix = MountPath
		path = strings.TrimPrefix(path, MountPath)
	}
	rest, ok := strings.CutPrefix(path, "/"+Version+"/")
	version := Version
	if b, beta := strings.CutPrefix(path, "/beta/"); beta && isBetaPath(b) {
		rest, ok, version = b, true, "beta"
	}
	if !ok {
		c.fail(versionError())
		return
	}
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	c.base = scheme + "://" + r.Host + prefix + "/" + version
	if err := c.authenticate(); err != nil {
		c.fail(err)
		return
	}
	if err := c.checkQuery(); err != nil {
		c.fail(err)
		return
	}
	seg := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	if version == "beta" {
		serve := c.userFlows
		if isCredActivityPath(rest) {
			serve = c.credentialActivities
		}
		if err := serve(seg[2:]); err != nil {
			c.fail(err)
		}
		return
	}
	if err := c.route(seg); err != nil {
		c.fail(err)
	}
}

// betaPaths are the paths under /beta/ that Steward's Graph serves, as
// Graph spells them (userflows.go, credactivity.go); every other path is
// under /v1.0/.
var betaPaths = []string{"identity/b2cUserFlows", "reports/appCredentialSignInActivities"}

// isBetaPath reports whether rest (the path after /beta/) is one of
// betaPaths or below it.
func isBetaPath(rest string) bool { return isUserFlowsPath(rest) || isCredActivityPath(rest) }

// versionError answers a path that is in no version Steward serves,
// naming what it serves.
func versionError() *graphError {
	beta := make([]string, len(betaPaths))
	for i, p := range betaPaths {
		beta[i] = "/beta/" + p
	}
	return gerr(http.StatusBadRequest, "BadRequest", "Invalid version: the path must start with /%s/, or be one of the beta paths Steward serves: %s (Steward serves Graph %s and those beta APIs only).",
		Version, strings.Join(beta, ", "), Version)
}

// authenticate validates the bearer token and loads the caller's
// directory roles.
func (c *call) authenticate() error {
	if c.reqID == "" {
		c.reqID = uuid.NewString()
	}
	raw, ok := bearer(c.r.Header.Get("Authorization"))
	if !ok {
		return gerr(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
	}
	p, err := c.h.opts.Validator.Validate(c.ctx, raw)
	if err != nil {
		var te *identity.TokenError
		if errors.As(err, &te) {
			return gerr(http.StatusUnauthorized, "InvalidAuthenticationToken", "%s", te.Message)
		}
		return err
	}
	c.p, c.tenant = p, strings.ToLower(p.TenantID)
	c.roles, err = c.h.dir.RolesOf(c.ctx, c.tenant, p.ObjectID, p.Groups)
	return err
}

func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// fail writes err in Graph's error shape; an error that is not a
// *graphError (storage) is a 503 without its text.
func (c *call) fail(err error) {
	var ge *graphError
	if !errors.As(err, &ge) {
		switch {
		case errors.Is(err, identity.ErrNotFound):
			ge = notFound("")
		case arm.ClassOf(err) == arm.ClassInvalid:
			// An identifier the store cannot take (a NUL byte, thousands of
			// characters) names no object.
			ge = badRequest("Invalid object identifier: it is malformed or too long.")
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			ge = gerr(http.StatusServiceUnavailable, "serviceNotAvailable", "The request was cancelled or timed out.")
		default:
			ge = gerr(http.StatusServiceUnavailable, "serviceNotAvailable", "The service is temporarily unavailable. Please retry.")
		}
	}
	client := c.r.Header.Get("client-request-id")
	if len(client) > 200 {
		client = ""
	}
	if client == "" {
		client = c.reqID
	}
	body := map[string]any{"error": map[string]any{
		"code": ge.Code, "message": ge.Message,
		"innerError": map[string]any{
			"date":              time.Now().UTC().Format("2006-01-02T15:04:05"),
			"request-id":        c.reqID,
			"client-request-id": client,
		},
	}}
	if ge.Status == http.StatusUnauthorized {
		c.w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="`+c.h.opts.Validator.AuthorizationURI+`", client_id="00000003-0000-0000-c000-000000000000"`)
	}
	c.writeJSON(ge.Status, body)
}

func (c *call) writeJSON(status int, v any) {
	h := c.w.Header()
	h.Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	h.Set("request-id", c.reqID)
	if cl := c.r.Header.Get("client-request-id"); cl != "" && len(cl) <= 200 {
		h.Set("client-request-id", cl)
	}
	c.w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(c.w).Encode(v)
	}
}

func (c *call) noContent() error {
	c.w.Header().Set("request-id", c.reqID)
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// decode reads a JSON object body into a property map.
func (c *call) decode() (map[string]json.RawMessage, error) {
	b, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, maxBodyBytes))
	if err != nil {
		return nil, gerr(http.StatusRequestEntityTooLarge, "Request_BadRequest", "The request body is larger than %d bytes or could not be read.", maxBodyBytes)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil, badRequest("The request body is empty; a JSON object is required.")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, badRequest("The request body is not a JSON object: %s.", jsonErr(err))
	}
	return m, nil
}

func jsonErr(err error) string {
	if err == nil {
		return "null"
	}
	return err.Error()
}

// route dispatches on the path segments after /v1.0/.
func (c *call) route(seg []string) error {
	if len(seg) == 0 || seg[0] == "" {
		return noRoute(c.r)
	}
	head, key := splitKey(seg[0])
	switch strings.ToLower(head) {
	case "applications":
		return c.applications(key, seg[1:])
	case "serviceprincipals":
		return c.servicePrincipals(key, seg[1:])
	case "groups":
		return c.groups(key, seg[1:])
	case "users":
		return c.users(key, seg[1:])
	case "directoryobjects":
		return c.directoryObjects(key, seg[1:])
	case "organization":
		return c.organization(seg[1:])
	case "me":
		return c.me(seg[1:])
	case "oauth2permissiongrants":
		return c.grants(seg[1:])
	case "rolemanagement":
		return c.roleManagement(seg[1:])
	case "$metadata":
		return gerr(http.StatusNotImplemented, "NotImplemented", "Steward's Graph does not serve $metadata.")
	}
	return noRoute(c.r)
}

// splitKey splits "users('a@b')" or "applications(appId='x')" into the
// segment and its key expression ("'a@b'", "appId='x'").
func splitKey(s string) (string, string) {
	i := strings.IndexByte(s, '(')
	if i < 0 || !strings.HasSuffix(s, ")") {
		return s, ""
	}
	return s[:i], s[i+1 : len(s)-1]
}

// keyValue reads an alternate key: "appId='x'" (name appId) or "'x'".
func keyValue(expr, name string) (string, bool) {
	if name != "" {
		k, v, ok := strings.Cut(expr, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), name) {
			return "", false
		}
		expr = strings.TrimSpace(v)
	}
	if len(expr) < 2 || expr[0] != '\'' || expr[len(expr)-1] != '\'' {
		return "", false
	}
	return strings.ReplaceAll(expr[1:len(expr)-1], "''", "'"), true
}
