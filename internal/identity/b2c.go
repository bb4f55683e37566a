package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// Azure AD B2C user flows. A tenant's user flows are named policies on the
// authority path: "{authority}/{tenant}/{user_flow}/..." serves the flow's
// discovery document, keys, authorization, token and logout endpoints, as
// B2C serves them at {tenant}.b2clogin.com/{tenant}.onmicrosoft.com/{user_flow}.
// Tokens issued through a flow have B2C's claims (tfp, emails, oid, sub =
// oid, scp, azp, ver 1.0) and B2C's issuer "{authority}{tenantId}/v2.0/".

// tableUserFlows holds the tenants' user flows, keyed by tenant and flow ID.
const tableUserFlows = "identity.userflows"

// UserFlowPrefix is what Graph prepends to a user flow's name.
const UserFlowPrefix = "B2C_1_"

// User flow types (Graph's userFlowType) that Steward serves.
const (
	UserFlowSignUpOrSignIn = "signUpOrSignIn"
	UserFlowSignIn         = "signIn"
	UserFlowSignUp         = "signUp"
	UserFlowPasswordReset  = "passwordReset"
	UserFlowProfileUpdate  = "profileUpdate"
)

// MFA enforcement of a user flow (the portal's "MFA enforcement"; Graph's
// b2cIdentityUserFlow has no property for it, so Steward adds one).
const (
	MFAOff    = "off"
	MFAAlways = "always"
)

// UserFlow is a B2C user flow (Graph's b2cIdentityUserFlow) with Steward's
// multifactorAuthentication setting.
type UserFlow struct {
	ID                             string    `json:"id"`
	TenantID                       string    `json:"tenantId"`
	UserFlowType                   string    `json:"userFlowType"`
	UserFlowTypeVersion            float64   `json:"userFlowTypeVersion"`
	IsLanguageCustomizationEnabled bool      `json:"isLanguageCustomizationEnabled"`
	DefaultLanguageTag             string    `json:"defaultLanguageTag,omitempty"`
	MultifactorAuthentication      string    `json:"multifactorAuthentication"`
	Created                        time.Time `json:"createdDateTime,omitzero"`
	// Attributes are the flow's userAttributeAssignments; nil (a flow
	// stored before flows had them) reads as the defaults.
	Attributes []UserFlowAttribute `json:"userAttributeAssignments"`
}

// requiresMFA reports whether the flow asks for a second factor.
func (f *UserFlow) requiresMFA() bool { return f != nil && f.MultifactorAuthentication == MFAAlways }

// signsIn reports whether the flow signs a user in with a password.
func (f *UserFlow) signsIn() bool {
	return f.UserFlowType == UserFlowSignUpOrSignIn || f.UserFlowType == UserFlowSignIn ||
		f.UserFlowType == UserFlowProfileUpdate
}

// ErrInvalidUserFlow is returned by CreateUserFlow for a flow it cannot
// take; the message says why.
var ErrInvalidUserFlow = errors.New("identity: invalid user flow")

