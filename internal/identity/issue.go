package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// AccessClaims are the claims of the access tokens Steward issues: the
// Entra v2.0 app-only token claims, with the v1 appid/appidacr kept beside
// azp/azpacr because Azure services and tools read either.
type AccessClaims struct {
	Audience          string   `json:"aud"`
	Issuer            string   `json:"iss"`
	IssuedAt          int64    `json:"iat"`
	NotBefore         int64    `json:"nbf"`
	Expiry            int64    `json:"exp"`
	AppID             string   `json:"appid,omitempty"`
	AppIDACR          string   `json:"appidacr,omitempty"`
	AuthorizedParty   string   `json:"azp,omitempty"`
	AuthorizedPartyAC string   `json:"azpacr,omitempty"`
	Groups            []string `json:"groups,omitempty"`
	Roles             []string `json:"roles,omitempty"`
	IdentityProvider  string   `json:"idp,omitempty"`
	IdentityType      string   `json:"idtyp"`
	ObjectID          string   `json:"oid"`
	Subject           string   `json:"sub"`
	TenantID          string   `json:"tid"`
	TokenID           string   `json:"uti"`
	Version           string   `json:"ver"`
	// Claims of delegated (user) tokens only.
	Scope             string   `json:"scp,omitempty"`
	Name              string   `json:"name,omitempty"`
	PreferredUsername string   `json:"preferred_username,omitempty"`
	AMR               []string `json:"amr,omitempty"`
	AuthTime          int64    `json:"auth_time,omitempty"`
	ACR               string   `json:"acr,omitempty"`
	ACRS              []string `json:"acrs,omitempty"`
}

// issue signs an app-only access token for sp and resource with the
// tenant's active key and returns it with its expiry. acr is "1" for a
// secret and "2" for a certificate, as in Entra.
func (s *Service) issue(ctx context.Context, tenantID string, sp ServicePrincipal, resource, acr string,
	now time.Time, authority string) (string, time.Time, error) {
	key, err := s.keys.active(ctx, tenantID)
	if err != nil {
		return "", time.Time{}, err
	}
	groups, err := s.dir.TransitiveGroups(ctx, tenantID, sp.ID)
	if err != nil {
		return "", time.Time{}, err
	}
	roles, err := s.appRolesFor(ctx, tenantID, sp.ID, resource)
	if err != nil {
		return "", time.Time{}, err
	}
	exp := now.Add(s.opts.TokenLifetime).Truncate(time.Second)
	iss := IssuerFor(authority, tenantID)
	claims := AccessClaims{
		Audience:          resource,
		Issuer:            iss,
		IssuedAt:          now.Unix(),
		NotBefore:         now.Unix(),
		Expiry:            exp.Unix(),
		AppID:             sp.AppID,
		AppIDACR:          acr,
		AuthorizedParty:   sp.AppID,
		AuthorizedPartyAC: acr,
		Groups:            groups,
		Roles:             roles,
		IdentityProvider:  iss,
		IdentityType:      "app",
		ObjectID:          sp.ID,
		Subject:           sp.ID,
		TenantID:          tenantID,
		TokenID:           s.opts.NewID(),
		Version:           "2.0",
	}
	tok, err := jwt.Signed(key.signer).Claims(claims).Serialize()
	if err != nil {
		return "", time.Time{}, err
	}
	return tok, exp, nil
}

// appRolesFor returns the values of the app roles that principalID has
// been assigned on the application that resource names (its roles claim),
// or none for the Azure resources Steward serves, which define no app
// roles.
func (s *Service) appRolesFor(ctx context.Context, tenantID, principalID, resource string) ([]string, error) {
	if s.resources[normalizeResource(resource)] {
		return nil, nil
	}
	appID, err := s.dir.ResourceOwner(ctx, tenantID, resource)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	app, err := s.dir.Application(ctx, tenantID, appID)
	if err != nil {
		return nil, err
	}
	resSP, err := s.dir.ServicePrincipal(ctx, tenantID, appID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var defined []struct {
		ID        string `json:"id"`
		Value     string `json:"value"`
		IsEnabled bool   `json:"isEnabled"`
	}
	if raw, ok := app.Properties["appRoles"]; ok {
		if err := json.Unmarshal(raw, &defined); err != nil {
			return nil, fmt.Errorf("identity: appRoles of %s: %w", appID, err)
		}
	}
	if len(defined) == 0 {
		return nil, nil
	}
	all, err := s.dir.AppRoleAssignments(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range all {
		if !strings.EqualFold(a.PrincipalID, principalID) || !strings.EqualFold(a.ResourceID, resSP.ID) {
			continue
		}
		for _, d := range defined {
			if strings.EqualFold(d.ID, a.AppRoleID) && d.IsEnabled && d.Value != "" && !slices.Contains(out, d.Value) {
				out = append(out, d.Value)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}
