package identity

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"
)

// WebAuthn (FIDO2 security keys) as a second factor, and as a
// passwordless sign-in (passkey.go). The relying party is the authority
// the browser sees: its host name is the RP ID and its origin the only
// origin accepted. Attestation is not asked for ("none"), user
// verification is preferred, and a discoverable credential is preferred
// (a key that keeps one can sign in without a password).

// webauthnCeremonyLifetime bounds a registration or assertion between
// the page that starts it and the form that completes it.
const webauthnCeremonyLifetime = 5 * time.Minute

// webauthnScript is the page script that calls navigator.credentials.
//
//go:embed webauthn.js
var webauthnScript []byte

// errNoWebAuthn says that the authority cannot be a WebAuthn relying
// party (an IP address is no RP ID).
var errNoWebAuthn = errors.New("identity: security keys need the server to be reached by a host name")

// webauthnUser is a directory user with its registered keys.
type webauthnUser struct {
	u     User
	creds []webauthn.Credential
}

func (w webauthnUser) WebAuthnID() []byte                         { return []byte(w.u.ID) }
func (w webauthnUser) WebAuthnName() string                       { return w.u.UserPrincipalName }
func (w webauthnUser) WebAuthnDisplayName() string                { return w.u.DisplayName }
func (w webauthnUser) WebAuthnCredentials() []webauthn.Credential { return w.creds }

// webauthnCeremony is a ceremony in progress, kept in the sign-in
// session between the page and the form post.
type webauthnCeremony struct {
	Register bool `json:"register"`
	// Add marks a registration begun on the security-info page after a
	// fresh second factor: the key joins the user's existing factors.
	Add     bool                 `json:"add,omitempty"`
	Data    webauthn.SessionData `json:"data"`
	Expires time.Time            `json:"expires"`
}

// relyingParty is the WebAuthn relying party of the request's authority.
func (s *Service) relyingParty(r *http.Request) (*webauthn.WebAuthn, error) {
	u, err := url.Parse(s.authority(r))
	if err != nil || u.Hostname() == "" || net.ParseIP(u.Hostname()) != nil {
		return nil, errNoWebAuthn
	}
	host := u.Host
	if p := u.Port(); u.Scheme == "https" && p == "443" || u.Scheme == "http" && p == "80" {
		host = u.Hostname() // a browser's origin leaves out the scheme's default port
	}
	origin := strings.ToLower(u.Scheme + "://" + host)
	return webauthn.New(&webauthn.Config{
		RPID:                  strings.ToLower(u.Hostname()),
		RPDisplayName:         "Steward",
		RPOrigins:             []string{origin},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationPreferred,
		},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: webauthnCeremonyLifetime, TimeoutUVD: webauthnCeremonyLifetime},
			Registration: webauthn.TimeoutConfig{Timeout: webauthnCeremonyLifetime, TimeoutUVD: webauthnCeremonyLifetime},
		},
	})
}

// hasKeys reports whether the record holds security keys.
func (rec *mfaRecord) hasKeys() bool { return len(rec.Keys) > 0 || len(rec.SealedKeys) > 0 }

func keysPath(tenantID, userID string) string { return mfaPath(tenantID, userID) + "/webauthn" }

// webauthnKeys opens the user's registered credentials.
func (s *Service) webauthnKeys(ctx context.Context, rec *mfaRecord) ([]webauthn.Credential, error) {
	raw := rec.Keys
	if len(rec.SealedKeys) > 0 {
		if s.opts.Sealer == nil {
			return nil, errors.New("identity: security keys are sealed and no sealer is configured")
		}
		var err error
		if raw, err = s.opts.Sealer.Open(ctx, keysPath(rec.TenantID, rec.UserID), rec.SealedKeys); err != nil {
			return nil, err
		}
	}
	if len(raw) == 0 {
		return nil, nil
	}
	var creds []webauthn.Credential
	return creds, json.Unmarshal(raw, &creds)
}

// setWebAuthnKeys keeps the credentials in rec, sealed when the service
// has a sealer (like the TOTP secret).
func (s *Service) setWebAuthnKeys(rec *mfaRecord, creds []webauthn.Credential) error {
	raw, err := json.Marshal(creds)
	if err != nil {
		return err
	}
	if s.opts.Sealer == nil {
		rec.Keys, rec.SealedKeys = raw, nil
		return nil
	}
	sealed, err := s.opts.Sealer.Seal(keysPath(rec.TenantID, rec.UserID), raw)
	if err != nil {
		return err
	}
	rec.Keys, rec.SealedKeys = nil, sealed
	return nil
}

