package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// graphResource is the resource of scopes that name none ("User.Read",
// or only OpenID scopes), as in Entra.
const graphResource = "https://graph.microsoft.com"

// scopeRequest is a delegated scope parameter split into the OpenID
// scopes and the scopes of its one resource.
type scopeRequest struct {
	OIDC     []string // openid, profile, email, offline_access (lower case)
	Resource string   // as written; graphResource when none is named
	Names    []string // scope names on the resource; ".default" kept
}

func (r scopeRequest) has(oidc string) bool { return slices.Contains(r.OIDC, oidc) }

// splitScope parses a space-separated delegated scope parameter: OpenID
// scopes, "<resource>/<name>" (or "/.default"), and bare names, which are
// Microsoft Graph's. All resource scopes must name one resource.
func splitScope(scope string) (scopeRequest, error) {
	var out scopeRequest
	for _, sc := range strings.Fields(scope) {
		if l := strings.ToLower(sc); oidcScopes[l] {
			if !slices.Contains(out.OIDC, l) {
				out.OIDC = append(out.OIDC, l)
			}
			continue
		}
		res, name := graphResource, sc
		if i := strings.LastIndex(sc, "/"); i >= 0 {
			res, name = sc[:i], sc[i+1:]
		}
		if res == "" || name == "" || len(sc) > 512 {
			return out, errScopeUnknown(sc, res)
		}
		if out.Resource != "" && normalizeResource(out.Resource) != normalizeResource(res) {
			return out, errScopeMultipleResources()
		}
		out.Resource = res
		if !slices.Contains(out.Names, name) {
			out.Names = append(out.Names, name)
		}
	}
	if out.Resource == "" {
		out.Resource = graphResource
	}
	return out, nil
}

// resolvedScopes is what a user's token for a scope request carries.
type resolvedScopes struct {
	scopeRequest
	// Scp are the granted scope names (the scp claim).
	Scp []string
	// Missing are scopes the user may consent to that are not granted yet.
	Missing []permissionScope
	// ResourceSP is the resource's service principal object ID, when the
	// resource is an application of the tenant.
	ResourceSP string
}

// permissionScope is an oauth2PermissionScopes entry of an application's api.
type permissionScope struct {
	ID                      string `json:"id"`
	Value                   string `json:"value"`
	Type                    string `json:"type"`
	IsEnabled               bool   `json:"isEnabled"`
	UserConsentDisplayName  string `json:"userConsentDisplayName"`
	AdminConsentDisplayName string `json:"adminConsentDisplayName"`
}

// apiProperties is the part of an application's api property that token
// issuance reads.
type apiProperties struct {
	OAuth2PermissionScopes    []permissionScope `json:"oauth2PermissionScopes"`
	PreAuthorizedApplications []struct {
		AppID                  string   `json:"appId"`
		DelegatedPermissionIDs []string `json:"delegatedPermissionIds"`
	} `json:"preAuthorizedApplications"`
}

