package graph

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/identity"
)

// kind is the JSON kind a stored property must have.
type kind int

const (
	kString kind = iota
	kBool
	kObject
	kArray
	kStringArray
)

// propSpec is a writable Graph property kept in an object's Properties:
// its JSON kind and, for complex types, a typed shape it must decode into
// without unknown fields.
type propSpec struct {
	kind  kind
	shape func() any
}

// checkProp validates a stored property's JSON against its spec.
func checkProp(name string, spec propSpec, raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return nil
	}
	var ok bool
	switch spec.kind {
	case kString:
		var s string
		ok = json.Unmarshal(raw, &s) == nil
	case kBool:
		var b bool
		ok = json.Unmarshal(raw, &b) == nil
	case kObject:
		ok = len(raw) > 0 && raw[0] == '{'
	case kArray:
		ok = len(raw) > 0 && raw[0] == '['
	case kStringArray:
		var s []string
		ok = json.Unmarshal(raw, &s) == nil
	}
	if !ok {
		return badRequest("Invalid value for property '%s'.", name)
	}
	if spec.shape != nil {
		v := spec.shape()
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			return badRequest("Invalid value for property '%s': %s.", name, strings.TrimPrefix(err.Error(), "json: "))
		}
		if c, ok := v.(interface{ check() error }); ok {
			if err := c.check(); err != nil {
				return badRequest("Invalid value for property '%s': %s.", name, err)
			}
		}
	}
	return nil
}

// Complex types of applications, with the checks Graph makes.

type permissionScope struct {
	OData                   string  `json:"@odata.type,omitempty"`
	ID                      string  `json:"id"`
	AdminConsentDescription *string `json:"adminConsentDescription"`
	AdminConsentDisplayName *string `json:"adminConsentDisplayName"`
	IsEnabled               bool    `json:"isEnabled"`
	Type                    *string `json:"type"`
	UserConsentDescription  *string `json:"userConsentDescription"`
	UserConsentDisplayName  *string `json:"userConsentDisplayName"`
	Value                   *string `json:"value"`
	Origin                  *string `json:"origin"`
}

type apiApplication struct {
	OData                       string            `json:"@odata.type,omitempty"`
	AcceptMappedClaims          *bool             `json:"acceptMappedClaims"`
	KnownClientApplications     []string          `json:"knownClientApplications"`
	OAuth2PermissionScopes      []permissionScope `json:"oauth2PermissionScopes"`
	PreAuthorizedApplications   []json.RawMessage `json:"preAuthorizedApplications"`
	RequestedAccessTokenVersion *int              `json:"requestedAccessTokenVersion"`
}

func (a *apiApplication) check() error {
	seen := map[string]bool{}
	for _, s := range a.OAuth2PermissionScopes {
		if _, err := uuid.Parse(s.ID); err != nil {
			return fmt.Errorf("oauth2PermissionScopes id '%s' is not a GUID", s.ID)
		}
		if s.Type != nil && *s.Type != "User" && *s.Type != "Admin" {
			return fmt.Errorf("oauth2PermissionScopes type must be User or Admin")
		}
		if s.Value != nil {
			v := strings.ToLower(*s.Value)
			if seen[v] {
				return fmt.Errorf("oauth2PermissionScopes value '%s' is not unique", *s.Value)
			}
			seen[v] = true
		}
	}
	if v := a.RequestedAccessTokenVersion; v != nil && *v != 1 && *v != 2 {
		return fmt.Errorf("requestedAccessTokenVersion must be 1, 2 or null")
	}
	return nil
}

type appRole struct {
	OData              string   `json:"@odata.type,omitempty"`
	AllowedMemberTypes []string `json:"allowedMemberTypes"`
	Description        *string  `json:"description"`
	DisplayName        *string  `json:"displayName"`
	ID                 string   `json:"id"`
	IsEnabled          bool     `json:"isEnabled"`
	Origin             *string  `json:"origin"`
	Value              *string  `json:"value"`
}

type appRoles []appRole

