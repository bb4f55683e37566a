package identity

import (
	"github.com/steward-gov/steward/internal/arm"

	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxTokenRequestBytes caps the token request body; assertions with an x5c
// chain are a few KiB.
const maxTokenRequestBytes = 64 << 10

// jwtBearer is the client_assertion_type of a JWT client assertion.
const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// TokenResponse is the body of a successful token response.
type TokenResponse struct {
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	ExtExpiresIn int64  `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
}

// TokenRequest is a parsed client_credentials request.
type TokenRequest struct {
	Tenant              string // as given in the path: a tenant ID or domain
	ClientID            string
	ClientSecret        string
	ClientAssertion     string
	ClientAssertionType string
	Scope               string
	// GrantType is client_credentials, authorization_code or
	// refresh_token; the last two are served by [Service.UserToken].
	GrantType    string
	Code         string
	RedirectURI  string
	CodeVerifier string
	RefreshToken string
	// Authorities are the base URLs ("https://host/") the request reached
	// the service under: the configured authority host first, then the
	// request's own host. Tokens are issued under the first; a client
	// assertion's aud may name the token endpoint under any.
	Authorities []string
	// Policy is the B2C user flow named on the token endpoint's path, ""
	// on Entra's.
	Policy string
}

func (s *Service) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.fail(w, r, errMethod())
		return
	}
	req, err := s.parseTokenRequest(w, r)
	if err != nil {
		s.observe(req, err)
		s.fail(w, r, err)
		return
	}
	var resp any
	if req.GrantType == "client_credentials" {
		resp, err = s.Token(r.Context(), req)
	} else {
		resp, err = s.UserToken(r.Context(), req)
	}
	s.observe(req, err)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store, no-cache")
	h.Set("Pragma", "no-cache")
	_ = json.NewEncoder(w).Encode(resp)
}

func (s *Service) parseTokenRequest(w http.ResponseWriter, r *http.Request) (TokenRequest, error) {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		return TokenRequest{}, errBadRequestBody()
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequestBytes)
	if err := r.ParseForm(); err != nil {
		return TokenRequest{}, errBadRequestBody()
	}
	f := r.PostForm
	tenant := r.PathValue("tenant")
	authorities := []string{s.authority(r)}
	if self := "https://" + r.Host + "/"; arm.ValidHost(r.Host) && !strings.EqualFold(self, authorities[0]) {
		authorities = append(authorities, self)
	}
	req := TokenRequest{
		Tenant:              tenant,
		ClientID:            f.Get("client_id"),
		ClientSecret:        f.Get("client_secret"),
		ClientAssertion:     f.Get("client_assertion"),
		ClientAssertionType: f.Get("client_assertion_type"),
		Scope:               f.Get("scope"),
		GrantType:           f.Get("grant_type"),
		Code:                f.Get("code"),
		RedirectURI:         f.Get("redirect_uri"),
		CodeVerifier:        f.Get("code_verifier"),
		RefreshToken:        f.Get("refresh_token"),
		Authorities:         authorities,
		Policy:              r.PathValue("policy"),
	}
	if user, pass, ok := r.BasicAuth(); ok { // client_secret_basic (RFC 6749 §2.3.1)
		if f.Has("client_secret") || f.Has("client_assertion") || f.Has("client_assertion_type") {
			return req, errTwoClientAuthMethods()
		}
		id, err1 := url.QueryUnescape(user)
		secret, err2 := url.QueryUnescape(pass)
		if err1 != nil || err2 != nil || (req.ClientID != "" && !strings.EqualFold(req.ClientID, id)) {
			return req, errBasicAuth()
		}
		req.ClientID, req.ClientSecret = id, secret
	}
	switch g := f.Get("grant_type"); g {
	case "":
		return req, errMissingParam("grant_type")
	case "authorization_code", "refresh_token":
	case "client_credentials":
		if req.Policy != "" { // a user flow signs users in
			return req, errUnsupportedGrant("client_credentials")
		}
	default:
		return req, errUnsupportedGrant(g)
	}
	return req, nil
}

// Token runs a client_credentials request: it finds the tenant and the
// client, authenticates the client by secret or assertion, checks the scope
// and issues an access token.
func (s *Service) Token(ctx context.Context, req TokenRequest) (TokenResponse, error) {
	if len(req.Authorities) == 0 {
		if s.opts.AuthorityHost == "" {
			return TokenResponse{}, errors.New("identity: token request without an authority, and no AuthorityHost configured")
		}
		req.Authorities = []string{s.opts.AuthorityHost}
	}
	tenant, err := s.dir.Tenant(ctx, req.Tenant)
	if err != nil {
		return TokenResponse{}, tenantErr(err, req.Tenant)
	}
	if req.ClientID == "" {
		return TokenResponse{}, errMissingParam("client_id")
	}
	if !validClientID(req.ClientID) {
		return TokenResponse{}, errAppNotFound(clip(req.ClientID), tenant.ID)
	}
	if req.ClientSecret != "" && (req.ClientAssertion != "" || req.ClientAssertionType != "") {
		return TokenResponse{}, errTwoClientAuthMethods()
	}
	if req.Scope == "" {
		return TokenResponse{}, errMissingParam("scope")
	}
	resource, err := parseScope(req.Scope)
	if err != nil {
		return TokenResponse{}, err
	}
	app, err := s.clientApplication(ctx, tenant.ID, req.ClientID)
	if err != nil {
		return TokenResponse{}, err
	}
	now := s.opts.Now()
	if d := s.lockouts.locked(tenant.ID, app.AppID, now); d > 0 {
		return TokenResponse{}, errClientLockedOut(app.AppID, d)
	}
	acr, err := s.authenticateClient(ctx, tenant.ID, req, app, now)
	if err != nil {
		var oe *OAuthError
		if errors.As(err, &oe) && oe.Code == "invalid_client" && s.lockouts.fail(tenant.ID, app.AppID, now) {
			s.opts.Logger.WarnContext(ctx, "client locked out after repeated failed authentication",
				"tenant", tenant.ID, "client_id", app.AppID, "duration", lockoutDuration.String())
		}
		return TokenResponse{}, err
	}
	s.lockouts.succeed(tenant.ID, app.AppID)
	sp, err := s.dir.ServicePrincipal(ctx, tenant.ID, app.AppID)
	if errors.Is(err, ErrNotFound) {
		return TokenResponse{}, errAppNotFound(req.ClientID, tenant.ID)
	} else if err != nil {
		return TokenResponse{}, err
	}
	if !sp.AccountEnabled {
		return TokenResponse{}, errClientDisabled(app.AppID)
	}
	if ok, err := s.knownResource(ctx, tenant.ID, resource); err != nil {
		return TokenResponse{}, err
	} else if !ok {
		return TokenResponse{}, errResourceNotFound(resource, tenant.ID)
	}
	tok, exp, err := s.issue(ctx, tenant.ID, sp, resource, acr, now, req.Authorities[0])
	if err != nil {
		return TokenResponse{}, err
	}
	secs := int64(exp.Sub(now) / time.Second)
	return TokenResponse{TokenType: "Bearer", ExpiresIn: secs, ExtExpiresIn: secs, AccessToken: tok}, nil
}

// authenticateClient checks the request's one client credential, a client
// assertion or a client secret, and returns the token's acr ("2" for an
// assertion, "1" for a secret). The credential that authenticated is
// reported to Options.CredentialUsed (credentialuse.go).
func (s *Service) authenticateClient(ctx context.Context, tenantID string, req TokenRequest, app Application, now time.Time) (string, error) {
	var acr, kind, keyID string
	var err error
	switch {
	case req.ClientAssertion != "" || req.ClientAssertionType != "":
		if req.ClientAssertionType != jwtBearer {
			return "", errAssertionType()
		}
		if req.ClientAssertion == "" {
			return "", errMissingParam("client_assertion")
		}
		if isFederatedAssertion(app, req.ClientAssertion) {
			kind = CredentialFederated
			keyID, err = s.verifyFederated(ctx, app, req.ClientAssertion, now)
		} else {
			kind = CredentialCertificate
			keyID, err = s.verifyAssertion(ctx, tenantID, req.Tenant, app, req.ClientAssertion, req.Authorities, now)
		}
		acr = "2"
	case req.ClientSecret != "":
		kind = CredentialPassword
		keyID, err = checkSecret(app, req.ClientSecret, now)
		acr = "1"
	default:
		return "", errNoCredential()
	}
	if err != nil {
		return "", err
	}
	s.noteCredentialUse(tenantID, app, kind, keyID, now)
	return acr, nil
}

// validClientID reports whether id can name an application: at most 256
// bytes without control characters (app IDs are GUIDs; identifier URIs
// are URLs).
func validClientID(id string) bool {
	if len(id) > 256 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] == 0x7f {
			return false
		}
	}
	return true
}

// observe reports a token request's outcome to Options.Observe.
func (s *Service) observe(req TokenRequest, err error) {
	if s.opts.Observe == nil {
		return
	}
	o := TokenOutcome{Credential: "none"}
	switch {
	case req.ClientAssertion != "" || req.ClientAssertionType != "":
		o.Credential = "assertion"
	case req.ClientSecret != "":
		o.Credential = "secret"
	}
	var oe *OAuthError
	switch {
	case err == nil:
	case errors.As(err, &oe):
		o.AADSTS = oe.AADSTS
	default:
		o.AADSTS = -1
	}
	s.opts.Observe(o)
}

// checkSecret accepts secret when it matches one of the app's client
// secrets that is valid now, and returns that secret's keyId; a match on an
// expired one is reported as such.
func checkSecret(app Application, secret string, now time.Time) (string, error) {
	expired := false
	for _, c := range app.PasswordCredentials {
		if !c.Matches(secret) {
			continue
		}
		if activeAt(c.StartDateTime, c.EndDateTime, now) {
			return c.KeyID, nil
		}
		expired = true
	}
	if expired {
		return "", errSecretExpired(app.AppID)
	}
	return "", errBadSecret(app.AppID)
}

// oidcScopes are the scopes MSAL adds to every request; they name no
// resource and are ignored, as Entra does for client credentials.
var oidcScopes = map[string]bool{"openid": true, "profile": true, "offline_access": true, "email": true}

// parseScope returns the one resource of a client_credentials scope, which
// must be "<resource>/.default".
func parseScope(scope string) (string, error) {
	resource := ""
	for _, sc := range strings.Fields(scope) {
		if oidcScopes[strings.ToLower(sc)] {
			continue
		}
		r, ok := strings.CutSuffix(sc, "/.default")
		if !ok || r == "" {
			return "", errScopeNotDefault(sc)
		}
		if resource != "" && normalizeResource(resource) != normalizeResource(r) {
			return "", errScopeMultipleResources()
		}
		resource = r
	}
	if resource == "" {
		return "", errScopeNotDefault(scope)
	}
	return resource, nil
}

// knownResource reports whether tokens may be issued for resource.
func (s *Service) knownResource(ctx context.Context, tenantID, resource string) (bool, error) {
	if s.resources[normalizeResource(resource)] {
		return true, nil
	}
	return s.dir.HasResource(ctx, tenantID, resource)
}

// clientApplication finds the application a client ID names in a tenant:
// one registered there, or a multi-tenant application of another tenant
// that has a service principal here (created by consent).
func (s *Service) clientApplication(ctx context.Context, tenantID, clientID string) (Application, error) {
	app, err := s.dir.Application(ctx, tenantID, clientID)
	if err == nil {
		return app, nil
	} else if !errors.Is(err, ErrNotFound) {
		return Application{}, err
	}
	sp, err := s.dir.ServicePrincipal(ctx, tenantID, clientID)
	if errors.Is(err, ErrNotFound) {
		return Application{}, errAppNotFound(clip(clientID), tenantID)
	} else if err != nil {
		return Application{}, err
	}
	if sp.AppOwnerTenantID == "" || strings.EqualFold(sp.AppOwnerTenantID, tenantID) {
		app, ok, err := s.managedIdentityClient(ctx, tenantID, sp)
		if err != nil {
			return Application{}, err
		}
		if !ok {
			return Application{}, errAppNotFound(clip(clientID), tenantID)
		}
		return app, nil
	}
	app, err = s.dir.Application(ctx, sp.AppOwnerTenantID, clientID)
	if errors.Is(err, ErrNotFound) {
		return Application{}, errAppNotFound(clip(clientID), tenantID)
	} else if err != nil {
		return Application{}, err
	}
	if app.SignInAudience != AudienceMultipleOrgs {
		return Application{}, errAppNotMultiTenant(clip(clientID), tenantID)
	}
	return app, nil
}
