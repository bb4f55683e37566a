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
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// tableMFA holds users' second factors: a TOTP secret (sealed when the
// service has a sealer) and salted hashes of recovery codes.
const tableMFA = "identity.mfa"

// TOTP parameters: RFC 6238's defaults that every authenticator app
// reads (30-second steps, 6 digits, HMAC-SHA1), one step of clock skew
// either way.
const (
	totpPeriod        = 30
	totpSkew          = 1
	recoveryCodeCount = 10
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
	// Secret is the TOTP secret in clear, only without a sealer (tests);
	// SealedSecret otherwise.
	Secret       []byte    `json:"secret,omitempty"`
	SealedSecret []byte    `json:"sealedSecret,omitempty"`
	Enrolled     bool      `json:"enrolled"`
	Created      time.Time `json:"created"`
	// LastStep is the TOTP time step last accepted: a code is good once.
	LastStep       int64    `json:"lastStep,omitempty"`
	RecoverySalt   []byte   `json:"recoverySalt,omitempty"`
	RecoveryHashes []string `json:"recoveryHashes,omitempty"`
	// Keys are the user's WebAuthn credentials (security keys) as JSON,
	// only without a sealer; SealedKeys otherwise.
	Keys       []byte `json:"keys,omitempty"`
	SealedKeys []byte `json:"sealedKeys,omitempty"`
}

func mfaPath(tenantID, userID string) string { return "identity/mfa/" + tkey(tenantID, userID) }

func (s *Service) readMFA(ctx context.Context, tenantID, userID string) (mfaRecord, bool, error) {
	var rec mfaRecord
	b, err := s.dir.recs.Get(ctx, tableMFA, tkey(tenantID, userID))
	if errors.Is(err, ErrNotFound) {
		return rec, false, nil
	} else if err != nil {
		return rec, false, err
	}
	return rec, true, json.Unmarshal(b, &rec)
}

func (s *Service) writeMFA(ctx context.Context, rec mfaRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return s.dir.recs.Put(ctx, tableMFA, tkey(rec.TenantID, rec.UserID), b)
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
	return s.beginTOTP(ctx, tenantID, u, false)
}

// beginTOTP starts a TOTP enrolment; beside lets it join the user's
// security keys (the security-info page, after a fresh second factor),
// whose recovery codes stay.
func (s *Service) beginTOTP(ctx context.Context, tenantID string, u User, beside bool) (TOTPEnrollment, error) {
	old, ok, err := s.readMFA(ctx, tenantID, u.ID)
	if err != nil {
		return TOTPEnrollment{}, err
	}
	if ok && (old.Enrolled || old.hasKeys() && !beside) {
		return TOTPEnrollment{}, ErrMFAEnrolled
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Steward", AccountName: u.UserPrincipalName, Rand: s.opts.Rand})
	if err != nil {
		return TOTPEnrollment{}, fmt.Errorf("identity: totp: %w", err)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(key.Secret())
	if err != nil {
		return TOTPEnrollment{}, err
	}
	rec := mfaRecord{TenantID: strings.ToLower(tenantID), UserID: u.ID, Created: s.opts.Now().UTC()}
	if ok && old.hasKeys() { // beside the keys: they and their recovery codes stay
		rec.Keys, rec.SealedKeys, rec.RecoverySalt, rec.RecoveryHashes = old.Keys, old.SealedKeys, old.RecoverySalt, old.RecoveryHashes
	}
	if err := s.setSecret(&rec, raw); err != nil {
		return TOTPEnrollment{}, err
	}
	if err := s.writeMFA(ctx, rec); err != nil {
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

// ConfirmTOTP completes a pending enrolment with a code from the user's
// app and returns the recovery codes, which are shown once and kept only
// as hashes (none when the app joins security keys that have codes).
func (s *Service) ConfirmTOTP(ctx context.Context, tenantID, userID, code string) ([]string, error) {
	rec, ok, err := s.readMFA(ctx, tenantID, userID)
	if err != nil {
		return nil, err
	}
	if !ok || rec.Enrolled {
		return nil, errBadSecondFactor
	}
	if err := s.checkTOTP(ctx, &rec, code); err != nil {
		return nil, err
	}
	rec.Enrolled = true
	if len(rec.RecoveryHashes) > 0 && rec.hasKeys() {
		return nil, s.writeMFA(ctx, rec)
	}
	codes, err := s.newRecoveryCodes(&rec)
	if err != nil {
		return nil, err
	}
	return codes, s.writeMFA(ctx, rec)
}

// EnrollTOTP enrols a user at once (an administrator's enrolment, handed
// to the user out of band) and returns the secret and the recovery codes.
func (s *Service) EnrollTOTP(ctx context.Context, tenantID string, u User) (TOTPEnrollment, []string, error) {
	e, err := s.BeginTOTP(ctx, tenantID, u)
	if err != nil {
		return TOTPEnrollment{}, nil, err
	}
	rec, _, err := s.readMFA(ctx, tenantID, u.ID)
	if err != nil {
		return TOTPEnrollment{}, nil, err
	}
	rec.Enrolled = true
	codes, err := s.newRecoveryCodes(&rec)
	if err != nil {
		return TOTPEnrollment{}, nil, err
	}
	return e, codes, s.writeMFA(ctx, rec)
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

// VerifySecondFactor checks a code from the user's authenticator app (six
// digits, each time step once) or an unused recovery code (spent by the
// check). Security keys are checked by the sign-in pages' WebAuthn step.
func (s *Service) VerifySecondFactor(ctx context.Context, tenantID, userID, code string) error {
	rec, ok, err := s.readMFA(ctx, tenantID, userID)
	if err != nil {
		return err
	}
	if !ok || (!rec.Enrolled && !rec.hasKeys()) {
		return errBadSecondFactor
	}
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) == 6 {
		if !rec.Enrolled { // security keys only: no app to take a code from
			return errBadSecondFactor
		}
		return s.checkTOTP(ctx, &rec, code)
	}
	h := recoveryHash(rec.RecoverySalt, code)
	for i, want := range rec.RecoveryHashes {
		if subtle.ConstantTimeCompare([]byte(h), []byte(want)) == 1 {
			rec.RecoveryHashes = append(rec.RecoveryHashes[:i:i], rec.RecoveryHashes[i+1:]...)
			return s.writeMFA(ctx, rec)
		}
	}
	return errBadSecondFactor
}

// checkTOTP accepts code for a time step within the skew that is later
// than the last one accepted, and records that step.
func (s *Service) checkTOTP(ctx context.Context, rec *mfaRecord, code string) error {
	secret, err := s.secret(ctx, rec)
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
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && step > rec.LastStep {
			rec.LastStep = step
			return s.writeMFA(ctx, *rec)
		}
	}
	return errBadSecondFactor
}

func (s *Service) setSecret(rec *mfaRecord, raw []byte) error {
	if s.opts.Sealer == nil {
		rec.Secret = raw
		return nil
	}
	sealed, err := s.opts.Sealer.Seal(mfaPath(rec.TenantID, rec.UserID), raw)
	if err != nil {
		return err
	}
	clear(raw)
	rec.SealedSecret = sealed
	return nil
}

func (s *Service) secret(ctx context.Context, rec *mfaRecord) ([]byte, error) {
	if len(rec.SealedSecret) == 0 {
		return append([]byte(nil), rec.Secret...), nil
	}
	if s.opts.Sealer == nil {
		return nil, errors.New("identity: TOTP secret is sealed and no sealer is configured")
	}
	return s.opts.Sealer.Open(ctx, mfaPath(rec.TenantID, rec.UserID), rec.SealedSecret)
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