func (rs *appRoles) check() error {
	seen := map[string]bool{}
	for _, r := range *rs {
		if _, err := uuid.Parse(r.ID); err != nil {
			return fmt.Errorf("appRoles id '%s' is not a GUID", r.ID)
		}
		if len(r.AllowedMemberTypes) == 0 {
			return fmt.Errorf("appRoles allowedMemberTypes must name User and/or Application")
		}
		for _, t := range r.AllowedMemberTypes {
			if t != "User" && t != "Application" {
				return fmt.Errorf("appRoles allowedMemberTypes must be User or Application, not '%s'", t)
			}
		}
		if r.Value != nil {
			v := strings.ToLower(*r.Value)
			if seen[v] {
				return fmt.Errorf("appRoles value '%s' is not unique", *r.Value)
			}
			seen[v] = true
		}
	}
	return nil
}

type resourceAccess struct {
	OData string `json:"@odata.type,omitempty"`
	ID    string `json:"id"`
	Type  string `json:"type"`
}

type requiredResourceAccess struct {
	OData          string           `json:"@odata.type,omitempty"`
	ResourceAppID  string           `json:"resourceAppId"`
	ResourceAccess []resourceAccess `json:"resourceAccess"`
}

type requiredResourceAccesses []requiredResourceAccess

func (rs *requiredResourceAccesses) check() error {
	for _, r := range *rs {
		if r.ResourceAppID == "" {
			return fmt.Errorf("requiredResourceAccess resourceAppId is required")
		}
		for _, a := range r.ResourceAccess {
			if _, err := uuid.Parse(a.ID); err != nil {
				return fmt.Errorf("resourceAccess id '%s' is not a GUID", a.ID)
			}
			if a.Type != "Scope" && a.Type != "Role" {
				return fmt.Errorf("resourceAccess type must be Scope or Role, not '%s'", a.Type)
			}
		}
	}
	return nil
}

type implicitGrant struct {
	OData                     string `json:"@odata.type,omitempty"`
	EnableAccessTokenIssuance *bool  `json:"enableAccessTokenIssuance"`
	EnableIDTokenIssuance     *bool  `json:"enableIdTokenIssuance"`
}

type webApplication struct {
	OData                 string            `json:"@odata.type,omitempty"`
	HomePageURL           *string           `json:"homePageUrl"`
	LogoutURL             *string           `json:"logoutUrl"`
	RedirectURIs          []string          `json:"redirectUris"`
	ImplicitGrantSettings *implicitGrant    `json:"implicitGrantSettings"`
	RedirectURISettings   []json.RawMessage `json:"redirectUriSettings"`
}

func (w *webApplication) check() error { return checkRedirects(w.RedirectURIs, false) }

type redirectApplication struct {
	OData        string   `json:"@odata.type,omitempty"`
	RedirectURIs []string `json:"redirectUris"`
}

func (w *redirectApplication) check() error { return checkRedirects(w.RedirectURIs, true) }

// checkRedirects requires absolute redirect URIs: https, or http on
// localhost, as Entra does for web and SPA apps; public clients may use
// custom schemes.
func checkRedirects(uris []string, custom bool) error {
	if len(uris) > 256 {
		return fmt.Errorf("at most 256 redirect URIs")
	}
	for _, s := range uris {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" || len(s) > 256 {
			return fmt.Errorf("redirect URI '%s' is not an absolute URI", s)
		}
		if custom || u.Scheme == "https" || (u.Scheme == "http" && (u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1")) {
			continue
		}
		return fmt.Errorf("redirect URI '%s' must use https (http only for localhost)", s)
	}
	return nil
}

