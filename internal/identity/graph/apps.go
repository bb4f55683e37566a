package graph

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/steward-gov/steward/internal/identity"
)

var appType = typeInfo{name: "application", set: "applications",
	filterable: []string{"id", "appId", "displayName", "identifierUris", "signInAudience", "tags", "createdDateTime", "publisherDomain"},
	orderable:  []string{"displayName", "createdDateTime"}}

// appJSON is an application's Graph representation.
func appJSON(a identity.Application) map[string]any {
	aud := a.SignInAudience
	if aud == "" {
		aud = identity.AudienceMyOrg
	}
	pw := make([]any, 0, len(a.PasswordCredentials))
	for _, p := range a.PasswordCredentials {
		pw = append(pw, passwordJSON(p, ""))
	}
	keys := make([]any, 0, len(a.KeyCredentials))
	for _, k := range a.KeyCredentials {
		keys = append(keys, keyJSON(k))
	}
	m := map[string]any{
		"@odata.type":                appType.odataType(),
		"id":                         a.ObjectID,
		"appId":                      a.AppID,
		"displayName":                a.DisplayName,
		"identifierUris":             orEmpty(a.IdentifierURIs),
		"signInAudience":             aud,
		"createdDateTime":            timeOrZero(a.Created),
		"deletedDateTime":            nil,
		"publisherDomain":            nil,
		"passwordCredentials":        pw,
		"keyCredentials":             keys,
		"description":                nil,
		"notes":                      nil,
		"tags":                       []string{},
		"isFallbackPublicClient":     nil,
		"isDeviceOnlyAuthSupported":  nil,
		"groupMembershipClaims":      nil,
		"optionalClaims":             nil,
		"serviceManagementReference": nil,
		"defaultRedirectUri":         nil,
		"api": map[string]any{"acceptMappedClaims": nil, "knownClientApplications": []string{},
			"requestedAccessTokenVersion": nil, "oauth2PermissionScopes": []any{}, "preAuthorizedApplications": []any{}},
		"appRoles":               []any{},
		"requiredResourceAccess": []any{},
		"info":                   map[string]any{"logoUrl": nil, "marketingUrl": nil, "privacyStatementUrl": nil, "supportUrl": nil, "termsOfServiceUrl": nil},
		"web": map[string]any{"homePageUrl": nil, "logoutUrl": nil, "redirectUris": []string{}, "redirectUriSettings": []any{},
			"implicitGrantSettings": map[string]any{"enableAccessTokenIssuance": false, "enableIdTokenIssuance": false}},
		"spa":          map[string]any{"redirectUris": []string{}},
		"publicClient": map[string]any{"redirectUris": []string{}},
	}
	return withProps(m, a.Properties)
}

func passwordJSON(p identity.PasswordCredential, secret string) map[string]any {
	return map[string]any{
		"customKeyIdentifier": nil,
		"displayName":         nullable(p.DisplayName),
		"endDateTime":         timeOrZero(p.EndDateTime),
		"hint":                p.Hint,
		"keyId":               p.KeyID,
		"secretText":          nullable(secret),
		"startDateTime":       timeOrZero(p.StartDateTime),
	}
}

