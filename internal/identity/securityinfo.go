package identity

import (
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The security-info page, "{authority}{tenant}/security-info" (Entra's
// My Sign-Ins "Security info"): a signed-in user who has just presented a
// second factor (within mfaFreshness) adds an authenticator app beside
// their security keys, or a security key beside their app or keys. The
// page signs the user in itself (password, then the second factor) when
// the browser's session is missing or its second factor is not fresh.

// SecurityInfoPath is the security-info page's path under a tenant.
const SecurityInfoPath = "security-info"

var _ = template.Must(pages.Parse(`
{{define "securityinfo"}}{{template "head" .}}
<h1>Security info</h1>
<p class="small">Signed in as {{.LoginHint}}. These are the methods you use to prove it is you.</p>
{{if .Info}}<p role="status">{{.Info}}</p>{{end}}
{{if .Message}}<p class="error" role="alert">{{.Message}}</p>{{end}}
<ul id="methods">{{range .Scopes}}<li>{{.}}</li>{{end}}</ul>
<form method="post" action="{{.Action}}">
<input type="hidden" name="q" value="{{.Query}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
{{if .CanAddApp}}<button type="submit" name="action" value="addapp" id="addapp">Add an authenticator app</button>{{end}}
{{if .CanAddKey}}<button type="submit" name="action" value="addkey" class="secondary" id="addkey">Add a security key</button>{{end}}
</form>
{{template "webauthn" .}}
{{template "foot" .}}{{end}}
`))

// serveSecurityInfo is the security-info page (GET) and its forms (POST).
func (s *Service) serveSecurityInfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		s.renderError(w, r, http.StatusMethodNotAllowed, errBadAuthorizeParam("method"))
		return
	}
	ctx := r.Context()
	t, err := s.dir.Tenant(ctx, r.PathValue("tenant"))
	if err != nil {
		if e, ok := tenantErr(err, r.PathValue("tenant")).(*OAuthError); ok {
			s.renderError(w, r, e.Status, e)
			return
		}
		s.authorizeFailed(w, r, authzRequest{}, err)
		return
	}
	req := authzRequest{TenantID: t.ID}
	action := ""
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxAuthorizeBytes)
		if err := r.ParseForm(); err != nil {
			s.renderError(w, r, http.StatusBadRequest, errBadRequestBody())
			return
		}
		if !s.csrfOK(r) {
			s.renderError(w, r, http.StatusForbidden, oauthErr(http.StatusForbidden, "invalid_request", 90100,
				"The form has expired or did not come from this page. Open the page again."))
			return
		}
		action = r.PostForm.Get("action")
	}
	now := s.opts.Now()
	sess := s.currentSession(r, t.ID)
	if sess == nil {
		if action != "signin" {
			s.renderSecurityInfoSignIn(w, r, "", http.StatusOK)
			return
		}
		user, msg, status, err := s.passwordSignIn(r, t.ID)
		if err != nil {
			s.authorizeFailed(w, r, req, err)
			return
		} else if msg != "" {
			s.renderSecurityInfoSignIn(w, r, msg, status)
			return
		}
		if sess, err = s.startSession(ctx, w, t.ID, user.ID, []string{"pwd"}); err != nil {
			s.authorizeFailed(w, r, req, err)
			return
		}
		action = ""
	}
	user, err := s.dir.User(ctx, t.ID, sess.rec.UserID)
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	enrolled, err := s.MFAEnrolled(ctx, t.ID, user.ID)
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	fresh := slices.Contains(sess.rec.AMR, "mfa") && !sess.rec.MFATime.IsZero() && now.Sub(sess.rec.MFATime) <= mfaFreshness
	// A user with a second factor presents it (again) first; a user
	// without one sets up the first, as at a step-up.
	if enrolled && !fresh {
		switch action {
		case "mfa", "webauthn":
			registering := false
			var c webauthnCeremony
			if action == "webauthn" && json.Unmarshal(sess.rec.WebAuthn, &c) == nil {
				registering = c.Register
			}
			if !registering {
				s.secondFactor(w, r, req, sess, action)
				return
			}
		}
		s.renderMFA(w, r, req, sess, user, "", http.StatusOK)
		return
	}
	msg := ""
	switch action {
	case "addapp":
		e, err := s.beginTOTP(ctx, t.ID, user, true)
		if err == ErrMFAEnrolled {
			msg = "You already have an authenticator app. To replace it, ask an administrator to reset it."
			break
		} else if err != nil {
			s.authorizeFailed(w, r, req, err)
			return
		}
		s.showEnroll(w, r, req, sess, user, e, "")
		return
	case "enroll", "webauthn":
		if action == "webauthn" {
			var c webauthnCeremony
			if json.Unmarshal(sess.rec.WebAuthn, &c) != nil || !c.Register {
				msg = "The security key was not accepted. Try again."
				break
			}
		}
		// secondFactor confirms the app or registers the key, then shows
		// recovery codes when they are new, or comes back here.
		s.secondFactor(w, r, req, sess, action)
		return
	case "addkey":
		options, err := s.beginWebAuthn(ctx, r, sess, user, true, true)
		if err == errNoWebAuthn {
			msg = err.Error()[len("identity: "):] + "."
			break
		} else if err != nil {
			s.authorizeFailed(w, r, req, err)
			return
		}
		s.renderSecurityInfo(w, r, sess, user, "Press the button and follow your browser to register the key.", "", options)
		return
	case "", "continue", "signin":
	default:
		s.renderError(w, r, http.StatusBadRequest, errBadAuthorizeParam("action"))
		return
	}
	s.renderSecurityInfo(w, r, sess, user, "", msg, "")
}

