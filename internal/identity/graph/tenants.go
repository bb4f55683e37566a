package graph

import (
	"net/http"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/identity"
)

// TenantsPath is Steward's own API to create and list tenants (Graph has
// none: Entra tenants are created in the portal). It takes a Graph token
// of a Global Administrator of the home tenant.
const TenantsPath = "/steward/tenants"

// NewTenant is the answer to creating a tenant: the tenant and its first
// administrator, a service principal with a client secret shown once, who
// is Global Administrator of the new tenant.
type NewTenant struct {
	TenantID     string   `json:"tenantId"`
	DisplayName  string   `json:"displayName"`
	Domains      []string `json:"domains"`
	ClientID     string   `json:"clientId"`
	ObjectID     string   `json:"objectId"`
	ClientSecret string   `json:"clientSecret"`
}

// TenantsHandler serves TenantsPath: GET lists the tenants, POST
// {"displayName", "domains"} creates one with its administrator.
func (h *Handler) TenantsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{h: h, w: w, r: r, ctx: r.Context(), reqID: r.Header.Get("x-ms-request-id")}
		if err := c.authenticate(); err != nil {
			c.fail(err)
			return
		}
		if h.opts.HomeTenant == "" || !strings.EqualFold(c.tenant, h.opts.HomeTenant) || !c.has() {
			c.fail(denied())
			return
		}
		switch r.Method {
		case http.MethodGet:
			ts, err := h.dir.Tenants(c.ctx)
			if err != nil {
				c.fail(err)
				return
			}
			out := make([]map[string]any, 0, len(ts))
			for _, t := range ts {
				out = append(out, map[string]any{"tenantId": t.ID, "displayName": t.DisplayName, "domains": orEmpty(t.Domains),
					"createdDateTime": timeOrZero(t.Created), "home": strings.EqualFold(t.ID, h.opts.HomeTenant)})
			}
			c.writeJSON(http.StatusOK, map[string]any{"value": out})
		case http.MethodPost:
			var in struct {
				DisplayName string   `json:"displayName"`
				Domains     []string `json:"domains"`
			}
			if err := c.decodeInto(&in); err != nil {
				c.fail(err)
				return
			}
			nt, err := c.createTenant(in.DisplayName, in.Domains)
			if err != nil {
				c.fail(err)
				return
			}
			c.writeJSON(http.StatusCreated, nt)
		default:
			c.fail(methodNotAllowed(r))
		}
	})
}

func (c *call) createTenant(name string, domains []string) (NewTenant, error) {
	if strings.TrimSpace(name) == "" || len(name) > 256 {
		return NewTenant{}, badRequest("displayName is required (at most 256 characters).")
	}
	existing, err := c.h.dir.Tenants(c.ctx)
	if err != nil {
		return NewTenant{}, err
	}
	for i, d := range domains {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" || strings.ContainsAny(d, " /@\\:") || !strings.Contains(d, ".") {
			return NewTenant{}, badRequest("Domain '%s' is not a DNS name.", domains[i])
		}
		for _, t := range existing {
			if containsFold(t.Domains, d) {
				return NewTenant{}, badRequest("The domain '%s' is already used by tenant %s.", d, t.ID)
			}
		}
		domains[i] = d
	}
	t, err := c.h.id.CreateTenant(c.ctx, name, domains...)
	if err != nil {
		return NewTenant{}, err
	}
	app, sp, err := c.h.id.CreateApplication(c.ctx, t.ID, "steward-admin")
	if err != nil {
		return NewTenant{}, err
	}
	secret, _, err := c.h.id.AddClientSecret(c.ctx, t.ID, app.AppID, "tenant create", 365*24*time.Hour)
	if err != nil {
		return NewTenant{}, err
	}
	if _, err := c.h.dir.AssignRole(c.ctx, identity.RoleAssignment{ID: c.h.id.NewID(), TenantID: t.ID,
		RoleDefinitionID: identity.RoleGlobalAdministrator, PrincipalID: sp.ID}); err != nil {
		return NewTenant{}, err
	}
	return NewTenant{TenantID: t.ID, DisplayName: t.DisplayName, Domains: orEmpty(t.Domains), ClientID: app.AppID,
		ObjectID: sp.ID, ClientSecret: secret}, nil
}