// Writable properties kept in Properties, per type.
var (
	appProps = map[string]propSpec{
		"api":                        {kind: kObject, shape: func() any { return &apiApplication{} }},
		"appRoles":                   {kind: kArray, shape: func() any { return &appRoles{} }},
		"requiredResourceAccess":     {kind: kArray, shape: func() any { return &requiredResourceAccesses{} }},
		"web":                        {kind: kObject, shape: func() any { return &webApplication{} }},
		"spa":                        {kind: kObject, shape: func() any { return &redirectApplication{} }},
		"publicClient":               {kind: kObject, shape: func() any { return &redirectApplication{} }},
		"description":                {kind: kString},
		"notes":                      {kind: kString},
		"tags":                       {kind: kStringArray},
		"isFallbackPublicClient":     {kind: kBool},
		"isDeviceOnlyAuthSupported":  {kind: kBool},
		"groupMembershipClaims":      {kind: kString},
		"optionalClaims":             {kind: kObject},
		"info":                       {kind: kObject},
		"serviceManagementReference": {kind: kString},
		"defaultRedirectUri":         {kind: kString},
	}
	spProps = map[string]propSpec{
		"appRoleAssignmentRequired":  {kind: kBool},
		"description":                {kind: kString},
		"notes":                      {kind: kString},
		"tags":                       {kind: kStringArray},
		"homepage":                   {kind: kString},
		"loginUrl":                   {kind: kString},
		"logoutUrl":                  {kind: kString},
		"replyUrls":                  {kind: kStringArray},
		"notificationEmailAddresses": {kind: kStringArray},
		"preferredSingleSignOnMode":  {kind: kString},
	}
	groupProps = map[string]propSpec{
		"description":        {kind: kString},
		"mailNickname":       {kind: kString},
		"mailEnabled":        {kind: kBool},
		"securityEnabled":    {kind: kBool},
		"groupTypes":         {kind: kStringArray},
		"visibility":         {kind: kString},
		"isAssignableToRole": {kind: kBool},
	}
	userProps = map[string]propSpec{
		"mailNickname":          {kind: kString},
		"givenName":             {kind: kString},
		"surname":               {kind: kString},
		"jobTitle":              {kind: kString},
		"department":            {kind: kString},
		"mail":                  {kind: kString},
		"mobilePhone":           {kind: kString},
		"officeLocation":        {kind: kString},
		"preferredLanguage":     {kind: kString},
		"usageLocation":         {kind: kString},
		"employeeId":            {kind: kString},
		"companyName":           {kind: kString},
		"city":                  {kind: kString},
		"country":               {kind: kString},
		"state":                 {kind: kString},
		"postalCode":            {kind: kString},
		"streetAddress":         {kind: kString},
		"onPremisesImmutableId": {kind: kString},
		"businessPhones":        {kind: kStringArray},
		"otherMails":            {kind: kStringArray},
	}
)

// setProps applies the body's Properties-kept properties to props,
// refusing unknown names; handled are names the caller deals with itself.
func setProps(typ string, specs map[string]propSpec, props identity.Properties, body map[string]json.RawMessage, handled ...string) (identity.Properties, error) {
	if props == nil {
		props = identity.Properties{}
	}
	for k, v := range body {
		if strings.HasPrefix(k, "@odata.") || containsFold(handled, k) {
			continue
		}
		spec, ok := specs[k]
		if !ok {
			return nil, badRequest("Property '%s' does not exist as a declared property or extension property of '%s', or it is read-only.", k, typ)
		}
		if err := checkProp(k, spec, v); err != nil {
			return nil, err
		}
		if string(bytes.TrimSpace(v)) == "null" {
			delete(props, k)
		} else {
			props[k] = v
		}
	}
	return props, nil
}

// withProps returns base with the stored properties laid over it.
func withProps(base map[string]any, props identity.Properties) map[string]any {
	for k, raw := range props {
		var v any
		if json.Unmarshal(raw, &v) == nil {
			base[k] = v
		}
	}
	return base
}

// Body readers.

func str(body map[string]json.RawMessage, name string) (string, bool, error) {
	raw, ok := body[name]
	if !ok {
		return "", false, nil
	}
	var s *string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", true, badRequest("Invalid value for property '%s': a string is required.", name)
	}
	if s == nil {
		return "", true, nil
	}
	return *s, true, nil
}

func boolean(body map[string]json.RawMessage, name string) (bool, bool, error) {
	raw, ok := body[name]
	if !ok {
		return false, false, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		return false, true, badRequest("Invalid value for property '%s': true or false is required.", name)
	}
	return b, true, nil
}

func strs(body map[string]json.RawMessage, name string) ([]string, bool, error) {
	raw, ok := body[name]
	if !ok {
		return nil, false, nil
	}
	var s []string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, true, badRequest("Invalid value for property '%s': an array of strings is required.", name)
	}
	return s, true, nil
}

func timeOrZero(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

func b64(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return base64.StdEncoding.EncodeToString(b)
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
