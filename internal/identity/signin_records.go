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
	// AMR are the methods used, "pwd" first; "mfa" and "otp" after a
	// second factor.
	AMR []string `json:"amr"`
	// MFATime is when the last second factor was presented (zero: never in
	// this session).
	MFATime time.Time `json:"mfaTime,omitzero"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	// SID is the session's public identifier: the sid claim and the
	// session_state of authorization responses.
	SID string `json:"sid"`
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

func (s *Service) putRecord(ctx context.Context, table, secret string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.dir.recs.Create(ctx, table, secretKey(secret), b)
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
	return true, json.Unmarshal(b, v)
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