func keyJSON(k identity.KeyCredential) map[string]any {
	return map[string]any{
		"customKeyIdentifier": strings.ToUpper(hexString(k.ThumbprintSHA1)),
		"displayName":         nullable(k.DisplayName),
		"endDateTime":         timeOrZero(k.EndDateTime),
		"key":                 nil,
		"keyId":               k.KeyID,
		"startDateTime":       timeOrZero(k.StartDateTime),
		"type":                k.Type,
		"usage":               k.Usage,
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, x := range b {
		out = append(out, digits[x>>4], digits[x&15])
	}
	return string(out)
}

// findApp finds an application of the caller's tenant by object ID, or by
// app ID when byAppID.
func (c *call) findApp(id string, byAppID bool) (identity.Application, error) {
	if byAppID {
		a, err := c.h.dir.Application(c.ctx, c.tenant, id)
		if errors.Is(err, identity.ErrNotFound) {
			return a, notFound(id)
		}
		return a, err
	}
	a, err := c.h.dir.ApplicationByObjectID(c.ctx, c.tenant, id)
	if errors.Is(err, identity.ErrNotFound) {
		return a, notFound(id)
	}
	return a, err
}

func (c *call) applications(key string, rest []string) error {
	if key == "" && len(rest) == 0 {
		switch c.r.Method {
		case http.MethodGet:
			if !c.reader() {
				return denied()
			}
			apps, err := c.h.dir.Applications(c.ctx, c.tenant)
			if err != nil {
				return err
			}
			items := make([]map[string]any, 0, len(apps))
			for _, a := range apps {
				items = append(items, appJSON(a))
			}
			return c.list(appType, items, appType.set)
		case http.MethodPost:
			return c.createApp()
		}
		return methodNotAllowed(c.r)
	}
	if key == "" && rest[0] == "$count" {
		if !c.reader() {
			return denied()
		}
		apps, err := c.h.dir.Applications(c.ctx, c.tenant)
		if err != nil {
			return err
		}
		return c.countOnly(len(apps))
	}
	var app identity.Application
	var err error
	if key != "" {
		appID, ok := keyValue(key, "appId")
		if !ok {
			return badRequest("Invalid key '%s': use applications/{id} or applications(appId='{appId}').", key)
		}
		app, err = c.findApp(appID, true)
	} else {
		app, err = c.findApp(rest[0], false)
		rest = rest[1:]
	}
	if err != nil {
		return err
	}
	canWrite := c.appAdmin() || c.owns(app.Owners)
	if !c.reader() && !canWrite {
		return denied()
	}
	if c.r.Method != http.MethodGet {
		spID := ""
		if sp, err := c.h.dir.ServicePrincipal(c.ctx, c.tenant, app.AppID); err == nil {
			spID = sp.ID
		} else if !errors.Is(err, identity.ErrNotFound) {
			return err
		}
		if canWrite, err = c.guard(canWrite, spID); err != nil {
			return err
		}
	}
	if len(rest) == 0 {
		switch c.r.Method {
		case http.MethodGet:
			return c.one(appType, appJSON(app), http.StatusOK)
		case http.MethodPatch:
			if err := allow(canWrite); err != nil {
				return err
			}
			return c.updateApp(app)
		case http.MethodDelete:
			if err := allow(canWrite); err != nil {
				return err
			}
			return c.deleteApp(app)
		}
		return methodNotAllowed(c.r)
	}
	switch strings.ToLower(rest[0]) {
	case "addpassword", "removepassword", "addkey", "removekey":
		if c.r.Method != http.MethodPost {
			return methodNotAllowed(c.r)
		}
		if err := allow(canWrite); err != nil {
			return err
		}
		return c.appCredentials(app, strings.ToLower(rest[0]))
	case "owners":
		return c.references(rest[1:], app.Owners, canWrite, "owners", func(ids []string) error {
			app.Owners = ids
			return c.h.dir.PutApplication(c.ctx, app)
		})
	case "federatedidentitycredentials":
		return c.federated(app, rest[1:], canWrite)
	}
	return noRoute(c.r)
}

// appCore reads the application properties the directory itself keeps.
func (c *call) applyAppCore(app *identity.Application, body map[string]json.RawMessage, create bool) error {
	if s, ok, err := str(body, "displayName"); err != nil {
		return err
	} else if ok {
		if strings.TrimSpace(s) == "" || len(s) > 256 {
			return badRequest("Invalid value specified for property 'displayName' of resource 'Application'.")
		}
		app.DisplayName = s
	} else if create {
		return badRequest("Property 'displayName' is required when creating an application.")
	}
	if _, ok := body["appId"]; ok {
		return badRequest("Property 'appId' is read-only.")
	}
	if _, ok := body["id"]; ok && !create {
		return badRequest("Property 'id' is read-only.")
	}
	if uris, ok, err := strs(body, "identifierUris"); err != nil {
		return err
	} else if ok {
		if err := c.checkIdentifierURIs(app.AppID, uris); err != nil {
			return err
		}
		app.IdentifierURIs = uris
	}
	if s, ok, err := str(body, "signInAudience"); err != nil {
		return err
	} else if ok {
		switch s {
		case "", identity.AudienceMyOrg:
			app.SignInAudience = ""
		case identity.AudienceMultipleOrgs:
			app.SignInAudience = s
		case "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount":
			return badRequest("signInAudience '%s' is not supported: Steward has no personal Microsoft accounts.", s)
		default:
			return badRequest("Invalid value '%s' for property 'signInAudience'.", s)
		}
	}
	if raw, ok := body["keyCredentials"]; ok {
		keys, err := c.parseKeyCredentials(raw, app.KeyCredentials)
		if err != nil {
			return err
		}
		app.KeyCredentials = keys
	}
	if raw, ok := body["passwordCredentials"]; ok {
		var pw []json.RawMessage
		if err := json.Unmarshal(raw, &pw); err != nil {
			return badRequest("Invalid value for property 'passwordCredentials'.")
		}
		if len(pw) != len(app.PasswordCredentials) {
			return badRequest("passwordCredentials cannot be set directly: use addPassword and removePassword.")
		}
	}
	props, err := setProps("microsoft.graph.application", appProps, app.Properties, body,
		"displayName", "id", "identifierUris", "signInAudience", "keyCredentials", "passwordCredentials")
	if err != nil {
		return err
	}
	app.Properties = props
	return nil
}

// checkIdentifierURIs requires absolute URIs that no other application
// of the tenant uses, as Graph does.
func (c *call) checkIdentifierURIs(appID string, uris []string) error {
	if len(uris) > 50 {
		return badRequest("An application has at most 50 identifierUris.")
	}
	for _, s := range uris {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" || len(s) > 255 || strings.Contains(s, "*") {
			return badRequest("Invalid value specified for property 'identifierUris' of resource 'Application': '%s' is not an absolute URI.", s)
		}
		owner, err := c.h.dir.ResourceOwner(c.ctx, c.tenant, s)
		if err == nil && !strings.EqualFold(owner, appID) {
			return badRequest("Another object with the same value for property identifierUris already exists.")
		} else if err != nil && !errors.Is(err, identity.ErrNotFound) {
			return err
		}
	}
	return nil
}

