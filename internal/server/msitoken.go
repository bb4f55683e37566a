package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/steward-gov/steward/internal/identity"
)

// Managed-identity token endpoints.
const (
	// IMDSTokenPath is the instance metadata service's token endpoint,
	// reached as http://169.254.169.254/metadata/identity/oauth2/token
	// through the proxy.
	IMDSTokenPath = "/metadata/identity/oauth2/token"
	// AppServiceTokenPath is the App Service-shaped token endpoint on
	// Steward's own address (IDENTITY_ENDPOINT).
	AppServiceTokenPath = "/msi/token"
	// AppServiceAPIVersion is the api-version of the App Service endpoint
	// (IDENTITY_ENDPOINT + IDENTITY_HEADER).
	AppServiceAPIVersion = "2019-08-01"
	// bindingProxyUser is the proxy user name that carries a binding in
	// HTTP_PROXY ("http://msi:{binding}@127.0.0.1:8444").
	bindingProxyUser = "msi"
)

// imdsVersion matches IMDS api-versions (dates); the token endpoint
// exists from 2018-02-01.
var imdsVersion = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// tokenEndpoint serves the two managed-identity token endpoints.
type tokenEndpoint struct {
	s   *Steward
	m   *managedIdentities
	key []byte
}

// mountManagedIdentityEndpoints mounts IMDS (by host, through the proxy)
// and the App Service endpoint (on Steward's address).
func (s *Steward) mountManagedIdentityEndpoints(m *managedIdentities) error {
	key, err := EnsureBindingKey(s.Config.DataDir)
	if err != nil {
		return err
	}
	e := &tokenEndpoint{s: s, m: m, key: key}
	s.Server.Router.Host(IMDSHost).Handle(Route{Name: "imds", Handler: http.HandlerFunc(e.serveIMDS),
		Match: func(*http.Request) bool { return true }})
	s.Server.Router.HandleExact("msi", AppServiceTokenPath, http.HandlerFunc(e.serveAppService))
	return nil
}

