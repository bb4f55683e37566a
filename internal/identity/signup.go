package identity

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Self-service sign-up in B2C user flows (signUp, and the "Sign up now"
// link of signUpOrSignIn): the user proves an email address with a
// one-time code sent by mail, chooses a password under B2C's "strong"
// policy, gives the flow's attributes (given name, surname, display name)
// and becomes a local account (identities signInType emailAddress) signed
// in at once; the first tokens carry newUser: true.

// Mailer sends an email (the same shape as the alerts' SMTP mailer, whose
// server configuration sign-up reuses).
type Mailer interface {
	Send(ctx context.Context, to, subject string, body []byte) error
}

// SetMailer sets the mailer that sends sign-up verification codes; nil
// turns self-service sign-up off. Call it before serving.
func (s *Service) SetMailer(m Mailer) { s.opts.Mailer = m }

const (
	// tableSignUps holds sign-ups in progress, keyed by the secret in the
	// sign-up cookie.
	tableSignUps = "identity.signups"
	// tableSignInNames maps local accounts' email sign-in names to user
	// IDs; its Create makes an address taken once only.
	tableSignInNames = "identity.signinnames"
	signUpCookie     = "steward_signup"
	// signUpLifetime bounds a whole sign-up, signUpCodeLifetime one code.
	signUpLifetime     = 30 * time.Minute
	signUpCodeLifetime = 10 * time.Minute
	// signUpCodeTries wrong codes spend a code; signUpMaxSends codes are
	// sent for one sign-up at most.
	signUpCodeTries = 3
	signUpMaxSends  = 5
	// B2C's "strong" password complexity: 8 to 64 characters, 3 of the 4
	// classes (lower case, upper case, digit, symbol).
	signUpPasswordMin = 8
	signUpPasswordMax = 64
)

// signUpState is a sign-up in progress.
type signUpState struct {
	TenantID    string    `json:"tenantId"`
	Flow        string    `json:"flow"`
	Email       string    `json:"email"`
	Salt        []byte    `json:"salt"`
	CodeHash    string    `json:"codeHash,omitempty"`
	CodeExpires time.Time `json:"codeExpires,omitzero"`
	Tries       int       `json:"tries"`
	Sends       int       `json:"sends"`
	Verified    bool      `json:"verified"`
	Expires     time.Time `json:"expires"`
}

// signUpView is what the sign-up page shows: the step ("email", "code",
// "details" for a sign-up, "password" for a password reset) and the values
// typed so far. Prefix names the forms' actions: "signup" or "reset".
type signUpView struct {
	Step, Email, Info, Prefix string
	// Values are the attributes typed so far; Fields the flow's
	// attributes as text boxes (set by renderSignUp).
	Values map[string]string
	Fields []signUpField
}

var _ = template.Must(pages.Parse(`
{{define "attributes"}}{{range .}}<label for="{{.ID}}">{{.Label}}{{if not .Required}} (optional){{end}}</label>
<input id="{{.ID}}" name="{{.ID}}" type="text" autocomplete="{{.Autocomplete}}" maxlength="{{.Max}}"{{if .Required}} required{{end}} value="{{.Value}}">
{{end}}{{end}}
{{define "signup"}}{{template "head" .}}
<h1>{{.Title}}</h1>
<p class="small">for <strong>{{.AppName}}</strong></p>
{{with .SignUp}}{{if .Info}}<p role="status">{{.Info}}</p>{{end}}{{end}}
{{if .Message}}<p class="error" role="alert">{{.Message}}</p>{{end}}
{{with .SignUp}}<form method="post" action="{{$.Action}}" id="attributeVerification">
<input type="hidden" name="q" value="{{$.Query}}"><input type="hidden" name="csrf" value="{{$.CSRF}}">
{{if eq .Step "email"}}<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="email" required autofocus value="{{.Email}}">
<button type="submit" name="action" value="{{.Prefix}}-send" id="emailVerificationControl_but_send_code">Send verification code</button>
{{else}}<label for="email">Email address</label>
<input id="email" type="email" value="{{.Email}}" readonly>
{{end}}{{if eq .Step "code"}}<label for="verificationCode">Verification code</label>
<input id="verificationCode" name="verificationCode" type="text" inputmode="numeric" autocomplete="one-time-code" required autofocus>
<button type="submit" name="action" value="{{.Prefix}}-verify" id="emailVerificationControl_but_verify_code">Verify code</button>
<button type="submit" name="action" value="{{.Prefix}}-send" class="secondary" formnovalidate id="emailVerificationControl_but_send_new_code">Send new code</button>
{{end}}{{if eq .Step "details"}}<label for="newPassword">New password</label>
<input id="newPassword" name="newPassword" type="password" autocomplete="new-password" required autofocus>
<label for="reenterPassword">Confirm new password</label>
<input id="reenterPassword" name="reenterPassword" type="password" autocomplete="new-password" required>
<p class="small">8 to 64 characters, with 3 of: lower case letters, upper case letters, digits, symbols.</p>
{{template "attributes" .Fields}}<button type="submit" name="action" value="signup-create" id="continue">Create</button>
{{end}}{{if eq .Step "password"}}<label for="newPassword">New password</label>
<input id="newPassword" name="newPassword" type="password" autocomplete="new-password" required autofocus>
<label for="reenterPassword">Confirm new password</label>
<input id="reenterPassword" name="reenterPassword" type="password" autocomplete="new-password" required>
<p class="small">8 to 64 characters, with 3 of: lower case letters, upper case letters, digits, symbols.</p>
<button type="submit" name="action" value="reset-set" id="continue">Continue</button>
{{end}}<button type="submit" name="action" value="cancel" class="secondary" formnovalidate id="cancel">Cancel</button>
</form>{{end}}
{{template "foot" .}}{{end}}
`))

// signsUp reports whether the flow lets users create their account.
func (f *UserFlow) signsUp() bool {
	return f != nil && (f.UserFlowType == UserFlowSignUp || f.UserFlowType == UserFlowSignUpOrSignIn)
}

// signUpOpen reports whether the sign-up pages can work: the flow signs
// up and a mailer can send the codes.
func (s *Service) signUpOpen(f *UserFlow) bool { return f.signsUp() && s.opts.Mailer != nil }

// errSignUpNoMail is the sign-up page's answer when no email server is
// configured: without one no address can be verified.
const errSignUpNoMail = "Sign-up is not available: this server has no email server to send the verification code. " +
	"Ask an administrator to configure one, or to create your account."

func (s *Service) renderSignUp(w http.ResponseWriter, r *http.Request, req authzRequest, v signUpView, msg string, status int) {
	title := "Create your account"
	v.Prefix = "signup"
	if resetsByEmail(req.Flow) {
		title, v.Prefix = "Reset your password", "reset"
	}
	if v.Step == "details" {
		v.Fields = signUpFields(req.Flow, v.Values)
	}
	nonce := s.securePage(w, "'self'")
	s.render(w, r, "signup", status, pageData{Title: title, Nonce: nonce, Action: r.URL.Path,
		Query: req.Raw, CSRF: s.withCSRF(w), AppName: req.App.DisplayName, Message: msg, SignUp: &v})
}

// resetsByEmail reports whether the flow is a password reset (which
// verifies the account's email when a mailer is configured).
func resetsByEmail(f *UserFlow) bool { return f != nil && f.UserFlowType == UserFlowPasswordReset }

// signUpForm handles the sign-up page's forms: "signup" (the link, or a
// signUp flow's first page), "signup-send" (send or resend the code),
// "signup-verify" and "signup-create"; and the same email verification
// of a password reset ("reset-send", "reset-verify", "reset-set").
func (s *Service) signUpForm(w http.ResponseWriter, r *http.Request, req authzRequest, action string) {
	reset := strings.HasPrefix(action, "reset-")
	if reset && (!resetsByEmail(req.Flow) || s.opts.Mailer == nil) || !reset && !req.Flow.signsUp() {
		s.renderError(w, r, http.StatusBadRequest, errBadAuthorizeParam("action"))
		return
	}
	if s.opts.Mailer == nil {
		s.renderSignUp(w, r, req, signUpView{Step: "email"}, errSignUpNoMail, http.StatusServiceUnavailable)
		return
	}
	switch action {
	case "signup":
		s.endSignUp(r.Context(), w, r)
		s.renderSignUp(w, r, req, signUpView{Step: "email"}, "", http.StatusOK)
	case "signup-send", "reset-send":
		s.sendSignUpCode(w, r, req)
	case "signup-verify", "reset-verify":
		s.verifySignUpCode(w, r, req)
	case "reset-set":
		s.resetPasswordByEmail(w, r, req)
	default:
		s.createSignUpAccount(w, r, req)
	}
}

// loadSignUp returns the browser's sign-up in progress for this tenant
// and flow (ok false when there is none, it expired or belongs elsewhere).
func (s *Service) loadSignUp(r *http.Request, req authzRequest) (string, signUpState, bool, error) {
	var st signUpState
	c, err := r.Cookie(signUpCookie)
	if err != nil {
		return "", st, false, nil
	}
	ok, err := s.getRecord(r.Context(), tableSignUps, c.Value, &st)
	if err != nil || !ok {
		return "", st, false, err
	}
	if !strings.EqualFold(st.TenantID, req.TenantID) || !strings.EqualFold(st.Flow, req.Flow.ID) || !s.opts.Now().Before(st.Expires) {
		return "", st, false, nil
	}
	return c.Value, st, true, nil
}

// endSignUp forgets the browser's sign-up.
func (s *Service) endSignUp(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(signUpCookie); err == nil {
		if _, err := s.deleteRecord(ctx, tableSignUps, c.Value); err != nil {
			s.opts.Logger.WarnContext(ctx, "a sign-up record could not be removed", "err", err.Error())
		}
	}
	http.SetCookie(w, &http.Cookie{Name: signUpCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true,
		SameSite: http.SameSiteStrictMode})
}

// signUpEmail checks an address typed on the page: a bare address of at
// most 254 characters.
func signUpEmail(v string) (string, bool) {
	v = strings.TrimSpace(v)
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || len(v) > 254 || !strings.Contains(v[strings.LastIndexByte(v, '@'):], ".") {
		return v, false
	}
	return v, true
}

// sendSignUpCode sends a fresh code to the address of the form (a new
// address starts the sign-up again).
func (s *Service) sendSignUpCode(w http.ResponseWriter, r *http.Request, req authzRequest) {
	ctx := r.Context()
	id, st, ok, err := s.loadSignUp(r, req)
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	email := r.PostForm.Get("email")
	if email == "" && ok { // "Send new code" on the code step
		email = st.Email
	}
	email, valid := signUpEmail(email)
	if !valid {
		s.renderSignUp(w, r, req, signUpView{Step: "email", Email: clip(email)}, "Please enter a valid email address.", http.StatusOK)
		return
	}
	now := s.opts.Now().UTC()
	fresh := !ok || !strings.EqualFold(st.Email, email)
	if fresh {
		if id, err = newSecret(s.opts.Rand); err != nil {
			s.authorizeFailed(w, r, req, err)
			return
		}
		st = signUpState{TenantID: strings.ToLower(req.TenantID), Flow: req.Flow.ID, Email: email, Expires: now.Add(signUpLifetime),
			Salt: make([]byte, 16)}
		if _, err := io.ReadFull(s.opts.Rand, st.Salt); err != nil {
			s.authorizeFailed(w, r, req, err)
			return
		}
	}
	if st.Sends >= signUpMaxSends {
		s.renderSignUp(w, r, req, signUpView{Step: "code", Email: email},
			"Too many codes were sent for this sign-up. Wait a while and start again.", http.StatusTooManyRequests)
		return
	}
	code, err := newNumericCode(s.opts.Rand)
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	// A password reset mails only an account's address; the page says the
	// same either way, and the code of an unknown address is never sent,
	// so it cannot be verified.
	send, subject, purpose := true, req.App.DisplayName+" account email verification code", "verify your email address"
	if resetsByEmail(req.Flow) {
		u, err := s.dir.UserBySignInName(ctx, req.TenantID, email)
		if err != nil && !errors.Is(err, ErrNotFound) {
			s.authorizeFailed(w, r, req, err)
			return
		}
		send = err == nil && u.AccountEnabled
		subject, purpose = req.App.DisplayName+" password reset code", "reset your password"
	}
	st.CodeHash, st.CodeExpires, st.Tries, st.Verified = signUpCodeHash(st.Salt, code), now.Add(signUpCodeLifetime), 0, false
	st.Sends++
	save := s.updateRecord
	if fresh {
		save = s.putRecord
	}
	if err := save(ctx, tableSignUps, id, st, st.Expires); err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: signUpCookie, Value: id, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	app := req.App.DisplayName
	body := fmt.Sprintf("Your code to %s for %s is:\r\n\r\n%s\r\n\r\nIt is good for %d minutes. "+
		"If you did not ask for it, ignore this message.\r\n", purpose, app, code, int(signUpCodeLifetime/time.Minute))
	mctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if !send {
		s.opts.Logger.InfoContext(ctx, "password reset code not sent: no such account", "tenant", req.TenantID)
	} else if err := s.opts.Mailer.Send(mctx, email, subject, []byte(body)); err != nil {
		s.opts.Logger.WarnContext(ctx, "sign-up verification code not sent", "tenant", req.TenantID, "err", err.Error())
		s.renderSignUp(w, r, req, signUpView{Step: "email", Email: email},
			"The verification code could not be sent. Try again later.", http.StatusServiceUnavailable)
		return
	}
	s.renderSignUp(w, r, req, signUpView{Step: "code", Email: email,
		Info: "A verification code has been sent to " + email + ". Copy it to the box below."}, "", http.StatusOK)
}

// verifySignUpCode checks the code typed on the page.
func (s *Service) verifySignUpCode(w http.ResponseWriter, r *http.Request, req authzRequest) {
	ctx := r.Context()
	id, st, ok, err := s.loadSignUp(r, req)
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	if !ok || st.CodeHash == "" {
		s.renderSignUp(w, r, req, signUpView{Step: "email"}, "This has expired. Enter your email address again.", http.StatusOK)
		return
	}
	now := s.opts.Now()
	view := signUpView{Step: "code", Email: st.Email}
	lockKey := "signup:" + strings.ToLower(st.Email)
	if d := s.lockouts.locked(req.TenantID, lockKey, now); d > 0 {
		s.renderSignUp(w, r, req, view, "Too many wrong codes. Try again later.", http.StatusTooManyRequests)
		return
	}
	if !now.Before(st.CodeExpires) || st.Tries >= signUpCodeTries {
		s.renderSignUp(w, r, req, view, "That code has expired. Send a new code.", http.StatusOK)
		return
	}
	code := strings.TrimSpace(r.PostForm.Get("verificationCode"))
	if subtle.ConstantTimeCompare([]byte(signUpCodeHash(st.Salt, code)), []byte(st.CodeHash)) != 1 {
		st.Tries++
		s.lockouts.fail(req.TenantID, lockKey, now)
		if err := s.updateRecord(ctx, tableSignUps, id, st, st.Expires); err != nil {
			s.authorizeFailed(w, r, req, err)
			return
		}
		msg := "That code is incorrect. Try again."
		if st.Tries >= signUpCodeTries {
			msg = "That code is incorrect, and it is spent after too many tries. Send a new code."
		}
		s.renderSignUp(w, r, req, view, msg, http.StatusOK)
		return
	}
	s.lockouts.succeed(req.TenantID, lockKey)
	st.Verified, st.CodeHash = true, ""
	if err := s.updateRecord(ctx, tableSignUps, id, st, st.Expires); err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	next := "details"
	if resetsByEmail(req.Flow) {
		next = "password"
	}
	s.renderSignUp(w, r, req, signUpView{Step: next, Email: st.Email,
		Info: "Email address verified. You can now continue."}, "", http.StatusOK)
}

// createSignUpAccount checks the password and attributes and creates the
// account, then signs the user in (MFA enrolment follows when the flow
// requires it).
func (s *Service) createSignUpAccount(w http.ResponseWriter, r *http.Request, req authzRequest) {
	ctx := r.Context()
	_, st, ok, err := s.loadSignUp(r, req)
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	if !ok || !st.Verified {
		s.renderSignUp(w, r, req, signUpView{Step: "email"}, "This has expired. Enter your email address again.", http.StatusOK)
		return
	}
	f := r.PostForm
	view := signUpView{Step: "details", Email: st.Email, Values: map[string]string{}}
	for _, fd := range signUpFields(req.Flow, nil) {
		view.Values[fd.ID] = strings.TrimSpace(f.Get(fd.ID))
	}
	again := func(msg string) { s.renderSignUp(w, r, req, view, msg, http.StatusOK) }
	pw, msg := newPasswordOf(f)
	if msg != "" {
		again(msg)
		return
	}
	if msg := checkFields(signUpFields(req.Flow, view.Values)); msg != "" {
		again(msg)
		return
	}
	user, err := s.CreateLocalAccount(ctx, req.TenantID, LocalAccount{Email: st.Email, Password: pw, Attributes: view.Values})
	if errors.Is(err, ErrExists) {
		again("A user with this email address already exists. Sign in instead, or use another address.")
		return
	} else if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	sess, err := s.signInVerified(ctx, w, r, req.TenantID, user.ID)
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	sess.rec.NewUser = true
	if err := s.updateRecord(ctx, tableSessions, sess.id, sess.rec, sess.rec.Expires); err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	s.opts.Logger.InfoContext(ctx, "user signed up through a user flow", "tenant", req.TenantID, "oid", user.ID, "flow", req.Flow.ID)
	s.proceed(w, r, req, sess, step{signedIn: true})
}

// resetPasswordByEmail is a password reset's last step: the verified
// address's account gets the new password, its other sessions and refresh
// tokens end (as Graph's password reset), and the user is signed in.
func (s *Service) resetPasswordByEmail(w http.ResponseWriter, r *http.Request, req authzRequest) {
	ctx := r.Context()
	_, st, ok, err := s.loadSignUp(r, req)
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	var user User
	if ok && st.Verified {
		if user, err = s.dir.UserBySignInName(ctx, req.TenantID, st.Email); err != nil && !errors.Is(err, ErrNotFound) {
			s.authorizeFailed(w, r, req, err)
			return
		}
	}
	if user.ID == "" || !user.AccountEnabled {
		s.renderSignUp(w, r, req, signUpView{Step: "email"}, "This has expired. Enter your email address again.", http.StatusOK)
		return
	}
	view := signUpView{Step: "password", Email: st.Email}
	pw, msg := newPasswordOf(r.PostForm)
	if msg != "" {
		s.renderSignUp(w, r, req, view, msg, http.StatusOK)
		return
	}
	hash, err := HashPassword(s.opts.Rand, pw)
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	user.PasswordHash = hash
	user.SignInSessionsValidFrom = s.opts.Now().UTC() // sessions before this reset end; the new one starts now
	if err := s.dir.PutUser(ctx, user); err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	sess, err := s.signInVerified(ctx, w, r, req.TenantID, user.ID)
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	s.opts.Logger.InfoContext(ctx, "password reset by email through a user flow", "tenant", req.TenantID, "oid", user.ID, "flow", req.Flow.ID)
	s.proceed(w, r, req, sess, step{signedIn: true, flowDone: true})
}

// newPasswordOf reads a form's new password: B2C's strong policy, typed
// the same twice; msg is the page's refusal.
func newPasswordOf(f url.Values) (pw, msg string) {
	pw = f.Get("newPassword")
	if msg := checkStrongPassword(pw); msg != "" {
		return "", msg
	}
	if subtle.ConstantTimeCompare([]byte(pw), []byte(f.Get("reenterPassword"))) != 1 {
		return "", "The password entry fields do not match. Enter the same password in both fields and try again."
	}
	return pw, ""
}

// signInVerified ends the browser's sign-up or reset and signs the user
// in with the password just set.
func (s *Service) signInVerified(ctx context.Context, w http.ResponseWriter, r *http.Request, tenantID, userID string) (*sessionRef, error) {
	s.endSignUp(ctx, w, r)
	return s.startSession(ctx, w, tenantID, userID, []string{"pwd"})
}

// checkStrongPassword applies B2C's "strong" complexity and returns the
// page's message, "" when the password passes.
func checkStrongPassword(pw string) string {
	if n := utf8.RuneCountInString(pw); n < signUpPasswordMin || n > signUpPasswordMax {
		return "The password must be between 8 and 64 characters."
	}
	var lower, upper, digit, symbol int
	for _, c := range pw {
		switch {
		case unicode.IsLower(c):
			lower = 1
		case unicode.IsUpper(c):
			upper = 1
		case unicode.IsDigit(c):
			digit = 1
		default:
			symbol = 1
		}
	}
	if lower+upper+digit+symbol < 3 {
		return "The password must have at least 3 of the following: a lower case letter, an upper case letter, a digit, a symbol."
	}
	return ""
}

// newNumericCode returns six random digits (rejection sampling keeps them
// uniform).
func newNumericCode(r io.Reader) (string, error) {
	var b [4]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return "", err
		}
		v := binary.BigEndian.Uint32(b[:])
		if v < 4294000000 { // a multiple of 10^6
			return fmt.Sprintf("%06d", v%1000000), nil
		}
	}
}

