package web

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Cookies: the session's and a sign-in attempt's, both Secure, HttpOnly
// and scoped to the console.
const (
	sessionCookie = "steward_console"
	stateCookie   = "steward_console_state"
	attemptTTL    = 10 * time.Minute
)

// attempt is a sign-in in progress, keyed by its state.
type attempt struct {
	Nonce    string    `json:"nonce"`
	Verifier string    `json:"verifier"`
	Return   string    `json:"return"`
	Expires  time.Time `json:"expires"`
}

// session is a signed-in user: what the id_token said, the management API
// token to act as the user, and the CSRF token of the console's forms.
type session struct {
	ObjectID    string    `json:"oid"`
	TenantID    string    `json:"tid"`
	Name        string    `json:"name"`
	UPN         string    `json:"upn"`
	AMR         []string  `json:"amr"`
	ACRS        []string  `json:"acrs,omitempty"`
	AuthTime    time.Time `json:"authTime"`
	AccessToken string    `json:"accessToken"`
	Expires     time.Time `json:"expires"`
	CSRF        string    `json:"csrf"`
	// RefreshToken gets tokens for other APIs (Log Analytics), kept in
	// Tokens by scope.
	RefreshToken string                  `json:"refreshToken,omitempty"`
	Tokens       map[string]grantedToken `json:"tokens,omitempty"`
	// key is the session's key in the store.
	key string
}

// grantedToken is an access token for another API.
type grantedToken struct {
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
}

// freshMFA reports whether the session's second factor is recent enough
// for a sensitive change.
func (s *session) freshMFA(now time.Time) bool {
	return slices.Contains(s.AMR, "mfa") && now.Sub(s.AuthTime) <= StepUpMaxAge
}

// signIn sends the browser to the authorization endpoint (code flow with
// PKCE, state and nonce). ?stepup=1 asks for the step-up context.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	p, err := c.oidcProvider(r.Context())
	if err != nil {
		c.fail(w, r, http.StatusServiceUnavailable, "The sign-in service cannot be reached.", err)
		return
	}
	state, a := randomString(), attempt{Nonce: randomString(), Verifier: oauth2.GenerateVerifier(),
		Return: localPath(r.URL.Query().Get("return")), Expires: c.opts.Now().Add(attemptTTL)}
	if err := c.put(r.Context(), hashKey("attempt", state), a); err != nil {
		c.fail(w, r, http.StatusServiceUnavailable, "The console cannot keep the sign-in.", err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: state, Path: Prefix, Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: int(attemptTTL / time.Second)})
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(a.Verifier), oidc.Nonce(a.Nonce)}
	if r.URL.Query().Get("stepup") == "1" {
		opts = append(opts, oauth2.SetAuthURLParam("claims", `{"access_token":{"acrs":{"essential":true,"value":"`+StepUpContext+`"}}}`))
	}
	cfg := c.oauth(p)
	http.Redirect(w, r, cfg.AuthCodeURL(state, opts...), http.StatusFound)
}

