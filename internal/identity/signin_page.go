package identity

import (
	"html/template"
	"net/http"
	"net/url"
)

// The sign-in pages are self-contained: inline CSS allowed by a per-response
// nonce, no script except the form_post response's auto-submit and the
// second-factor pages' security-key script (served by Steward, loaded with
// the nonce), no external assets.
var pages = template.Must(template.New("pages").Parse(`
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} - Steward</title>
<style nonce="{{.Nonce}}">
body{font-family:system-ui,sans-serif;background:#f2f2f2;color:#1b1b1b;margin:0}
main{max-width:26rem;margin:3rem auto;background:#fff;padding:2rem;border:1px solid #ccc}
h1{font-size:1.4rem;margin-top:0}label{display:block;margin:.8rem 0 .2rem}
input[type=text],input[type=email],input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;border:1px solid #666}
button{margin-top:1rem;padding:.5rem 1.5rem;font-size:1rem;background:#0054a6;color:#fff;border:0;cursor:pointer}
button.secondary{background:#e6e6e6;color:#1b1b1b}
.error{color:#a4262c;font-weight:600}.small{font-size:.85rem;color:#444}
</style></head><body><main>{{end}}
{{define "foot"}}</main></body></html>{{end}}

{{define "webauthn"}}{{if .WebAuthn}}<form method="post" action="{{.Action}}" id="webauthn" data-ceremony="{{.Ceremony}}" data-options="{{.WebAuthn}}">
<input type="hidden" name="q" value="{{.Query}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
<input type="hidden" name="action" value="{{or .WebAuthnAction "webauthn"}}"><input type="hidden" name="credential" id="credential">
<button type="button" id="webauthn-start" class="secondary" hidden>{{if eq .Ceremony "register"}}Use a security key instead{{else}}Use your security key{{end}}</button>
<p class="error" id="webauthn-error" role="alert" hidden></p>
</form>
<script nonce="{{.Nonce}}" src="{{.Script}}"></script>{{end}}{{end}}

{{define "signin"}}{{template "head" .}}
<h1>Sign in</h1>
<p class="small">to <strong>{{.AppName}}</strong></p>
{{if .Message}}<p class="error" role="alert">{{.Message}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="q" value="{{.Query}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
<input type="hidden" name="action" value="signin">
<label for="login">Email or user name</label>
<input id="login" name="login" type="text" autocomplete="username" required value="{{.LoginHint}}"{{if not .LoginHint}} autofocus{{end}}>
<label for="passwd">Password</label>
<input id="passwd" name="passwd" type="password" autocomplete="current-password" required{{if .LoginHint}} autofocus{{end}}>
<button type="submit">Sign in</button>
</form>
{{if .Forgot}}<form method="post" action="{{.Action}}">
<input type="hidden" name="q" value="{{.Query}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
<button type="submit" name="action" value="forgot" class="secondary">Forgot your password?</button>
</form>{{end}}
{{if .PasskeySignIn}}<form method="post" action="{{.Action}}">
<input type="hidden" name="q" value="{{.Query}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
<button type="submit" name="action" value="passkey-start" class="secondary" id="passkey">Sign in with a security key</button>
</form>{{end}}
{{if .SignUpLink}}<form method="post" action="{{.Action}}">
<input type="hidden" name="q" value="{{.Query}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
<p class="small">Don't have an account? <button type="submit" name="action" value="signup" class="secondary" id="createAccount">Sign up now</button></p>
</form>{{end}}
{{template "foot" .}}{{end}}

{{define "consent"}}{{template "head" .}}
<h1>Permissions requested</h1>
<p><strong>{{.AppName}}</strong> asks to:</p>
<ul>{{range .Scopes}}<li>{{.}}</li>{{end}}</ul>
<p class="small">Signed in as {{.LoginHint}}. Accepting lets the app use this data for you until you revoke it.</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="q" value="{{.Query}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
<input type="hidden" name="action" value="consent">
<button type="submit" name="accept" value="yes">Accept</button>
<button type="submit" name="accept" value="no" class="secondary">Cancel</button>
</form>
{{template "foot" .}}{{end}}

{{define "mfa"}}{{template "head" .}}
<h1>Enter code</h1>
<p>{{if .WebAuthn}}Use your security key, or enter{{else}}Enter{{end}} the code displayed in your authenticator app, or one of your recovery codes.</p>
{{if .Message}}<p class="error" role="alert">{{.Message}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="q" value="{{.Query}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
<input type="hidden" name="action" value="mfa">
<label for="otc">Code</label>
<input id="otc" name="otc" type="text" inputmode="numeric" autocomplete="one-time-code" required autofocus>
<button type="submit">Verify</button>
</form>
{{template "webauthn" .}}
{{template "foot" .}}{{end}}

{{define "enroll"}}{{template "head" .}}
<h1>Set up your authenticator app</h1>
<p>Scan the QR code with an authenticator app, or enter this key: <code id="secret">{{.Secret}}</code>. Then enter the 6-digit code it shows.</p>
<img src="{{.QR}}" width="256" height="256" alt="QR code of the authenticator key">
{{if .Message}}<p class="error" role="alert">{{.Message}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="q" value="{{.Query}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
<input type="hidden" name="action" value="enroll">
<label for="otc">Code</label>
<input id="otc" name="otc" type="text" inputmode="numeric" autocomplete="one-time-code" required autofocus>
<button type="submit">Verify</button>
</form>
{{template "webauthn" .}}
{{template "foot" .}}{{end}}

{{define "recovery"}}{{template "head" .}}
<h1>Save your recovery codes</h1>
<p>Each code signs you in once if you lose your authenticator app. They are shown only now.</p>
<ul id="recovery">{{range .Scopes}}<li><code>{{.}}</code></li>{{end}}</ul>
<form method="post" action="{{.Action}}">
<input type="hidden" name="q" value="{{.Query}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
<input type="hidden" name="action" value="continue">
<button type="submit">Continue</button>
</form>
{{template "foot" .}}{{end}}

{{define "error"}}{{template "head" .}}
<h1>Sorry, we could not sign you in</h1>
<p class="error" role="alert">{{.Message}}</p>
<p class="small">Error: {{.Code}}</p>
{{template "foot" .}}{{end}}

{{define "signedout"}}{{template "head" .}}
<h1>You signed out</h1>
<p>You can close this window.</p>
{{template "foot" .}}{{end}}

{{define "formpost"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Working...</title></head><body>
<form method="post" action="{{.Action}}" id="response">
{{range $k, $v := .Params}}{{range $v}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<noscript><button type="submit">Continue</button></noscript>
</form>
<script nonce="{{.Nonce}}">document.getElementById("response").submit();</script>
</body></html>{{end}}
`))

