package identity

import (
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// Passwordless sign-in with a security key that keeps a discoverable
// credential (a passkey): "Sign in with a security key" on the tenant's
// sign-in page starts a WebAuthn assertion without a user name; the key
// names the user (its user handle is the object ID) and proves user
// verification (PIN or biometric). The session's amr is then
// ["fido","mfa"], as Entra gives a FIDO2 passwordless sign-in: possession
// of the key and its verification are two factors. B2C user flows do not
// offer it (B2C user flows have no FIDO2 method).

const (
	// tablePasskeys holds passwordless ceremonies in progress, keyed by
	// the secret in the passkey cookie; each is spent by its form.
	tablePasskeys = "identity.passkeys"
	passkeyCookie = "steward_passkey"
)

// passkeyCeremony is a passwordless assertion in progress.
type passkeyCeremony struct {
	TenantID string               `json:"tenantId"`
	Data     webauthn.SessionData `json:"data"`
	Expires  time.Time            `json:"expires"`
}

var _ = template.Must(pages.Parse(`
{{define "passkey"}}{{template "head" .}}
<h1>Sign in with a security key</h1>
<p class="small">to <strong>{{.AppName}}</strong>. Press the button, then touch your key and give its PIN when your browser asks.</p>
{{if .Message}}<p class="error" role="alert">{{.Message}}</p>{{end}}
{{template "webauthn" .}}
<noscript><p class="error">Security keys need JavaScript. Go back and sign in with your password.</p></noscript>
{{template "foot" .}}{{end}}
`))

// passkeyOffered reports whether the sign-in page offers a passwordless
// sign-in: the tenant's own endpoints, reached by a host name.
func (s *Service) passkeyOffered(r *http.Request, req authzRequest) bool {
	if req.Flow != nil {
		return false
	}
	_, err := s.relyingParty(r)
	return err == nil
}

// passkeyForm handles "passkey-start" (begin a passwordless assertion)
// and "passkey" (the browser's answer).
func (s *Service) passkeyForm(w http.ResponseWriter, r *http.Request, req authzRequest, action string) {
	ctx := r.Context()
	if !s.passkeyOffered(r, req) {
		s.renderError(w, r, http.StatusBadRequest, errBadAuthorizeParam("action"))
		return
	}
	rp, err := s.relyingParty(r)
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	if action == "passkey-start" {
		options, data, err := rp.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
		if err != nil {
			s.authorizeFailed(w, r, req, err)
			return
		}
		b, err := jsonString(options)
		if err != nil {
			s.authorizeFailed(w, r, req, err)
			return
		}
		id, err := newSecret(s.opts.Rand)
		if err != nil {
			s.authorizeFailed(w, r, req, err)
			return
		}
		c := passkeyCeremony{TenantID: strings.ToLower(req.TenantID), Data: *data, Expires: s.opts.Now().UTC().Add(webauthnCeremonyLifetime)}
		if err := s.putRecord(ctx, tablePasskeys, id, c, c.Expires); err != nil {
			s.authorizeFailed(w, r, req, err)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: passkeyCookie, Value: id, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
		nonce := s.securePage(w, "'self'")
		s.render(w, r, "passkey", http.StatusOK, pageData{Title: "Sign in with a security key", Nonce: nonce, Action: r.URL.Path,
			Query: req.Raw, CSRF: s.withCSRF(w), AppName: req.App.DisplayName, WebAuthn: b, Ceremony: "login", WebAuthnAction: "passkey"})
		return
	}
	user, cred, err := s.finishPasskey(r, req, rp)
	if ErrBadSecondFactor(err) {
		s.renderSignIn(w, r, req, "The security key was not accepted. Try again, or sign in with your password.", http.StatusOK)
		return
	} else if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	sess, err := s.startMFASession(ctx, w, req.TenantID, user.ID, []string{"fido", "mfa"})
	if err != nil {
		s.authorizeFailed(w, r, req, err)
		return
	}
	s.opts.Logger.InfoContext(ctx, "user signed in with a security key (passwordless)", "tenant", req.TenantID, "oid", user.ID,
		"client_id", req.App.AppID, "aaguid", cred.Authenticator.AAGUID)
	s.proceed(w, r, req, sess, step{signedIn: true})
}

// finishPasskey spends the browser's passwordless ceremony and checks its
// answer: a registered key of an enabled user of the tenant, with user
// verification, a growing sign count and this origin. Any refusal is
// errBadSecondFactor.
func (s *Service) finishPasskey(r *http.Request, req authzRequest, rp *webauthn.WebAuthn) (User, *webauthn.Credential, error) {
	ctx := r.Context()
	ck, err := r.Cookie(passkeyCookie)
	if err != nil {
		return User{}, nil, errBadSecondFactor
	}
	var c passkeyCeremony
	ok, err := s.getRecord(ctx, tablePasskeys, ck.Value, &c)
	if err != nil {
		return User{}, nil, err
	}
	if !ok {
		return User{}, nil, errBadSecondFactor
	}
	if spent, err := s.deleteRecord(ctx, tablePasskeys, ck.Value); err != nil {
		return User{}, nil, err
	} else if !spent || !strings.EqualFold(c.TenantID, req.TenantID) || !s.opts.Now().Before(c.Expires) {
		return User{}, nil, errBadSecondFactor
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(r.PostForm.Get("credential")))
	if err != nil {
		return User{}, nil, errBadSecondFactor
	}
	var found webauthnUser
	var rec mfaRecord
	handler := func(_, userHandle []byte) (webauthn.User, error) {
		u, err := s.dir.User(ctx, req.TenantID, string(userHandle))
		if err != nil || !u.AccountEnabled {
			return nil, errBadSecondFactor
		}
		var ok bool
		if rec, ok, err = s.readMFA(ctx, req.TenantID, u.ID); err != nil || !ok {
			return nil, errBadSecondFactor
		}
		creds, err := s.webauthnKeys(ctx, &rec)
		if err != nil {
			return nil, err
		}
		found = webauthnUser{u: u, creds: creds}
		return found, nil
	}
	cred, err := rp.ValidateDiscoverableLogin(handler, c.Data, parsed)
	if err != nil || cred.Authenticator.CloneWarning || found.u.ID == "" || !cred.Flags.UserVerified {
		return User{}, nil, errBadSecondFactor
	}
	if err := s.storeKeyUse(ctx, req.TenantID, found.u.ID, *cred); err != nil {
		return User{}, nil, err
	}
	return found.u, cred, nil
}
