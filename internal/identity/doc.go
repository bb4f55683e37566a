// Package identity is Steward's Entra-compatible directory and token
// service: tenants, users, groups, applications and service principals with
// their credentials, and the Microsoft identity platform v2.0 endpoints that
// Azure SDKs call (OIDC discovery, JWKS, and the token endpoint's
// client_credentials grant with a client secret or a certificate client
// assertion). It also validates the access tokens it issues, for Steward's
// own APIs, and bootstraps a home tenant with an administrator service
// principal on first start.
//
// The wire formats follow Entra's: discovery and key documents, token
// responses, and OAuth errors with AADSTS codes. Storage goes through the
// small [Records] interface, which internal/store backs in production.
package identity
