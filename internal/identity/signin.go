package identity

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Cookies of the sign-in pages. Both are Secure and HttpOnly; the session
// is SameSite=Lax so it comes along when a client sends the browser to the
// authorization endpoint, the CSRF cookie Strict.
const (
	sessionCookie = "steward_sso"
	csrfCookie    = "steward_csrf"
)

// serveAuthorize is the authorization endpoint. GET starts (or silently
// completes) a sign-in; POST is the sign-in or consent form coming back.
func (s *Service) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		req, err := s.parseAuthorize(r, r.URL.RawQuery)
		if err != nil {
			s.authorizeFailed(w, r, req, err)
			return
		}
		s.proceed(w, r, req, s.currentSession(r, req.TenantID), step{})
	case http.MethodPost:
		s.serveAuthorizeForm(w, r)
	default:
		s.renderError(w, r, http.StatusMethodNotAllowed, errBadAuthorizeParam("method"))
	}
}

// step says which checks a form post has just satisfied.
type step struct {
	signedIn  bool // credentials were just presented
	consented bool // the consent page was just accepted
	flowDone  bool // a user flow's own page (profile, password reset) was just completed
}

// proceed decides what the browser sees next: the sign-in page, the
// consent page, or the redirect with a code.
func (s *Service) proceed(w http.ResponseWriter, r *http.Request, req authzRequest, sess *sessionRef, st step) {
	ctx := r.Context()
	now := s.opts.Now()
	if req.Flow != nil && req.Flow.UserFlowType == UserFlowPasswordReset && !st.flowDone {
		if s.opts.Mailer != nil { // B2C's reset: the account's email proves it
			s.renderSignUp(w, r, req, signUpView{Step: "email"}, "", http.StatusOK)
			return
		}
		s.renderB2CPage(w, r, req, "reset", "Reset your password", "", http.StatusOK)
		return
	}
	needLogin := sess == nil
	if !st.signedIn && sess != nil {
		if req.Prompt == "login" || req.Prompt == "select_account" {
			needLogin = true
		}
		if req.MaxAge == 0 || (req.MaxAge > 0 && now.Sub(sess.rec.AuthTime) > time.Duration(req.MaxAge)*time.Second) {
			needLogin = true
		}
	}
	if needLogin {
		if req.Prompt == "none" {
			s.respondError(w, r, req, errLoginRequired())
			return
		}
		if req.Flow != nil && req.Flow.UserFlowType == UserFlowSignUp {
			if s.opts.Mailer == nil {
				s.renderSignUp(w, r, req, signUpView{Step: "email"}, errSignUpNoMail, http.StatusServiceUnavailable)
				return
			}
			s.renderSignUp(w, r, req, signUpView{Step: "email"}, "", http.StatusOK)
			return
		}
		s.renderSignIn(w, r, req, "", http.StatusOK)
		return
	}
	user, err := s.dir.User(ctx, req.TenantID, sess.rec.UserID)
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	enrolled, err := s.MFAEnrolled(ctx, req.TenantID, user.ID)
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	if s.mfaNeeded(req, sess, enrolled, now) {
		if req.Prompt == "none" {
			s.respondError(w, r, req, errInteractionRequired())
			return
		}
		if enrolled {
			s.renderMFA(w, r, req, sess, user, "", http.StatusOK)
			return
		}
		s.renderEnroll(w, r, req, sess, user, "")
		return
	}
	consent, err := s.consentNeeded(ctx, req, user.ID)
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	if req.Flow != nil {
		// B2C has no user consent: the app's API permissions need an
		// administrator's grant.
		if len(consent) > 0 {
			s.respondError(w, r, req, errB2CNoAdminConsent(req.App.AppID))
			return
		}
		if req.Flow.UserFlowType == UserFlowProfileUpdate && !st.flowDone {
			s.renderProfile(w, r, req, user, nil, "")
			return
		}
	} else if (len(consent) > 0 || req.Prompt == "consent") && !st.consented {
		if req.Prompt == "none" {
			s.respondError(w, r, req, errConsentRequired(req.App.AppID))
			return
		}
		s.renderConsent(w, r, req, user, consent)
		return
	}
	code, err := s.issueCode(ctx, req, sess, user)
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	s.respond(w, req, url.Values{"code": {code}, "session_state": {sess.rec.SID}})
}