// CreateUserFlow adds a user flow to a tenant: the name gets the B2C_1_
// prefix unless it has it, the type must be one Steward serves, MFA is
// "off" (default) or "always". It fails with ErrExists for a taken name.
func (s *Service) CreateUserFlow(ctx context.Context, tenantID string, f UserFlow) (UserFlow, error) {
	t, err := s.dir.Tenant(ctx, tenantID)
	if err != nil {
		return UserFlow{}, err
	}
	name := f.ID
	if !strings.HasPrefix(strings.ToUpper(name), UserFlowPrefix) {
		name = UserFlowPrefix + name
	} else {
		name = UserFlowPrefix + name[len(UserFlowPrefix):]
	}
	if !validFlowName(name) {
		return UserFlow{}, fmt.Errorf("%w: the name %q must be 1 to 64 letters, digits, '-' or '_' after %s", ErrInvalidUserFlow, clip(f.ID), UserFlowPrefix)
	}
	switch f.UserFlowType {
	case UserFlowSignUpOrSignIn, UserFlowSignIn, UserFlowSignUp, UserFlowPasswordReset, UserFlowProfileUpdate:
	case "":
		return UserFlow{}, fmt.Errorf("%w: userFlowType is required", ErrInvalidUserFlow)
	default:
		return UserFlow{}, fmt.Errorf("%w: userFlowType %q is not one of signUp, signIn, signUpOrSignIn, passwordReset, profileUpdate", ErrInvalidUserFlow, clip(f.UserFlowType))
	}
	switch f.MultifactorAuthentication {
	case "":
		f.MultifactorAuthentication = MFAOff
	case MFAOff, MFAAlways:
	default:
		return UserFlow{}, fmt.Errorf("%w: multifactorAuthentication %q is not off or always", ErrInvalidUserFlow, clip(f.MultifactorAuthentication))
	}
	if f.MultifactorAuthentication == MFAAlways && f.UserFlowType == UserFlowPasswordReset {
		return UserFlow{}, fmt.Errorf("%w: a passwordReset flow verifies with the authenticator app already; multifactorAuthentication must be off", ErrInvalidUserFlow)
	}
	if f.UserFlowTypeVersion == 0 {
		f.UserFlowTypeVersion = 3
	}
	f.ID, f.TenantID, f.Created = name, t.ID, s.opts.Now().UTC()
	f.Attributes = nil
	if f.collectsAttributes() {
		f.Attributes = defaultFlowAttributes()
	}
	b, err := json.Marshal(f)
	if err != nil {
		return UserFlow{}, err
	}
	if err := s.dir.recs.Create(ctx, tableUserFlows, tkey(t.ID, name), b); err != nil {
		return UserFlow{}, err
	}
	return f, nil
}

// validFlowName accepts B2C_1_ and 1 to 64 letters, digits, '-' or '_'.
func validFlowName(name string) bool {
	rest := name[len(UserFlowPrefix):]
	if rest == "" || len(rest) > 64 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// UserFlow returns a tenant's user flow by its ID (case-insensitive).
func (d *Directory) UserFlow(ctx context.Context, tenantID, id string) (UserFlow, error) {
	var f UserFlow
	if !strings.HasPrefix(strings.ToUpper(id), UserFlowPrefix) || !validFlowName(id) {
		return f, ErrNotFound
	}
	return f, d.get(ctx, tableUserFlows, tkey(tenantID, id), &f)
}

// UserFlows lists a tenant's user flows.
func (d *Directory) UserFlows(ctx context.Context, tenantID string) ([]UserFlow, error) {
	return list[UserFlow](ctx, d, tableUserFlows, strings.ToLower(tenantID)+"/")
}

// DeleteUserFlow removes a tenant's user flow (ErrNotFound when absent).
func (d *Directory) DeleteUserFlow(ctx context.Context, tenantID, id string) error {
	if !strings.HasPrefix(strings.ToUpper(id), UserFlowPrefix) || !validFlowName(id) {
		return ErrNotFound
	}
	return d.recs.Delete(ctx, tableUserFlows, tkey(tenantID, id))
}

// b2cPolicyPrefix marks a path segment as a policy name (user flows
// B2C_1_, custom policies B2C_1A_).
func isPolicySegment(seg string) bool { return strings.HasPrefix(strings.ToLower(seg), "b2c_1") }

// B2CIssuer is the issuer of the tokens of a B2C tenant under authority:
// "{authority}{tenantId}/v2.0/", with B2C's trailing slash.
func B2CIssuer(authority, tenantID string) string {
	return IssuerFor(authority, tenantID) + "/"
}

// userFlowOf finds the user flow named by the request's policy segment;
// nil (and no error) when the path has none.
func (s *Service) userFlowOf(ctx context.Context, r *http.Request, tenantID string) (*UserFlow, error) {
	p := r.PathValue("policy")
	if p == "" {
		return nil, nil
	}
	f, err := s.dir.UserFlow(ctx, tenantID, p)
	if errors.Is(err, ErrNotFound) {
		return nil, errPolicyNotFound(p, r.PathValue("tenant"))
	}
	if err != nil {
		return nil, err
	}
	return &f, nil
}

// B2CConfiguration is a user flow's OIDC discovery document, the fields
// B2C's carries.
type B2CConfiguration struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
}

