package vault

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/identity"
)

// TokenValidator checks a bearer token (identity.Validator does).
type TokenValidator interface {
	Validate(ctx context.Context, raw string) (identity.Principal, error)
}

// Authorizer decides whether a principal may perform a Key Vault data
// action at a scope (the vault's resource ID, or an object under it).
type Authorizer interface {
	Authorize(ctx context.Context, p identity.Principal, dataAction, scope string) (bool, error)
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(ctx context.Context, p identity.Principal, dataAction, scope string) (bool, error)

// Authorize implements Authorizer.
func (f AuthorizerFunc) Authorize(ctx context.Context, p identity.Principal, a, s string) (bool, error) {
	return f(ctx, p, a, s)
}

// DefaultResource is the resource Key Vault's challenge names and its
// tokens are issued for.
const DefaultResource = "https://vault.azure.net"

// DefaultDNSSuffix is the host suffix under which vaults are addressed by
// name ({name}.vault.azure.net), as in Azure's public cloud.
const DefaultDNSSuffix = "vault.azure.net"

// DefaultPathPrefix is the path under which vaults are also served by
// name on Steward's own host (https://host:port/vaults/{name}/).
const DefaultPathPrefix = "/vaults/"

// maxBody caps a request body (certificate imports are the largest).
const maxBody = 1 << 20

// HandlerOptions configure the data-plane handler.
type HandlerOptions struct {
	// Validator authenticates bearer tokens (required).
	Validator TokenValidator
	// Authorizer authorizes data actions (required; deny by default).
	Authorizer Authorizer
	// AuthorityHost is the token service named in the 401 challenge,
	// such as "https://localhost:8443" (the tenant is appended).
	AuthorityHost string
	// HostAuthority, when set, is the token service named in the challenge
	// of requests that address the vault by host name ({name}.{DNSSuffix}),
	// such as "https://login.microsoftonline.com" when Steward serves Azure's
	// host names through its proxy.
	HostAuthority string
	// Resource is the challenge's resource (default DefaultResource).
	Resource string
	// DNSSuffix routes hosts {name}.{suffix} to vault name (default
	// DefaultDNSSuffix; "-" disables host routing).
	DNSSuffix string
	// PathPrefix routes paths {prefix}{name}/... (default
	// DefaultPathPrefix; "-" disables path routing).
	PathPrefix string
	// PublicURL is Steward's base URL ("https://localhost:8443"), the base
	// of path-form object IDs when the request's Host header is not a
	// valid host (it is never reflected then).
	PublicURL string
	// Logger receives internal failures (never values).
	Logger *slog.Logger
	// Auditor, when set, receives an audit event for every request to
	// an existing vault (Key Vault's AuditEvent log).
	Auditor Auditor
}

// Handler serves the Key Vault data plane of every vault in a Service.
type Handler struct {
	svc    *Service
	opts   HandlerOptions
	tokens tokenCache
}

// Handler returns the data-plane handler.
func (s *Service) Handler(opts HandlerOptions) *Handler {
	if opts.Resource == "" {
		opts.Resource = DefaultResource
	}
	if opts.DNSSuffix == "" {
		opts.DNSSuffix = DefaultDNSSuffix
	}
	if opts.PathPrefix == "" {
		opts.PathPrefix = DefaultPathPrefix
	}
	opts.AuthorityHost = strings.TrimSuffix(opts.AuthorityHost, "/")
	if opts.Logger == nil {
		opts.Logger = s.log
	}
	return &Handler{svc: s, opts: opts}
}

// Matches reports whether a request is for a vault: its host is
// {name}.{DNSSuffix} or its path starts with the path prefix.
func (h *Handler) Matches(r *http.Request) bool {
	_, _, _, ok := h.locate(r)
	return ok
}

// locate finds the vault name, the base URL of its object IDs and the
// path inside the vault.
func (h *Handler) locate(r *http.Request) (name, base, rest string, ok bool) {
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	hostname := host
	if hn, _, err := net.SplitHostPort(host); err == nil {
		hostname = hn
	}
	if h.opts.DNSSuffix != "-" {
		if label, found := strings.CutSuffix(strings.ToLower(hostname), "."+strings.ToLower(h.opts.DNSSuffix)); found && label != "" && !strings.Contains(label, ".") {
			return label, scheme + "://" + host, r.URL.Path, true
		}
	}
	if h.opts.PathPrefix != "-" {
		if after, found := cutPrefixFold(r.URL.Path, h.opts.PathPrefix); found {
			name, rest, _ = strings.Cut(after, "/")
			if name != "" {
				origin := scheme + "://" + host
				if !arm.ValidHost(host) {
					origin = strings.TrimSuffix(h.opts.PublicURL, "/")
				}
				return name, origin + h.opts.PathPrefix + name, "/" + rest, true
			}
		}
	}
	return "", "", "", false
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// supportedAPIVersions are the api-version values accepted.
var supportedAPIVersions = map[string]bool{
	"7.0": true, "7.1": true, "7.2": true, "7.3": true, "7.4": true, "7.5": true, "7.6": true,
	"2025-07-01": true, "2026-04-01": true,
}

// ServeHTTP implements http.Handler: locate the vault, check the
// api-version, authenticate (401 challenge), route, authorize (403
// ForbiddenByRbac), decode, run. A request to an existing vault, failed
// or not, then goes to the Auditor, if any.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ev := &AuditEvent{}
	status := 0
	defer func() {
		if p := recover(); p != nil {
			h.opts.Logger.Error("vault handler panic", "panic", p)
			err := &Error{Status: 500, Code: "InternalError", Message: "The vault could not complete the request."}
			if status == 0 {
				writeError(w, nil, err)
			}
			status, ev.ErrorCode, ev.Description = err.Status, err.Code, err.Message
		}
		h.audit(ev, status, start)
	}()
	var err error
	if status, err = h.serve(w, r, ev); err != nil {
		e, _ := errorStatus(err)
		writeError(w, h.opts.Logger, err)
		status, ev.ErrorCode = e.Status, e.Code
		if ev.Description == "" {
			ev.Description = e.Message
		}
	}
}

// audit completes ev and hands it to the Auditor; requests that named no
// existing vault have no vault to log them.
func (h *Handler) audit(ev *AuditEvent, status int, start time.Time) {
	if h.opts.Auditor == nil || ev.VaultID == "" {
		return
	}
	ev.Time = start.UTC()
	ev.Duration = time.Since(start)
	ev.Status = status
	if ev.OperationName == "" {
		// A path that names no operation: an authentication failure is
		// Key Vault's Authentication; anything else has no name of its own.
		ev.OperationName = "Unknown"
		if status == http.StatusUnauthorized {
			ev.OperationName = "Authentication"
		}
	}
	h.opts.Auditor.Record(*ev)
}

// serve runs one request, writing the answer when it succeeds (and
// returning its status) and returning the error to write otherwise; it
// fills ev as it learns.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, ev *AuditEvent) (int, error) {
	name, base, rest, ok := h.locate(r)
	if !ok {
		return 0, &Error{Status: 404, Code: "NotFound", Message: "The requested path is not a vault."}
	}
	v, err := h.svc.GetVault(r.Context(), name)
	if errors.Is(err, ErrVaultNotFound) {
		return 0, &Error{Status: 404, Code: "VaultNotFound", Message: "The vault " + name + " does not exist."}
	} else if err != nil {
		return 0, err
	}
	v.URL = base
	apiVersion := r.URL.Query().Get("api-version")
	if h.opts.Auditor != nil {
		*ev = AuditEvent{VaultID: v.ResourceID, VaultName: v.Name, APIVersion: clip(apiVersion, 32),
			CallerIP: callerIP(r), ClientRequestID: clip(r.Header.Get("x-ms-client-request-id"), 128),
			ClientInfo: clip(r.UserAgent(), 512), RequestURI: requestURI(base, rest, r), ID: base + "/"}
	}
	// The operation is named first, so that refused requests are logged
	// under it; its errors are answered after authentication.
	op, routeErr := route(r.Method, rest)
	if routeErr == nil && h.opts.Auditor != nil {
		ev.OperationName = op.name
		if op.object != "" {
			ev.ID = clip(base+"/"+string(op.kind)+"/"+op.object, maxAuditURI)
		}
	}
	if apiVersion == "" {
		return 0, badParameter("The api-version query parameter is required.")
	}
	if !supportedAPIVersions[apiVersion] && !arm.IsPublishedAPIVersion(arm.SpecKeyVaultData, apiVersion) {
		return 0, badParameter("The specified version (%s) is not recognized. Consider using the latest supported version (7.6).", apiVersion)
	}
	p, err := h.authenticate(r, v)
	if err != nil {
		return 0, err
	}
	ev.TenantID, ev.ObjectID, ev.AppID = p.TenantID, p.ObjectID, p.AppID
	if h.opts.Auditor != nil && p.IdentityType == "user" {
		ev.UPN = tokenUPN(r)
	}
	if routeErr != nil {
		return 0, routeErr
	}
	scope := v.ResourceID
	if op.object != "" {
		scope += "/" + string(op.kind) + "/" + op.object
	}
	allowed, err := h.opts.Authorizer.Authorize(r.Context(), p, op.action, scope)
	if err != nil {
		return 0, err
	}
	if !allowed {
		return 0, forbidden(op.action)
	}
	ev.Authorized = true
	c := &call{svc: h.svc, v: v, r: r, apiVersion: apiVersion, path: rest}
	if op.body != nil {
		if err := c.decode(op.body); err != nil {
			// The decoder's detail may quote the body: the log keeps none.
			ev.Description = "The request body could not be read as the operation's parameters."
			return 0, err
		}
	}
	status, out, err := op.run(r.Context(), c)
	if err != nil {
		return 0, err
	}
	if out == nil {
		w.WriteHeader(status)
		return status, nil
	}
	writeJSON(w, status, out)
	return status, nil
}

