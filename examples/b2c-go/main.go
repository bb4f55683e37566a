// Command b2c-go is seed 002's B2C application written in Go: a web app
// that signs users in through an Azure AD B2C user flow with
// golang.org/x/oauth2 and github.com/coreos/go-oidc, and a web API that
// checks the access token (signature against the flow's keys, issuer,
// audience, scp) and requires a token of the MFA user flow to change the
// beneficiary, so the web app steps up through that flow first.
//
// It runs against Azure AD B2C or Steward alike, configured by its
// environment only:
//
//	B2C_DIR        the B2C tenant's name (contosob2c for contosob2c.onmicrosoft.com)
//	TENANT_ID      the tenant's ID (the issuer is https://{B2C_DIR}.b2clogin.com/{TENANT_ID}/v2.0/)
//	CLIENT_ID      the web app's client ID
//	CLIENT_SECRET  the web app's client secret
//	API_CLIENT_ID  the web API's client ID (its tokens' audience)
//	WEB_ADDR       the web app's address (default 127.0.0.1:5000)
//	API_ADDR       the API's address (default 127.0.0.1:5001)
//	SIGNIN_FLOW    default B2C_1_signupsignin1
//	MFA_FLOW       default B2C_1_signupsignin1_mfa
//
// Against Steward, HTTPS_PROXY and SSL_CERT_FILE from `steward env` make
// {tenant}.b2clogin.com reach Steward's proxy.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// flow is one user flow's OAuth configuration and token verifier.
type flow struct {
	name     string
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier // for id_tokens (aud: the web app)
	api      *oidc.IDTokenVerifier // for access tokens (aud: the API)
}

func newFlow(ctx context.Context, tenant, tenantID, name, clientID, secret, apiClientID, redirect string) (*flow, error) {
	authority := fmt.Sprintf("https://%s.b2clogin.com/%s.onmicrosoft.com/%s/v2.0/", tenant, tenant, name)
	// B2C's issuer names the tenant ID, not the path the metadata is at.
	issuer := fmt.Sprintf("https://%s.b2clogin.com/%s/v2.0/", tenant, tenantID)
	p, err := oidc.NewProvider(oidc.InsecureIssuerURLContext(ctx, issuer), authority)
	if err != nil {
		return nil, fmt.Errorf("user flow %s: %w", name, err)
	}
	scopes := []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess,
		fmt.Sprintf("https://%s.onmicrosoft.com/api/Accounts.Read", tenant),
		fmt.Sprintf("https://%s.onmicrosoft.com/api/Accounts.Write", tenant)}
	return &flow{
		name:     name,
		oauth:    oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: p.Endpoint(), RedirectURL: redirect, Scopes: scopes},
		verifier: p.Verifier(&oidc.Config{ClientID: clientID}),
		api:      p.Verifier(&oidc.Config{ClientID: apiClientID}),
	}, nil
}

func run(ctx context.Context) error {
	tenant, tenantID := os.Getenv("B2C_DIR"), os.Getenv("TENANT_ID")
	clientID, secret, apiClientID := os.Getenv("CLIENT_ID"), os.Getenv("CLIENT_SECRET"), os.Getenv("API_CLIENT_ID")
	if tenant == "" || tenantID == "" || clientID == "" || secret == "" || apiClientID == "" {
		return errors.New("set B2C_DIR, TENANT_ID, CLIENT_ID, CLIENT_SECRET and API_CLIENT_ID")
	}
	webAddr, apiAddr := env("WEB_ADDR", "127.0.0.1:5000"), env("API_ADDR", "127.0.0.1:5001")
	web := "http://" + webAddr
	signin, err := newFlow(ctx, tenant, tenantID, env("SIGNIN_FLOW", "B2C_1_signupsignin1"), clientID, secret, apiClientID, web+"/callback")
	if err != nil {
		return err
	}
	mfa, err := newFlow(ctx, tenant, tenantID, env("MFA_FLOW", "B2C_1_signupsignin1_mfa"), clientID, secret, apiClientID, web+"/callback-mfa")
	if err != nil {
		return err
	}
	a := &api{flows: []*flow{signin, mfa}, stepUp: mfa.name, accounts: map[string]string{}}
	w := &webApp{signin: signin, mfa: mfa, api: "http://" + apiAddr, sessions: map[string]*session{}}
	errc := make(chan error, 2)
	go func() { errc <- http.ListenAndServe(apiAddr, a.routes()) }()
	go func() { errc <- http.ListenAndServe(webAddr, w.routes()) }()
	log.Printf("web app at %s, API at http://%s", web, apiAddr)
	return <-errc
}