// B2CDiscovery returns the discovery document of a user flow: the
// endpoints under "{authority}{tenantSeg}/{policy}/" (the tenant as the
// client named it, policy in lower case as B2C writes it).
func B2CDiscovery(authority, tenantSeg, tenantID, policy string) B2CConfiguration {
	base := strings.TrimSuffix(authority, "/") + "/" + strings.ToLower(tenantSeg) + "/" + strings.ToLower(policy)
	return B2CConfiguration{
		Issuer:                            B2CIssuer(authority, tenantID),
		AuthorizationEndpoint:             base + "/oauth2/v2.0/authorize",
		TokenEndpoint:                     base + "/oauth2/v2.0/token",
		EndSessionEndpoint:                base + "/oauth2/v2.0/logout",
		JWKSURI:                           base + "/discovery/v2.0/keys",
		ResponseModesSupported:            []string{"query", "fragment", "form_post"},
		ResponseTypesSupported:            []string{"code"},
		ScopesSupported:                   []string{"openid"},
		SubjectTypesSupported:             []string{"pairwise"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_post", "client_secret_basic"},
		ClaimsSupported: []string{"name", "given_name", "family_name", "emails", "oid", "sub", "tfp", "iss", "iat", "exp", "aud", "nbf", "auth_time", "nonce", "scp", "azp", "ver", "newUser",
			"jobTitle", "streetAddress", "city", "state", "postalCode", "country"},
	}
}

func (s *Service) serveB2CDiscovery(w http.ResponseWriter, r *http.Request) {
	t, ok := s.getTenant(w, r)
	if !ok {
		return
	}
	f, err := s.userFlowOf(r.Context(), r, t.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, B2CDiscovery(s.authority(r), r.PathValue("tenant"), t.ID, f.ID))
}

func (s *Service) serveB2CKeys(w http.ResponseWriter, r *http.Request) {
	t, ok := s.getTenant(w, r)
	if !ok {
		return
	}
	if _, err := s.userFlowOf(r.Context(), r, t.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	set, err := s.keys.JWKS(r.Context(), t.ID, B2CIssuer(s.authority(r), t.ID))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, set)
}

// B2CClaims are the claims of the access tokens and id_tokens issued
// through a user flow: B2C's, with tfp naming the flow.
type B2CClaims struct {
	Audience  string `json:"aud"`
	Issuer    string `json:"iss"`
	IssuedAt  int64  `json:"iat"`
	NotBefore int64  `json:"nbf"`
	Expiry    int64  `json:"exp"`
	AuthTime  int64  `json:"auth_time"`
	ObjectID  string `json:"oid"`
	Subject   string `json:"sub"`
	Name      string `json:"name,omitempty"`
	// GivenName and FamilyName are the user's givenName and surname.
	GivenName  string   `json:"given_name,omitempty"`
	FamilyName string   `json:"family_name,omitempty"`
	Emails     []string `json:"emails,omitempty"`
	// The other built-in attributes the user has a value for, under B2C's
	// claim names (camel case, as the attributes).
	JobTitle      string `json:"jobTitle,omitempty"`
	StreetAddress string `json:"streetAddress,omitempty"`
	City          string `json:"city,omitempty"`
	State         string `json:"state,omitempty"`
	PostalCode    string `json:"postalCode,omitempty"`
	Country       string `json:"country,omitempty"`
	Policy        string `json:"tfp"`
	Nonce         string `json:"nonce,omitempty"`
	Scope         string `json:"scp,omitempty"`
	AZP           string `json:"azp,omitempty"`
	Version       string `json:"ver"`
	TenantID      string `json:"tid"`
	// NewUser is true in the tokens of the sign-in that created the
	// account (B2C's "User is new" claim).
	NewUser bool `json:"newUser,omitempty"`
}

// b2cClientInfo is B2C's client_info: the uid is "{oid}-{policy}" (lower
// case), so MSAL keeps one account per user flow.
func b2cClientInfo(oid, policy, tid string) string {
	return clientInfo(oid+"-"+strings.ToLower(policy), tid)
}

// userEmails is the emails claim: the user's mail, otherMails, the email
// sign-in names, then the user principal name when it is an address.
func userEmails(u User) []string {
	var out []string
	add := func(v string) {
		if v != "" && !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, v) }) {
			out = append(out, v)
		}
	}
	add(userMail(u))
	var other []string
	if raw, ok := u.Properties["otherMails"]; ok && json.Unmarshal(raw, &other) == nil {
		for _, m := range other {
			add(m)
		}
	}
	for _, n := range signInNames(u) {
		if strings.Contains(n, "@") {
			add(n)
		}
	}
	// A local account's user principal name is "{oid}@{domain}", no
	// address of the user's.
	if strings.Contains(u.UserPrincipalName, "@") && userString(u, "creationType") != "LocalAccount" {
		add(u.UserPrincipalName)
	}
	return out
}

