package graph

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/steward-gov/steward/internal/identity"
)

var groupType = typeInfo{name: "group", set: "groups",
	filterable: []string{"id", "displayName", "mailNickname", "mailEnabled", "securityEnabled", "groupTypes", "description", "createdDateTime"},
	orderable:  []string{"displayName", "createdDateTime"}}

func groupJSON(g identity.Group) map[string]any {
	m := map[string]any{
		"@odata.type":        groupType.odataType(),
		"id":                 g.ID,
		"displayName":        g.DisplayName,
		"description":        nil,
		"mailNickname":       nil,
		"mailEnabled":        false,
		"securityEnabled":    true,
		"groupTypes":         []string{},
		"mail":               nil,
		"visibility":         nil,
		"isAssignableToRole": nil,
		"createdDateTime":    timeOrZero(g.Created),
		"deletedDateTime":    nil,
	}
	return withProps(m, g.Properties)
}

func (c *call) findGroup(id string) (identity.Group, error) {
	g, err := c.h.dir.Group(c.ctx, c.tenant, id)
	if err != nil {
		return g, notFound(id)
	}
	return g, nil
}

func (c *call) groups(key string, rest []string) error {
	if key != "" {
		return badRequest("Invalid key '%s': use groups/{id}.", key)
	}
	if len(rest) == 0 {
		switch c.r.Method {
		case http.MethodGet:
			if !c.reader() {
				return denied()
			}
			gs, err := c.h.dir.Groups(c.ctx, c.tenant)
			if err != nil {
				return err
			}
			return c.list(groupType, groupsJSON(gs), groupType.set)
		case http.MethodPost:
			return c.createGroup()
		}
		return methodNotAllowed(c.r)
	}
	if rest[0] == "$count" {
		if !c.reader() {
			return denied()
		}
		gs, err := c.h.dir.Groups(c.ctx, c.tenant)
		if err != nil {
			return err
		}
		return c.countOnly(len(gs))
	}
	g, err := c.findGroup(rest[0])
	if err != nil {
		return err
	}
	rest = rest[1:]
	canWrite := c.groupAdmin() || c.owns(g.Owners)
	if !c.reader() && !canWrite {
		return denied()
	}
	if c.r.Method != http.MethodGet {
		if canWrite, err = c.guard(canWrite, g.ID); err != nil {
			return err
		}
	}
	if len(rest) == 0 {
		switch c.r.Method {
		case http.MethodGet:
			return c.one(groupType, groupJSON(g), http.StatusOK)
		case http.MethodPatch:
			if err := allow(canWrite); err != nil {
				return err
			}
			body, err := c.decode()
			if err != nil {
				return err
			}
			if err := c.applyGroup(&g, body, false); err != nil {
				return err
			}
			if err := c.h.dir.PutGroup(c.ctx, g); err != nil {
				return err
			}
			return c.noContent()
		case http.MethodDelete:
			if err := allow(canWrite); err != nil {
				return err
			}
			if err := c.h.dir.DeleteGroup(c.ctx, g); err != nil {
				return err
			}
			return c.noContent()
		}
		return methodNotAllowed(c.r)
	}
	save := func(set func(*identity.Group, []string)) func([]string) error {
		return func(ids []string) error {
			set(&g, ids)
			return c.h.dir.PutGroup(c.ctx, g)
		}
	}
	switch strings.ToLower(rest[0]) {
	case "members":
		return c.references(rest[1:], g.Members, canWrite, "members",
			save(func(g *identity.Group, ids []string) { g.Members = ids }), "user", "servicePrincipal", "group")
	case "owners":
		return c.references(rest[1:], g.Owners, canWrite, "owners",
			save(func(g *identity.Group, ids []string) { g.Owners = ids }), "user", "servicePrincipal")
	case "transitivemembers":
		if c.r.Method != http.MethodGet || len(rest) != 1 {
			return noRoute(c.r)
		}
		d, err := c.snapshot()
		if err != nil {
			return err
		}
		return c.list(objectType, d.objectsJSON(d.transitiveMembers(g.ID)), "directoryObjects")
	}
	d, err := c.snapshot()
	if err != nil {
		return err
	}
	return c.memberFunctions(d, g.ID, rest)
}

