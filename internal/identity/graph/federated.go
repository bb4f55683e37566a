package graph

import (
	"net/http"
	"slices"
	"strings"

	"github.com/steward-gov/steward/internal/identity"
)

var ficType = typeInfo{name: "federatedIdentityCredential", set: "applications/federatedIdentityCredentials",
	filterable: []string{"id", "name", "issuer", "subject"}}

func ficJSON(f identity.FederatedIdentityCredential) map[string]any {
	return map[string]any{"id": f.ID, "name": f.Name, "issuer": f.Issuer, "subject": f.Subject,
		"audiences": orEmpty(f.Audiences), "description": nullable(f.Description)}
}

// ficBody is a federatedIdentityCredential in a request body.
type ficBody struct {
	OData       string    `json:"@odata.type,omitempty"`
	ID          string    `json:"id"`
	Name        *string   `json:"name"`
	Issuer      *string   `json:"issuer"`
	Subject     *string   `json:"subject"`
	Audiences   *[]string `json:"audiences"`
	Description *string   `json:"description"`
}

// federated serves applications/{id}/federatedIdentityCredentials: list,
// create, and get, update, delete by ID or name.
func (c *call) federated(app identity.Application, rest []string, canWrite bool) error {
	if len(rest) == 0 {
		switch c.r.Method {
		case http.MethodGet:
			items := make([]map[string]any, 0, len(app.FederatedIdentityCredentials))
			for _, f := range app.FederatedIdentityCredentials {
				items = append(items, ficJSON(f))
			}
			return c.list(ficType, items, "applications('"+app.ObjectID+"')/federatedIdentityCredentials")
		case http.MethodPost:
			if err := allow(canWrite); err != nil {
				return err
			}
			var in ficBody
			if err := c.decodeInto(&in); err != nil {
				return err
			}
			f := identity.FederatedIdentityCredential{}
			applyFIC(&f, in)
			f, err := c.h.id.AddFederatedCredential(c.ctx, app.TenantID, app.AppID, f)
			if err != nil {
				if _, ok := err.(*graphError); ok {
					return err
				}
				return badRequest("Invalid federated identity credential: %s.", err)
			}
			return c.one(ficType, ficJSON(f), http.StatusCreated)
		}
		return methodNotAllowed(c.r)
	}
	if len(rest) != 1 {
		return noRoute(c.r)
	}
	i := slices.IndexFunc(app.FederatedIdentityCredentials, func(f identity.FederatedIdentityCredential) bool {
		return strings.EqualFold(f.ID, rest[0]) || strings.EqualFold(f.Name, rest[0])
	})
	if i < 0 {
		return notFound(rest[0])
	}
	switch c.r.Method {
	case http.MethodGet:
		return c.one(ficType, ficJSON(app.FederatedIdentityCredentials[i]), http.StatusOK)
	case http.MethodPatch:
		if err := allow(canWrite); err != nil {
			return err
		}
		var in ficBody
		if err := c.decodeInto(&in); err != nil {
			return err
		}
		f := app.FederatedIdentityCredentials[i]
		if in.Name != nil && !strings.EqualFold(*in.Name, f.Name) {
			return badRequest("The name of a federated identity credential cannot be changed.")
		}
		applyFIC(&f, in)
		others := slices.Delete(slices.Clone(app.FederatedIdentityCredentials), i, i+1)
		if err := identity.CheckFederatedCredential(f, others); err != nil {
			return badRequest("Invalid federated identity credential: %s.", err)
		}
		app.FederatedIdentityCredentials[i] = f
		if err := c.h.dir.PutApplication(c.ctx, app); err != nil {
			return err
		}
		return c.noContent()
	case http.MethodDelete:
		if err := allow(canWrite); err != nil {
			return err
		}
		app.FederatedIdentityCredentials = slices.Delete(app.FederatedIdentityCredentials, i, i+1)
		if err := c.h.dir.PutApplication(c.ctx, app); err != nil {
			return err
		}
		return c.noContent()
	}
	return methodNotAllowed(c.r)
}

func applyFIC(f *identity.FederatedIdentityCredential, in ficBody) {
	if in.Name != nil {
		f.Name = *in.Name
	}
	if in.Issuer != nil {
		f.Issuer = *in.Issuer
	}
	if in.Subject != nil {
		f.Subject = *in.Subject
	}
	if in.Audiences != nil {
		f.Audiences = *in.Audiences
	}
	if in.Description != nil {
		f.Description = *in.Description
	}
}
