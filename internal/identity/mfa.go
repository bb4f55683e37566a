package identity

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// tableMFA holds users' second factors: their authenticator apps' TOTP
// secrets (sealed when the service has a sealer), security keys and
// salted hashes of recovery codes.
const tableMFA = "identity.mfa"

// TOTP parameters: RFC 6238's defaults that every authenticator app
// reads (30-second steps, 6 digits, HMAC-SHA1), one step of clock skew
// either way.
const (
	totpPeriod        = 30
	totpSkew          = 1
	recoveryCodeCount = 10
	// maxTOTPApps is how many authenticator apps a user keeps at once:
	// Entra's "up to five OATH hardware tokens or authenticator
	// applications".
	maxTOTPApps = 5
	// legacyAppID names the one app of a record from before a user could
	// have several (and Graph's softwareOathMethods ID of that app); its
	// secret stays sealed at the record's path.
	legacyAppID = "7a8d1f2e-0b6c-4c3d-9e5f-0a1b2c3d4e5f"
	// mfaFreshness is how recent a second factor must be to satisfy a
	// step-up request (an authentication context, acrs).
	mfaFreshness = 10 * time.Minute
)

// ErrMFAEnrolled is returned when enrolling a user who already has a
// second factor; reset it first.
var ErrMFAEnrolled = errors.New("identity: the user already has a second factor; reset it first")

// errBadSecondFactor is VerifySecondFactor's refusal.
var errBadSecondFactor = errors.New("identity: invalid verification code")

// ErrBadSecondFactor reports whether err is a refused verification code.
func ErrBadSecondFactor(err error) bool { return errors.Is(err, errBadSecondFactor) }

type mfaRecord struct {
	TenantID string `json:"tenantId"`
	UserID   string `json:"userId"`
	// Apps are the user's authenticator apps (TOTP secrets): the
	// confirmed ones and at most one pending enrolment.
	Apps []totpApp `json:"apps,omitempty"`
	// Enrolled reports whether an app is confirmed (kept by encodeMFA).
	Enrolled bool      `json:"enrolled"`
	Created  time.Time `json:"created"`
	// Secret, SealedSecret and LastStep are the one app of a record
	// written before a user could have several; readMFA moves them to
	// Apps.
	Secret         []byte   `json:"secret,omitempty"`
	SealedSecret   []byte   `json:"sealedSecret,omitempty"`
	LastStep       int64    `json:"lastStep,omitempty"`
	RecoverySalt   []byte   `json:"recoverySalt,omitempty"`
	RecoveryHashes []string `json:"recoveryHashes,omitempty"`
	// Keys are the user's WebAuthn credentials (security keys) as JSON,
	// only without a sealer; SealedKeys otherwise.
	Keys       []byte `json:"keys,omitempty"`
	SealedKeys []byte `json:"sealedKeys,omitempty"`
}

// totpApp is one authenticator app: its TOTP secret in clear (only
// without a sealer, in tests) or sealed, and the last time step it
// answered (a code is good once).
type totpApp struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Secret       []byte    `json:"secret,omitempty"`
	SealedSecret []byte    `json:"sealedSecret,omitempty"`
	Enrolled     bool      `json:"enrolled"`
	Created      time.Time `json:"created"`
	LastStep     int64     `json:"lastStep,omitempty"`
}

// AuthenticatorApp is one of a user's confirmed authenticator apps.
type AuthenticatorApp struct {
	ID, Name string
	Created  time.Time
}

func mfaPath(tenantID, userID string) string { return "identity/mfa/" + tkey(tenantID, userID) }

// appPath is where an app's secret is sealed: the record's path for the
// legacy app, the app's own below it for the others.
func appPath(rec *mfaRecord, id string) string {
	if id == legacyAppID {
		return mfaPath(rec.TenantID, rec.UserID)
	}
	return mfaPath(rec.TenantID, rec.UserID) + "/apps/" + id
}

func (s *Service) readMFA(ctx context.Context, tenantID, userID string) (mfaRecord, bool, error) {
	b, err := s.dir.recs.Get(ctx, tableMFA, tkey(tenantID, userID))
	if errors.Is(err, ErrNotFound) {
		return mfaRecord{}, false, nil
	} else if err != nil {
		return mfaRecord{}, false, err
	}
	rec, err := decodeMFA(b)
	return rec, err == nil, err
}

