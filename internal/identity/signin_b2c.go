package identity

import (
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// The pages of B2C's password reset and profile edit user flows.
var _ = template.Must(pages.Parse(`
{{define "reset"}}{{template "head" .}}
<h1>Reset your password</h1>
<p class="small">for <strong>{{.AppName}}</strong>. Verify it is you with the code of your authenticator app (or a recovery code), then choose a new password.</p>
{{if .Message}}<p class="error" role="alert">{{.Message}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="q" value="{{.Query}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
<label for="login">Email or user name</label>
<input id="login" name="login" type="text" autocomplete="username" required value="{{.LoginHint}}">
<label for="otc">Verification code</label>
<input id="otc" name="otc" type="text" inputmode="numeric" autocomplete="one-time-code" required>
<label for="newPassword">New password</label>
<input id="newPassword" name="newPassword" type="password" autocomplete="new-password" required>
<button type="submit" name="action" value="reset">Continue</button>
<button type="submit" name="action" value="cancel" class="secondary" formnovalidate>Cancel</button>
</form>
{{template "foot" .}}{{end}}

{{define "profile"}}{{template "head" .}}
<h1>Edit your profile</h1>
<p class="small">Signed in as {{.LoginHint}}.</p>
{{if .Message}}<p class="error" role="alert">{{.Message}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="q" value="{{.Query}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
{{with .SignUp}}{{template "attributes" .Fields}}{{end}}<button type="submit" name="action" value="profile">Continue</button>
<button type="submit" name="action" value="cancel" class="secondary" formnovalidate>Cancel</button>
</form>
{{template "foot" .}}{{end}}
`))

// minPasswordLength is the shortest new password a reset takes (B2C's
// "strong" complexity starts at 8 characters).
const minPasswordLength = 8

func (s *Service) renderB2CPage(w http.ResponseWriter, r *http.Request, req authzRequest, page, title, msg string, status int) {
	nonce := s.securePage(w, "'self'")
	s.render(w, r, page, status, pageData{Title: title, Nonce: nonce, Action: r.URL.Path, Query: req.Raw,
		CSRF: s.withCSRF(w), AppName: req.App.DisplayName, LoginHint: req.LoginHint, Message: msg})
}

func (s *Service) renderProfile(w http.ResponseWriter, r *http.Request, req authzRequest, user User, values map[string]string, msg string) {
	if values == nil {
		values = map[string]string{}
		for _, a := range req.Flow.UserAttributes() {
			values[a.ID] = attributeValue(user, a.ID)
		}
	}
	nonce := s.securePage(w, "'self'")
	s.render(w, r, "profile", http.StatusOK, pageData{Title: "Edit your profile", Nonce: nonce, Action: r.URL.Path,
		Query: req.Raw, CSRF: s.withCSRF(w), LoginHint: user.UserPrincipalName, Message: msg,
		SignUp: &signUpView{Fields: signUpFields(req.Flow, values)}})
}

// userFlowForm handles the forms that only user flows have: "Forgot your
// password?" on a sign-up or sign-in page (B2C's AADB2C90118 back to the
// app, which then starts its password reset flow), the password reset
// and profile edit pages, and their Cancel (AADB2C90091).
func (s *Service) userFlowForm(w http.ResponseWriter, r *http.Request, req authzRequest, action string) {
	f := req.Flow
	switch {
	case f == nil:
		s.renderError(w, r, http.StatusBadRequest, errBadAuthorizeParam("action"))
	case action == "forgot" && f.UserFlowType == UserFlowSignUpOrSignIn:
		s.respondError(w, r, req, errForgotPassword())
	case action == "cancel" && (f.UserFlowType == UserFlowPasswordReset || f.UserFlowType == UserFlowProfileUpdate || f.signsUp()):
		s.endSignUp(r.Context(), w, r)
		s.respondError(w, r, req, errB2CUserCancelled())
	case action == "reset" && f.UserFlowType == UserFlowPasswordReset:
		s.resetPassword(w, r, req)
	case action == "profile" && f.UserFlowType == UserFlowProfileUpdate:
		s.updateProfile(w, r, req)
	default:
		s.renderError(w, r, http.StatusBadRequest, errBadAuthorizeParam("action"))
	}
}

// resetPassword is the password reset flow's form. B2C verifies the
// account's email with a one-time code; Steward sends no mail, so the
// account proves itself with its authenticator app (or a recovery code).
// A user without one cannot (the page says to ask an administrator,
// without telling which accounts exist). Success sets the
// password, ends the user's other sessions and refresh tokens (as Graph's
// password reset does) and signs the user in.
func (s *Service) resetPassword(w http.ResponseWriter, r *http.Request, req authzRequest) {
	ctx := r.Context()
	upn := strings.TrimSpace(r.PostForm.Get("login"))
	req.LoginHint = upn
	again := func(msg string, status int) {
		s.renderB2CPage(w, r, req, "reset", "Reset your password", msg, status)
	}
	now := s.opts.Now()
	lockKey := "reset:" + strings.ToLower(upn)
	if d := s.lockouts.locked(req.TenantID, lockKey, now); d > 0 {
		again("Too many wrong codes. Try again later.", http.StatusTooManyRequests)
		return
	}
	pw := r.PostForm.Get("newPassword")
	if utf8.RuneCountInString(pw) < minPasswordLength || len(pw) > 256 {
		again("The new password must have 8 to 256 characters.", http.StatusOK)
		return
	}
	user, err := s.dir.UserBySignInName(ctx, req.TenantID, upn)
	var enrolled bool
	if err == nil {
		enrolled, err = s.MFAEnrolled(ctx, req.TenantID, user.ID)
	} else if errors.Is(err, ErrNotFound) {
		err = nil
	}
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	// One answer for an unknown account, one without an authenticator app
	// and a wrong code: the page does not tell which accounts exist.
	const refused = "That code didn't work. Check the account and the code and try again. " +
		"An account without an authenticator app cannot reset its password here: ask an administrator."
	if user.ID == "" || !user.AccountEnabled || !enrolled {
		s.lockouts.fail(req.TenantID, lockKey, now)
		again(refused, http.StatusOK)
		return
	}
	if err := s.VerifySecondFactor(ctx, req.TenantID, user.ID, r.PostForm.Get("otc")); ErrBadSecondFactor(err) {
		s.lockouts.fail(req.TenantID, lockKey, now)
		again(refused, http.StatusOK)
		return
	} else if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	s.lockouts.succeed(req.TenantID, lockKey)
	hash, err := HashPassword(s.opts.Rand, pw)
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	user.PasswordHash = hash
	user.SignInSessionsValidFrom = now.UTC() // sessions before this reset end; the new one starts now
	if err := s.dir.PutUser(ctx, user); err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	sess, err := s.startMFASession(ctx, w, req.TenantID, user.ID, []string{"pwd", "otp", "mfa"})
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	s.opts.Logger.InfoContext(ctx, "password reset through a user flow", "tenant", req.TenantID, "oid", user.ID, "flow", req.Flow.ID)
	s.proceed(w, r, req, sess, step{signedIn: true, flowDone: true})
}

// updateProfile is the profile edit flow's form: it sets the signed-in
// user's values of the flow's attributes (an optional one left empty is
// removed; one the form does not carry keeps its value).
func (s *Service) updateProfile(w http.ResponseWriter, r *http.Request, req authzRequest) {
	ctx := r.Context()
	sess := s.currentSession(r, req.TenantID)
	if sess == nil {
		s.renderSignIn(w, r, req, "", http.StatusOK)
		return
	}
	user, err := s.dir.User(ctx, req.TenantID, sess.rec.UserID)
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	if req.Flow.requiresMFA() && !slices.Contains(sess.rec.AMR, "mfa") {
		s.proceed(w, r, req, sess, step{})
		return
	}
	values := map[string]string{}
	for _, a := range req.Flow.UserAttributes() {
		values[a.ID] = attributeValue(user, a.ID)
		if v, sent := r.PostForm[a.ID]; sent {
			values[a.ID] = strings.TrimSpace(v[0])
		}
	}
	if msg := checkFields(signUpFields(req.Flow, values)); msg != "" {
		s.renderProfile(w, r, req, user, values, msg)
		return
	}
	for id, v := range values {
		setAttribute(&user, id, v)
	}
	if err := s.dir.PutUser(ctx, user); err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	s.proceed(w, r, req, sess, step{flowDone: true})
}