func signUpCodeHash(salt []byte, code string) string {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(code))
	return hex.EncodeToString(m.Sum(nil))
}

// LocalAccount is what a self-service sign-up collects: the address,
// the password and the flow's attributes by ID (displayName, city, ...).
// A display name not collected is B2C's "unknown".
type LocalAccount struct {
	Email, Password string
	Attributes      map[string]string
}

// signInIdentity is one of Graph's objectIdentity entries.
type signInIdentity struct {
	SignInType       string `json:"signInType"`
	Issuer           string `json:"issuer"`
	IssuerAssignedID string `json:"issuerAssignedId"`
}

// CreateLocalAccount creates a B2C local account: its user principal name
// is "{objectId}@{tenant's first domain}" and the email is its sign-in
// name (identities signInType emailAddress), as B2C creates them. It fails
// with ErrExists when the address is already a sign-in name or a user
// principal name in the tenant.
func (s *Service) CreateLocalAccount(ctx context.Context, tenantID string, a LocalAccount) (User, error) {
	t, err := s.dir.Tenant(ctx, tenantID)
	if err != nil {
		return User{}, err
	}
	if _, err := s.dir.UserBySignInName(ctx, t.ID, a.Email); err == nil {
		return User{}, ErrExists
	} else if !errors.Is(err, ErrNotFound) {
		return User{}, err
	}
	hash, err := HashPassword(s.opts.Rand, a.Password)
	if err != nil {
		return User{}, err
	}
	id := strings.ToLower(s.opts.NewID())
	if err := s.dir.recs.Create(ctx, tableSignInNames, tkey(t.ID, a.Email), []byte(id)); err != nil {
		return User{}, err
	}
	domain := t.ID
	if len(t.Domains) > 0 {
		domain = t.Domains[0]
	}
	display := a.Attributes["displayName"]
	if display == "" {
		display = "unknown"
	}
	u := User{ID: id, TenantID: strings.ToLower(t.ID), UserPrincipalName: id + "@" + domain, DisplayName: display,
		PasswordHash: hash, AccountEnabled: true, Created: s.opts.Now().UTC(), Properties: Properties{}}
	ids, _ := json.Marshal([]signInIdentity{{SignInType: "emailAddress", Issuer: domain, IssuerAssignedID: a.Email},
		{SignInType: "userPrincipalName", Issuer: domain, IssuerAssignedID: u.UserPrincipalName}})
	u.Properties["identities"] = ids
	u.Properties["creationType"] = json.RawMessage(`"LocalAccount"`)
	for k, v := range a.Attributes {
		if _, ok := builtIn(k); ok && k != "displayName" && v != "" {
			b, _ := json.Marshal(v)
			u.Properties[k] = b
		}
	}
	if err := s.dir.PutUser(ctx, u); err != nil {
		_ = s.dir.recs.Delete(ctx, tableSignInNames, tkey(t.ID, a.Email))
		return User{}, err
	}
	return u, nil
}