// beginWebAuthn starts a registration (register) or an assertion for the
// user and returns the options for navigator.credentials as JSON; the
// ceremony is kept in the session. add marks a registration that may join
// existing factors (the caller checked that the second factor is fresh).
func (s *Service) beginWebAuthn(ctx context.Context, r *http.Request, sess *sessionRef, user User, register, add bool) (string, error) {
	rp, err := s.relyingParty(r)
	if err != nil {
		return "", err
	}
	rec, _, err := s.readMFA(ctx, sess.rec.TenantID, user.ID)
	if err != nil {
		return "", err
	}
	creds, err := s.webauthnKeys(ctx, &rec)
	if err != nil {
		return "", err
	}
	wu := webauthnUser{u: user, creds: creds}
	var options any
	var data *webauthn.SessionData
	if register {
		exclude := make([]protocol.CredentialDescriptor, len(creds))
		for i, c := range creds {
			exclude[i] = c.Descriptor()
		}
		options, data, err = rp.BeginRegistration(wu, webauthn.WithExclusions(exclude))
	} else {
		options, data, err = rp.BeginLogin(wu)
	}
	if err != nil {
		return "", err
	}
	b, err := jsonString(options)
	if err != nil {
		return "", err
	}
	c := webauthnCeremony{Register: register, Add: register && add, Data: *data, Expires: s.opts.Now().UTC().Add(webauthnCeremonyLifetime)}
	if sess.rec.WebAuthn, err = json.Marshal(c); err != nil {
		return "", err
	}
	return b, s.updateRecord(ctx, tableSessions, sess.id, sess.rec, sess.rec.Expires)
}

// jsonString is v as JSON text (navigator.credentials options for a page).
func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// finishWebAuthn completes the session's ceremony with the browser's
// answer (the credential as JSON). A registration makes the key the
// user's second factor and returns new recovery codes; with allowAdd, a
// registration begun as an addition (beginWebAuthn's add) joins the
// existing factors and keeps their recovery codes. Any refusal is
// errBadSecondFactor; the ceremony is spent either way.
func (s *Service) finishWebAuthn(ctx context.Context, r *http.Request, sess *sessionRef, user User, answer string, allowAdd bool) ([]string, error) {
	var c webauthnCeremony
	pending := sess.rec.WebAuthn
	sess.rec.WebAuthn = nil
	if err := s.updateRecord(ctx, tableSessions, sess.id, sess.rec, sess.rec.Expires); err != nil {
		return nil, err
	}
	if len(pending) == 0 || json.Unmarshal(pending, &c) != nil || !s.opts.Now().Before(c.Expires) ||
		!bytes.Equal(c.Data.UserID, []byte(user.ID)) {
		return nil, errBadSecondFactor
	}
	rp, err := s.relyingParty(r)
	if err != nil {
		return nil, errBadSecondFactor
	}
	tenantID := sess.rec.TenantID
	rec, ok, err := s.readMFA(ctx, tenantID, user.ID)
	if err != nil {
		return nil, err
	}
	if !ok {
		rec = mfaRecord{TenantID: strings.ToLower(tenantID), UserID: user.ID, Created: s.opts.Now().UTC()}
	}
	creds, err := s.webauthnKeys(ctx, &rec)
	if err != nil {
		return nil, err
	}
	wu := webauthnUser{u: user, creds: creds}
	if c.Register {
		parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(answer))
		if err != nil {
			return nil, errBadSecondFactor
		}
		// A key is registered as the first second factor, or beside the
		// existing ones from the security-info page after a fresh second
		// factor: a password alone never adds a factor to an account
		// that has one.
		adding := rec.Enrolled || rec.hasKeys()
		if adding && !(allowAdd && c.Add) {
			return nil, errBadSecondFactor
		}
		cred, err := rp.CreateCredential(wu, c.Data, parsed)
		if err != nil {
			return nil, errBadSecondFactor
		}
		return s.storeNewKey(ctx, tenantID, user.ID, *cred, allowAdd && c.Add)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(answer))
	if err != nil {
		return nil, errBadSecondFactor
	}
	cred, err := rp.ValidateLogin(wu, c.Data, parsed)
	if err != nil || cred.Authenticator.CloneWarning {
		return nil, errBadSecondFactor
	}
	return nil, s.storeKeyUse(ctx, tenantID, user.ID, *cred)
}