// applyGroup applies a group body. Steward's groups are security groups:
// mail-enabled and Microsoft 365 ("Unified") groups need Exchange and are
// refused.
func (c *call) applyGroup(g *identity.Group, body map[string]json.RawMessage, create bool) error {
	if s, ok, err := str(body, "displayName"); err != nil {
		return err
	} else if ok {
		if strings.TrimSpace(s) == "" || len(s) > 256 {
			return badRequest("Invalid value specified for property 'displayName' of resource 'Group'.")
		}
		g.DisplayName = s
	} else if create {
		return badRequest("Property 'displayName' is required when creating a group.")
	}
	if create {
		for _, req := range []string{"mailNickname", "mailEnabled", "securityEnabled"} {
			if _, ok := body[req]; !ok {
				return badRequest("Property '%s' is required when creating a group.", req)
			}
		}
	}
	if v, ok, err := boolean(body, "mailEnabled"); err != nil {
		return err
	} else if ok && v {
		return badRequest("Mail-enabled groups are not supported: Steward has no mail service (mailEnabled must be false).")
	}
	if v, ok, err := boolean(body, "securityEnabled"); err != nil {
		return err
	} else if ok && !v {
		return badRequest("Only security groups are supported: securityEnabled must be true.")
	}
	if t, ok, err := strs(body, "groupTypes"); err != nil {
		return err
	} else if ok && len(t) > 0 {
		return badRequest("groupTypes %v are not supported: Steward's groups are security groups with assigned membership.", t)
	}
	if s, ok, err := str(body, "mailNickname"); err != nil {
		return err
	} else if ok && (s == "" || len(s) > 64 || strings.ContainsAny(s, "@()\\[]\";:<>, ")) {
		return badRequest("Invalid value specified for property 'mailNickname' of resource 'Group'.")
	}
	props, err := setProps("microsoft.graph.group", groupProps, g.Properties, body,
		"displayName", "members@odata.bind", "owners@odata.bind")
	if err != nil {
		return err
	}
	g.Properties = props
	return nil
}

func (c *call) createGroup() error {
	if !c.groupAdmin() {
		return denied()
	}
	body, err := c.decode()
	if err != nil {
		return err
	}
	g := identity.Group{ID: c.h.id.NewID(), TenantID: c.tenant, Created: c.h.id.Now().UTC()}
	if err := c.applyGroup(&g, body, true); err != nil {
		return err
	}
	d, err := c.snapshot()
	if err != nil {
		return err
	}
	for prop, allowed := range map[string][]string{"members@odata.bind": {"user", "servicePrincipal", "group"}, "owners@odata.bind": {"user", "servicePrincipal"}} {
		refs, _, err := strs(body, prop)
		if err != nil {
			return err
		}
		for _, ref := range refs {
			id, err := refID(ref)
			if err != nil {
				return err
			}
			_, kind, ok := d.object(id)
			if !ok {
				return notFound(id)
			}
			if !slices.Contains(allowed, kind) {
				return badRequest("A %s cannot be bound to '%s'.", kind, prop)
			}
			if prop == "members@odata.bind" {
				g.Members = append(g.Members, id)
			} else {
				g.Owners = append(g.Owners, id)
			}
		}
	}
	if c.p.IdentityType == "user" && len(g.Owners) == 0 {
		g.Owners = []string{strings.ToLower(c.p.ObjectID)}
	}
	if err := c.h.dir.PutGroup(c.ctx, g); err != nil {
		return err
	}
	return c.one(groupType, groupJSON(g), http.StatusCreated)
}
