package identity

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Tables of the user sign-in state. Keys are SHA-256 hashes of the
// secrets the browser or the client holds (session cookie, authorization
// code, refresh token), so a read of the store gives nothing that can be
// replayed.
const (
	tableSessions      = "identity.sessions"
	tableAuthCodes     = "identity.authcodes"
	tableRedeemedCodes = "identity.authcodes.redeemed"
	tableRefreshTokens = "identity.refreshtokens"
)

// Lifetimes of the sign-in artefacts, Entra's defaults: authorization codes
// live 10 minutes, refresh tokens 90 days (single-page apps' 24 hours is
// not distinguished), sign-in sessions until the browser's session ends or
// 24 hours.
const (
	authCodeLifetime     = 10 * time.Minute
	refreshTokenLifetime = 90 * 24 * time.Hour
	sessionLifetime      = 24 * time.Hour
)

// signInSession is a browser's signed-in state at the authorization
// endpoint (the single sign-on session).
type signInSession struct {
	TenantID string    `json:"tenantId"`
	UserID   string    `json:"userId"`
	AuthTime time.Time `json:"authTime"`
	// AMR are the methods used, "pwd" first; "mfa" after a second factor,
	// with "fido" when it was a security key.
	AMR []string `json:"amr"`
	// MFATime is when the last second factor was presented (zero: never in
	// this session).
	MFATime time.Time `json:"mfaTime,omitzero"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	// SID is the session's public identifier: the sid claim and the
	// session_state of authorization responses.
	SID string `json:"sid"`
	// WebAuthn is the security-key ceremony in progress (a
	// webauthnCeremony), spent by the form that completes it.
	WebAuthn []byte `json:"webauthn,omitempty"`
	// NewUser marks a session that a sign-up started, until its first
	// authorization code.
	NewUser bool `json:"newUser,omitempty"`
}

// grantState is what an authorization code or refresh token stands for: a
// user's authentication, the client it was issued to and the scopes.
type grantState struct {
	TenantID  string    `json:"tenantId"`
	ClientID  string    `json:"clientId"`
	UserID    string    `json:"userId"`
	Scope     string    `json:"scope"`
	AuthTime  time.Time `json:"authTime"`
	AMR       []string  `json:"amr"`
	ACRS      []string  `json:"acrs,omitempty"`
	SessionID string    `json:"sid,omitempty"`
	// Public is true when the client signed in through a public
	// (publicClient or spa) redirect URI: it redeems without a secret.
	Public  bool      `json:"public,omitempty"`
	Issued  time.Time `json:"issued"`
	Expires time.Time `json:"expires"`
	// Authorization code only.
	RedirectURI   string `json:"redirectUri,omitempty"`
	Nonce         string `json:"nonce,omitempty"`
	CodeChallenge string `json:"codeChallenge,omitempty"`
	// Policy is the B2C user flow the grant was issued through ("" on
	// Entra's endpoints): its tokens have B2C's claims, and only that
	// flow's token endpoint redeems it.
	Policy string `json:"policy,omitempty"`
	// NewUser: the grant follows the user's sign-up (B2C's newUser claim).
	NewUser bool `json:"newUser,omitempty"`
}

// newSecret returns a random 256-bit value, base64url without padding.
func newSecret(r io.Reader) (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("identity: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// secretKey is the store key of a secret: its SHA-256 in hex.
func secretKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// storedRecord is how a sign-in record is kept: its own key and expiry
// beside the value, so expired records can be found and swept without the
// secrets their keys hash.
type storedRecord struct {
	Key     string          `json:"key"`
	Expires time.Time       `json:"expires"`
	Value   json.RawMessage `json:"value"`
}

func encodeRecord(secret string, v any, expires time.Time) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(storedRecord{Key: secretKey(secret), Expires: expires.UTC(), Value: b})
}

// putRecord creates the record of a new secret, which expires at expires.
func (s *Service) putRecord(ctx context.Context, table, secret string, v any, expires time.Time) error {
	b, err := encodeRecord(secret, v, expires)
	if err != nil {
		return err
	}
	return s.dir.recs.Create(ctx, table, secretKey(secret), b)
}

// updateRecord replaces the record of secret.
func (s *Service) updateRecord(ctx context.Context, table, secret string, v any, expires time.Time) error {
	b, err := encodeRecord(secret, v, expires)
	if err != nil {
		return err
	}
	return s.dir.recs.Put(ctx, table, secretKey(secret), b)
}

// getRecord reads the record of secret; ok is false when there is none.
func (s *Service) getRecord(ctx context.Context, table, secret string, v any) (bool, error) {
	if secret == "" || len(secret) > 512 {
		return false, nil
	}
	b, err := s.dir.recs.Get(ctx, table, secretKey(secret))
	if errors.Is(err, ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	var rec storedRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return false, err
	}
	return true, json.Unmarshal(rec.Value, v)
}

// PruneSignIns deletes the expired sign-in sessions, authorization codes
// (and their redemption marks) and refresh tokens, and returns how many it
// deleted. steward serve runs it periodically; expired records are refused
// when read anyway, so this only keeps the tables small.
func (s *Service) PruneSignIns(ctx context.Context) (int, error) {
	now := s.opts.Now()
	n := 0
	for _, table := range []string{tableSessions, tableAuthCodes, tableRedeemedCodes, tableRefreshTokens, tableSignUps, tablePasskeys} {
		vals, err := s.dir.recs.List(ctx, table, "")
		if err != nil {
			return n, err
		}
		for _, b := range vals {
			var rec storedRecord
			if json.Unmarshal(b, &rec) != nil || rec.Key == "" || now.Before(rec.Expires) {
				continue
			}
			if err := s.dir.recs.Delete(ctx, table, rec.Key); err != nil && !errors.Is(err, ErrNotFound) {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// deleteRecord removes secret's record and reports whether this call
// removed it (false when it was already gone: someone else spent it).
func (s *Service) deleteRecord(ctx context.Context, table, secret string) (bool, error) {
	err := s.dir.recs.Delete(ctx, table, secretKey(secret))
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
