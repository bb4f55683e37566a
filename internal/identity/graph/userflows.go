package graph

import (
	"errors"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/identity"
)

// userFlowsBeta is the path, under /beta/, of Graph's B2C user flows
// (identityContainer's b2cUserFlows, a beta API), one of the two beta
// paths Steward's Graph serves (credactivity.go has the other).
const userFlowsBeta = "identity/b2cuserflows"

// isUserFlowsPath reports whether rest (the path after /beta/) is
// identity/b2cUserFlows or one of its flows.
func isUserFlowsPath(rest string) bool {
	l := strings.ToLower(strings.TrimSuffix(rest, "/"))
	return l == userFlowsBeta || strings.HasPrefix(l, userFlowsBeta+"/")
}

// userFlows serves identity/b2cUserFlows: GET lists, POST creates (201
// with Location), GET and DELETE of /{id}. Reading takes a directory
// reader role, writing Global Administrator (Entra's External ID User
// Flow Administrator role is not modelled).
func (c *call) userFlows(seg []string) error {
	if len(seg) > 1 {
		return noRoute(c.r)
	}
	if len(seg) == 0 {
		switch c.r.Method {
		case http.MethodGet:
			if !c.reader() {
				return denied()
			}
			flows, err := c.h.dir.UserFlows(c.ctx, c.tenant)
			if err != nil {
				return err
			}
			out := make([]map[string]any, 0, len(flows))
			for _, f := range flows {
				out = append(out, userFlowJSON(f))
			}
			c.writeJSON(http.StatusOK, map[string]any{"@odata.context": c.base + "/$metadata#identity/b2cUserFlows", "value": out})
			return nil
		case http.MethodPost:
			if !c.has() {
				return denied()
			}
			var in identity.UserFlow
			if err := c.decodeInto(&in); err != nil {
				return err
			}
			if in.ID == "" {
				return badRequest("The property 'id' is required.")
			}
			f, err := c.h.opts.Identity.CreateUserFlow(c.ctx, c.tenant, in)
			switch {
			case errors.Is(err, identity.ErrInvalidUserFlow):
				return badRequest("%s.", strings.TrimPrefix(err.Error(), identity.ErrInvalidUserFlow.Error()+": "))
			case errors.Is(err, identity.ErrExists):
				return gerr(http.StatusConflict, "ObjectConflict", "A user flow with the name '%s' already exists.", in.ID)
			case err != nil:
				return err
			}
			out := userFlowJSON(f)
			out["@odata.context"] = c.base + "/$metadata#identity/b2cUserFlows/$entity"
			c.w.Header().Set("Location", c.base+"/identity/b2cUserFlows/"+f.ID)
			c.writeJSON(http.StatusCreated, out)
			return nil
		}
		return methodNotAllowed(c.r)
	}
	id := seg[0]
	switch c.r.Method {
	case http.MethodGet:
		if !c.reader() {
			return denied()
		}
		f, err := c.h.dir.UserFlow(c.ctx, c.tenant, id)
		if errors.Is(err, identity.ErrNotFound) {
			return notFound(id)
		} else if err != nil {
			return err
		}
		out := userFlowJSON(f)
		out["@odata.context"] = c.base + "/$metadata#identity/b2cUserFlows/$entity"
		c.writeJSON(http.StatusOK, out)
		return nil
	case http.MethodDelete:
		if !c.has() {
			return denied()
		}
		if err := c.h.dir.DeleteUserFlow(c.ctx, c.tenant, id); errors.Is(err, identity.ErrNotFound) {
			return notFound(id)
		} else if err != nil {
			return err
		}
		return c.noContent()
	}
	return methodNotAllowed(c.r)
}

func userFlowJSON(f identity.UserFlow) map[string]any {
	var lang any
	if f.DefaultLanguageTag != "" {
		lang = f.DefaultLanguageTag
	}
	return map[string]any{"id": f.ID, "userFlowType": f.UserFlowType, "userFlowTypeVersion": f.UserFlowTypeVersion,
		"isLanguageCustomizationEnabled": f.IsLanguageCustomizationEnabled, "defaultLanguageTag": lang,
		"multifactorAuthentication": f.MultifactorAuthentication}
}
