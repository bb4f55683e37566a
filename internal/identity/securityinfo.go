package identity

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The security-info page, "{authority}{tenant}/security-info" (Entra's
// My Sign-Ins "Security info"): a signed-in user who has just presented a
// second factor (within mfaFreshness, checked on every request) adds an
// authenticator app (up to maxTOTPApps, each named) or a security key,
// and deletes any of their apps and keys, but not the last second factor
// while the tenant requires MFA. The page signs the user in itself
// (password, then the second factor) when the browser's session is
// missing or its second factor is not fresh.

// SecurityInfoPath is the security-info page's path under a tenant.
const SecurityInfoPath = "security-info"

var _ = template.Must(pages.Parse(`
{{define "securityinfo"}}{{template "head" .}}
<h1>Security info</h1>
<p class="small">Signed in as {{.LoginHint}}. These are the methods you use to prove it is you.</p>
{{if .Info}}<p role="status">{{.Info}}</p>{{end}}
{{if .Message}}<p class="error" role="alert">{{.Message}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="q" value="{{.Query}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
<ul id="methods">{{range .Methods}}<li>{{.Label}}{{if .Remove}} <button type="submit" name="action" value="remove:{{.Remove}}" class="secondary" formnovalidate>Delete</button>{{end}}</li>{{end}}
{{range .Scopes}}<li>{{.}}</li>{{end}}</ul>
{{if .CanAddApp}}<label for="appName">Name of the new app (optional)</label>
<input id="appName" name="appName" maxlength="64" placeholder="Authenticator app">
<button type="submit" name="action" value="addapp" id="addapp">Add an authenticator app</button>{{end}}
{{if .CanAddKey}}<button type="submit" name="action" value="addkey" class="secondary" id="addkey">Add a security key</button>{{end}}
</form>
{{template "webauthn" .}}
{{template "foot" .}}{{end}}
`))

// securityMethod is one method on the security-info page; Remove is the
// value of its delete button ("app:{id}" or "key:{id}").
type securityMethod struct{ Label, Remove string }

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
		name := strings.TrimSpace(r.PostForm.Get("appName"))
		if utf8.RuneCountInString(name) > 64 || strings.ContainsFunc(name, unicode.IsControl) {
			msg = "The app's name has at most 64 characters."
			break
		}
		e, err := s.beginTOTP(ctx, t.ID, user, true, name)
		if err == ErrTooManyApps {
			msg = "You have 5 authenticator apps, the most you can have. Delete one to add another."
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
		if kind, id, ok := strings.Cut(strings.TrimPrefix(action, "remove:"), ":"); ok && strings.HasPrefix(action, "remove:") {
			info, msg, err := s.removeMethod(r, user, kind, id)
			if err != nil {
				s.authorizeFailed(w, r, req, err)
				return
			}
			s.renderSecurityInfo(w, r, sess, user, info, msg, "")
			return
		}
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

// removeMethod deletes one of the user's own methods ("app" or "key"),
// the page's freshness check passed: never the last second factor while
// the tenant's user flows require multifactor authentication.
func (s *Service) removeMethod(r *http.Request, user User, kind, id string) (info, msg string, err error) {
	ctx := r.Context()
	required, err := s.tenantRequiresMFA(ctx, user.TenantID)
	if err != nil {
		return "", "", err
	}
	// The count of the user's factors is checked in the removal's own
	// atomic step: two deletes at once cannot both see a second factor
	// left.
	err = s.removeSecondFactor(ctx, user.TenantID, user.ID, kind, id, required)
	switch {
	case errors.Is(err, errLastSecondFactor):
		return "", "You can't delete your only second factor: this organization's sign-in requires multifactor authentication. Add another method first, then delete this one.", nil
	case errors.Is(err, ErrNotFound):
		return "", "That method is no longer registered.", nil
	case err != nil:
		return "", "", err
	case kind == "app":
		info = "Authenticator app deleted."
	default:
		info = "Security key deleted."
	}
	s.opts.Logger.InfoContext(ctx, "user deleted a sign-in method on the security-info page", "tenant", user.TenantID, "oid", user.ID, "method", kind)
	return info, "", nil
}

// tenantRequiresMFA reports whether sign-in to the tenant requires a
// second factor: one of its user flows enforces multifactor
// authentication.
func (s *Service) tenantRequiresMFA(ctx context.Context, tenantID string) (bool, error) {
	flows, err := s.dir.UserFlows(ctx, tenantID)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(flows, func(f UserFlow) bool { return f.requiresMFA() }), nil
}

// renderSecurityInfo lists the user's methods, each with its delete
// button, and offers the ones to add; options, when set, are a key
// registration's (the page's script asks the browser for the key).
func (s *Service) renderSecurityInfo(w http.ResponseWriter, r *http.Request, sess *sessionRef, user User, info, msg, options string) {
	ctx := r.Context()
	apps, err := s.AuthenticatorApps(ctx, sess.rec.TenantID, user.ID)
	if err != nil {
		s.authorizeFailed(w, r, authzRequest{TenantID: sess.rec.TenantID}, err)
		return
	}
	_, keys, err := s.SecondFactors(ctx, sess.rec.TenantID, user.ID)
	if err != nil {
		s.authorizeFailed(w, r, authzRequest{TenantID: sess.rec.TenantID}, err)
		return
	}
	var methods []securityMethod
	for _, a := range apps {
		methods = append(methods, securityMethod{Label: a.Name + " (authenticator app, time-based codes)", Remove: "app:" + a.ID})
	}
	for _, k := range keys {
		methods = append(methods, securityMethod{Label: "Security key " + k.ID[:min(len(k.ID), 12)], Remove: "key:" + k.ID})
	}
	var notes []string
	if len(methods) == 0 {
		notes = append(notes, "No second factor yet: only your password.")
	} else {
		notes = append(notes, strconv.Itoa(len(methods))+" method(s), with recovery codes for when you lose them.")
	}
	_, rpErr := s.relyingParty(r)
	d := pageData{Title: "Security info", LoginHint: user.UserPrincipalName, Info: info, Message: msg, Methods: methods, Scopes: notes,
		CanAddApp: len(apps) < maxTOTPApps && options == "", CanAddKey: rpErr == nil && options == "", WebAuthn: options}
	if options != "" {
		d.Ceremony = "register"
	}
	d.Nonce = s.securePage(w, "'self'")
	d.Action, d.CSRF = r.URL.Path, s.withCSRF(w)
	s.render(w, r, "securityinfo", http.StatusOK, d)
}