// authenticate checks the bearer token; no token or a bad one gets 401
// with Key Vault's challenge, naming this vault's tenant.
func (h *Handler) authenticate(r *http.Request, v Vault) (identity.Principal, error) {
	challenge := http.Header{}
	authority := h.opts.AuthorityHost
	if _, rest, _ := strings.Cut(v.URL, "://"); h.opts.HostAuthority != "" && !strings.Contains(rest, "/") {
		authority = strings.TrimSuffix(h.opts.HostAuthority, "/")
	}
	challenge.Set("WWW-Authenticate", `Bearer authorization="`+authority+"/"+v.TenantID+`", resource="`+h.opts.Resource+`"`)
	authz := r.Header.Get("Authorization")
	scheme, raw, _ := strings.Cut(authz, " ")
	if authz == "" || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return identity.Principal{}, &Error{Status: 401, Code: "Unauthorized", Message: "AKV10000: Request is missing a Bearer or PoP token.", Header: challenge}
	}
	raw = strings.TrimSpace(raw)
	now := h.svc.now()
	p, cached := h.tokens.get(raw, now)
	var err error
	if !cached {
		p, err = h.opts.Validator.Validate(r.Context(), raw)
		if err == nil {
			h.tokens.put(raw, p, now)
		}
	}
	if err != nil {
		var te *identity.TokenError
		msg := "AKV10022: Invalid token."
		if errors.As(err, &te) {
			msg = "AKV10022: Invalid token: " + te.Error()
		}
		return identity.Principal{}, &Error{Status: 401, Code: "Unauthorized", Message: msg, Header: challenge}
	}
	if !strings.EqualFold(p.TenantID, v.TenantID) {
		return identity.Principal{}, &Error{Status: 401, Code: "Unauthorized", Header: challenge,
			Message: "AKV10032: Invalid issuer. The token's tenant is not the tenant of this vault (" + v.TenantID + ")."}
	}
	return p, nil
}

// call is one request in flight.
type call struct {
	svc        *Service
	v          Vault
	r          *http.Request
	apiVersion string
	path       string
}

func (c *call) decode(dst any) error {
	body, err := io.ReadAll(io.LimitReader(c.r.Body, maxBody+1))
	if err != nil {
		return badParameter("The request body could not be read.")
	}
	if len(body) > maxBody {
		return badParameter("The request body is larger than %d bytes.", maxBody)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return badParameter("The request body is required.")
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return badParameter("The request body is not valid JSON: %v", err)
	}
	return nil
}