// msiError is the endpoints' error body (IMDS's shape).
type msiError struct {
	Status      int    `json:"-"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func writeMSI(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func badMSI(desc string) *msiError {
	return &msiError{Status: http.StatusBadRequest, Error: "invalid_request", Description: desc}
}

// serveIMDS answers GET /metadata/identity/oauth2/token with Metadata:
// true, for the identity the proxy credential binds.
func (e *tokenEndpoint) serveIMDS(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != IMDSTokenPath {
		writeMSI(w, http.StatusNotFound, badMSI("Steward serves only the managed identity token endpoint of the instance metadata service"))
		return
	}
	if !strings.EqualFold(r.Header.Get("Metadata"), "true") {
		writeMSI(w, http.StatusBadRequest, badMSI("Required metadata header not specified"))
		return
	}
	q := r.URL.Query()
	if v := q.Get("api-version"); v == "" || !imdsVersion.MatchString(v) || v < "2018-02-01" {
		writeMSI(w, http.StatusBadRequest, badMSI("Missing or invalid api-version: use 2018-02-01 or later"))
		return
	}
	binding := ""
	if c, ok := ProxyCredentialFrom(r.Context()); ok && c.User == bindingProxyUser {
		binding = c.Password
	}
	e.serve(w, r, binding, false)
}

// serveAppService answers GET /msi/token?api-version=2019-08-01 with the
// X-IDENTITY-HEADER secret `steward env --managed-identity` prints.
func (e *tokenEndpoint) serveAppService(w http.ResponseWriter, r *http.Request) {
	if v := r.URL.Query().Get("api-version"); v != AppServiceAPIVersion {
		writeMSI(w, http.StatusBadRequest, badMSI("The api-version must be "+AppServiceAPIVersion))
		return
	}
	h := r.Header.Get("X-IDENTITY-HEADER")
	if h == "" {
		writeMSI(w, http.StatusUnauthorized, &msiError{Error: "unauthorized", Description: "The X-IDENTITY-HEADER header is missing"})
		return
	}
	e.serve(w, r, h, true)
}

// serve resolves the binding, selects the identity as the query asks
// (client_id, object_id or principal_id, msi_res_id or mi_res_id; none:
// the system-assigned identity, else the only one) and issues the token.
func (e *tokenEndpoint) serve(w http.ResponseWriter, r *http.Request, binding string, appService bool) {
	if r.Method != http.MethodGet {
		writeMSI(w, http.StatusMethodNotAllowed, badMSI("Use GET"))
		return
	}
	q := r.URL.Query()
	resource := q.Get("resource")
	if resource == "" {
		writeMSI(w, http.StatusBadRequest, badMSI("Required query variable 'resource' is missing"))
		return
	}
	if binding == "" {
		writeMSI(w, http.StatusBadRequest, badMSI("Identity not found: no managed identity is bound to this client (run `steward env --managed-identity NAME`)"))
		return
	}
	subject, ok := parseBinding(e.key, binding)
	if !ok {
		if appService {
			writeMSI(w, http.StatusUnauthorized, &msiError{Error: "unauthorized", Description: "The X-IDENTITY-HEADER is not valid for this Steward"})
		} else {
			writeMSI(w, http.StatusBadRequest, badMSI("Identity not found: the proxy credential is not a binding of this Steward"))
		}
		return
	}
	ids, err := e.m.identitiesOf(r.Context(), subject)
	if err != nil {
		writeMSI(w, http.StatusBadRequest, badMSI("Identity not found: "+err.Error()))
		return
	}
	id, selErr := selectIdentity(ids, q)
	if selErr != nil {
		writeMSI(w, selErr.Status, selErr)
		return
	}
	tok, exp, err := e.s.Identity.ManagedIdentityToken(r.Context(), e.s.Bootstrap.TenantID, id.clientID, resource, "https://"+LoginHosts[0]+"/")
	if err != nil {
		var oe *identity.OAuthError
		if errors.As(err, &oe) {
			writeMSI(w, http.StatusBadRequest, &msiError{Error: oe.Code, Description: oe.Message})
			return
		}
		e.s.log.Error("managed identity token", "err", err.Error())
		writeMSI(w, http.StatusInternalServerError, &msiError{Error: "server_error", Description: "The token could not be issued."})
		return
	}
	now := e.s.Server.now()
	secs := strconv.FormatInt(int64(exp.Sub(now).Seconds()), 10)
	body := map[string]string{
		"access_token": tok, "client_id": id.clientID, "expires_on": strconv.FormatInt(exp.Unix(), 10),
		"resource": resource, "token_type": "Bearer",
	}
	if !appService {
		body["expires_in"], body["ext_expires_in"] = secs, secs
		body["not_before"] = strconv.FormatInt(now.Unix(), 10)
	}
	if !id.system {
		body["msi_res_id"] = id.resourceID
	}
	writeMSI(w, http.StatusOK, body)
}

// selectIdentity picks the identity a request names.
func selectIdentity(ids []managedIdentity, q map[string][]string) (managedIdentity, *msiError) {
	get := func(names ...string) (string, string) {
		for _, n := range names {
			if v := first(q[n]); v != "" {
				return n, v
			}
		}
		return "", ""
	}
	var given int
	for _, n := range []string{"client_id", "object_id", "principal_id", "msi_res_id", "mi_res_id"} {
		if first(q[n]) != "" {
			given++
		}
	}
	if given > 1 {
		return managedIdentity{}, badMSI("Give only one of client_id, object_id and msi_res_id")
	}
	if _, v := get("client_id"); v != "" {
		return pick(ids, func(m managedIdentity) bool { return strings.EqualFold(m.clientID, v) })
	}
	if _, v := get("object_id", "principal_id"); v != "" {
		return pick(ids, func(m managedIdentity) bool { return strings.EqualFold(m.principalID, v) })
	}
	if _, v := get("msi_res_id", "mi_res_id"); v != "" {
		return pick(ids, func(m managedIdentity) bool { return !m.system && strings.EqualFold(m.resourceID, v) })
	}
	for _, m := range ids {
		if m.system {
			return m, nil
		}
	}
	if len(ids) == 1 {
		return ids[0], nil
	}
	return managedIdentity{}, badMSI("Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request")
}

func pick(ids []managedIdentity, match func(managedIdentity) bool) (managedIdentity, *msiError) {
	for _, m := range ids {
		if match(m) {
			return m, nil
		}
	}
	return managedIdentity{}, badMSI("Identity not found")
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