// authorizeFailed answers a failure: on the page, at the redirect URI, or
// (a storage outage) as a 503 page.
func (s *Service) authorizeFailed(w http.ResponseWriter, r *http.Request, req authzRequest, err error) {
	var ae *authzError
	var oe *OAuthError
	switch {
	case errors.As(err, &ae) && ae.redirect:
		s.respondError(w, r, req, ae.err)
	case errors.As(err, &ae):
		s.renderError(w, r, ae.err.Status, ae.err)
	case errors.As(err, &oe) && req.RedirectURI != "" && req.App.AppID != "":
		s.respondError(w, r, req, oe)
	case errors.As(err, &oe):
		s.renderError(w, r, oe.Status, oe)
	default:
		s.opts.Logger.ErrorContext(r.Context(), "authorization endpoint failure", "err", err.Error())
		s.renderError(w, r, http.StatusServiceUnavailable, oauthErr(http.StatusServiceUnavailable,
			"temporarily_unavailable", 90033, "A transient error has occurred. Please try again."))
	}
}

// serveAuthorizeForm handles the sign-in and consent forms.
func (s *Service) serveAuthorizeForm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 2*maxAuthorizeBytes)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, errBadRequestBody())
		return
	}
	if !s.csrfOK(r) {
		s.renderError(w, r, http.StatusForbidden, oauthErr(http.StatusForbidden, "invalid_request", 90100,
			"The form has expired or did not come from this sign-in page. Start the sign-in again."))
		return
	}
	req, err := s.parseAuthorize(r, r.PostForm.Get("q"))
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	switch r.PostForm.Get("action") {
	case "signin":
		s.signIn(w, r, req)
	case "mfa", "enroll", "webauthn", "continue":
		sess := s.currentSession(r, req.TenantID)
		if sess == nil {
			s.renderSignIn(w, r, req, "", http.StatusOK)
			return
		}
		s.secondFactor(w, r, req, sess, r.PostForm.Get("action"))
	case "passkey-start", "passkey":
		s.passkeyForm(w, r, req, r.PostForm.Get("action"))
	case "signup", "signup-send", "signup-verify", "signup-create", "reset-send", "reset-verify", "reset-set":
		s.signUpForm(w, r, req, r.PostForm.Get("action"))
	case "forgot", "reset", "profile", "cancel":
		s.userFlowForm(w, r, req, r.PostForm.Get("action"))
	case "consent":
		sess := s.currentSession(r, req.TenantID)
		if sess == nil {
			s.renderSignIn(w, r, req, "", http.StatusOK)
			return
		}
		if r.PostForm.Get("accept") != "yes" {
			s.respondError(w, r, req, errConsentDeclined())
			return
		}
		if err := s.grantUserConsent(r.Context(), req, sess.rec.UserID); err != nil {
			s.authorizeFailed(w, r, req, err)
			return
		}
		s.proceed(w, r, req, sess, step{consented: true})
	default:
		s.renderError(w, r, http.StatusBadRequest, errBadAuthorizeParam("action"))
	}
}

// signIn checks the user name and password of the sign-in form.
func (s *Service) signIn(w http.ResponseWriter, r *http.Request, req authzRequest) {
	ctx := r.Context()
	req.LoginHint = strings.TrimSpace(r.PostForm.Get("login"))
	user, msg, status, err := s.passwordSignIn(r, req.TenantID)
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	} else if msg != "" {
		s.renderSignIn(w, r, req, msg, status)
		return
	}
	sess, err := s.startSession(ctx, w, req.TenantID, user.ID, []string{"pwd"})
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	s.opts.Logger.InfoContext(ctx, "user signed in", "tenant", req.TenantID, "oid", user.ID, "client_id", req.App.AppID)
	s.proceed(w, r, req, sess, step{signedIn: true})
}

// passwordSignIn checks the name and password of a sign-in form under the
// lockout; a refusal is the page's message and status (no user).
func (s *Service) passwordSignIn(r *http.Request, tenantID string) (User, string, int, error) {
	ctx := r.Context()
	upn := strings.TrimSpace(r.PostForm.Get("login"))
	now := s.opts.Now()
	lockKey := "user:" + strings.ToLower(upn)
	if d := s.lockouts.locked(tenantID, lockKey, now); d > 0 {
		return User{}, "Your account is locked after too many sign-in attempts. Try again later.", http.StatusTooManyRequests, nil
	}
	user, err := s.AuthenticateUser(ctx, tenantID, upn, r.PostForm.Get("passwd"))
	if ErrBadCredentials(err) {
		if s.lockouts.fail(tenantID, lockKey, now) {
			s.opts.Logger.WarnContext(ctx, "user locked out after repeated failed sign-in", "tenant", tenantID)
		}
		return User{}, "Your account or password is incorrect.", http.StatusOK, nil
	} else if err != nil {
		return User{}, "", 0, err
	}
	s.lockouts.succeed(tenantID, lockKey)
	return user, "", 0, nil
}

