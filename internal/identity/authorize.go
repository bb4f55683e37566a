package identity

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// maxAuthorizeBytes caps an authorization request's query (and the
// sign-in form that carries it back).
const maxAuthorizeBytes = 16 << 10

// authzRequest is a validated authorization request.
type authzRequest struct {
	TenantID     string
	App          Application
	SP           ServicePrincipal
	RedirectURI  string
	Public       bool // the redirect URI is a publicClient or spa one
	ResponseMode string
	Scope        string
	State        string
	Nonce        string
	Challenge    string
	Prompt       string
	LoginHint    string
	MaxAge       int // -1: absent
	// ACRS are the authentication context class references the client
	// asks for (claims' acrs, or acr_values): each needs a fresh second
	// factor.
	ACRS []string
	// Raw is the query as received, carried through the sign-in form.
	Raw string
	// Flow is the B2C user flow named on the authority path, nil on
	// Entra's paths.
	Flow *UserFlow
}

// authzError is an authorization request failure. Redirect is false while
// the client and its redirect URI are not known good: then the error is
// shown on a page, never sent to an unverified URI.
type authzError struct {
	err      *OAuthError
	redirect bool
}

func (e *authzError) Error() string { return e.err.Error() }

func pageErr(e *OAuthError) *authzError     { return &authzError{err: e} }
func redirectErr(e *OAuthError) *authzError { return &authzError{err: e, redirect: true} }

// parseAuthorize validates an authorization request of tenantSeg's tenant.
// On failure the returned request still carries what is known (redirect
// URI, state, mode) for the error response.
func (s *Service) parseAuthorize(r *http.Request, raw string) (authzRequest, error) {
	ctx, tenantSeg := r.Context(), r.PathValue("tenant")
	var req authzRequest
	if len(raw) > maxAuthorizeBytes {
		return req, pageErr(errBadAuthorizeParam("query"))
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return req, pageErr(errBadAuthorizeParam("query"))
	}
	req.Raw = raw
	tenant, err := s.dir.Tenant(ctx, tenantSeg)
	if err != nil {
		var oe *OAuthError
		if errors.As(tenantErr(err, tenantSeg), &oe) {
			return req, pageErr(oe)
		}
		return req, err
	}
	req.TenantID = tenant.ID
	if req.Flow, err = s.userFlowOf(ctx, r, tenant.ID); err != nil {
		var oe *OAuthError
		if errors.As(err, &oe) {
			return req, pageErr(oe)
		}
		return req, err
	}
	clientID := q.Get("client_id")
	if clientID == "" {
		return req, pageErr(errMissingParam("client_id"))
	}
	if !validClientID(clientID) {
		return req, pageErr(errAppNotFound(clip(clientID), tenant.ID))
	}
	app, err := s.clientApplication(ctx, tenant.ID, clientID)
	if err != nil {
		var oe *OAuthError
		if errors.As(err, &oe) {
			return req, pageErr(oe)
		}
		return req, err
	}
	sp, err := s.dir.ServicePrincipal(ctx, tenant.ID, app.AppID)
	if errors.Is(err, ErrNotFound) {
		return req, pageErr(errAppNotFound(clip(clientID), tenant.ID))
	} else if err != nil {
		return req, err
	}
	if !sp.AccountEnabled {
		return req, pageErr(errClientDisabled(app.AppID))
	}
	req.App, req.SP = app, sp
	req.RedirectURI = q.Get("redirect_uri")
	if req.RedirectURI == "" {
		return req, pageErr(errMissingParam("redirect_uri"))
	}
	public, ok := matchRedirect(app, req.RedirectURI)
	if !ok {
		return req, pageErr(errRedirectMismatch(app.AppID))
	}
	req.Public = public
	// From here on errors go back to the client's redirect URI.
	req.State = q.Get("state")
	req.ResponseMode = q.Get("response_mode")
	switch req.ResponseMode {
	case "":
		req.ResponseMode = "query"
	case "query", "fragment", "form_post":
	default:
		req.ResponseMode = "query"
		return req, redirectErr(errResponseMode(q.Get("response_mode")))
	}
	if rt := q.Get("response_type"); rt != "code" {
		if rt == "" {
			return req, redirectErr(errMissingParam("response_type"))
		}
		return req, redirectErr(errResponseType(rt))
	}
	req.Scope = q.Get("scope")
	if strings.TrimSpace(req.Scope) == "" {
		return req, redirectErr(errMissingParam("scope"))
	}
	// Scopes are checked now (that they exist); consent is decided once
	// the user is known.
	if _, err := s.resolveScopes(ctx, tenant.ID, app, sp, "", req.Scope); err != nil {
		var oe *OAuthError
		if !errors.As(err, &oe) {
			return req, err
		}
		if oe.Code != "consent_required" {
			return req, redirectErr(oe)
		}
	}
	req.Nonce = q.Get("nonce")
	req.Challenge = q.Get("code_challenge")
	method := q.Get("code_challenge_method")
	switch {
	case req.Challenge == "" && method != "":
		return req, redirectErr(errMissingParam("code_challenge"))
	case req.Challenge == "" && req.Public:
		return req, redirectErr(errPKCERequired())
	case req.Challenge != "" && method != "S256":
		return req, redirectErr(errPKCEMethod(method))
	case req.Challenge != "" && !validChallenge(req.Challenge):
		return req, redirectErr(errBadAuthorizeParam("code_challenge"))
	}
	req.Prompt = q.Get("prompt")
	switch req.Prompt {
	case "", "login", "none", "consent", "select_account":
	default:
		return req, redirectErr(errBadAuthorizeParam("prompt"))
	}
	req.LoginHint = q.Get("login_hint")
	req.MaxAge = -1
	if v := q.Get("max_age"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return req, redirectErr(errBadAuthorizeParam("max_age"))
		}
		req.MaxAge = n
	}
	acrs, err := requestedACRS(q.Get("claims"), q.Get("acr_values"))
	if err != nil {
		return req, redirectErr(errBadAuthorizeParam("claims"))
	}
	req.ACRS = acrs
	return req, nil
}

