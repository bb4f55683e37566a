package identity

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// UserTokenResponse is the body of a successful authorization_code or
// refresh_token grant: Entra's fields, with scope naming what was granted.
type UserTokenResponse struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
	ExpiresIn    int64  `json:"expires_in"`
	ExtExpiresIn int64  `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	// ClientInfo is base64url JSON {"uid","utid"}, which MSAL keys its
	// account cache by.
	ClientInfo string `json:"client_info,omitempty"`
}

// IDClaims are the claims of the id_tokens Steward issues, Entra's v2.0
// id_token claims.
type IDClaims struct {
	Audience          string   `json:"aud"`
	Issuer            string   `json:"iss"`
	IssuedAt          int64    `json:"iat"`
	NotBefore         int64    `json:"nbf"`
	Expiry            int64    `json:"exp"`
	AuthTime          int64    `json:"auth_time"`
	Name              string   `json:"name,omitempty"`
	Nonce             string   `json:"nonce,omitempty"`
	ObjectID          string   `json:"oid"`
	PreferredUsername string   `json:"preferred_username,omitempty"`
	Email             string   `json:"email,omitempty"`
	Subject           string   `json:"sub"`
	TenantID          string   `json:"tid"`
	TokenID           string   `json:"uti"`
	Version           string   `json:"ver"`
	AMR               []string `json:"amr"`
	ACR               string   `json:"acr"`
	ACRS              []string `json:"acrs,omitempty"`
	SessionID         string   `json:"sid,omitempty"`
}

// UserToken serves the authorization_code and refresh_token grants: it
// checks the client (a secret or assertion, or none for a public client
// with PKCE), spends the code or rotates the refresh token, and issues an
// access token for the requested resource, an id_token (scope openid) and
// a new refresh token (scope offline_access).
func (s *Service) UserToken(ctx context.Context, req TokenRequest) (UserTokenResponse, error) {
	tenant, err := s.dir.Tenant(ctx, req.Tenant)
	if err != nil {
		return UserTokenResponse{}, tenantErr(err, req.Tenant)
	}
	if req.ClientID == "" {
		return UserTokenResponse{}, errMissingParam("client_id")
	}
	if !validClientID(req.ClientID) {
		return UserTokenResponse{}, errAppNotFound(clip(req.ClientID), tenant.ID)
	}
	if req.ClientSecret != "" && (req.ClientAssertion != "" || req.ClientAssertionType != "") {
		return UserTokenResponse{}, errTwoClientAuthMethods()
	}
	app, err := s.clientApplication(ctx, tenant.ID, req.ClientID)
	if err != nil {
		return UserTokenResponse{}, err
	}
	now := s.opts.Now()
	var g grantState
	table, secret := tableAuthCodes, req.Code
	if req.GrantType == "refresh_token" {
		table, secret = tableRefreshTokens, req.RefreshToken
		if secret == "" {
			return UserTokenResponse{}, errMissingParam("refresh_token")
		}
	} else if secret == "" {
		return UserTokenResponse{}, errMissingParam("code")
	}
	ok, err := s.getRecord(ctx, table, secret, &g)
	if err != nil {
		return UserTokenResponse{}, err
	}
	if !ok || !strings.EqualFold(g.TenantID, tenant.ID) {
		if req.GrantType == "refresh_token" {
			return UserTokenResponse{}, errRefreshInvalid()
		}
		if _, err := s.dir.recs.Get(ctx, tableRedeemedCodes, secretKey(secret)); err == nil {
			return UserTokenResponse{}, errCodeRedeemed()
		}
		return UserTokenResponse{}, errCodeInvalid()
	}
	if !strings.EqualFold(g.ClientID, app.AppID) {
		return UserTokenResponse{}, errCodeClient()
	}
	if req.Policy != "" {
		if _, err := s.dir.UserFlow(ctx, tenant.ID, req.Policy); errors.Is(err, ErrNotFound) {
			return UserTokenResponse{}, errPolicyNotFound(req.Policy, req.Tenant)
		} else if err != nil {
			return UserTokenResponse{}, err
		}
	}
	if !strings.EqualFold(g.Policy, req.Policy) {
		return UserTokenResponse{}, errB2CPolicyMismatch()
	}
	azpacr := "0"
	if req.ClientSecret != "" || req.ClientAssertion != "" || req.ClientAssertionType != "" {
		if d := s.lockouts.locked(tenant.ID, app.AppID, now); d > 0 {
			return UserTokenResponse{}, errClientLockedOut(app.AppID, d)
		}
		acr, err := s.authenticateClient(ctx, tenant.ID, req, app, now)
		if err != nil {
			var oe *OAuthError
			if errors.As(err, &oe) && oe.Code == "invalid_client" {
				s.lockouts.fail(tenant.ID, app.AppID, now)
			}
			return UserTokenResponse{}, err
		}
		s.lockouts.succeed(tenant.ID, app.AppID)
		azpacr = acr
	} else if !g.Public {
		return UserTokenResponse{}, errConfidentialCredential()
	}
	sp, err := s.dir.ServicePrincipal(ctx, tenant.ID, app.AppID)
	if errors.Is(err, ErrNotFound) {
		return UserTokenResponse{}, errAppNotFound(req.ClientID, tenant.ID)
	} else if err != nil {
		return UserTokenResponse{}, err
	}
	if !sp.AccountEnabled {
		return UserTokenResponse{}, errClientDisabled(app.AppID)
	}
	if err := s.spend(ctx, req, g, now); err != nil {
		return UserTokenResponse{}, err
	}
	user, err := s.dir.User(ctx, tenant.ID, g.UserID)
	if errors.Is(err, ErrNotFound) {
		return UserTokenResponse{}, errCodeInvalid()
	} else if err != nil {
		return UserTokenResponse{}, err
	}
	if !user.AccountEnabled {
		return UserTokenResponse{}, errUserDisabled()
	}
	if g.AuthTime.Before(user.SignInSessionsValidFrom) {
		return UserTokenResponse{}, errRefreshRevoked()
	}
	scope := req.Scope
	if scope == "" {
		scope = g.Scope
	}
	res, err := s.resolveScopes(ctx, tenant.ID, app, sp, user.ID, scope)
	if err == nil && len(res.Missing) > 0 {
		err = errConsentRequired(app.AppID)
	}
	if err != nil {
		var oe *OAuthError
		if errors.As(err, &oe) && oe.Code == "consent_required" {
			c := *oe
			c.Code = "invalid_grant"
			return UserTokenResponse{}, &c
		}
		return UserTokenResponse{}, err
	}
	authorized, _ := splitScope(g.Scope)
	if g.Policy != "" {
		return s.issueB2CTokens(ctx, tenant.ID, app, user, g, res, authorized, req.Authorities[0], now)
	}
	return s.issueUserTokens(ctx, tenant.ID, app, user, g, res, authorized, azpacr, req.Authorities[0], now)
}

// spend checks what a code or refresh token is bound to and uses it up:
// a code once (a second redemption is told apart from an unknown code), a
// refresh token by rotation.
func (s *Service) spend(ctx context.Context, req TokenRequest, g grantState, now time.Time) error {
	if req.GrantType == "refresh_token" {
		removed, err := s.deleteRecord(ctx, tableRefreshTokens, req.RefreshToken)
		if err != nil {
			return err
		}
		if !removed {
			return errRefreshInvalid()
		}
		if !now.Before(g.Expires) {
			return errCodeExpired()
		}
		return nil
	}
	if req.RedirectURI != g.RedirectURI {
		return errCodeRedirect()
	}
	if g.CodeChallenge != "" || req.CodeVerifier != "" {
		sum := sha256.Sum256([]byte(req.CodeVerifier))
		want := base64.RawURLEncoding.EncodeToString(sum[:])
		if req.CodeVerifier == "" || subtle.ConstantTimeCompare([]byte(want), []byte(g.CodeChallenge)) != 1 {
			return errPKCEMismatch()
		}
	}
	if err := s.putRecord(ctx, tableRedeemedCodes, req.Code, struct{}{}, g.Expires); errors.Is(err, ErrExists) {
		return errCodeRedeemed()
	} else if err != nil {
		return err
	}
	if _, err := s.deleteRecord(ctx, tableAuthCodes, req.Code); err != nil {
		return err
	}
	if !now.Before(g.Expires) {
		return errCodeExpired()
	}
	return nil
}

// issueUserTokens signs the access token and id_token of a user grant and
// records the next refresh token.
func (s *Service) issueUserTokens(ctx context.Context, tenantID string, app Application, user User, g grantState,
	res resolvedScopes, authorized scopeRequest, azpacr, authority string, now time.Time) (UserTokenResponse, error) {
	key, err := s.keys.active(ctx, tenantID)
	if err != nil {
		return UserTokenResponse{}, err
	}
	groups, err := s.dir.TransitiveGroups(ctx, tenantID, user.ID)
	if err != nil {
		return UserTokenResponse{}, err
	}
	roles, err := s.appRolesFor(ctx, tenantID, user.ID, res.Resource)
	if err != nil {
		return UserTokenResponse{}, err
	}
	exp := now.Add(s.opts.TokenLifetime).Truncate(time.Second)
	iss := IssuerFor(authority, tenantID)
	at := AccessClaims{
		Audience: res.Resource, Issuer: iss, IssuedAt: now.Unix(), NotBefore: now.Unix(), Expiry: exp.Unix(),
		AppID: app.AppID, AppIDACR: azpacr, AuthorizedParty: app.AppID, AuthorizedPartyAC: azpacr,
		Groups: groups, Roles: roles, IdentityType: "user", ObjectID: user.ID,
		Subject: pairwiseSubject(tenantID, res.Resource, user.ID), TenantID: tenantID, TokenID: s.opts.NewID(),
		Version: "2.0", Scope: strings.Join(res.Scp, " "), Name: user.DisplayName,
		PreferredUsername: user.UserPrincipalName, AMR: g.AMR, AuthTime: g.AuthTime.Unix(), ACR: "1", ACRS: g.ACRS,
	}
	access, err := jwt.Signed(key.signer).Claims(at).Serialize()
	if err != nil {
		return UserTokenResponse{}, err
	}
	secs := int64(exp.Sub(now) / time.Second)
	out := UserTokenResponse{TokenType: "Bearer", ExpiresIn: secs, ExtExpiresIn: secs, AccessToken: access,
		Scope: grantedScope(res), ClientInfo: clientInfo(user.ID, tenantID)}
	id := IDClaims{
		Audience: app.AppID, Issuer: iss, IssuedAt: now.Unix(), NotBefore: now.Unix(), Expiry: exp.Unix(),
		AuthTime: g.AuthTime.Unix(), Name: user.DisplayName, Nonce: g.Nonce, ObjectID: user.ID,
		PreferredUsername: user.UserPrincipalName, Email: userMail(user),
		Subject: pairwiseSubject(tenantID, app.AppID, user.ID), TenantID: tenantID, TokenID: s.opts.NewID(),
		Version: "2.0", AMR: g.AMR, ACR: "1", ACRS: g.ACRS, SessionID: g.SessionID,
	}
	if err := s.finishUserTokens(ctx, &out, key.signer, authorized, id, g, now); err != nil {
		return UserTokenResponse{}, err
	}
	return out, nil
}

// finishUserTokens adds to out the id_token with claims id (scope openid)
// and the refresh token that continues g (offline_access).
func (s *Service) finishUserTokens(ctx context.Context, out *UserTokenResponse, signer jose.Signer, authorized scopeRequest,
	id any, g grantState, now time.Time) error {
	var err error
	if authorized.has("openid") {
		if out.IDToken, err = jwt.Signed(signer).Claims(id).Serialize(); err != nil {
			return err
		}
	}
	if authorized.has("offline_access") {
		out.RefreshToken, err = s.nextRefreshToken(ctx, g, now)
	}
	return err
}

// nextRefreshToken records the refresh token that continues grant g.
func (s *Service) nextRefreshToken(ctx context.Context, g grantState, now time.Time) (string, error) {
	rt, err := newSecret(s.opts.Rand)
	if err != nil {
		return "", err
	}
	next := g
	next.RedirectURI, next.Nonce, next.CodeChallenge = "", "", ""
	next.Issued, next.Expires = now.UTC(), now.UTC().Add(refreshTokenLifetime)
	return rt, s.putRecord(ctx, tableRefreshTokens, rt, next, next.Expires)
}

// grantedScope is the token response's scope: the granted scopes named
// with their resource (bare for Microsoft Graph), then the OpenID ones.
func grantedScope(res resolvedScopes) string {
	var parts []string
	for _, n := range res.Scp {
		switch {
		case normalizeResource(res.Resource) == graphResource:
			parts = append(parts, n)
		default:
			parts = append(parts, strings.TrimSuffix(res.Resource, "/")+"/"+n)
		}
	}
	for _, o := range res.OIDC {
		if !slices.Contains(parts, o) {
			parts = append(parts, o)
		}
	}
	return strings.Join(parts, " ")
}

// pairwiseSubject is the sub claim: stable for one user and one audience,
// different between audiences, as Entra's pairwise subjects are.
func pairwiseSubject(tenantID, audience, oid string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(tenantID) + "\x00" + normalizeResource(audience) + "\x00" + strings.ToLower(oid)))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func clientInfo(oid, tid string) string {
	b, _ := json.Marshal(map[string]string{"uid": oid, "utid": tid})
	return base64.RawURLEncoding.EncodeToString(b)
}

// userMail is the user's Graph mail property, or "" when it has none.
func userMail(u User) string { return userString(u, "mail") }