// graphKeyCredential is a keyCredential in a request body.
type graphKeyCredential struct {
	OData               string     `json:"@odata.type,omitempty"`
	KeyID               string     `json:"keyId"`
	Type                string     `json:"type"`
	Usage               string     `json:"usage"`
	Key                 *string    `json:"key"`
	DisplayName         *string    `json:"displayName"`
	StartDateTime       *time.Time `json:"startDateTime"`
	EndDateTime         *time.Time `json:"endDateTime"`
	CustomKeyIdentifier *string    `json:"customKeyIdentifier"`
}

// parseKeyCredentials reads a keyCredentials collection: entries with a
// key add certificates; entries without one keep the existing credential
// with that keyId (GET returns key as null, so clients send them back
// that way).
func (c *call) parseKeyCredentials(raw json.RawMessage, existing []identity.KeyCredential) ([]identity.KeyCredential, error) {
	var in []graphKeyCredential
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, badRequest("Invalid value for property 'keyCredentials': %s.", strings.TrimPrefix(err.Error(), "json: "))
	}
	out := make([]identity.KeyCredential, 0, len(in))
	for _, k := range in {
		if k.Key == nil || *k.Key == "" {
			i := slices.IndexFunc(existing, func(e identity.KeyCredential) bool { return strings.EqualFold(e.KeyID, k.KeyID) })
			if i < 0 {
				return nil, badRequest("keyCredentials: the credential '%s' has no key and is not an existing credential.", k.KeyID)
			}
			out = append(out, existing[i])
			continue
		}
		cred, err := c.certificateCredential(k)
		if err != nil {
			return nil, err
		}
		out = append(out, cred)
	}
	return out, nil
}