// userString is a string property of the user, "" when it has none.
func userString(u User, name string) string {
	var v string
	if raw, ok := u.Properties[name]; ok && json.Unmarshal(raw, &v) == nil {
		return v
	}
	return ""
}

// B2C's error codes that Steward sends.
func errPolicyNotFound(policy, tenant string) *OAuthError {
	e := oauthErr(http.StatusNotFound, "invalid_request", 90008,
		"The policy '%s' does not exist in the tenant '%s'.", clip(policy), clip(tenant))
	e.B2C = true
	return e
}

func errForgotPassword() *OAuthError {
	e := oauthErr(http.StatusBadRequest, "access_denied", 90118, "The user has forgotten their password.")
	e.B2C = true
	return e
}

func errB2CUserCancelled() *OAuthError {
	e := oauthErr(http.StatusBadRequest, "access_denied", 90091, "The user has cancelled entering self-asserted information.")
	e.B2C = true
	return e
}

func errB2CNoAdminConsent(clientID string) *OAuthError {
	e := oauthErr(http.StatusBadRequest, "unauthorized_client", 90205,
		"This application does not have sufficient permissions against this web resource to perform the operation (application '%s': grant admin consent to its API permissions).", clip(clientID))
	e.B2C = true
	return e
}

func errB2CPolicyMismatch() *OAuthError {
	e := oauthErr(http.StatusBadRequest, "invalid_grant", 90088,
		"The provided grant was issued through another user flow than the one of this token endpoint.")
	e.B2C = true
	return e
}

// issueB2CTokens signs the tokens of a grant issued through a user flow:
// an access token (aud the API's application ID, scp its scopes) when an
// API's scopes were asked for, an id_token for openid, and the next
// refresh token for offline_access. B2C issues no token for Azure's or
// Graph's resources: a scope of another API is refused.
func (s *Service) issueB2CTokens(ctx context.Context, tenantID string, app Application, user User, g grantState,
	res resolvedScopes, authorized scopeRequest, authority string, now time.Time) (UserTokenResponse, error) {
	key, err := s.keys.active(ctx, tenantID)
	if err != nil {
		return UserTokenResponse{}, err
	}
	exp := now.Add(s.opts.TokenLifetime).Truncate(time.Second)
	base := B2CClaims{Issuer: B2CIssuer(authority, tenantID), IssuedAt: now.Unix(), NotBefore: now.Unix(),
		Expiry: exp.Unix(), AuthTime: g.AuthTime.Unix(), ObjectID: user.ID, Subject: user.ID, Name: user.DisplayName,
		Emails: userEmails(user), Policy: g.Policy, Version: "1.0", TenantID: tenantID,
		GivenName: userString(user, "givenName"), FamilyName: userString(user, "surname"), NewUser: g.NewUser,
		JobTitle: userString(user, "jobTitle"), StreetAddress: userString(user, "streetAddress"), City: userString(user, "city"),
		State: userString(user, "state"), PostalCode: userString(user, "postalCode"), Country: userString(user, "country")}
	secs := int64(exp.Sub(now) / time.Second)
	out := UserTokenResponse{TokenType: "Bearer", ExpiresIn: secs, ExtExpiresIn: secs,
		ClientInfo: b2cClientInfo(user.ID, g.Policy, tenantID), Scope: strings.Join(res.OIDC, " ")}
	if len(res.Names) > 0 {
		if res.ResourceSP == "" {
			return UserTokenResponse{}, errResourceNotFound(res.Resource, tenantID)
		}
		aud, err := s.dir.ResourceOwner(ctx, tenantID, res.Resource)
		if err != nil {
			return UserTokenResponse{}, err
		}
		at := base
		at.Audience, at.Scope, at.AZP = aud, strings.Join(res.Scp, " "), app.AppID
		if out.AccessToken, err = jwt.Signed(key.signer).Claims(at).Serialize(); err != nil {
			return UserTokenResponse{}, err
		}
		out.Scope = grantedScope(res)
	}
	id := base
	id.Audience, id.Nonce = app.AppID, g.Nonce
	if err := s.finishUserTokens(ctx, &out, key.signer, authorized, id, g, now); err != nil {
		return UserTokenResponse{}, err
	}
	return out, nil
}
