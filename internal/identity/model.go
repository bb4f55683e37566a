package identity

import (
	"encoding/json"
	"time"
)

// Properties are the Graph properties of a directory object that the
// directory keeps but does not interpret (an application's api, appRoles,
// web, a user's givenName, ...). internal/identity/graph validates them.
type Properties map[string]json.RawMessage

// Tenant is a directory: the unit that owns users, groups, applications and
// signing keys. Its ID is a GUID, as in Entra.
type Tenant struct {
	ID          string    `json:"id"`
	DisplayName string    `json:"displayName"`
	Domains     []string  `json:"domains,omitempty"`
	Created     time.Time `json:"createdDateTime"`
}

// User is a person in a tenant. The password is kept only as an argon2id
// hash in PHC string form.
type User struct {
	ID                string     `json:"id"`
	TenantID          string     `json:"tenantId"`
	UserPrincipalName string     `json:"userPrincipalName"`
	DisplayName       string     `json:"displayName"`
	PasswordHash      string     `json:"passwordHash,omitempty"`
	AccountEnabled    bool       `json:"accountEnabled"`
	Created           time.Time  `json:"createdDateTime,omitzero"`
	Properties        Properties `json:"properties,omitempty"`
	// SignInSessionsValidFrom revokes: sign-in sessions and refresh tokens
	// of sign-ins before it are refused (Graph's
	// signInSessionsValidFromDateTime, set by a password reset and by
	// revokeSignInSessions).
	SignInSessionsValidFrom time.Time `json:"signInSessionsValidFromDateTime,omitzero"`
}

// Group is a set of directory objects. Members are object IDs of users,
// service principals or other groups; group nesting makes membership
// transitive (see [Directory.TransitiveGroups]).
type Group struct {
	ID          string   `json:"id"`
	TenantID    string   `json:"tenantId"`
	DisplayName string   `json:"displayName"`
	Members     []string `json:"members,omitempty"`
	// Owners are the object IDs of the users and service principals that
	// may manage the group.
	Owners     []string   `json:"owners,omitempty"`
	Created    time.Time  `json:"createdDateTime,omitzero"`
	Properties Properties `json:"properties,omitempty"`
}

// Application is an app registration: the client ID (AppID) that callers
// present, the identifier URIs it can be requested as a resource by, and
// the credentials it authenticates with.
type Application struct {
	ObjectID            string               `json:"id"`
	AppID               string               `json:"appId"`
	TenantID            string               `json:"tenantId"`
	DisplayName         string               `json:"displayName"`
	IdentifierURIs      []string             `json:"identifierUris,omitempty"`
	PasswordCredentials []PasswordCredential `json:"passwordCredentials,omitempty"`
	KeyCredentials      []KeyCredential      `json:"keyCredentials,omitempty"`
	// FederatedIdentityCredentials are the external identities (issuer,
	// subject, audience) whose tokens the app accepts as client assertions.
	FederatedIdentityCredentials []FederatedIdentityCredential `json:"federatedIdentityCredentials,omitempty"`
	// SignInAudience is Entra's: AzureADMyOrg (the default, single tenant)
	// or AzureADMultipleOrgs, which lets other tenants create a service
	// principal for the app.
	SignInAudience string     `json:"signInAudience,omitempty"`
	Owners         []string   `json:"owners,omitempty"`
	Created        time.Time  `json:"createdDateTime,omitzero"`
	Properties     Properties `json:"properties,omitempty"`
}

// FederatedIdentityCredential trusts tokens of an external OIDC issuer
// whose sub is Subject and whose aud names one of Audiences, as the
// client's credential (workload identity federation).
type FederatedIdentityCredential struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Issuer      string   `json:"issuer"`
	Subject     string   `json:"subject"`
	Audiences   []string `json:"audiences"`
	Description string   `json:"description,omitempty"`
}

// ServicePrincipal is an application's identity in a tenant: its object ID
// is the oid of the tokens the application obtains there.
type ServicePrincipal struct {
	ID             string `json:"id"`
	AppID          string `json:"appId"`
	TenantID       string `json:"tenantId"`
	DisplayName    string `json:"displayName"`
	AccountEnabled bool   `json:"accountEnabled"`
	// AppOwnerTenantID is the tenant that registered the application: the
	// principal's own tenant, or another one for a multi-tenant app.
	AppOwnerTenantID string     `json:"appOwnerOrganizationId,omitempty"`
	Owners           []string   `json:"owners,omitempty"`
	Created          time.Time  `json:"createdDateTime,omitzero"`
	Properties       Properties `json:"properties,omitempty"`
}

// PasswordCredential is a client secret. Only a salted hash of the secret
// is kept, with a three-character hint as Entra shows.
type PasswordCredential struct {
	KeyID         string    `json:"keyId"`
	DisplayName   string    `json:"displayName,omitempty"`
	Hint          string    `json:"hint"`
	Salt          []byte    `json:"salt"`
	Hash          []byte    `json:"hash"`
	StartDateTime time.Time `json:"startDateTime"`
	EndDateTime   time.Time `json:"endDateTime"`
}

// KeyCredential is the public part of a certificate credential: the DER
// certificate and its SHA-1 (x5t) and SHA-256 (x5t#S256) thumbprints.
type KeyCredential struct {
	KeyID            string    `json:"keyId"`
	DisplayName      string    `json:"displayName,omitempty"`
	Type             string    `json:"type"`
	Usage            string    `json:"usage"`
	Certificate      []byte    `json:"key"`
	ThumbprintSHA1   []byte    `json:"customKeyIdentifier"`
	ThumbprintSHA256 []byte    `json:"thumbprintSha256"`
	StartDateTime    time.Time `json:"startDateTime"`
	EndDateTime      time.Time `json:"endDateTime"`
}

// activeAt reports whether a credential's validity window holds t.
func activeAt(start, end, t time.Time) bool {
	return !t.Before(start) && t.Before(end)
}