// decodeMFA reads a stored record, moving a record from before several
// apps onto Apps.
func decodeMFA(b []byte) (mfaRecord, error) {
	var rec mfaRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return rec, err
	}
	if len(rec.Secret)+len(rec.SealedSecret) > 0 { // a record from before several apps
		rec.Apps = append([]totpApp{{ID: legacyAppID, Name: "Authenticator app", Secret: rec.Secret, SealedSecret: rec.SealedSecret,
			Enrolled: rec.Enrolled, Created: rec.Created, LastStep: rec.LastStep}}, rec.Apps...)
		rec.Secret, rec.SealedSecret, rec.LastStep = nil, nil, 0
	}
	return rec, nil
}

func encodeMFA(rec mfaRecord) ([]byte, error) {
	rec.Enrolled = rec.appCount() > 0
	return json.Marshal(rec)
}

// updateMFA changes the user's record in one atomic step (no other write
// of it comes between the read and the write): fn edits rec (found false
// when the user has none) and returns del to remove the record. fn may
// run more than once and must not use the directory's records.
func (s *Service) updateMFA(ctx context.Context, tenantID, userID string, fn func(rec *mfaRecord, found bool) (del bool, err error)) error {
	return s.dir.recs.Modify(ctx, tableMFA, tkey(tenantID, userID), func(cur []byte, found bool) ([]byte, bool, error) {
		rec := mfaRecord{TenantID: strings.ToLower(tenantID), UserID: userID}
		if found {
			var err error
			if rec, err = decodeMFA(cur); err != nil {
				return nil, false, err
			}
		}
		del, err := fn(&rec, found)
		if err != nil || del {
			return nil, del, err
		}
		b, err := encodeMFA(rec)
		return b, false, err
	})
}

// appCount is how many confirmed apps the record holds.
func (rec *mfaRecord) appCount() int {
	n := 0
	for _, a := range rec.Apps {
		if a.Enrolled {
			n++
		}
	}
	return n
}

// pendingApp is the index of the record's pending app enrolment, or -1.
func (rec *mfaRecord) pendingApp() int {
	return slices.IndexFunc(rec.Apps, func(a totpApp) bool { return !a.Enrolled })
}

// dropPendingApps removes a pending app enrolment.
func (rec *mfaRecord) dropPendingApps() {
	rec.Apps = slices.DeleteFunc(rec.Apps, func(a totpApp) bool { return !a.Enrolled })
}

// MFAEnrolled reports whether the user has a confirmed second factor: an
// authenticator app or a security key.
func (s *Service) MFAEnrolled(ctx context.Context, tenantID, userID string) (bool, error) {
	rec, ok, err := s.readMFA(ctx, tenantID, userID)
	return ok && (rec.Enrolled || rec.hasKeys()), err
}

// TOTPEnrollment is a new TOTP secret: the otpauth:// URI an authenticator
// app reads (from a QR code) and the secret in base32 for typing.
type TOTPEnrollment struct {
	URI    string
	Secret string
}

// BeginTOTP starts a TOTP enrolment: a fresh secret, pending until
// ConfirmTOTP sees a code made from it. A pending enrolment is replaced.
func (s *Service) BeginTOTP(ctx context.Context, tenantID string, u User) (TOTPEnrollment, error) {
	return s.beginTOTP(ctx, tenantID, u, false, "")
}

// ErrTooManyApps is beginTOTP's refusal of a sixth authenticator app.
var ErrTooManyApps = errors.New("identity: the user has the most authenticator apps allowed (5); remove one first")

// beginTOTP starts a TOTP enrolment named name; beside lets it join the
// user's apps and security keys (the security-info page, after a fresh
// second factor), whose recovery codes stay.
func (s *Service) beginTOTP(ctx context.Context, tenantID string, u User, beside bool, name string) (TOTPEnrollment, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Steward", AccountName: u.UserPrincipalName, Rand: s.opts.Rand})
	if err != nil {
		return TOTPEnrollment{}, fmt.Errorf("identity: totp: %w", err)
	}
	now := s.opts.Now().UTC()
	err = s.updateMFA(ctx, tenantID, u.ID, func(rec *mfaRecord, found bool) (bool, error) {
		if found && (rec.Enrolled || rec.hasKeys()) && !beside {
			return false, ErrMFAEnrolled
		}
		if rec.appCount() >= maxTOTPApps {
			return false, ErrTooManyApps
		}
		raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(key.Secret())
		if err != nil {
			return false, err
		}
		if !found {
			rec.Created = now
		}
		rec.dropPendingApps()
		appName := name
		if appName == "" {
			appName = "Authenticator app"
			if n := rec.appCount(); n > 0 {
				appName += " " + strconv.Itoa(n+1)
			}
		}
		app := totpApp{ID: strings.ToLower(s.opts.NewID()), Name: appName, Created: now}
		if err := s.setSecret(rec, &app, raw); err != nil {
			return false, err
		}
		rec.Apps = append(rec.Apps, app)
		return false, nil
	})
	if err != nil {
		return TOTPEnrollment{}, err
	}
	return TOTPEnrollment{URI: key.URL(), Secret: key.Secret()}, nil
}

