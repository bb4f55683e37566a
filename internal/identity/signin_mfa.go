package identity

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"
)

// mfaNeeded reports whether the sign-in needs a second factor now: the
// user has one and has not presented it in this session, or the client
// asks for an authentication context (step-up) and the last second factor
// is older than mfaFreshness.
func (s *Service) mfaNeeded(req authzRequest, sess *sessionRef, enrolled bool, now time.Time) bool {
	has := slices.Contains(sess.rec.AMR, "mfa")
	if req.Flow != nil { // a user flow asks for MFA when it is set to
		return req.Flow.requiresMFA() && !has
	}
	if enrolled && !has {
		return true
	}
	if len(req.ACRS) > 0 {
		return !has || sess.rec.MFATime.IsZero() || now.Sub(sess.rec.MFATime) > mfaFreshness
	}
	return false
}

// secondFactor handles the verification-code, enrolment, security-key
// and recovery-codes forms.
func (s *Service) secondFactor(w http.ResponseWriter, r *http.Request, req authzRequest, sess *sessionRef, action string) {
	ctx := r.Context()
	if action == "continue" { // after the recovery codes were shown
		s.afterSecondFactor(w, r, req, sess, "")
		return
	}
	user, err := s.dir.User(ctx, req.TenantID, sess.rec.UserID)
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	now := s.opts.Now()
	lockKey := "mfa:" + user.ID
	if d := s.lockouts.locked(req.TenantID, lockKey, now); d > 0 {
		s.renderMFA(w, r, req, sess, user, "Too many wrong codes. Try again later.", http.StatusTooManyRequests)
		return
	}
	code := r.PostForm.Get("otc")
	var recovery []string
	enrolling, registering := action == "enroll", false
	switch action {
	case "enroll":
		recovery, err = s.ConfirmTOTP(ctx, req.TenantID, user.ID, code)
	case "webauthn":
		var c webauthnCeremony
		registering = json.Unmarshal(sess.rec.WebAuthn, &c) == nil && c.Register
		var enrolled bool
		if enrolled, err = s.MFAEnrolled(ctx, req.TenantID, user.ID); err == nil {
			enrolling = !enrolled
			recovery, err = s.finishWebAuthn(ctx, r, sess, user, r.PostForm.Get("credential"), securityInfoPage(r))
		}
	default:
		err = s.VerifySecondFactor(ctx, req.TenantID, user.ID, code)
	}
	if ErrBadSecondFactor(err) {
		s.lockouts.fail(req.TenantID, lockKey, now)
		msg := "That code didn't work. Check the code and try again."
		if action == "webauthn" {
			msg = "The security key was not accepted. Try again."
		}
		if enrolling {
			s.renderEnrollAgain(w, r, req, sess, user, msg)
			return
		}
		s.renderMFA(w, r, req, sess, user, msg, http.StatusOK)
		return
	} else if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	s.lockouts.succeed(req.TenantID, lockKey)
	sess.rec.AuthTime, sess.rec.MFATime = now.UTC(), now.UTC()
	// Entra's amr: "fido" for a FIDO2 security key, "mfa" for any second
	// factor.
	if action == "webauthn" && !slices.Contains(sess.rec.AMR, "fido") {
		sess.rec.AMR = append(sess.rec.AMR, "fido")
	}
	if !slices.Contains(sess.rec.AMR, "mfa") {
		sess.rec.AMR = append(sess.rec.AMR, "mfa")
	}
	if err := s.updateRecord(ctx, tableSessions, sess.id, sess.rec, sess.rec.Expires); err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	s.opts.Logger.InfoContext(ctx, "second factor verified", "tenant", req.TenantID, "oid", user.ID, "method", action)
	if len(recovery) > 0 {
		nonce := s.securePage(w, "'self'")
		s.render(w, r, "recovery", http.StatusOK, pageData{Title: "Recovery codes", Nonce: nonce, Action: r.URL.Path,
			Query: req.Raw, CSRF: s.withCSRF(w), Scopes: recovery})
		return
	}
	info := ""
	switch {
	case action == "enroll":
		info = "Authenticator app added."
	case registering:
		info = "Security key added."
	}
	s.afterSecondFactor(w, r, req, sess, info)
}

