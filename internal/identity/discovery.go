package identity

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// OpenIDConfiguration is the OIDC discovery document of a tenant, with
// the fields Entra's v2.0 document carries that apply to Steward.
type OpenIDConfiguration struct {
	TokenEndpoint                     string   `json:"token_endpoint"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	JWKSURI                           string   `json:"jwks_uri"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	Issuer                            string   `json:"issuer"`
	RequestURIParameterSupported      bool     `json:"request_uri_parameter_supported"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	DeviceAuthorizationEndpoint       string   `json:"device_authorization_endpoint"`
	HTTPLogoutSupported               bool     `json:"http_logout_supported"`
	FrontchannelLogoutSupported       bool     `json:"frontchannel_logout_supported"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	UserInfoEndpoint                  string   `json:"userinfo_endpoint"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
	TenantRegionScope                 *string  `json:"tenant_region_scope"`
	CloudInstanceName                 string   `json:"cloud_instance_name"`
	CloudGraphHostName                string   `json:"cloud_graph_host_name"`
	MSGraphHost                       string   `json:"msgraph_host"`
}

// Discovery returns the discovery document of tenantID under authority.
func Discovery(authority, tenantID string) OpenIDConfiguration {
	base := strings.TrimSuffix(authority, "/") + "/" + strings.ToLower(tenantID)
	return OpenIDConfiguration{
		TokenEndpoint:                     base + "/oauth2/v2.0/token",
		TokenEndpointAuthMethodsSupported: []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		JWKSURI:                           base + "/discovery/v2.0/keys",
		ResponseModesSupported:            []string{"query", "fragment", "form_post"},
		SubjectTypesSupported:             []string{"pairwise"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		ResponseTypesSupported:            []string{"code"},
		ScopesSupported:                   []string{"openid", "profile", "email", "offline_access"},
		Issuer:                            IssuerFor(authority, tenantID),
		AuthorizationEndpoint:             base + "/oauth2/v2.0/authorize",
		DeviceAuthorizationEndpoint:       base + "/oauth2/v2.0/devicecode",
		EndSessionEndpoint:                base + "/oauth2/v2.0/logout",
		UserInfoEndpoint:                  base + "/openid/userinfo",
		CodeChallengeMethodsSupported:     []string{"S256"},
		GrantTypesSupported:               []string{"authorization_code", "refresh_token", "client_credentials"},
		ClaimsSupported: []string{"sub", "iss", "aud", "exp", "iat", "nbf", "auth_time", "acr", "acrs", "amr", "nonce",
			"preferred_username", "name", "email", "oid", "tid", "azp", "appid", "groups", "idtyp", "scp", "sid", "ver"},
		CloudInstanceName:  "steward.local",
		CloudGraphHostName: "graph.windows.net",
		MSGraphHost:        "graph.microsoft.com",
	}
}

// multiTenant are the authorities that name no tenant. Entra serves their
// discovery documents with the issuer's tenant as the literal
// "{tenantid}"; MSAL reads them (az logout, for one, builds an app on
// "organizations").
var multiTenant = map[string]bool{"common": true, "organizations": true, "consumers": true}

func (s *Service) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	if seg := strings.ToLower(r.PathValue("tenant")); multiTenant[seg] && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		doc := Discovery(s.authority(r), seg)
		doc.Issuer = strings.TrimSuffix(s.authority(r), "/") + "/{tenantid}/v2.0"
		writeJSON(w, doc)
		return
	}
	if t, ok := s.getTenant(w, r); ok {
		writeJSON(w, Discovery(s.authority(r), t.ID))
	}
}

// ADFSDiscoveryPath is where an ADFS-shaped authority ("https://host/adfs")
// has its discovery document: MSAL reads "{authority}/.well-known/openid-configuration"
// without "/v2.0" when the authority's tenant segment is "adfs", and skips
// instance discovery, which clients that cannot turn it off (Azure CLI
// before 2.53) otherwise send to login.microsoftonline.com.
const ADFSDiscoveryPath = "/adfs/.well-known/openid-configuration"

// serveADFSDiscovery answers ADFSDiscoveryPath with the home tenant's v2.0
// discovery document, so the client goes on to that tenant's token
// endpoint.
func (s *Service) serveADFSDiscovery(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.fail(w, r, errMethodGet())
		return
	}
	home, err := s.readHome(r.Context())
	if err != nil {
		s.fail(w, r, tenantErr(err, "adfs"))
		return
	}
	writeJSON(w, Discovery(s.authority(r), home.TenantID))
}

func (s *Service) serveKeys(w http.ResponseWriter, r *http.Request) {
	t, ok := s.getTenant(w, r)
	if !ok {
		return
	}
	set, err := s.keys.JWKS(r.Context(), t.ID, IssuerFor(s.authority(r), t.ID))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, set)
}

// getTenant checks that a discovery request is a GET and finds its tenant;
// on failure it has written the error.
func (s *Service) getTenant(w http.ResponseWriter, r *http.Request) (Tenant, bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.fail(w, r, errMethodGet())
		return Tenant{}, false
	}
	t, err := s.dir.Tenant(r.Context(), r.PathValue("tenant"))
	if err != nil {
		s.fail(w, r, tenantErr(err, r.PathValue("tenant")))
		return Tenant{}, false
	}
	return t, true
}

// tenantErr turns a tenant lookup failure into the error to send.
func tenantErr(err error, tenant string) error {
	if errors.Is(err, errBadTenantRef) {
		return errTenantInvalid(tenant)
	}
	if errors.Is(err, ErrNotFound) {
		return errTenantNotFound(tenant)
	}
	return err
}

func errMethodGet() *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_request", 900561,
		"The endpoint only accepts GET requests.")
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "max-age=86400, private")
	_ = json.NewEncoder(w).Encode(v)
}

// fail writes err in Entra's OAuth error form with fresh trace and
// correlation IDs (the caller's client-request-id is echoed as the
// correlation ID, as Entra does) and logs it without secrets.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	trace := r.Header.Get("x-ms-request-id")
	if trace == "" {
		trace = s.opts.NewID()
	}
	corr := r.Header.Get("client-request-id")
	if corr == "" {
		corr = s.opts.NewID()
	}
	var oe *OAuthError
	if errors.As(err, &oe) {
		s.opts.Logger.InfoContext(r.Context(), "token service request rejected",
			"path", r.URL.Path, "error", oe.Code, "aadsts", oe.AADSTS, "trace_id", trace)
	} else {
		s.opts.Logger.ErrorContext(r.Context(), "token service failure", "path", r.URL.Path, "err", err.Error(), "trace_id", trace)
	}
	writeOAuthError(w, err, s.opts.Now(), trace, corr, s.authority(r))
}
