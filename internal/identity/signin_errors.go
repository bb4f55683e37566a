package identity

import "net/http"

// Errors of the user sign-in flows (authorization endpoint, authorization
// code and refresh token grants). Codes follow Entra's; the sources are in
// docs/decisions/identity.md.

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
