package identity

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/arm"
)

// OAuthError is a token-service error in Entra's form: an OAuth error code,
// an AADSTS code with its message, and the HTTP status. Its wire form
// (error, error_description, error_codes, timestamp, trace_id,
// correlation_id, error_uri) is written by [writeOAuthError] only.
type OAuthError struct {
	Status  int
	Code    string // OAuth 2.0 error: invalid_request, invalid_client, ...
	AADSTS  int
	Message string
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter time.Duration
	// B2C marks Azure AD B2C's errors: their code reads AADB2C{n}.
	B2C bool
}

// Error implements error.
func (e *OAuthError) Error() string { return e.Code + ": " + e.describe() }

// describe is the error as every answer shows it, in a JSON body, at the
// redirect URI or on the error page: "AADSTS50011: message" (AADB2C for
// B2C's errors).
func (e *OAuthError) describe() string {
	prefix := "AADSTS"
	if e.B2C {
		prefix = "AADB2C"
	}
	return prefix + strconv.Itoa(e.AADSTS) + ": " + e.Message
}

// errorURI is the error's page under the authority, as Entra's error_uri.
func (e *OAuthError) errorURI(authority string) string {
	return authority + "error?code=" + strconv.Itoa(e.AADSTS)
}

func oauthErr(status int, code string, aadsts int, format string, args ...any) *OAuthError {
	return &OAuthError{Status: status, Code: code, AADSTS: aadsts, Message: fmt.Sprintf(format, args...)}
}

// The token service's errors. Codes and wording follow Entra's
// documentation (docs/decisions/identity.md lists the sources); messages are
// Steward's own.
func errMissingParam(name string) *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_request", 900144,
		"The request body must contain the following parameter: '%s'.", name)
}

func errUnsupportedGrant(grant string) *OAuthError {
	return oauthErr(http.StatusBadRequest, "unsupported_grant_type", 70003,
		"The app requested an unsupported grant type '%s'.", grant)
}

func errTenantNotFound(tenant string) *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_request", 90002,
		"Tenant '%s' not found. Check that the tenant ID is correct.", tenant)
}

func errAppNotFound(appID, tenant string) *OAuthError {
	return oauthErr(http.StatusBadRequest, "unauthorized_client", 700016,
		"Application with identifier '%s' was not found in the directory '%s'.", appID, tenant)
}

func errNoCredential() *OAuthError {
	return oauthErr(http.StatusUnauthorized, "invalid_client", 7000216,
		"'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.")
}

func errBadSecret(appID string) *OAuthError {
	return oauthErr(http.StatusUnauthorized, "invalid_client", 7000215,
		"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", appID)
}

func errSecretExpired(appID string) *OAuthError {
	return oauthErr(http.StatusUnauthorized, "invalid_client", 7000222,
		"The provided client secret keys for app '%s' are expired.", appID)
}

func errAssertionType() *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_request", 50027,
		"client_assertion_type must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.")
}

func errMalformedAssertion() *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_request", 50027, "JWT token is invalid or malformed.")
}

func errNoThumbprint() *OAuthError {
	return oauthErr(http.StatusUnauthorized, "invalid_client", 50027,
		"No certificate thumbprint specified in token header (x5t or x5t#S256).")
}

func errCertNotRegistered(thumb string) *OAuthError {
	return oauthErr(http.StatusUnauthorized, "invalid_client", 700027,
		"The certificate with identifier used to sign the client assertion is not registered on application. Thumbprint of key used by client: '%s'.", thumb)
}

func errBadSignature() *OAuthError {
	return oauthErr(http.StatusUnauthorized, "invalid_client", 700027,
		"Client assertion contains an invalid signature.")
}

func errAssertionSubject() *OAuthError {
	return oauthErr(http.StatusUnauthorized, "invalid_client", 700021,
		"Client assertion application identifier doesn't match 'client_id' parameter; iss and sub must both be the client ID.")
}

func errAssertionAudience() *OAuthError {
	return oauthErr(http.StatusUnauthorized, "invalid_client", 700023,
		"Client assertion audience claim does not match Realm issuer; aud must be this tenant's token endpoint.")
}

func errAssertionTime() *OAuthError {
	return oauthErr(http.StatusUnauthorized, "invalid_client", 700024,
		"Client assertion is not within its valid time range.")
}

func errAssertionTooLong() *OAuthError {
	return oauthErr(http.StatusUnauthorized, "invalid_client", 700024,
		"Client assertion is not within its valid time range: its exp is more than %d minutes in the future.", int(MaxAssertionLifetime/time.Minute))
}