// validChallenge accepts an S256 code challenge: base64url of 32 bytes.
func validChallenge(c string) bool {
	b, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil && len(b) == 32
}

// matchRedirect finds uri among the application's redirect URIs (exact
// match, as Entra requires) and reports whether it is a public client's
// (publicClient or spa) rather than a web app's.
func matchRedirect(app Application, uri string) (public, ok bool) {
	for _, kind := range []string{"web", "publicClient", "spa"} {
		var v struct {
			RedirectURIs []string `json:"redirectUris"`
		}
		raw, has := app.Properties[kind]
		if !has || json.Unmarshal(raw, &v) != nil {
			continue
		}
		if slices.Contains(v.RedirectURIs, uri) {
			return kind != "web", true
		}
	}
	return false, false
}

// requestedACRS reads the authentication contexts asked for: the values of
// an "acrs" claim requested for the id_token or the access_token in the
// claims parameter (Entra's Conditional Access authentication context), and
// the acr_values parameter.
func requestedACRS(claims, acrValues string) ([]string, error) {
	var out []string
	add := func(v string) {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	if claims != "" {
		var doc map[string]map[string]*struct {
			Essential bool     `json:"essential"`
			Value     string   `json:"value"`
			Values    []string `json:"values"`
		}
		if len(claims) > 4096 || json.Unmarshal([]byte(claims), &doc) != nil {
			return nil, errors.New("identity: claims is not a JSON object of claim requests")
		}
		for target, reqs := range doc {
			if target != "id_token" && target != "access_token" && target != "userinfo" {
				return nil, errors.New("identity: claims names an unknown target")
			}
			if r := reqs["acrs"]; r != nil {
				add(r.Value)
				for _, v := range r.Values {
					add(v)
				}
			}
		}
	}
	for _, v := range strings.Fields(acrValues) {
		add(v)
	}
	for _, v := range out {
		if len(v) > 64 {
			return nil, errors.New("identity: acr value too long")
		}
	}
	return out, nil
}

// respond sends the authorization response (params: code or error) to the
// client's redirect URI in its response mode.
func (s *Service) respond(w http.ResponseWriter, req authzRequest, params url.Values) {
	if req.State != "" {
		params.Set("state", req.State)
	}
	switch req.ResponseMode {
	case "form_post":
		s.renderFormPost(w, req.RedirectURI, params)
		return
	case "fragment":
		u, _ := url.Parse(req.RedirectURI)
		u.Fragment = ""
		w.Header().Set("Location", u.String()+"#"+params.Encode())
	default:
		u, _ := url.Parse(req.RedirectURI)
		q := u.Query()
		for k, v := range params {
			q[k] = v
		}
		u.RawQuery = q.Encode()
		w.Header().Set("Location", u.String())
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

// respondError sends err to the client's redirect URI, in Entra's form
// (error, error_description with the AADSTS code, error_uri).
func (s *Service) respondError(w http.ResponseWriter, r *http.Request, req authzRequest, e *OAuthError) {
	trace := s.opts.NewID()
	s.opts.Logger.InfoContext(r.Context(), "authorization request refused", "error", e.Code, "aadsts", e.AADSTS, "trace_id", trace)
	s.respond(w, req, url.Values{
		"error":             {e.Code},
		"error_description": {e.describe() + "\r\nTrace ID: " + trace},
		"error_uri":         {e.errorURI(s.authority(r))},
	})
}