// storeNewKey keeps a registered key, in one atomic step with the read of
// the user's factors: as the first second factor (dropping a pending app
// enrolment, with new recovery codes, returned), or, when add allows it,
// beside the existing ones (keeping their recovery codes). A user who has
// a factor by then without add is refused (errBadSecondFactor).
func (s *Service) storeNewKey(ctx context.Context, tenantID, userID string, cred webauthn.Credential, add bool) ([]string, error) {
	var codes []string
	err := s.updateMFA(ctx, tenantID, userID, func(rec *mfaRecord, found bool) (bool, error) {
		codes = nil
		if !found {
			rec.Created = s.opts.Now().UTC()
		}
		creds, err := s.webauthnKeys(ctx, rec)
		if err != nil {
			return false, err
		}
		if rec.Enrolled || len(creds) > 0 {
			if !add {
				return false, errBadSecondFactor
			}
			return false, s.setWebAuthnKeys(rec, append(creds, cred))
		}
		if err := s.setWebAuthnKeys(rec, []webauthn.Credential{cred}); err != nil {
			return false, err
		}
		// A pending authenticator-app enrolment is dropped: the key is the
		// second factor now.
		rec.dropPendingApps()
		codes, err = s.newRecoveryCodes(rec)
		return false, err
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// storeKeyUse records a sign-in's updated credential (its sign count) in
// one atomic step with the read, so it neither undoes a concurrent
// change of the user's methods nor brings back a key deleted meanwhile
// (the sign-in is then refused, errBadSecondFactor).
func (s *Service) storeKeyUse(ctx context.Context, tenantID, userID string, cred webauthn.Credential) error {
	return s.updateMFA(ctx, tenantID, userID, func(rec *mfaRecord, found bool) (bool, error) {
		creds, err := s.webauthnKeys(ctx, rec)
		if err != nil {
			return false, err
		}
		i := slices.IndexFunc(creds, func(c webauthn.Credential) bool { return bytes.Equal(c.ID, cred.ID) })
		if !found || i < 0 {
			return false, errBadSecondFactor
		}
		creds[i] = cred
		return false, s.setWebAuthnKeys(rec, creds)
	})
}

// WebAuthnKeyCount returns how many security keys the user has registered.
func (s *Service) WebAuthnKeyCount(ctx context.Context, tenantID, userID string) (int, error) {
	rec, ok, err := s.readMFA(ctx, tenantID, userID)
	if err != nil || !ok {
		return 0, err
	}
	creds, err := s.webauthnKeys(ctx, &rec)
	return len(creds), err
}

// serveWebAuthnScript serves the sign-in pages' security-key script, the
// only script they load.
func (s *Service) serveWebAuthnScript(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.renderError(w, r, http.StatusMethodNotAllowed, errBadAuthorizeParam("method"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	_, _ = w.Write(webauthnScript)
}

// SecurityKey is a registered security key as administration shows it.
type SecurityKey struct {
	// ID is the credential ID in base64url, as Graph's
	// fido2AuthenticationMethod names it.
	ID string
	// AAGUID identifies the key's model (all zero without attestation).
	AAGUID string
}

// SecondFactors returns the user's second factors: whether an
// authenticator app is enrolled, and the security keys.
func (s *Service) SecondFactors(ctx context.Context, tenantID, userID string) (app bool, keys []SecurityKey, err error) {
	rec, ok, err := s.readMFA(ctx, tenantID, userID)
	if err != nil || !ok {
		return false, nil, err
	}
	creds, err := s.webauthnKeys(ctx, &rec)
	if err != nil {
		return false, nil, err
	}
	for _, c := range creds {
		k := SecurityKey{ID: base64.RawURLEncoding.EncodeToString(c.ID)}
		if id, err := uuid.FromBytes(c.Authenticator.AAGUID); err == nil {
			k.AAGUID = id.String()
		}
		keys = append(keys, k)
	}
	return rec.Enrolled, keys, nil
}

// RemoveSecurityKey removes one of the user's security keys (ErrNotFound
// when there is no such key). Removing the last second factor removes the
// recovery codes too, as ResetMFA does.
func (s *Service) RemoveSecurityKey(ctx context.Context, tenantID, userID, id string) error {
	return s.removeSecondFactor(ctx, tenantID, userID, "key", id, false)
}

// errLastSecondFactor is removeSecondFactor's refusal to remove the
// user's only second factor.
var errLastSecondFactor = errors.New("identity: the user's only second factor is kept")

// removeSecondFactor removes the user's app or security key ("app" or
// "key") with the ID, or returns ErrNotFound; with keepLast it refuses
// (errLastSecondFactor) when that would leave the user without a second
// factor. The check and the removal are one atomic step, so two
// concurrent removals cannot take the last two factors. Removing the last
// factor removes the record, recovery codes included.
func (s *Service) removeSecondFactor(ctx context.Context, tenantID, userID, kind, id string, keepLast bool) error {
	return s.updateMFA(ctx, tenantID, userID, func(rec *mfaRecord, found bool) (bool, error) {
		if !found {
			return false, ErrNotFound
		}
		creds, err := s.webauthnKeys(ctx, rec)
		if err != nil {
			return false, err
		}
		switch kind {
		case "app":
			i := slices.IndexFunc(rec.Apps, func(a totpApp) bool { return a.Enrolled && strings.EqualFold(a.ID, id) })
			if i < 0 {
				return false, ErrNotFound
			}
			rec.Apps = slices.Delete(rec.Apps, i, i+1)
		case "key":
			kept := slices.DeleteFunc(slices.Clone(creds), func(c webauthn.Credential) bool {
				return base64.RawURLEncoding.EncodeToString(c.ID) == id
			})
			if len(kept) == len(creds) {
				return false, ErrNotFound
			}
			if creds = kept; len(kept) == 0 {
				rec.Keys, rec.SealedKeys = nil, nil // no keys: hasKeys is false again
			} else if err := s.setWebAuthnKeys(rec, kept); err != nil {
				return false, err
			}
		default:
			return false, ErrNotFound
		}
		left := rec.appCount() + len(creds)
		if left == 0 && keepLast {
			return false, errLastSecondFactor
		}
		return left == 0, nil
	})
}
