package identity

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// SignIn is how the user behind a delegated token signed in: the
// authentication methods (the amr claim, "pwd", "mfa", ...) and when
// (auth_time). APIs that need a recent multifactor sign-in (step-up)
// check it.
type SignIn struct {
	AMR      []string
	AuthTime time.Time
}

type signInClaims struct {
	AMR      []string `json:"amr,omitempty"`
	AuthTime int64    `json:"auth_time,omitempty"`
	Name     string   `json:"name,omitempty"`
	UPN      string   `json:"upn,omitempty"`
}

// IssueUserToken signs a delegated access token for a user of tenantID
// and resource, carrying how the user signed in. It is the minting
// helper for tests and tools until interactive sign-in issues such
// tokens; the token has Entra's user-token claims (idtyp "user", amr,
// auth_time, the user's transitive groups).
func (s *Service) IssueUserToken(ctx context.Context, tenantID, userID, clientAppID, resource string, in SignIn) (string, time.Time, error) {
	u, err := s.dir.User(ctx, tenantID, strings.ToLower(userID))
	if err != nil {
		return "", time.Time{}, err
	}
	if !u.AccountEnabled {
		return "", time.Time{}, errors.New("identity: the user is disabled")
	}
	key, err := s.keys.active(ctx, tenantID)
	if err != nil {
		return "", time.Time{}, err
	}
	groups, err := s.dir.TransitiveGroups(ctx, tenantID, u.ID)
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.opts.Now()
	exp := now.Add(s.opts.TokenLifetime).Truncate(time.Second)
	iss := IssuerFor(s.opts.AuthorityHost, tenantID)
	claims := AccessClaims{Audience: resource, Issuer: iss, IssuedAt: now.Unix(), NotBefore: now.Unix(), Expiry: exp.Unix(),
		AppID: clientAppID, AppIDACR: "0", AuthorizedParty: clientAppID, AuthorizedPartyAC: "0", Groups: groups,
		IdentityProvider: iss, IdentityType: "user", ObjectID: u.ID, Subject: u.ID, TenantID: strings.ToLower(tenantID),
		TokenID: s.opts.NewID(), Version: "2.0"}
	extra := signInClaims{AMR: in.AMR, Name: u.DisplayName, UPN: u.UserPrincipalName}
	if !in.AuthTime.IsZero() {
		extra.AuthTime = in.AuthTime.Unix()
	}
	tok, err := jwt.Signed(key.signer).Claims(claims).Claims(extra).Serialize()
	if err != nil {
		return "", time.Time{}, err
	}
	return tok, exp, nil
}

// SignInFrom returns the amr and auth_time of the bearer token of r. Call
// it only behind [Validator.Middleware], which has checked that very
// token's signature; on its own it checks nothing.
func SignInFrom(r *http.Request) SignIn {
	raw, ok := bearer(r.Header.Get("Authorization"))
	if !ok || len(raw) > maxTokenBytes {
		return SignIn{}
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return SignIn{}
	}
	var c signInClaims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return SignIn{}
	}
	out := SignIn{AMR: c.AMR}
	if c.AuthTime > 0 {
		out.AuthTime = time.Unix(c.AuthTime, 0)
	}
	return out
}
