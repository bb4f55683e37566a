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
	if len(seg) >= 2 && strings.EqualFold(seg[1], "userAttributeAssignments") {
		return c.userAttributeAssignments(seg[0], seg[2:])
	}
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
			if in.Attributes != nil {
				return badRequest("Assign attributes with POST identity/b2cUserFlows/{id}/userAttributeAssignments after creating the flow.")
			}
			if in.ID == "" {
				return badRequest("The property 'id' is required.")
			}
			f, err := c.h.opts.Identity.CreateUserFlow(c.ctx, c.tenant, in)
			switch {
			case errors.Is(err, identity.ErrInvalidUserFlow):
				return invalidFlow(err)
			case errors.Is(err, identity.ErrExists):
				return gerr(http.StatusConflict, "ObjectConflict", "A user flow with the name '%s' already exists.", in.ID)
			case err != nil:
				return err
			}
			return c.created(userFlowJSON(f), c.base+"/$metadata#identity/b2cUserFlows/$entity", c.base+"/identity/b2cUserFlows/"+f.ID)
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
		return c.deleted(c.h.dir.DeleteUserFlow(c.ctx, c.tenant, id), id)
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

// userAttributeAssignments serves a flow's userAttributeAssignments:
// GET lists, POST assigns a built-in attribute (201 with Location), GET
// and DELETE of /{attribute id}. Access is the flows' own.
func (c *call) userAttributeAssignments(flowID string, seg []string) error {
	if len(seg) > 1 {
		return noRoute(c.r)
	}
	write := c.r.Method != http.MethodGet
	if write && !c.has() || !write && !c.reader() {
		return denied()
	}
	f, err := c.h.dir.UserFlow(c.ctx, c.tenant, flowID)
	if errors.Is(err, identity.ErrNotFound) {
		return notFound(flowID)
	} else if err != nil {
		return err
	}
	base := c.base + "/identity/b2cUserFlows/" + f.ID + "/userAttributeAssignments"
	ctxURL := c.base + "/$metadata#identity/b2cUserFlows('" + f.ID + "')/userAttributeAssignments"
	if len(seg) == 0 {
		switch c.r.Method {
		case http.MethodGet:
			out := []map[string]any{}
			for _, a := range f.UserAttributes() {
				out = append(out, attributeAssignmentJSON(a))
			}
			c.writeJSON(http.StatusOK, map[string]any{"@odata.context": ctxURL, "value": out})
			return nil
		case http.MethodPost:
			var in struct {
				DisplayName          string `json:"displayName"`
				IsOptional           bool   `json:"isOptional"`
				RequiresVerification bool   `json:"requiresVerification"`
				UserInputType        string `json:"userInputType"`
				UserAttributeValues  []any  `json:"userAttributeValues"`
				UserAttribute        *struct {
					ID string `json:"id"`
				} `json:"userAttribute"`
			}
			if err := c.decodeInto(&in); err != nil {
				return err
			}
			if in.UserAttribute == nil || in.UserAttribute.ID == "" {
				return badRequest("The property 'userAttribute' with its 'id' is required.")
			}
			if len(in.UserAttributeValues) > 0 {
				return badRequest("userAttributeValues apply to selection inputs, which Steward's sign-up page does not draw; use textBox without values.")
			}
			a, err := c.h.opts.Identity.AddUserFlowAttribute(c.ctx, c.tenant, f.ID, identity.UserFlowAttribute{ID: in.UserAttribute.ID,
				DisplayName: in.DisplayName, IsOptional: in.IsOptional, RequiresVerification: in.RequiresVerification, UserInputType: in.UserInputType})
			switch {
			case errors.Is(err, identity.ErrInvalidUserFlow):
				return invalidFlow(err)
			case errors.Is(err, identity.ErrExists):
				return gerr(http.StatusConflict, "ObjectConflict", "The attribute '%s' is already assigned to the user flow '%s'.", in.UserAttribute.ID, f.ID)
			case errors.Is(err, identity.ErrNotFound):
				return notFound(flowID)
			case err != nil:
				return err
			}
			return c.created(attributeAssignmentJSON(a), ctxURL+"/$entity", base+"/"+a.ID)
		}
		return methodNotAllowed(c.r)
	}
	id := seg[0]
	switch c.r.Method {
	case http.MethodGet:
		for _, a := range f.UserAttributes() {
			if strings.EqualFold(a.ID, id) {
				out := attributeAssignmentJSON(a)
				out["@odata.context"] = ctxURL + "/$entity"
				c.writeJSON(http.StatusOK, out)
				return nil
			}
		}
		return notFound(id)
	case http.MethodDelete:
		return c.deleted(c.h.opts.Identity.RemoveUserFlowAttribute(c.ctx, c.tenant, f.ID, id), id)
	}
	return methodNotAllowed(c.r)
}

func attributeAssignmentJSON(a identity.UserFlowAttribute) map[string]any {
	return map[string]any{"id": a.ID, "displayName": a.DisplayName, "isOptional": a.IsOptional,
		"requiresVerification": a.RequiresVerification, "userInputType": a.UserInputType, "userAttributeValues": []any{}}
}

// deleted answers a DELETE of id: 204, or 404 when it was not there.
func (c *call) deleted(err error, id string) error {
	if errors.Is(err, identity.ErrNotFound) {
		return notFound(id)
	} else if err != nil {
		return err
	}
	return c.noContent()
}

// created answers a POST: 201 with the object, its @odata.context and
// its Location.
func (c *call) created(out map[string]any, odataContext, location string) error {
	out["@odata.context"] = odataContext
	c.w.Header().Set("Location", location)
	c.writeJSON(http.StatusCreated, out)
	return nil
}

// invalidFlow is the 400 of an identity.ErrInvalidUserFlow, with its reason.
func invalidFlow(err error) error {
	return badRequest("%s.", strings.TrimPrefix(err.Error(), identity.ErrInvalidUserFlow.Error()+": "))
}
