package graph

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/steward-gov/steward/internal/identity"
)

// softwareOathMethodID is the one TOTP method a Steward user can have; its
// ID is fixed, as a user has at most one authenticator app registered.
const softwareOathMethodID = "7a8d1f2e-0b6c-4c3d-9e5f-0a1b2c3d4e5f"

// userActions serves a user's sign-in administration: the
// revokeSignInSessions action and authentication/softwareOathMethods
// (list, delete; POST is Steward's own: an administrator's TOTP
// enrolment, which Graph does not offer). ok is false for other paths.
func (c *call) userActions(u identity.User, rest []string) (bool, error) {
	switch {
	case len(rest) == 1 && strings.EqualFold(rest[0], "revokeSignInSessions"):
		if c.r.Method != http.MethodPost {
			return true, methodNotAllowed(c.r)
		}
		if err := c.manage(u); err != nil {
			return true, err
		}
		u.SignInSessionsValidFrom = c.h.id.Now().UTC()
		if err := c.h.dir.PutUser(c.ctx, u); err != nil {
			return true, err
		}
		c.writeJSON(http.StatusOK, map[string]any{"@odata.context": c.base + "/$metadata#Edm.Boolean", "value": true})
		return true, nil
	case len(rest) >= 2 && strings.EqualFold(rest[0], "authentication") && strings.EqualFold(rest[1], "softwareOathMethods"):
		return true, c.softwareOath(u, rest[2:])
	case len(rest) >= 2 && strings.EqualFold(rest[0], "authentication") && strings.EqualFold(rest[1], "fido2Methods"):
		return true, c.fido2(u, rest[2:])
	}
	return false, nil
}

func (c *call) manage(u identity.User) error {
	ok, err := c.mayManageUser(u)
	if err != nil {
		return err
	}
	return allow(ok)
}

func (c *call) softwareOath(u identity.User, rest []string) error {
	if err := c.manage(u); err != nil && !c.is(u.ID) {
		return err
	}
	enrolled, _, err := c.h.id.SecondFactors(c.ctx, c.tenant, u.ID)
	if err != nil {
		return err
	}
	method := map[string]any{"@odata.type": "#microsoft.graph.softwareOathAuthenticationMethod", "id": softwareOathMethodID, "secretKey": nil}
	if len(rest) == 0 {
		switch c.r.Method {
		case http.MethodGet:
			var items []any
			if enrolled {
				items = append(items, method)
			}
			if items == nil {
				items = []any{}
			}
			c.writeJSON(http.StatusOK, map[string]any{"value": items})
			return nil
		case http.MethodPost:
			if err := c.manage(u); err != nil {
				return err
			}
			e, codes, err := c.h.id.EnrollTOTP(c.ctx, c.tenant, u)
			if errors.Is(err, identity.ErrMFAEnrolled) {
				return gerr(http.StatusConflict, "Request_BadRequest", "The user already has a second factor (an authenticator app or security keys); delete it first.")
			} else if err != nil {
				return err
			}
			method["secretKey"] = e.Secret
			method["otpauthUri"] = e.URI
			method["recoveryCodes"] = codes
			c.writeJSON(http.StatusCreated, method)
			return nil
		}
		return methodNotAllowed(c.r)
	}
	if len(rest) != 1 || !strings.EqualFold(rest[0], softwareOathMethodID) || !enrolled {
		return notFound(strings.Join(rest, "/"))
	}
	switch c.r.Method {
	case http.MethodGet:
		c.writeJSON(http.StatusOK, method)
		return nil
	case http.MethodDelete:
		if err := c.manage(u); err != nil {
			return err
		}
		if err := c.h.id.ResetMFA(c.ctx, c.tenant, u.ID); err != nil {
			return err
		}
		return c.noContent()
	}
	return methodNotAllowed(c.r)
}

// fido2 serves authentication/fido2Methods: the user's security keys
// (list, get, delete). Keys are registered by the user at sign-in, never
// through Graph (as in Entra).
func (c *call) fido2(u identity.User, rest []string) error {
	if err := c.manage(u); err != nil && !c.is(u.ID) {
		return err
	}
	_, keys, err := c.h.id.SecondFactors(c.ctx, c.tenant, u.ID)
	if err != nil {
		return err
	}
	method := func(k identity.SecurityKey) map[string]any {
		return map[string]any{"@odata.type": "#microsoft.graph.fido2AuthenticationMethod", "id": k.ID,
			"displayName": "Security key", "aaGuid": k.AAGUID, "model": nil, "createdDateTime": nil,
			"attestationLevel": "notAttested", "attestationCertificates": []string{}}
	}
	if len(rest) == 0 {
		if c.r.Method != http.MethodGet {
			return methodNotAllowed(c.r)
		}
		items := []any{}
		for _, k := range keys {
			items = append(items, method(k))
		}
		c.writeJSON(http.StatusOK, map[string]any{"value": items})
		return nil
	}
	i := slices.IndexFunc(keys, func(k identity.SecurityKey) bool { return len(rest) == 1 && k.ID == rest[0] })
	if i < 0 {
		return notFound(strings.Join(rest, "/"))
	}
	switch c.r.Method {
	case http.MethodGet:
		c.writeJSON(http.StatusOK, method(keys[i]))
		return nil
	case http.MethodDelete:
		if err := c.manage(u); err != nil {
			return err
		}
		if err := c.h.id.RemoveSecurityKey(c.ctx, c.tenant, u.ID, keys[i].ID); err != nil {
			return err
		}
		return c.noContent()
	}
	return methodNotAllowed(c.r)
}