// errAssertionReplayed uses a Steward-specific code: Entra documents none
// for a reused jti (docs/decisions/identity.md).
func errAssertionReplayed() *OAuthError {
	return oauthErr(http.StatusUnauthorized, "invalid_client", 9900001,
		"Client assertion has already been used; each assertion needs a unique jti.")
}

func errScopeNotDefault(scope string) *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_scope", 1002012,
		"The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope)
}

func errScopeMultipleResources() *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_scope", 28000,
		"Provided value for the input parameter scope is not valid because it contains more than one resource.")
}

func errResourceNotFound(resource, tenant string) *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_resource", 500011,
		"The resource principal named %s was not found in the tenant named %s.", resource, tenant)
}

func errClientDisabled(appID string) *OAuthError {
	return oauthErr(http.StatusBadRequest, "unauthorized_client", 7000112,
		"Application '%s' is disabled.", appID)
}

func errBadRequestBody() *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_request", 900144,
		"The request body must be application/x-www-form-urlencoded and within the size limit.")
}

func errBasicAuth() *OAuthError {
	return oauthErr(http.StatusUnauthorized, "invalid_client", 7000216,
		"The Authorization header's client credentials are malformed or name another client than client_id.")
}

func errMethod() *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_request", 900561,
		"The endpoint only accepts POST requests.")
}

func errFederatedIssuer(iss string) *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_request", 700211,
		"No matching federated identity record found for presented assertion issuer '%s'.", iss)
}

func errFederatedAudience(aud string) *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_request", 700212,
		"No matching federated identity record found for presented assertion audience '%s'.", aud)
}

func errFederatedSubject(sub string) *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_request", 700213,
		"No matching federated identity record found for presented assertion subject '%s'.", sub)
}

func errFederatedNoMatch(iss, sub, aud string) *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_request", 70021,
		"No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. Assertion Subject: '%s'. Assertion Audience: '%s'.", iss, sub, aud)
}

func errExternalOIDC(iss string) *OAuthError {
	return oauthErr(http.StatusUnauthorized, "invalid_client", 50166,
		"Request to External OIDC endpoint failed: the keys of issuer '%s' could not be read.", iss)
}

func errAppNotMultiTenant(appID, tenant string) *OAuthError {
	return oauthErr(http.StatusBadRequest, "unauthorized_client", 700016,
		"Application with identifier '%s' was not found in the directory '%s'. The application is not multi-tenant or has not been consented to in this tenant.", appID, tenant)
}

// errInvalidParameter is a parameter the directory cannot look up (a NUL
// byte, a value longer than any identifier): Entra's InvalidRequestParameter.
func errInvalidParameter() *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_request", 90100,
		"A parameter of the request is empty or not valid.")
}

// errTenantInvalid is a tenant segment that is neither a tenant ID nor a
// domain name.
func errTenantInvalid(tenant string) *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_request", 900023,
		"Specified tenant identifier '%s' is neither a valid DNS name, nor a valid external domain.", clip(tenant))
}

// errTwoClientAuthMethods: RFC 6749 §2.3 allows one client authentication
// method per request. Entra documents no code for it, so the code is
// Steward's own, like the replay code (docs/decisions/identity.md).
func errTwoClientAuthMethods() *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_request", 9900002,
		"The request uses more than one client authentication method; send exactly one of client_secret (in the body or in HTTP Basic) and client_assertion.")
}

// errClientLockedOut is Entra's lockout code (smart lockout's IdsLocked),
// sent as 429 with Retry-After after too many failed client
// authentications.
func errClientLockedOut(appID string, retry time.Duration) *OAuthError {
	e := oauthErr(http.StatusTooManyRequests, "invalid_client", 50053,
		"The client '%s' is locked out after too many failed authentication attempts. Retry after %d seconds.", clip(appID), int(retry.Seconds()))
	e.RetryAfter = retry
	return e
}

// Errors of the user sign-in flows (authorization endpoint, authorization
// code and refresh token grants), answered in the same three forms.

func errRedirectMismatch(clientID string) *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_request", 50011,
		"The redirect URI specified in the request does not match the redirect URIs configured for the application '%s'.", clip(clientID))
}

func errResponseType(rt string) *OAuthError {
	return oauthErr(http.StatusBadRequest, "unsupported_response_type", 900144,
		"The response_type '%s' is not supported; use 'code'.", clip(rt))
}

func errResponseMode(m string) *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_request", 900144,
		"The response_mode '%s' is not supported; use query, fragment or form_post.", clip(m))
}

func errPKCERequired() *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_request", 9002325,
		"Proof Key for Code Exchange is required for public clients: send code_challenge with code_challenge_method S256.")
}

func errPKCEMethod(m string) *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_request", 9002325,
		"The code_challenge_method '%s' is not supported; use S256.", clip(m))
}

