package identity

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/steward-gov/steward/internal/arm"
)

// maxTokenBytes caps a bearer token before it is parsed.
const maxTokenBytes = 16 << 10

// Principal is the authenticated caller of a Steward API, taken from a
// validated access token.
type Principal struct {
	ObjectID     string   // oid
	TenantID     string   // tid
	AppID        string   // appid / azp
	Groups       []string // transitive group IDs
	IdentityType string   // idtyp: "app" or "user"
	Audience     string   // aud
	// Delegated (user) tokens only: the scp scopes, the authentication
	// methods (amr: "pwd", and "mfa" after a second factor), when the user
	// authenticated (auth_time) and the authentication contexts satisfied
	// (acrs), so an API can demand a fresh second factor for a change.
	Scopes   []string
	AMR      []string
	AuthTime time.Time
	ACRS     []string
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx, set by [Validator.Middleware].
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// KeySource finds the public key that signed a tenant's token by kid. A
// [KeyRing] is one (in process); a JWKS fetched over HTTP would be another.
type KeySource interface {
	PublicKey(ctx context.Context, tenantID, kid string) (*rsa.PublicKey, error)
}

// Validator checks access tokens for Steward's own APIs: RS256 signature
// by a published tenant key, issuer, audience, expiry and not-before with a
// clock skew.
type Validator struct {
	// Keys resolves signing keys.
	Keys KeySource
	// Issuer returns the issuer expected for a tenant's tokens.
	Issuer func(tenantID string) string
	// Authorities are more token-service base URLs whose issuer
	// ([IssuerFor]) is accepted besides Issuer's: the token service
	// answering as login.microsoftonline.com names that host in its tokens.
	Authorities []string
	// Audiences are the accepted aud values, compared without a trailing
	// slash and case-insensitively.
	Audiences []string
	// Skew is the leeway on exp and nbf (default 5m).
	Skew time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// AuthorizationURI is the token service named in the WWW-Authenticate
	// challenge of a 401, as ARM names login.windows.net; empty omits it.
	AuthorizationURI string
}

// otherIssuer reports whether c comes from one of v.Authorities.
func (v *Validator) otherIssuer(c AccessClaims) bool {
	for _, a := range v.Authorities {
		if c.Issuer == IssuerFor(a, c.TenantID) {
			return true
		}
	}
	return false
}

// TokenError is a rejected bearer token; Code is the ARM error code to
// answer with.
type TokenError struct {
	Code    string
	Message string
}

func (e *TokenError) Error() string { return e.Code + ": " + e.Message }

func tokenErr(code, format string, args ...any) *TokenError {
	return &TokenError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Validate checks raw and returns its principal, or a *TokenError.
func (v *Validator) Validate(ctx context.Context, raw string) (p Principal, err error) {
	if len(raw) > maxTokenBytes {
		return Principal{}, tokenErr("InvalidAuthenticationToken", "The access token is too large.")
	}
	defer func() {
		if r := recover(); r != nil {
			p, err = Principal{}, tokenErr("InvalidAuthenticationToken", "The access token is invalid.")
		}
	}()
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(tok.Headers) != 1 {
		return Principal{}, tokenErr("InvalidAuthenticationToken", "The access token is invalid.")
	}
	var unverified AccessClaims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil || unverified.TenantID == "" {
		return Principal{}, tokenErr("InvalidAuthenticationToken", "The access token is invalid.")
	}
	key, err := v.Keys.PublicKey(ctx, unverified.TenantID, tok.Headers[0].KeyID)
	if err != nil {
		if errors.Is(err, errUnknownKey) || errors.Is(err, ErrNotFound) {
			return Principal{}, tokenErr("InvalidAuthenticationToken", "The access token is signed by an unknown key.")
		}
		return Principal{}, err
	}
	var c AccessClaims
	if err := tok.Claims(key, &c); err != nil {
		return Principal{}, tokenErr("InvalidAuthenticationToken", "The access token signature is invalid.")
	}
	if v.Issuer != nil && c.Issuer != v.Issuer(c.TenantID) && !v.otherIssuer(c) {
		return Principal{}, tokenErr("InvalidAuthenticationTokenTenant", "The access token is from the wrong issuer '%s'.", c.Issuer)
	}
	if !v.audienceOK(c.Audience) {
		return Principal{}, tokenErr("InvalidAuthenticationTokenAudience",
			"The access token has been obtained for wrong audience or resource '%s'.", c.Audience)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	skew := v.Skew
	if skew == 0 {
		skew = 5 * time.Minute
	}
	t := now()
	if c.Expiry == 0 || t.After(time.Unix(c.Expiry, 0).Add(skew)) {
		return Principal{}, tokenErr("ExpiredAuthenticationToken", "The access token expiry UTC time '%s' is earlier than current UTC time '%s'.",
			time.Unix(c.Expiry, 0).UTC().Format(time.RFC3339), t.UTC().Format(time.RFC3339))
	}
	if c.NotBefore != 0 && t.Add(skew).Before(time.Unix(c.NotBefore, 0)) {
		return Principal{}, tokenErr("InvalidAuthenticationToken", "The access token is not yet valid.")
	}
	appID := c.AppID
	if appID == "" {
		appID = c.AuthorizedParty
	}
	p = Principal{ObjectID: c.ObjectID, TenantID: c.TenantID, AppID: appID, Groups: c.Groups,
		IdentityType: c.IdentityType, Audience: c.Audience, Scopes: strings.Fields(c.Scope), AMR: c.AMR, ACRS: c.ACRS}
	if c.AuthTime != 0 {
		p.AuthTime = time.Unix(c.AuthTime, 0).UTC()
	}
	return p, nil
}

func (v *Validator) audienceOK(aud string) bool {
	a := strings.TrimSuffix(aud, "/")
	for _, want := range v.Audiences {
		if strings.EqualFold(a, strings.TrimSuffix(want, "/")) {
			return true
		}
	}
	return false
}

// Middleware authenticates every request with a bearer token and puts the
// principal in the request context. Failures are ARM error envelopes with
// 401 and a WWW-Authenticate challenge, written by arm.WriteError.
func (v *Validator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, ok := bearer(r.Header.Get("Authorization"))
		if !ok {
			v.challenge(w, "The authentication failed because of missing 'Authorization' header.")
			arm.WriteError(w, arm.Errorf(http.StatusUnauthorized, "AuthenticationFailed",
				"Authentication failed. The 'Authorization' header is missing or is not a Bearer token."))
			return
		}
		p, err := v.Validate(r.Context(), raw)
		if err != nil {
			var te *TokenError
			if errors.As(err, &te) {
				v.challenge(w, te.Message)
				arm.WriteError(w, arm.Errorf(http.StatusUnauthorized, te.Code, "%s", te.Message))
				return
			}
			arm.WriteError(w, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

func (v *Validator) challenge(w http.ResponseWriter, desc string) {
	c := "Bearer "
	if v.AuthorizationURI != "" {
		c += `authorization_uri="` + v.AuthorizationURI + `", `
	}
	w.Header().Set("WWW-Authenticate", c+`error="invalid_token", error_description="`+strings.ReplaceAll(desc, `"`, "'")+`"`)
}