// afterSecondFactor goes on after a second factor: the sign-in continues,
// or the security-info page shows the user's methods again.
func (s *Service) afterSecondFactor(w http.ResponseWriter, r *http.Request, req authzRequest, sess *sessionRef, info string) {
	if !securityInfoPage(r) {
		s.proceed(w, r, req, sess, step{signedIn: true})
		return
	}
	user, err := s.dir.User(r.Context(), sess.rec.TenantID, sess.rec.UserID)
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	s.renderSecurityInfo(w, r, sess, user, info, "", "")
}

// renderMFA asks for the second factor: a code, or the user's security
// key when one is registered.
func (s *Service) renderMFA(w http.ResponseWriter, r *http.Request, req authzRequest, sess *sessionRef, user User, msg string, status int) {
	d := pageData{Title: "Verify your identity", AppName: req.App.DisplayName, Message: msg}
	if n, err := s.WebAuthnKeyCount(r.Context(), req.TenantID, user.ID); err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	} else if n > 0 {
		if d.WebAuthn, err = s.beginWebAuthn(r.Context(), r, sess, user, false, false); err != nil && !errors.Is(err, errNoWebAuthn) {
			s.authorizeFailed(w, r, req, err)
			return
		}
		d.Ceremony = "login"
	}
	d.Nonce = s.securePage(w, "'self'")
	d.Action, d.Query, d.CSRF = r.URL.Path, req.Raw, s.withCSRF(w)
	s.render(w, r, "mfa", status, d)
}

// renderEnroll starts a TOTP enrolment and shows its QR code.
func (s *Service) renderEnroll(w http.ResponseWriter, r *http.Request, req authzRequest, sess *sessionRef, user User, msg string) {
	e, err := s.BeginTOTP(r.Context(), req.TenantID, user)
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	s.showEnroll(w, r, req, sess, user, e, msg)
}

// renderEnrollAgain shows the pending enrolment again after a wrong code,
// with the same secret (the user has already added it to the app).
func (s *Service) renderEnrollAgain(w http.ResponseWriter, r *http.Request, req authzRequest, sess *sessionRef, user User, msg string) {
	rec, ok, err := s.readMFA(r.Context(), req.TenantID, user.ID)
	if err != nil || !ok || rec.Enrolled || len(rec.Secret)+len(rec.SealedSecret) == 0 {
		s.renderEnroll(w, r, req, sess, user, msg)
		return
	}
	raw, err := s.secret(r.Context(), &rec)
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	e := totpEnrollment(raw, user.UserPrincipalName)
	clear(raw)
	s.showEnroll(w, r, req, sess, user, e, msg)
}

// showEnroll shows the authenticator app's QR code and, when the server
// is reached by a host name, the offer to register a security key instead.
func (s *Service) showEnroll(w http.ResponseWriter, r *http.Request, req authzRequest, sess *sessionRef, user User, e TOTPEnrollment, msg string) {
	png, err := qrcode.Encode(e.URI, qrcode.Medium, 256)
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	options := ""
	if req.Flow == nil && !securityInfoPage(r) { // the security-info page adds one method at a time
		if options, err = s.beginWebAuthn(r.Context(), r, sess, user, true, false); err != nil && !errors.Is(err, errNoWebAuthn) {
			s.authorizeFailed(w, r, req, err)
			return
		}
	}
	nonce := s.securePage(w, "'self'")
	w.Header().Set("Content-Security-Policy", w.Header().Get("Content-Security-Policy")+"; img-src data:")
	s.render(w, r, "enroll", http.StatusOK, pageData{Title: "Set up your authenticator app", Nonce: nonce, Action: r.URL.Path,
		Query: req.Raw, CSRF: s.withCSRF(w), AppName: req.App.DisplayName, Message: msg,
		QR:       template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)), // a PNG made here, not input
		Secret:   groupSecret(e.Secret),
		WebAuthn: options, Ceremony: "register"})
}

// groupSecret splits a base32 secret in groups of four for typing.
func groupSecret(s string) string {
	var b strings.Builder
	for i, c := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}