// resolveScopes decides which scopes of scope the client may have for
// userID: Azure resources' user_impersonation and Graph's are pre-consented,
// as Entra's first-party apps are; an application's scopes need a grant
// (admin consent for all users, or the user's own), or the client to be
// pre-authorized, or to be the resource itself.
func (s *Service) resolveScopes(ctx context.Context, tenantID string, client Application, clientSP ServicePrincipal,
	userID, scope string) (resolvedScopes, error) {
	req, err := splitScope(scope)
	if err != nil {
		return resolvedScopes{}, err
	}
	out := resolvedScopes{scopeRequest: req}
	switch {
	case normalizeResource(req.Resource) == graphResource:
		for _, o := range req.OIDC {
			if o != "offline_access" {
				out.Scp = append(out.Scp, o)
			}
		}
		for _, n := range req.Names {
			if n != ".default" {
				out.Scp = append(out.Scp, n)
			}
		}
		if !slices.Contains(out.Scp, "User.Read") {
			out.Scp = append(out.Scp, "User.Read")
		}
		return out, nil
	case s.resources[normalizeResource(req.Resource)]:
		for _, n := range req.Names {
			if n != ".default" && !strings.EqualFold(n, "user_impersonation") {
				return out, errScopeUnknown(req.Resource+"/"+n, req.Resource)
			}
		}
		out.Scp = []string{"user_impersonation"}
		return out, nil
	}
	appID, err := s.dir.ResourceOwner(ctx, tenantID, req.Resource)
	if errors.Is(err, ErrNotFound) {
		return out, errResourceNotFound(req.Resource, tenantID)
	} else if err != nil {
		return out, err
	}
	resApp, err := s.dir.Application(ctx, tenantID, appID)
	if err != nil {
		return out, err
	}
	resSP, err := s.dir.ServicePrincipal(ctx, tenantID, appID)
	if errors.Is(err, ErrNotFound) {
		return out, errResourceNotFound(req.Resource, tenantID)
	} else if err != nil {
		return out, err
	}
	out.ResourceSP = resSP.ID
	var api apiProperties
	if raw, ok := resApp.Properties["api"]; ok {
		if err := json.Unmarshal(raw, &api); err != nil {
			return out, fmt.Errorf("identity: api of %s: %w", appID, err)
		}
	}
	granted, err := s.grantedScopes(ctx, tenantID, clientSP.ID, resSP.ID, userID)
	if err != nil {
		return out, err
	}
	self := strings.EqualFold(resApp.AppID, client.AppID)
	pre := map[string]bool{}
	for _, p := range api.PreAuthorizedApplications {
		if strings.EqualFold(p.AppID, client.AppID) {
			for _, id := range p.DelegatedPermissionIDs {
				pre[strings.ToLower(id)] = true
			}
		}
	}
	allowed := func(p permissionScope) bool {
		return self || granted[strings.ToLower(p.Value)] || pre[strings.ToLower(p.ID)]
	}
	for _, n := range req.Names {
		if n == ".default" {
			for _, p := range api.OAuth2PermissionScopes {
				if p.IsEnabled && allowed(p) && !slices.Contains(out.Scp, p.Value) {
					out.Scp = append(out.Scp, p.Value)
				}
			}
			if len(out.Scp) == 0 {
				return out, errConsentRequired(client.AppID)
			}
			continue
		}
		i := slices.IndexFunc(api.OAuth2PermissionScopes, func(p permissionScope) bool {
			return p.IsEnabled && strings.EqualFold(p.Value, n)
		})
		if i < 0 {
			return out, errScopeUnknown(req.Resource+"/"+n, req.Resource)
		}
		p := api.OAuth2PermissionScopes[i]
		switch {
		case allowed(p):
			if !slices.Contains(out.Scp, p.Value) {
				out.Scp = append(out.Scp, p.Value)
			}
		case p.Type == "Admin":
			return out, errAdminConsentRequired(req.Resource + "/" + p.Value)
		default:
			out.Missing = append(out.Missing, p)
		}
	}
	return out, nil
}

// grantedScopes returns the scope values (lower case) the client's
// service principal was granted on the resource's, for all users or for
// userID.
func (s *Service) grantedScopes(ctx context.Context, tenantID, clientSP, resourceSP, userID string) (map[string]bool, error) {
	grants, err := s.dir.Grants(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, g := range grants {
		if !strings.EqualFold(g.ClientID, clientSP) || !strings.EqualFold(g.ResourceID, resourceSP) {
			continue
		}
		if g.ConsentType != "AllPrincipals" && !strings.EqualFold(g.PrincipalID, userID) {
			continue
		}
		for _, v := range strings.Fields(g.Scope) {
			out[strings.ToLower(v)] = true
		}
	}
	return out, nil
}

// consentNeeded returns the display names of the scopes the user has to
// consent to before the client gets them (none when all are granted).
func (s *Service) consentNeeded(ctx context.Context, req authzRequest, userID string) ([]string, error) {
	res, err := s.resolveScopes(ctx, req.TenantID, req.App, req.SP, userID, req.Scope)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range res.Missing {
		name := p.UserConsentDisplayName
		if name == "" {
			name = p.Value
		}
		out = append(out, name)
	}
	if len(out) == 0 && req.Prompt == "consent" {
		out = res.Scp
	}
	return out, nil
}

// grantUserConsent records the user's consent to the scopes the request
// is missing, as an oauth2PermissionGrant of consent type Principal.
func (s *Service) grantUserConsent(ctx context.Context, req authzRequest, userID string) error {
	res, err := s.resolveScopes(ctx, req.TenantID, req.App, req.SP, userID, req.Scope)
	if err != nil || len(res.Missing) == 0 {
		return err
	}
	grants, err := s.dir.Grants(ctx, req.TenantID)
	if err != nil {
		return err
	}
	g := OAuth2PermissionGrant{ID: s.NewID(), TenantID: req.TenantID, ClientID: req.SP.ID, ConsentType: "Principal",
		PrincipalID: userID, ResourceID: res.ResourceSP}
	for _, old := range grants {
		if old.ConsentType == "Principal" && strings.EqualFold(old.ClientID, req.SP.ID) &&
			strings.EqualFold(old.ResourceID, res.ResourceSP) && strings.EqualFold(old.PrincipalID, userID) {
			g = old
		}
	}
	for _, p := range res.Missing {
		g.Scope = strings.TrimSpace(g.Scope + " " + p.Value)
	}
	s.opts.Logger.InfoContext(ctx, "user consented", "tenant", req.TenantID, "oid", userID, "client_id", req.App.AppID, "scope", g.Scope)
	return s.dir.PutGrant(ctx, g)
}