// api is the web API: GET /accounts/me needs scp Accounts.Read; POST
// /accounts/me?beneficiary= needs Accounts.Write and a token of the MFA
// user flow (tfp), else 403 step_up_required.
type api struct {
	flows    []*flow
	stepUp   string
	mu       sync.Mutex
	accounts map[string]string // email -> beneficiary
}

type apiClaims struct {
	Scope  string   `json:"scp"`
	Policy string   `json:"tfp"`
	Emails []string `json:"emails"`
}

func (a *api) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /accounts/me", func(w http.ResponseWriter, r *http.Request) {
		c, ok := a.authorize(w, r, "Accounts.Read")
		if !ok {
			return
		}
		a.mu.Lock()
		b, found := a.accounts[c.Emails[0]]
		if !found {
			b = "Homer Simpson"
			a.accounts[c.Emails[0]] = b
		}
		a.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]string{"email": c.Emails[0], "beneficiary": b})
	})
	mux.HandleFunc("POST /accounts/me", func(w http.ResponseWriter, r *http.Request) {
		c, ok := a.authorize(w, r, "Accounts.Write")
		if !ok {
			return
		}
		if !strings.EqualFold(c.Policy, a.stepUp) {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "step_up_required",
				"error_description": "changing the beneficiary needs a token of the " + a.stepUp + " user flow"})
			return
		}
		name := strings.TrimSpace(r.URL.Query().Get("beneficiary"))
		if name == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "beneficiary is required"})
			return
		}
		a.mu.Lock()
		a.accounts[c.Emails[0]] = name
		a.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]string{"email": c.Emails[0], "beneficiary": name})
	})
	return mux
}

// authorize verifies the bearer token against the user flows' keys and
// checks that scp holds scope.
func (a *api) authorize(w http.ResponseWriter, r *http.Request, scope string) (apiClaims, bool) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	var c apiClaims
	if !ok || raw == "" {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "a bearer token is required"})
		return c, false
	}
	var err error
	for _, f := range a.flows {
		var tok *oidc.IDToken
		if tok, err = f.api.Verify(r.Context(), raw); err == nil {
			err = tok.Claims(&c)
			break
		}
	}
	if err == nil && len(c.Emails) == 0 {
		err = errors.New("the token has no emails claim")
	}
	if err != nil {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": err.Error()})
		return c, false
	}
	if !slices.Contains(strings.Fields(c.Scope), scope) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "insufficient_scope", "error_description": "the token lacks scope " + scope})
		return c, false
	}
	return c, true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// webApp is the web app: server-side sessions in memory.
type webApp struct {
	signin, mfa *flow
	api         string
	mu          sync.Mutex
	sessions    map[string]*session
}