// pageData is what the page templates read.
type pageData struct {
	Title, Nonce, Action, Query, CSRF, AppName, LoginHint, Message, Code string
	Scopes                                                               []string
	QR                                                                   template.URL // a data: URI made here
	Secret                                                               string
	Params                                                               url.Values
	// Forgot offers "Forgot your password?" (B2C sign-up or sign-in flows).
	Forgot bool
	// WebAuthn are the options of navigator.credentials (JSON) for the
	// security-key form; Ceremony is "register" or "login".
	WebAuthn, Ceremony string
	// SignUp is the sign-up page's step and values.
	SignUp *signUpView
	// SignUpLink offers "Sign up now" (signUpOrSignIn flows with a mailer).
	SignUpLink bool
	// Script is the security-key script's address (set by render).
	Script string
	// Security-info page: a status line, and what may be added.
	Info          string
	CanAddApp     bool
	CanAddKey     bool
	PasskeySignIn bool
	// WebAuthnAction is the security-key form's action ("webauthn" when
	// empty; "passkey" for a passwordless sign-in).
	WebAuthnAction string
}

// securePage sets the headers of every sign-in page: no caching, no
// framing, a strict Content-Security-Policy with a fresh nonce (returned).
func (s *Service) securePage(w http.ResponseWriter, formAction string) string {
	nonce, err := newSecret(s.opts.Rand)
	if err != nil {
		nonce = "unavailable"
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+nonce+"'; script-src 'nonce-"+nonce+
		"'; form-action "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
	return nonce
}

// withCSRF sets a fresh CSRF cookie and returns its value for the form.
func (s *Service) withCSRF(w http.ResponseWriter) string {
	v, err := newSecret(s.opts.Rand)
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteStrictMode})
	return v
}

func (s *Service) render(w http.ResponseWriter, r *http.Request, name string, status int, d pageData) {
	if d.Script == "" {
		d.Script = scriptSrc(r)
	}
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, d); err != nil {
		s.opts.Logger.ErrorContext(r.Context(), "sign-in page rendering failed", "page", name, "err", err.Error())
	}
}

func (s *Service) renderSignIn(w http.ResponseWriter, r *http.Request, req authzRequest, msg string, status int) {
	nonce := s.securePage(w, "'self'")
	s.render(w, r, "signin", status, pageData{Title: "Sign in", Nonce: nonce, Action: r.URL.Path, Query: req.Raw,
		CSRF: s.withCSRF(w), AppName: req.App.DisplayName, LoginHint: req.LoginHint, Message: msg,
		Forgot:        req.Flow != nil && req.Flow.UserFlowType == UserFlowSignUpOrSignIn,
		SignUpLink:    req.Flow != nil && req.Flow.UserFlowType == UserFlowSignUpOrSignIn && s.signUpOpen(req.Flow),
		PasskeySignIn: s.passkeyOffered(r, req)})
}

func (s *Service) renderConsent(w http.ResponseWriter, r *http.Request, req authzRequest, user User, scopes []string) {
	nonce := s.securePage(w, "'self'")
	s.render(w, r, "consent", http.StatusOK, pageData{Title: "Permissions requested", Nonce: nonce, Action: r.URL.Path,
		Query: req.Raw, CSRF: s.withCSRF(w), AppName: req.App.DisplayName, LoginHint: user.UserPrincipalName, Scopes: scopes})
}

func (s *Service) renderError(w http.ResponseWriter, r *http.Request, status int, e *OAuthError) {
	nonce := s.securePage(w, "'none'")
	s.render(w, r, "error", status, pageData{Title: "Sign-in error", Nonce: nonce,
		Message: e.describe(), Code: e.Code})
}

func (s *Service) renderFormPost(w http.ResponseWriter, action string, params url.Values) {
	u, _ := url.Parse(action)
	nonce := s.securePage(w, u.Scheme+"://"+u.Host)
	w.WriteHeader(http.StatusOK)
	_ = pages.ExecuteTemplate(w, "formpost", pageData{Nonce: nonce, Action: action, Params: params})
}