// securityInfoPage reports whether the request is for the security-info
// page (its forms then come back to it).
func securityInfoPage(r *http.Request) bool {
	return strings.HasSuffix(r.URL.Path, "/"+SecurityInfoPath)
}

// scriptSrc is the security-key script's address from the page's path:
// the authorization endpoint's neighbour, or the tenant's for the
// security-info page.
func scriptSrc(r *http.Request) string {
	if securityInfoPage(r) {
		return strings.TrimSuffix(r.URL.Path, SecurityInfoPath) + "oauth2/v2.0/webauthn.js"
	}
	return "webauthn.js"
}

func (s *Service) renderSecurityInfoSignIn(w http.ResponseWriter, r *http.Request, msg string, status int) {
	nonce := s.securePage(w, "'self'")
	s.render(w, r, "signin", status, pageData{Title: "Sign in", Nonce: nonce, Action: r.URL.Path,
		CSRF: s.withCSRF(w), AppName: "Security info", LoginHint: strings.TrimSpace(r.PostFormValue("login")), Message: msg})
}

// renderSecurityInfo lists the user's methods and offers the ones to add;
// options, when set, are a key registration's (the page's script asks the
// browser for the key).
func (s *Service) renderSecurityInfo(w http.ResponseWriter, r *http.Request, sess *sessionRef, user User, info, msg, options string) {
	app, keys, err := s.SecondFactors(r.Context(), sess.rec.TenantID, user.ID)
	if err != nil {
		s.authorizeFailed(w, r, authzRequest{TenantID: sess.rec.TenantID}, err)
		return
	}
	var methods []string
	if app {
		methods = append(methods, "Authenticator app (time-based codes)")
	}
	for _, k := range keys {
		methods = append(methods, "Security key "+k.ID[:min(len(k.ID), 12)])
	}
	if len(methods) == 0 {
		methods = append(methods, "No second factor yet: only your password.")
	} else {
		methods = append(methods, strconv.Itoa(len(methods))+" method(s), with recovery codes for when you lose them.")
	}
	_, rpErr := s.relyingParty(r)
	d := pageData{Title: "Security info", LoginHint: user.UserPrincipalName, Info: info, Message: msg, Scopes: methods,
		CanAddApp: !app, CanAddKey: rpErr == nil && options == "", WebAuthn: options}
	if options != "" {
		d.Ceremony = "register"
	}
	d.Nonce = s.securePage(w, "'self'")
	d.Action, d.CSRF = r.URL.Path, s.withCSRF(w)
	s.render(w, r, "securityinfo", http.StatusOK, d)
}