// signInNames are the user's email and user-name sign-in names (Graph's
// identities of signInType emailAddress or userName).
func signInNames(u User) []string {
	var ids []signInIdentity
	if raw, ok := u.Properties["identities"]; !ok || json.Unmarshal(raw, &ids) != nil {
		return nil
	}
	var out []string
	for _, id := range ids {
		if id.SignInType == "emailAddress" || id.SignInType == "userName" {
			out = append(out, id.IssuerAssignedID)
		}
	}
	return out
}

// indexSignInNames points the sign-in name index at u for each of its
// names that old (the stored user, or none) did not have, and drops the
// names u no longer has. A name held by another user whose record still
// has it, or another user's user principal name, is ErrExists (the names taken so far are given back); an entry
// the holder no longer has (a stale one) is taken over.
func (d *Directory) indexSignInNames(ctx context.Context, old, u User) error {
	had, has := signInNames(old), signInNames(u)
	var taken []string
	undo := func() {
		for _, n := range taken {
			_ = d.recs.Delete(ctx, tableSignInNames, tkey(u.TenantID, n))
		}
	}
	for _, n := range has {
		if containsFold(had, n) {
			continue
		}
		if other, err := d.UserByUPN(ctx, u.TenantID, n); err == nil && other.ID != u.ID {
			undo()
			return ErrExists // another user's user principal name signs that user in
		} else if err != nil && !errors.Is(err, ErrNotFound) {
			undo()
			return err
		}
		key := tkey(u.TenantID, n)
		err := d.recs.Create(ctx, tableSignInNames, key, []byte(u.ID))
		if errors.Is(err, ErrExists) {
			holder, gerr := d.UserBySignInName(ctx, u.TenantID, n)
			switch {
			case gerr == nil && holder.ID == u.ID:
				continue // created with the account (CreateLocalAccount)
			case gerr == nil:
				undo()
				return ErrExists
			case !errors.Is(gerr, ErrNotFound):
				undo()
				return gerr
			}
			err = d.recs.Put(ctx, tableSignInNames, key, []byte(u.ID)) // a stale entry
		}
		if err != nil {
			undo()
			return err
		}
		taken = append(taken, n)
	}
	for _, n := range had {
		if !containsFold(has, n) {
			if err := d.recs.Delete(ctx, tableSignInNames, tkey(u.TenantID, n)); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
	}
	return nil
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// UserBySignInName reads a user by user principal name or, failing that,
// by a local account's sign-in name (case-insensitive).
func (d *Directory) UserBySignInName(ctx context.Context, tenantID, name string) (User, error) {
	u, err := d.UserByUPN(ctx, tenantID, name)
	if !errors.Is(err, ErrNotFound) {
		return u, err
	}
	id, err := d.recs.Get(ctx, tableSignInNames, tkey(tenantID, name))
	if err != nil {
		return User{}, err
	}
	if u, err = d.User(ctx, tenantID, string(id)); err != nil {
		return User{}, err
	}
	for _, n := range signInNames(u) {
		if strings.EqualFold(n, name) {
			return u, nil
		}
	}
	return User{}, ErrNotFound // a stale index entry
}