func errBadAuthorizeParam(name string) *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_request", 90100,
		"The parameter '%s' of the authorization request is not valid.", name)
}

func errOpenIDScope() *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_request", 900144,
		"The request must contain the 'openid' scope to sign a user in.")
}

func errLoginRequired() *OAuthError {
	return oauthErr(http.StatusBadRequest, "login_required", 50058,
		"A silent sign-in request was sent but no user is signed in.")
}

func errInteractionRequired() *OAuthError {
	return oauthErr(http.StatusBadRequest, "interaction_required", 50076,
		"The user must sign in again with multi-factor authentication; prompt=none cannot show the sign-in page.")
}

func errConsentRequired(clientID string) *OAuthError {
	return oauthErr(http.StatusBadRequest, "consent_required", 65001,
		"The user or administrator has not consented to use the application with ID '%s'. Send an interactive authorization request for this user and resource.", clip(clientID))
}

func errAdminConsentRequired(scope string) *OAuthError {
	return oauthErr(http.StatusBadRequest, "consent_required", 90094,
		"The scope '%s' needs an administrator's consent (an oauth2PermissionGrant for all principals).", clip(scope))
}

func errConsentDeclined() *OAuthError {
	return oauthErr(http.StatusBadRequest, "access_denied", 65004,
		"The user declined to consent to access the app.")
}

func errScopeUnknown(scope, resource string) *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_scope", 650053,
		"The application asked for scope '%s' that does not exist on the resource '%s'.", clip(scope), clip(resource))
}

func errCodeInvalid() *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_grant", 9002313,
		"The provided value for the 'code' parameter is not valid.")
}

func errCodeExpired() *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_grant", 70008,
		"The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request.")
}

func errCodeRedeemed() *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_grant", 54005,
		"OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
}

func errCodeClient() *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_grant", 70000,
		"The provided authorization code or refresh token was issued to another client.")
}

func errCodeRedirect() *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_grant", 70000,
		"The redirect_uri does not match the one of the authorization request.")
}

func errPKCEMismatch() *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_grant", 50148,
		"The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.")
}

func errConfidentialCredential() *OAuthError {
	return oauthErr(http.StatusUnauthorized, "invalid_client", 7000218,
		"The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
}

func errRefreshInvalid() *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_grant", 9002313,
		"The provided refresh token is not valid: it is malformed, was already used (refresh tokens are rotated) or was revoked.")
}

func errRefreshRevoked() *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_grant", 50173,
		"The provided grant has expired due to it being revoked; a fresh auth token is needed. The user might have changed or reset their password, or an administrator revoked their sessions.")
}

func errUserDisabled() *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_grant", 50057,
		"The user account is disabled.")
}

func errUserLockedOut(retrySecs int) *OAuthError {
	return oauthErr(http.StatusTooManyRequests, "invalid_grant", 50053,
		"The account is locked after too many sign-in attempts with a wrong password. Retry after %d seconds.", retrySecs)
}

// clip shortens a caller's value before it is echoed in an error.
func clip(s string) string {
	const max = 64
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

// oauthWire is the JSON body of an error response.
type oauthWire struct {
	Error         string `json:"error"`
	Description   string `json:"error_description"`
	ErrorCodes    []int  `json:"error_codes"`
	Timestamp     string `json:"timestamp"`
	TraceID       string `json:"trace_id"`
	CorrelationID string `json:"correlation_id"`
	ErrorURI      string `json:"error_uri"`
}

// writeOAuthError is the one place a token-service error becomes an HTTP
// response. Anything that is not an *OAuthError (a storage outage) is sent
// as 503 temporarily_unavailable without its text: the caller did nothing
// wrong, and the Azure SDKs retry it.
func writeOAuthError(w http.ResponseWriter, err error, now time.Time, traceID, correlationID, errorBase string) {
	var e *OAuthError
	switch {
	case errors.As(err, &e):
	case arm.ClassOf(err) == arm.ClassInvalid:
		e = errInvalidParameter()
	default:
		e = oauthErr(http.StatusServiceUnavailable, "temporarily_unavailable", 90033,
			"A transient error has occurred. Please try again.")
	}
	ts := now.UTC().Format("2006-01-02 15:04:05Z")
	body := oauthWire{
		Error:         e.Code,
		Description:   e.describe() + "\r\nTrace ID: " + traceID + "\r\nCorrelation ID: " + correlationID + "\r\nTimestamp: " + ts,
		ErrorCodes:    []int{e.AADSTS},
		Timestamp:     ts,
		TraceID:       traceID,
		CorrelationID: correlationID,
		ErrorURI:      e.errorURI(errorBase),
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store, no-cache")
	h.Set("Pragma", "no-cache")
	h.Set("x-ms-request-id", traceID)
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(body)
}