type session struct {
	mu                     sync.Mutex // held by the request being served
	state, nonce, verifier string     // of the sign-in in progress
	name                   string
	token                  *oauth2.Token
	csrf                   string
	pending                string // a beneficiary change waiting for the step-up
}

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// session returns the browser's session, locked (the caller unlocks
// it), starting one when it has none.
func (wa *webApp) session(w http.ResponseWriter, r *http.Request) *session {
	wa.mu.Lock()
	s := (*session)(nil)
	if c, err := r.Cookie("b2c_go"); err == nil {
		s = wa.sessions[c.Value]
	}
	if s == nil {
		id := random()
		s = &session{csrf: random()}
		wa.sessions[id] = s
		http.SetCookie(w, &http.Cookie{Name: "b2c_go", Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	wa.mu.Unlock()
	s.mu.Lock()
	return s
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>B2C Go sample</title></head><body>
{{if .Name}}<h1>Welcome {{.Name}}</h1>{{else}}<p><a href="/login">Sign in</a></p>{{end}}
{{with .Account}}<p>Policy holder: {{.email}}</p><p id="beneficiary">Beneficiary: {{.beneficiary}}</p>{{end}}
{{if .Error}}<p role="alert">{{.Error}}</p>{{end}}
{{if .Name}}<form method="post" action="/beneficiary"><input type="hidden" name="csrf" value="{{.CSRF}}">
<label for="name">New beneficiary</label> <input id="name" name="name" required> <button>Change</button></form>{{end}}
</body></html>`))

func (wa *webApp) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s := wa.session(w, r)
		defer s.mu.Unlock()
		wa.render(w, s, nil, "")
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		s := wa.session(w, r)
		defer s.mu.Unlock()
		wa.start(w, r, s, wa.signin)
	})
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) { wa.callback(w, r, wa.signin) })
	mux.HandleFunc("GET /callback-mfa", func(w http.ResponseWriter, r *http.Request) { wa.callback(w, r, wa.mfa) })
	mux.HandleFunc("GET /account", func(w http.ResponseWriter, r *http.Request) {
		s := wa.session(w, r)
		defer s.mu.Unlock()
		if s.token == nil {
			http.Redirect(w, r, "/login", http.StatusFound)
			return
		}
		acct, status, err := wa.callAPI(r.Context(), s, http.MethodGet, "")
		if err != nil || status != http.StatusOK {
			wa.render(w, s, nil, fmt.Sprintf("the API answered %d: %v", status, err))
			return
		}
		wa.render(w, s, acct, "")
	})
	mux.HandleFunc("POST /beneficiary", func(w http.ResponseWriter, r *http.Request) {
		s := wa.session(w, r)
		defer s.mu.Unlock()
		if s.token == nil || r.PostFormValue("csrf") != s.csrf {
			http.Error(w, "sign in first", http.StatusForbidden)
			return
		}
		s.pending = r.PostFormValue("name")
		wa.change(w, r, s)
	})
	return mux
}

// change applies the pending beneficiary change; when the API asks for
// the MFA user flow's token, it sends the browser through that flow.
func (wa *webApp) change(w http.ResponseWriter, r *http.Request, s *session) {
	acct, status, err := wa.callAPI(r.Context(), s, http.MethodPost, s.pending)
	switch {
	case status == http.StatusForbidden && acct["error"] == "step_up_required":
		wa.start(w, r, s, wa.mfa)
	case err != nil || status != http.StatusOK:
		wa.render(w, s, nil, fmt.Sprintf("the API answered %d: %v %v", status, acct, err))
	default:
		s.pending = ""
		http.Redirect(w, r, "/account", http.StatusSeeOther)
	}
}

// start sends the browser to a user flow's authorization endpoint (code
// flow with PKCE, state and nonce).
func (wa *webApp) start(w http.ResponseWriter, r *http.Request, s *session, f *flow) {
	s.state, s.nonce, s.verifier = random(), random(), oauth2.GenerateVerifier()
	http.Redirect(w, r, f.oauth.AuthCodeURL(s.state, oidc.Nonce(s.nonce), oauth2.S256ChallengeOption(s.verifier)), http.StatusFound)
}

// callback redeems the code, verifies the id_token and keeps the tokens.
func (wa *webApp) callback(w http.ResponseWriter, r *http.Request, f *flow) {
	s := wa.session(w, r)
	defer s.mu.Unlock()
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		wa.render(w, s, nil, e+": "+q.Get("error_description"))
		return
	}
	if s.state == "" || q.Get("state") != s.state {
		http.Error(w, "state mismatch", http.StatusBadRequest)
		return
	}
	s.state = ""
	tok, err := f.oauth.Exchange(r.Context(), q.Get("code"), oauth2.VerifierOption(s.verifier))
	if err != nil {
		wa.render(w, s, nil, "token: "+err.Error())
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	id, err := f.verifier.Verify(r.Context(), raw)
	if err != nil || id.Nonce != s.nonce {
		wa.render(w, s, nil, fmt.Sprintf("id_token: %v (nonce ok: %v)", err, id != nil && id.Nonce == s.nonce))
		return
	}
	var claims struct {
		Name string `json:"name"`
	}
	_ = id.Claims(&claims)
	s.name, s.token = claims.Name, tok
	if f == wa.mfa && s.pending != "" {
		wa.change(w, r, s)
		return
	}
	http.Redirect(w, r, "/", http.StatusFound)
}

// callAPI calls the API's /accounts/me with the session's access token.
func (wa *webApp) callAPI(ctx context.Context, s *session, method, beneficiary string) (map[string]string, int, error) {
	u := wa.api + "/accounts/me"
	if beneficiary != "" {
		u += "?beneficiary=" + url.QueryEscape(beneficiary)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+s.token.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	out := map[string]string{}
	err = json.NewDecoder(resp.Body).Decode(&out)
	return out, resp.StatusCode, err
}

func (wa *webApp) render(w http.ResponseWriter, s *session, acct map[string]string, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = page.Execute(w, map[string]any{"Name": s.name, "Account": acct, "Error": msg, "CSRF": s.csrf})
}