// totpEnrollment rebuilds the enrolment of a stored secret.
func totpEnrollment(raw []byte, account string) TOTPEnrollment {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Steward", AccountName: account, Secret: raw})
	if err != nil {
		return TOTPEnrollment{}
	}
	return TOTPEnrollment{URI: key.URL(), Secret: key.Secret()}
}

// ConfirmTOTP completes a pending enrolment with a code from the new app
// and returns the recovery codes, which are shown once and kept only as
// hashes (none when the app joins other methods that have codes).
func (s *Service) ConfirmTOTP(ctx context.Context, tenantID, userID, code string) ([]string, error) {
	var codes []string
	err := s.updateMFA(ctx, tenantID, userID, func(rec *mfaRecord, found bool) (bool, error) {
		codes = nil
		i := rec.pendingApp()
		if !found || i < 0 {
			return false, errBadSecondFactor
		}
		if err := s.checkTOTP(ctx, rec, i, code); err != nil {
			return false, err
		}
		others := rec.Enrolled || rec.hasKeys()
		rec.Apps[i].Enrolled = true
		if len(rec.RecoveryHashes) > 0 && others {
			return false, nil
		}
		var err error
		codes, err = s.newRecoveryCodes(rec)
		return false, err
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// EnrollTOTP enrols a user at once (an administrator's enrolment, handed
// to the user out of band) and returns the secret and the recovery codes.
func (s *Service) EnrollTOTP(ctx context.Context, tenantID string, u User) (TOTPEnrollment, []string, error) {
	e, err := s.BeginTOTP(ctx, tenantID, u)
	if err != nil {
		return TOTPEnrollment{}, nil, err
	}
	var codes []string
	err = s.updateMFA(ctx, tenantID, u.ID, func(rec *mfaRecord, _ bool) (bool, error) {
		if i := rec.pendingApp(); i >= 0 {
			rec.Apps[i].Enrolled = true
		}
		var err error
		codes, err = s.newRecoveryCodes(rec)
		return false, err
	})
	if err != nil {
		return TOTPEnrollment{}, nil, err
	}
	return e, codes, nil
}

// AuthenticatorApps lists the user's confirmed authenticator apps.
func (s *Service) AuthenticatorApps(ctx context.Context, tenantID, userID string) ([]AuthenticatorApp, error) {
	rec, _, err := s.readMFA(ctx, tenantID, userID)
	if err != nil {
		return nil, err
	}
	var out []AuthenticatorApp
	for _, a := range rec.Apps {
		if a.Enrolled {
			out = append(out, AuthenticatorApp{ID: a.ID, Name: a.Name, Created: a.Created})
		}
	}
	return out, nil
}

// RemoveAuthenticatorApp removes one of the user's apps (ErrNotFound when
// there is no such app). Removing the last second factor removes the
// recovery codes too, as ResetMFA does.
func (s *Service) RemoveAuthenticatorApp(ctx context.Context, tenantID, userID, id string) error {
	return s.removeSecondFactor(ctx, tenantID, userID, "app", id, false)
}

// ResetMFA removes the user's second factor (a lost phone); the user
// enrols again at the next sign-in that needs one.
func (s *Service) ResetMFA(ctx context.Context, tenantID, userID string) error {
	err := s.dir.recs.Delete(ctx, tableMFA, tkey(tenantID, userID))
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// VerifySecondFactor checks a code from any of the user's authenticator
// apps (six digits, each time step once per app) or an unused recovery
// code (spent by the check). Security keys are checked by the sign-in
// pages' WebAuthn step.
func (s *Service) VerifySecondFactor(ctx context.Context, tenantID, userID, code string) error {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	// The check and the record of the spent time step or recovery code
	// are one atomic step: two requests with one code cannot both pass.
	return s.updateMFA(ctx, tenantID, userID, func(rec *mfaRecord, found bool) (bool, error) {
		if !found || (!rec.Enrolled && !rec.hasKeys()) {
			return false, errBadSecondFactor
		}
		if len(code) == 6 {
			for i, a := range rec.Apps {
				if !a.Enrolled {
					continue
				}
				if err := s.checkTOTP(ctx, rec, i, code); !errors.Is(err, errBadSecondFactor) {
					return false, err
				}
			}
			return false, errBadSecondFactor
		}
		h := recoveryHash(rec.RecoverySalt, code)
		for i, want := range rec.RecoveryHashes {
			if subtle.ConstantTimeCompare([]byte(h), []byte(want)) == 1 {
				rec.RecoveryHashes = append(rec.RecoveryHashes[:i:i], rec.RecoveryHashes[i+1:]...)
				return false, nil
			}
		}
		return false, errBadSecondFactor
	})
}

// checkTOTP accepts code from app i for a time step within the skew that
// is later than the last one the app answered, and records that step in
// rec (the caller writes it, in the same atomic step as the read).
func (s *Service) checkTOTP(ctx context.Context, rec *mfaRecord, i int, code string) error {
	secret, err := s.secret(ctx, rec, i)
	if err != nil {
		return err
	}
	defer clear(secret)
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
	now := s.opts.Now()
	opts := totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	for d := -totpSkew; d <= totpSkew; d++ {
		t := now.Add(time.Duration(d*totpPeriod) * time.Second)
		step := t.Unix() / totpPeriod
		want, err := totp.GenerateCodeCustom(b32, t, opts)
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && step > rec.Apps[i].LastStep {
			rec.Apps[i].LastStep = step
			return nil
		}
	}
	return errBadSecondFactor
}

func (s *Service) setSecret(rec *mfaRecord, app *totpApp, raw []byte) error {
	if s.opts.Sealer == nil {
		app.Secret = raw
		return nil
	}
	sealed, err := s.opts.Sealer.Seal(appPath(rec, app.ID), raw)
	if err != nil {
		return err
	}
	clear(raw)
	app.SealedSecret = sealed
	return nil
}

// secret is app i's TOTP secret in clear (the caller clears it).
func (s *Service) secret(ctx context.Context, rec *mfaRecord, i int) ([]byte, error) {
	a := rec.Apps[i]
	if len(a.SealedSecret) == 0 {
		return append([]byte(nil), a.Secret...), nil
	}
	if s.opts.Sealer == nil {
		return nil, errors.New("identity: TOTP secret is sealed and no sealer is configured")
	}
	return s.opts.Sealer.Open(ctx, appPath(rec, a.ID), a.SealedSecret)
}

// newRecoveryCodes makes a fresh set of recovery codes (80 random bits
// each, in base32 groups) and keeps their salted hashes in rec.
func (s *Service) newRecoveryCodes(rec *mfaRecord) ([]string, error) {
	rec.RecoverySalt = make([]byte, 16)
	if _, err := io.ReadFull(s.opts.Rand, rec.RecoverySalt); err != nil {
		return nil, err
	}
	rec.RecoveryHashes = nil
	codes := make([]string, recoveryCodeCount)
	for i := range codes {
		b := make([]byte, 10)
		if _, err := io.ReadFull(s.opts.Rand, b); err != nil {
			return nil, err
		}
		c := strings.ToLower(base32.StdEncoding.EncodeToString(b))
		codes[i] = c[:8] + "-" + c[8:]
		rec.RecoveryHashes = append(rec.RecoveryHashes, recoveryHash(rec.RecoverySalt, codes[i]))
	}
	return codes, nil
}

func recoveryHash(salt []byte, code string) string {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(strings.ToLower(strings.ReplaceAll(strings.TrimSpace(code), "-", ""))))
	return hex.EncodeToString(m.Sum(nil))
}

// AddAuthenticatorApp starts the enrolment of another authenticator app
// named name beside the user's methods (what the security-info page does
// after a fresh second factor); ConfirmTOTP completes it. It fails with
// ErrTooManyApps when the user has five.
func (s *Service) AddAuthenticatorApp(ctx context.Context, tenantID string, u User, name string) (TOTPEnrollment, error) {
	return s.beginTOTP(ctx, tenantID, u, true, name)
}