// callback redeems the code: the state must be the browser's own, the
// id_token valid for the console with the attempt's nonce.
func (c *Console) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	ck, err := r.Cookie(stateCookie)
	if err != nil || q.Get("state") == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(q.Get("state"))) != 1 {
		c.fail(w, r, http.StatusBadRequest, "This sign-in did not start in this browser. Sign in again.", nil)
		return
	}
	key := hashKey("attempt", ck.Value)
	var a attempt
	ok, err := c.get(ctx, key, &a)
	if err != nil || !ok || !c.opts.Now().Before(a.Expires) {
		c.fail(w, r, http.StatusBadRequest, "This sign-in has expired. Sign in again.", err)
		return
	}
	_ = c.opts.Sessions.Delete(ctx, key)
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: "", Path: Prefix, Secure: true, HttpOnly: true, MaxAge: -1})
	if e := q.Get("error"); e != "" {
		c.fail(w, r, http.StatusForbidden, "Sign-in failed: "+e+".", nil)
		return
	}
	p, err := c.oidcProvider(ctx)
	if err != nil {
		c.fail(w, r, http.StatusServiceUnavailable, "The sign-in service cannot be reached.", err)
		return
	}
	octx := context.WithValue(oidc.ClientContext(ctx, c.opts.HTTPClient), oauth2.HTTPClient, c.opts.HTTPClient)
	cfg := c.oauth(p)
	tok, err := cfg.Exchange(octx, q.Get("code"), oauth2.VerifierOption(a.Verifier))
	if err != nil {
		c.fail(w, r, http.StatusForbidden, "The sign-in could not be completed. Sign in again.", err)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: c.opts.ClientID, Now: c.opts.Now}).Verify(octx, raw)
	if err != nil || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(a.Nonce)) != 1 {
		c.fail(w, r, http.StatusForbidden, "The sign-in answer is not valid. Sign in again.", err)
		return
	}
	var claims struct {
		OID      string   `json:"oid"`
		TID      string   `json:"tid"`
		Name     string   `json:"name"`
		UPN      string   `json:"preferred_username"`
		AMR      []string `json:"amr"`
		ACRS     []string `json:"acrs"`
		AuthTime int64    `json:"auth_time"`
	}
	if err := idt.Claims(&claims); err != nil || claims.OID == "" {
		c.fail(w, r, http.StatusForbidden, "The sign-in answer is not valid. Sign in again.", err)
		return
	}
	s := session{ObjectID: claims.OID, TenantID: claims.TID, Name: claims.Name, UPN: claims.UPN, AMR: claims.AMR,
		ACRS: claims.ACRS, AuthTime: time.Unix(claims.AuthTime, 0).UTC(), AccessToken: tok.AccessToken,
		Expires: tok.Expiry, CSRF: randomString(), RefreshToken: tok.RefreshToken}
	id := randomString()
	if err := c.put(ctx, hashKey("session", id), s); err != nil {
		c.fail(w, r, http.StatusServiceUnavailable, "The console cannot keep the session.", err)
		return
	}
	if old, err := r.Cookie(sessionCookie); err == nil {
		_ = c.opts.Sessions.Delete(ctx, hashKey("session", old.Value))
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: Prefix, Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode})
	c.opts.Logger.InfoContext(ctx, "console sign-in", "oid", s.ObjectID, "mfa", slices.Contains(s.AMR, "mfa"))
	http.Redirect(w, r, localPath(a.Return), http.StatusFound)
}

// page wraps a handler that needs a signed-in user: without a live session
// the browser goes to sign in; a POST must carry the session's CSRF token.
func (c *Console) page(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, ok := c.currentSession(r)
		if !ok {
			if r.Method != http.MethodGet {
				c.fail(w, r, http.StatusUnauthorized, "Your session has ended. Sign in again.", nil)
				return
			}
			// Back to the same page, its query too (a drill-down link).
			http.Redirect(w, r, Prefix+"signin?return="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if err := r.ParseForm(); err != nil || subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(s.CSRF)) != 1 {
				c.fail(w, r, http.StatusForbidden, "The form has expired. Reload the page and try again.", nil)
				return
			}
		}
		h(w, r, s)
	}
}

func (c *Console) currentSession(r *http.Request) (*session, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, false
	}
	var s session
	ok, err := c.get(r.Context(), hashKey("session", ck.Value), &s)
	if err != nil || !ok || !c.opts.Now().Before(s.Expires) {
		return nil, false
	}
	s.key = hashKey("session", ck.Value)
	return &s, true
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request, _ *session) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		_ = c.opts.Sessions.Delete(r.Context(), hashKey("session", ck.Value))
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: Prefix, Secure: true, HttpOnly: true, MaxAge: -1})
	target := Prefix
	if p, err := c.oidcProvider(r.Context()); err == nil {
		var doc struct {
			EndSession string `json:"end_session_endpoint"`
		}
		if p.Claims(&doc) == nil && doc.EndSession != "" {
			target = doc.EndSession + "?client_id=" + url.QueryEscape(c.opts.ClientID)
		}
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// userCredential is the signed-in user's management API token as an
// azcore credential, so the Azure SDK clients act as the user.
type userCredential struct{ s *session }

func (u userCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: u.s.AccessToken, ExpiresOn: u.s.Expires}, nil
}
