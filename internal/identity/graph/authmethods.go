package graph

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/steward-gov/steward/internal/identity"
)

// passwordMethodID is Graph's ID of every user's password method.
const passwordMethodID = "28c10230-6103-485e-b985-444c60001490"

// userActions serves a user's sign-in administration: the
// revokeSignInSessions action; authentication/methods (list);
// authentication/softwareOathMethods (list, get, delete; POST is
// Steward's own: an administrator's TOTP enrolment, which Graph does not
// offer); authentication/fido2Methods; and
// authentication/microsoftAuthenticatorMethods, always empty (Steward has
// no push-notification app). ok is false for other paths.
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
	case len(rest) == 2 && strings.EqualFold(rest[0], "authentication") && strings.EqualFold(rest[1], "methods"):
		return true, c.authMethods(u)
	case len(rest) >= 2 && strings.EqualFold(rest[0], "authentication") && strings.EqualFold(rest[1], "microsoftAuthenticatorMethods"):
		if err := c.manage(u); err != nil && !c.is(u.ID) {
			return true, err
		}
		if len(rest) > 2 {
			return true, notFound(strings.Join(rest[2:], "/"))
		} else if c.r.Method != http.MethodGet {
			return true, methodNotAllowed(c.r)
		}
		c.writeJSON(http.StatusOK, map[string]any{"value": []any{}})
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

// authMethods lists the user's methods: the password (when the user has
// one), security keys and authenticator apps.
func (c *call) authMethods(u identity.User) error {
	if err := c.manage(u); err != nil && !c.is(u.ID) {
		return err
	}
	if c.r.Method != http.MethodGet {
		return methodNotAllowed(c.r)
	}
	apps, keys, err := c.methodsOf(u)
	if err != nil {
		return err
	}
	items := []any{}
	if u.PasswordHash != "" {
		items = append(items, map[string]any{"@odata.type": "#microsoft.graph.passwordAuthenticationMethod", "id": passwordMethodID,
			"password": nil, "createdDateTime": nil})
	}
	for _, k := range keys {
		items = append(items, fido2JSON(k))
	}
	for _, a := range apps {
		items = append(items, oathJSON(a))
	}
	c.writeJSON(http.StatusOK, map[string]any{"value": items})
	return nil
}

func (c *call) methodsOf(u identity.User) ([]identity.AuthenticatorApp, []identity.SecurityKey, error) {
	apps, err := c.h.id.AuthenticatorApps(c.ctx, c.tenant, u.ID)
	if err != nil {
		return nil, nil, err
	}
	_, keys, err := c.h.id.SecondFactors(c.ctx, c.tenant, u.ID)
	return apps, keys, err
}

func oathJSON(a identity.AuthenticatorApp) map[string]any {
	return map[string]any{"@odata.type": "#microsoft.graph.softwareOathAuthenticationMethod", "id": a.ID, "secretKey": nil}
}

func fido2JSON(k identity.SecurityKey) map[string]any {
	return map[string]any{"@odata.type": "#microsoft.graph.fido2AuthenticationMethod", "id": k.ID,
		"displayName": "Security key", "aaGuid": k.AAGUID, "model": nil, "createdDateTime": nil,
		"attestationLevel": "notAttested", "attestationCertificates": []string{}}
}

func (c *call) softwareOath(u identity.User, rest []string) error {
	if err := c.manage(u); err != nil && !c.is(u.ID) {
		return err
	}
	apps, err := c.h.id.AuthenticatorApps(c.ctx, c.tenant, u.ID)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		switch c.r.Method {
		case http.MethodGet:
			items := []any{}
			for _, a := range apps {
				items = append(items, oathJSON(a))
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
			if apps, err = c.h.id.AuthenticatorApps(c.ctx, c.tenant, u.ID); err != nil || len(apps) != 1 {
				return errors.Join(err, errors.New("graph: the enrolled app is not listed"))
			}
			method := oathJSON(apps[0])
			method["secretKey"] = e.Secret
			method["otpauthUri"] = e.URI
			method["recoveryCodes"] = codes
			c.writeJSON(http.StatusCreated, method)
			return nil
		}
		return methodNotAllowed(c.r)
	}
	i := slices.IndexFunc(apps, func(a identity.AuthenticatorApp) bool { return len(rest) == 1 && strings.EqualFold(a.ID, rest[0]) })
	if i < 0 {
		return notFound(strings.Join(rest, "/"))
	}
	switch c.r.Method {
	case http.MethodGet:
		c.writeJSON(http.StatusOK, oathJSON(apps[i]))
		return nil
	case http.MethodDelete:
		if err := c.manage(u); err != nil {
			return err
		}
		if err := c.h.id.RemoveAuthenticatorApp(c.ctx, c.tenant, u.ID, apps[i].ID); errors.Is(err, identity.ErrNotFound) {
			return notFound(rest[0])
		} else if err != nil {
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
	method := fido2JSON
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
