package identity

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// SignIn is how the user behind a delegated token signed in: the
// authentication methods (the amr claim, "pwd", "mfa", ...) and when
// (auth_time). The validator hands them on as Principal.AMR and
// Principal.AuthTime, which APIs needing a recent multifactor sign-in
// (step-up) check.
type SignIn struct {
	AMR      []string
	AuthTime time.Time
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
		TokenID: s.opts.NewID(), Version: "2.0", Name: u.DisplayName, AMR: in.AMR}
	if !in.AuthTime.IsZero() {
		claims.AuthTime = in.AuthTime.Unix()
	}
	extra := struct {
		UPN string `json:"upn,omitempty"`
	}{u.UserPrincipalName}
	tok, err := jwt.Signed(key.signer).Claims(claims).Claims(extra).Serialize()
	if err != nil {
		return "", time.Time{}, err
	}
	return tok, exp, nil
}
