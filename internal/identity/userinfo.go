package identity

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// serveUserInfo is the OIDC userinfo endpoint. As Entra's, it takes an
// access token for Microsoft Graph (what a sign-in with only OpenID scopes
// returns) and answers the user's sub, name and email.
func (s *Service) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		s.fail(w, r, errMethodGet())
		return
	}
	t, err := s.dir.Tenant(r.Context(), r.PathValue("tenant"))
	if err != nil {
		s.fail(w, r, tenantErr(err, r.PathValue("tenant")))
		return
	}
	authority := s.authority(r)
	v := Validator{Keys: s.keys, Issuer: func(tid string) string { return IssuerFor(authority, tid) },
		Audiences: []string{graphResource, "00000003-0000-0000-c000-000000000000"}, Now: s.opts.Now}
	raw, ok := bearer(r.Header.Get("Authorization"))
	var p Principal
	if ok {
		p, err = v.Validate(r.Context(), raw)
	}
	if !ok || err != nil || p.IdentityType != "user" || !strings.EqualFold(p.TenantID, t.ID) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="A user's access token for Microsoft Graph is required."`)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": "InvalidAuthenticationToken",
			"message": "Access token is missing, invalid or not a user's token for Microsoft Graph."}})
		return
	}
	u, err := s.dir.User(r.Context(), t.ID, p.ObjectID)
	if err != nil || !u.AccountEnabled {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	out := map[string]string{"sub": pairwiseSubject(t.ID, p.Audience, u.ID), "name": u.DisplayName}
	for claim, prop := range map[string]string{"given_name": "givenName", "family_name": "surname"} {
		var v string
		if raw, ok := u.Properties[prop]; ok && json.Unmarshal(raw, &v) == nil && v != "" {
			out[claim] = v
		}
	}
	if m := userMail(u); m != "" {
		out["email"] = m
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(out)
}

// serveLogout is the end_session_endpoint: it ends the browser's sign-in
// session and goes back to post_logout_redirect_uri when that is one of
// the client's redirect URIs (the client named by client_id or by the
// id_token_hint's aud), else shows a signed-out page.
func (s *Service) serveLogout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		s.renderError(w, r, http.StatusMethodNotAllowed, errBadAuthorizeParam("method"))
		return
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxAuthorizeBytes)
		_ = r.ParseForm()
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if _, err := s.deleteRecord(r.Context(), tableSessions, c.Value); err != nil {
			s.authorizeFailed(w, r, authzRequest{}, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	target := r.FormValue("post_logout_redirect_uri")
	clientID := r.FormValue("client_id")
	if clientID == "" {
		clientID = hintAudience(r.FormValue("id_token_hint"))
	}
	if target != "" && clientID != "" && validClientID(clientID) {
		if t, err := s.dir.Tenant(r.Context(), r.PathValue("tenant")); err == nil {
			if app, err := s.clientApplication(r.Context(), t.ID, clientID); err == nil {
				if _, ok := matchRedirect(app, target); ok {
					u, _ := url.Parse(target)
					if st := r.FormValue("state"); st != "" {
						q := u.Query()
						q.Set("state", st)
						u.RawQuery = q.Encode()
					}
					w.Header().Set("Location", u.String())
					w.WriteHeader(http.StatusFound)
					return
				}
			}
		}
	}
	nonce := s.securePage(w, "'none'")
	s.render(w, r, "signedout", http.StatusOK, pageData{Title: "Signed out", Nonce: nonce})
}

// hintAudience reads the aud of an id_token_hint without verifying it: it
// only chooses whose redirect URIs the logout target is checked against.
func hintAudience(hint string) string {
	parts := strings.Split(hint, ".")
	if len(parts) != 3 || len(hint) > maxTokenBytes {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Aud string `json:"aud"`
	}
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	return c.Aud
}