// certificateCredential turns a keyCredential with a base64 DER (or PEM)
// certificate into the directory's credential.
func (c *call) certificateCredential(k graphKeyCredential) (identity.KeyCredential, error) {
	if k.Type != "" && k.Type != "AsymmetricX509Cert" {
		return identity.KeyCredential{}, badRequest("keyCredentials type '%s' is not supported: only AsymmetricX509Cert.", k.Type)
	}
	if k.Usage != "" && k.Usage != "Verify" {
		return identity.KeyCredential{}, badRequest("keyCredentials usage '%s' is not supported: only Verify (Steward does not encrypt or sign tokens with application keys).", k.Usage)
	}
	cert, err := parseCertificate(*k.Key)
	if err != nil {
		return identity.KeyCredential{}, badRequest("Key credential's key is not a valid X.509 certificate: %s.", err)
	}
	var start, end time.Time
	if k.StartDateTime != nil {
		start = *k.StartDateTime
	}
	if k.EndDateTime != nil {
		end = *k.EndDateTime
	}
	if (!start.IsZero() && start.Before(cert.NotBefore.Add(-time.Minute))) || (!end.IsZero() && end.After(cert.NotAfter.Add(time.Minute))) {
		return identity.KeyCredential{}, badRequest("Key credential end date is invalid: startDateTime and endDateTime must lie within the certificate's validity (%s to %s).",
			cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
	}
	id := k.KeyID
	if id == "" {
		id = c.h.id.NewID()
	}
	name := ""
	if k.DisplayName != nil {
		name = *k.DisplayName
	}
	if name == "" {
		name = "CN=" + cert.Subject.CommonName
	}
	return identity.NewCertificateCredential(cert, id, name, start, end), nil
}

func parseCertificate(s string) (*x509.Certificate, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-----BEGIN") {
		s = strings.NewReplacer("-----BEGIN CERTIFICATE-----", "", "-----END CERTIFICATE-----", "", "\n", "", "\r", "").Replace(s)
	}
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func (c *call) createApp() error {
	if !c.appAdmin() {
		return denied()
	}
	body, err := c.decode()
	if err != nil {
		return err
	}
	app := identity.Application{ObjectID: c.h.id.NewID(), AppID: c.h.id.NewID(), TenantID: c.tenant, Created: c.h.id.Now().UTC()}
	if err := c.applyAppCore(&app, body, true); err != nil {
		return err
	}
	if c.p.IdentityType == "user" {
		app.Owners = []string{strings.ToLower(c.p.ObjectID)}
	}
	if err := c.h.dir.PutApplication(c.ctx, app); err != nil {
		return err
	}
	c.w.Header().Set("Location", c.base+"/directoryObjects/"+app.ObjectID+"/Microsoft.DirectoryServices.Application")
	return c.one(appType, appJSON(app), http.StatusCreated)
}

func (c *call) updateApp(app identity.Application) error {
	body, err := c.decode()
	if err != nil {
		return err
	}
	if err := c.applyAppCore(&app, body, false); err != nil {
		return err
	}
	if err := c.h.dir.PutApplication(c.ctx, app); err != nil {
		return err
	}
	return c.noContent()
}

// deleteApp deletes the application and its service principal in its
// own tenant, as Entra does.
func (c *call) deleteApp(app identity.Application) error {
	sp, err := c.h.dir.ServicePrincipal(c.ctx, app.TenantID, app.AppID)
	if err == nil {
		if err := c.h.dir.DeleteServicePrincipal(c.ctx, sp); err != nil {
			return err
		}
	} else if !errors.Is(err, identity.ErrNotFound) {
		return err
	}
	if err := c.h.dir.DeleteApplication(c.ctx, app); err != nil {
		return err
	}
	return c.noContent()
}

// appCredentials serves addPassword, removePassword, addKey and
// removeKey.
func (c *call) appCredentials(app identity.Application, action string) error {
	body, err := c.decode()
	if err != nil {
		return err
	}
	now := c.h.id.Now().UTC()
	switch action {
	case "addpassword":
		var in struct {
			PasswordCredential *struct {
				DisplayName   *string    `json:"displayName"`
				StartDateTime *time.Time `json:"startDateTime"`
				EndDateTime   *time.Time `json:"endDateTime"`
			} `json:"passwordCredential"`
		}
		if err := remarshal(body, &in); err != nil {
			return badRequest("Invalid addPassword body: %s.", err)
		}
		start, end, name := now, now.AddDate(2, 0, 0), ""
		if p := in.PasswordCredential; p != nil {
			if p.DisplayName != nil {
				name = *p.DisplayName
			}
			if p.StartDateTime != nil {
				start = p.StartDateTime.UTC()
			}
			if p.EndDateTime != nil {
				end = p.EndDateTime.UTC()
			}
		}
		if !end.After(start) {
			return badRequest("Invalid passwordCredential: endDateTime must be after startDateTime.")
		}
		if len(app.PasswordCredentials) >= 100 {
			return badRequest("An application has at most 100 password credentials.")
		}
		secret, cred, err := identity.NewClientSecret(c.h.id.Rand(), c.h.id.NewID(), name, start, end)
		if err != nil {
			return err
		}
		app.PasswordCredentials = append(app.PasswordCredentials, cred)
		if err := c.h.dir.PutApplication(c.ctx, app); err != nil {
			return err
		}
		out := passwordJSON(cred, secret)
		out["@odata.context"] = c.base + "/$metadata#microsoft.graph.passwordCredential"
		c.writeJSON(http.StatusOK, out)
		return nil
	case "removepassword":
		keyID, _, err := str(body, "keyId")
		if err != nil {
			return err
		}
		i := slices.IndexFunc(app.PasswordCredentials, func(p identity.PasswordCredential) bool { return strings.EqualFold(p.KeyID, keyID) })
		if i < 0 {
			return badRequest("No password credential with keyId '%s' exists on the application.", keyID)
		}
		app.PasswordCredentials = slices.Delete(app.PasswordCredentials, i, i+1)
		if err := c.h.dir.PutApplication(c.ctx, app); err != nil {
			return err
		}
		return c.noContent()
	case "addkey":
		var in struct {
			KeyCredential      *graphKeyCredential `json:"keyCredential"`
			PasswordCredential json.RawMessage     `json:"passwordCredential"`
			Proof              string              `json:"proof"`
		}
		if err := remarshal(body, &in); err != nil {
			return badRequest("Invalid addKey body: %s.", err)
		}
		if in.KeyCredential == nil || in.KeyCredential.Key == nil {
			return badRequest("addKey requires keyCredential with a key.")
		}
		if len(in.PasswordCredential) > 0 && string(in.PasswordCredential) != "null" {
			return badRequest("addKey with a passwordCredential is not supported: Steward keys are certificates (AsymmetricX509Cert).")
		}
		if err := c.checkProof(app, in.Proof, now); err != nil {
			return err
		}
		cred, err := c.certificateCredential(*in.KeyCredential)
		if err != nil {
			return err
		}
		app.KeyCredentials = append(app.KeyCredentials, cred)
		if err := c.h.dir.PutApplication(c.ctx, app); err != nil {
			return err
		}
		out := keyJSON(cred)
		out["@odata.context"] = c.base + "/$metadata#microsoft.graph.keyCredential"
		c.writeJSON(http.StatusOK, out)
		return nil
	case "removekey":
		keyID, _, err := str(body, "keyId")
		if err != nil {
			return err
		}
		proof, _, err := str(body, "proof")
		if err != nil {
			return err
		}
		if err := c.checkProof(app, proof, now); err != nil {
			return err
		}
		i := slices.IndexFunc(app.KeyCredentials, func(k identity.KeyCredential) bool { return strings.EqualFold(k.KeyID, keyID) })
		if i < 0 {
			return badRequest("No key credential with keyId '%s' exists on the application.", keyID)
		}
		app.KeyCredentials = slices.Delete(app.KeyCredentials, i, i+1)
		if err := c.h.dir.PutApplication(c.ctx, app); err != nil {
			return err
		}
		return c.noContent()
	}
	return noRoute(c.r)
}

// graphProofAudience is the aud of addKey/removeKey proofs: the
// application ID of the (AAD) Graph resource, as Microsoft documents.
const graphProofAudience = "00000002-0000-0000-c000-000000000000"

// checkProof verifies the proof of possession that addKey and removeKey
// take: a JWT signed with one of the application's current certificates,
// iss the application's object ID, aud Graph's, valid now.
func (c *call) checkProof(app identity.Application, proof string, now time.Time) error {
	if proof == "" {
		return badRequest("The proof of possession is required: a JWT signed with one of the application's existing certificates.")
	}
	tok, err := jwt.ParseSigned(proof, []jose.SignatureAlgorithm{jose.RS256, jose.PS256})
	if err != nil || len(tok.Headers) != 1 {
		return badRequest("The proof of possession is not a signed JWT.")
	}
	for _, k := range app.KeyCredentials {
		cert, err := x509.ParseCertificate(k.Certificate)
		if err != nil {
			continue
		}
		var cl jwt.Claims
		if tok.Claims(cert.PublicKey, &cl) != nil {
			continue
		}
		if err := cl.ValidateWithLeeway(jwt.Expected{Issuer: app.ObjectID, AnyAudience: jwt.Audience{graphProofAudience}, Time: now}, 5*time.Minute); err != nil {
			return badRequest("The proof of possession is invalid: %s.", err)
		}
		if cl.Expiry == nil {
			return badRequest("The proof of possession has no exp claim.")
		}
		return nil
	}
	return badRequest("The proof of possession is not signed by any of the application's certificates.")
}

// remarshal decodes a property map into a typed struct.
func remarshal(body map[string]json.RawMessage, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}