// startMFASession starts a session whose sign-in was multifactor (amr
// holds mfa): its second factor is as fresh as its sign-in.
func (s *Service) startMFASession(ctx context.Context, w http.ResponseWriter, tenantID, userID string, amr []string) (*sessionRef, error) {
	sess, err := s.startSession(ctx, w, tenantID, userID, amr)
	if err != nil {
		return nil, err
	}
	sess.rec.MFATime = sess.rec.AuthTime
	return sess, s.updateRecord(ctx, tableSessions, sess.id, sess.rec, sess.rec.Expires)
}

// sessionRef is a loaded sign-in session and its cookie value.
type sessionRef struct {
	id  string
	rec signInSession
}

// currentSession returns the browser's session for tenantID, or nil when
// there is none, it expired, its user is gone or disabled, or the user's
// sessions were revoked after it began.
func (s *Service) currentSession(r *http.Request, tenantID string) *sessionRef {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	var rec signInSession
	ok, err := s.getRecord(r.Context(), tableSessions, c.Value, &rec)
	if err != nil || !ok || !strings.EqualFold(rec.TenantID, tenantID) || !s.opts.Now().Before(rec.Expires) {
		return nil
	}
	u, err := s.dir.User(r.Context(), rec.TenantID, rec.UserID)
	if err != nil || !u.AccountEnabled || rec.AuthTime.Before(u.SignInSessionsValidFrom) {
		return nil
	}
	return &sessionRef{id: c.Value, rec: rec}
}

// startSession records a new sign-in session and sets its cookie.
func (s *Service) startSession(ctx context.Context, w http.ResponseWriter, tenantID, userID string, amr []string) (*sessionRef, error) {
	id, err := newSecret(s.opts.Rand)
	if err != nil {
		return nil, err
	}
	now := s.opts.Now().UTC()
	rec := signInSession{TenantID: tenantID, UserID: userID, AuthTime: now, AMR: amr, Created: now,
		Expires: now.Add(sessionLifetime), SID: s.NewID()}
	if err := s.putRecord(ctx, tableSessions, id, rec, rec.Expires); err != nil {
		return nil, err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode})
	return &sessionRef{id: id, rec: rec}, nil
}

// csrfOK checks the double-submitted CSRF token: the form's value must
// equal the Strict cookie set with the page.
func (s *Service) csrfOK(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	form := r.PostForm.Get("csrf")
	if err != nil || len(c.Value) < 32 || form == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(form)) == 1
}

// issueCode records an authorization code for the signed-in user.
func (s *Service) issueCode(ctx context.Context, req authzRequest, sess *sessionRef, user User) (string, error) {
	code, err := newSecret(s.opts.Rand)
	if err != nil {
		return "", err
	}
	now := s.opts.Now().UTC()
	acrs := []string(nil)
	if len(req.ACRS) > 0 && slices.Contains(sess.rec.AMR, "mfa") {
		acrs = req.ACRS
	}
	policy, newUser := "", false
	if req.Flow != nil {
		policy = req.Flow.ID
	}
	if sess.rec.NewUser { // newUser is in the first tokens after the sign-up only
		sess.rec.NewUser = false
		if err := s.updateRecord(ctx, tableSessions, sess.id, sess.rec, sess.rec.Expires); err != nil {
			return "", err
		}
		newUser = true
	}
	g := grantState{Policy: policy, NewUser: newUser, TenantID: req.TenantID, ClientID: req.App.AppID, UserID: user.ID, Scope: req.Scope,
		AuthTime: sess.rec.AuthTime, AMR: sess.rec.AMR, ACRS: acrs, SessionID: sess.rec.SID, Public: req.Public,
		Issued: now, Expires: now.Add(authCodeLifetime), RedirectURI: req.RedirectURI, Nonce: req.Nonce,
		CodeChallenge: req.Challenge}
	return code, s.putRecord(ctx, tableAuthCodes, code, g, g.Expires)
}
