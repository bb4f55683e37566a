package graph

import (
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/identity"
)

var objectType = typeInfo{name: "directoryObject", set: "directoryObjects",
	filterable: []string{"id", "displayName"}, orderable: []string{"displayName"}}

// directory is a snapshot of a tenant's objects, for lookups across
// types (references, getByIds, memberships).
type directory struct {
	users  []identity.User
	sps    []identity.ServicePrincipal
	groups []identity.Group
	apps   []identity.Application
}

func (c *call) snapshot() (*directory, error) {
	var d directory
	var err error
	if d.users, err = c.h.dir.Users(c.ctx, c.tenant); err != nil {
		return nil, err
	}
	if d.sps, err = c.h.dir.ServicePrincipals(c.ctx, c.tenant); err != nil {
		return nil, err
	}
	if d.groups, err = c.h.dir.Groups(c.ctx, c.tenant); err != nil {
		return nil, err
	}
	if d.apps, err = c.h.dir.Applications(c.ctx, c.tenant); err != nil {
		return nil, err
	}
	return &d, nil
}

// object returns the Graph representation of the object with id, with
// its @odata.type, and its kind ("user", "servicePrincipal", "group",
// "application"); ok is false when no object has the ID.
func (d *directory) object(id string) (map[string]any, string, bool) {
	for _, u := range d.users {
		if strings.EqualFold(u.ID, id) {
			return userJSON(u), "user", true
		}
	}
	for _, sp := range d.sps {
		if strings.EqualFold(sp.ID, id) {
			var app *identity.Application
			if i := slices.IndexFunc(d.apps, func(a identity.Application) bool { return strings.EqualFold(a.AppID, sp.AppID) }); i >= 0 {
				app = &d.apps[i]
			}
			return spJSON(sp, app), "servicePrincipal", true
		}
	}
	for _, g := range d.groups {
		if strings.EqualFold(g.ID, id) {
			return groupJSON(g), "group", true
		}
	}
	for _, a := range d.apps {
		if strings.EqualFold(a.ObjectID, id) {
			return appJSON(a), "application", true
		}
	}
	return nil, "", false
}

// memberOf returns the groups id belongs to directly, or transitively.
func (d *directory) memberOf(id string, transitive bool) []identity.Group {
	var ids []string
	if transitive {
		ids = transitiveGroups(d.groups, id)
	} else {
		for _, g := range d.groups {
			if slices.ContainsFunc(g.Members, func(m string) bool { return strings.EqualFold(m, id) }) {
				ids = append(ids, strings.ToLower(g.ID))
			}
		}
	}
	var out []identity.Group
	for _, g := range d.groups {
		if slices.Contains(ids, strings.ToLower(g.ID)) {
			out = append(out, g)
		}
	}
	return out
}

// transitiveGroups walks the member-of graph upward from id.
func transitiveGroups(groups []identity.Group, id string) []string {
	seen := map[string]bool{}
	queue := []string{strings.ToLower(id)}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, g := range groups {
			gid := strings.ToLower(g.ID)
			if !seen[gid] && slices.ContainsFunc(g.Members, func(m string) bool { return strings.EqualFold(m, cur) }) {
				seen[gid] = true
				queue = append(queue, gid)
			}
		}
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// transitiveMembers returns the members of group id, through nested
// groups (the nested groups included, as Graph lists them).
func (d *directory) transitiveMembers(id string) []string {
	seen := map[string]bool{}
	var out []string
	var walk func(gid string)
	walk = func(gid string) {
		for _, g := range d.groups {
			if !strings.EqualFold(g.ID, gid) {
				continue
			}
			for _, m := range g.Members {
				k := strings.ToLower(m)
				if seen[k] {
					continue
				}
				seen[k] = true
				out = append(out, k)
				walk(k)
			}
		}
	}
	seen[strings.ToLower(id)] = true
	walk(id)
	return out
}

// objectsJSON lists the objects with ids (unknown IDs are skipped).
func (d *directory) objectsJSON(ids []string) []map[string]any {
	out := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		if o, _, ok := d.object(id); ok {
			out = append(out, o)
		}
	}
	return out
}

func groupsJSON(gs []identity.Group) []map[string]any {
	out := make([]map[string]any, 0, len(gs))
	for _, g := range gs {
		out = append(out, groupJSON(g))
	}
	return out
}

// references serves a reference collection (owners, members) of an
// object: GET lists it, POST $ref adds one, DELETE {id}/$ref removes one.
// allowed are the kinds of objects it may hold.
func (c *call) references(rest []string, ids []string, canWrite bool, prop string, save func([]string) error, allowed ...string) error {
	if len(allowed) == 0 {
		allowed = []string{"user", "servicePrincipal"}
	}
	d, err := c.snapshot()
	if err != nil {
		return err
	}
	switch {
	case len(rest) == 0 && c.r.Method == http.MethodGet:
		return c.list(objectType, d.objectsJSON(ids), "directoryObjects")
	case len(rest) == 1 && rest[0] == "$ref" && c.r.Method == http.MethodGet:
		refs := make([]map[string]any, 0, len(ids))
		for _, id := range ids {
			refs = append(refs, map[string]any{"@odata.id": c.base + "/directoryObjects/" + id})
		}
		c.writeJSON(http.StatusOK, map[string]any{"@odata.context": c.base + "/$metadata#Collection($ref)", "value": refs})
		return nil
	case len(rest) == 1 && rest[0] == "$ref" && c.r.Method == http.MethodPost:
		if err := allow(canWrite); err != nil {
			return err
		}
		body, err := c.decode()
		if err != nil {
			return err
		}
		ref, _, err := str(body, "@odata.id")
		if err != nil {
			return err
		}
		id, err := refID(ref)
		if err != nil {
			return err
		}
		_, kind, ok := d.object(id)
		if !ok {
			return notFound(id)
		}
		if !slices.Contains(allowed, kind) {
			return badRequest("A %s cannot be added to '%s'.", kind, prop)
		}
		if slices.ContainsFunc(ids, func(x string) bool { return strings.EqualFold(x, id) }) {
			return badRequest("One or more added object references already exist for the following modified properties: '%s'.", prop)
		}
		if err := save(append(slices.Clone(ids), strings.ToLower(id))); err != nil {
			return err
		}
		return c.noContent()
	case len(rest) == 2 && rest[1] == "$ref" && c.r.Method == http.MethodDelete:
		if err := allow(canWrite); err != nil {
			return err
		}
		i := slices.IndexFunc(ids, func(x string) bool { return strings.EqualFold(x, rest[0]) })
		if i < 0 {
			return notFound(rest[0])
		}
		if err := save(slices.Delete(slices.Clone(ids), i, i+1)); err != nil {
			return err
		}
		return c.noContent()
	}
	return noRoute(c.r)
}

// refID reads the object ID out of an @odata.id reference: a URL ending
// in /{id}, or the bare ID.
func refID(ref string) (string, error) {
	ref = strings.TrimSuffix(strings.TrimSpace(ref), "/")
	id := ref[strings.LastIndex(ref, "/")+1:]
	if _, err := uuid.Parse(id); err != nil || ref == "" {
		return "", badRequest("Invalid object identifier '%s'.", ref)
	}
	return strings.ToLower(id), nil
}

// directoryObjects serves getByIds, a directory object by ID, and its
// membership functions.
func (c *call) directoryObjects(key string, rest []string) error {
	if key != "" {
		return badRequest("Invalid key '%s': use directoryObjects/{id}.", key)
	}
	if len(rest) == 0 {
		return noRoute(c.r)
	}
	d, err := c.snapshot()
	if err != nil {
		return err
	}
	if strings.EqualFold(rest[0], "getByIds") {
		if c.r.Method != http.MethodPost {
			return methodNotAllowed(c.r)
		}
		return c.getByIds(d)
	}
	obj, _, ok := d.object(rest[0])
	if !ok {
		return notFound(rest[0])
	}
	if !c.reader() && !c.is(rest[0]) {
		return denied()
	}
	if len(rest) == 1 {
		if c.r.Method != http.MethodGet {
			return methodNotAllowed(c.r)
		}
		return c.one(objectType, obj, http.StatusOK)
	}
	return c.memberFunctions(d, rest[0], rest[1:])
}

// getByIds returns the objects with the given IDs, of the given types.
func (c *call) getByIds(d *directory) error {
	body, err := c.decode()
	if err != nil {
		return err
	}
	ids, _, err := strs(body, "ids")
	if err != nil {
		return err
	}
	types, _, err := strs(body, "types")
	if err != nil {
		return err
	}
	if len(ids) > 1000 {
		return badRequest("getByIds takes at most 1000 ids.")
	}
	for _, t := range types {
		if !slices.Contains([]string{"user", "group", "serviceprincipal", "application", "directoryobject"}, strings.ToLower(t)) {
			return badRequest("Invalid type '%s' in types.", t)
		}
	}
	out := []map[string]any{}
	for _, id := range ids {
		obj, kind, ok := d.object(id)
		if !ok {
			continue
		}
		if !c.reader() && !c.is(id) {
			return denied()
		}
		if len(types) > 0 && !containsFold(types, kind) && !containsFold(types, "directoryObject") {
			continue
		}
		out = append(out, obj)
	}
	c.writeJSON(http.StatusOK, map[string]any{"@odata.context": c.base + "/$metadata#directoryObjects", "value": out})
	return nil
}

// memberFunctions serves memberOf, transitiveMemberOf,
// checkMemberGroups, getMemberGroups and getMemberObjects for object id.
func (c *call) memberFunctions(d *directory, id string, rest []string) error {
	if len(rest) != 1 {
		return noRoute(c.r)
	}
	switch strings.ToLower(rest[0]) {
	case "memberof", "transitivememberof":
		if c.r.Method != http.MethodGet {
			return methodNotAllowed(c.r)
		}
		gs := d.memberOf(id, strings.EqualFold(rest[0], "transitiveMemberOf"))
		return c.list(objectType, groupsJSON(gs), "directoryObjects")
	case "checkmembergroups":
		if c.r.Method != http.MethodPost {
			return methodNotAllowed(c.r)
		}
		body, err := c.decode()
		if err != nil {
			return err
		}
		want, _, err := strs(body, "groupIds")
		if err != nil {
			return err
		}
		if len(want) > 20 {
			return badRequest("checkMemberGroups takes at most 20 groupIds.")
		}
		have := transitiveGroups(d.groups, id)
		out := []string{}
		for _, g := range want {
			if slices.Contains(have, strings.ToLower(g)) {
				out = append(out, g)
			}
		}
		c.writeJSON(http.StatusOK, map[string]any{"@odata.context": c.base + "/$metadata#Collection(Edm.String)", "value": out})
		return nil
	case "getmembergroups", "getmemberobjects":
		if c.r.Method != http.MethodPost {
			return methodNotAllowed(c.r)
		}
		body, err := c.decode()
		if err != nil {
			return err
		}
		var in struct {
			SecurityEnabledOnly *bool `json:"securityEnabledOnly"`
		}
		if err := remarshal(body, &in); err != nil || in.SecurityEnabledOnly == nil {
			return badRequest("securityEnabledOnly (true or false) is required.")
		}
		out := []string{}
		for _, gid := range transitiveGroups(d.groups, id) {
			out = append(out, gid)
		}
		if strings.EqualFold(rest[0], "getMemberObjects") {
			roles, err := c.h.dir.RolesOf(c.ctx, c.tenant, id, out)
			if err != nil {
				return err
			}
			out = append(out, roles...)
		}
		c.writeJSON(http.StatusOK, map[string]any{"@odata.context": c.base + "/$metadata#Collection(Edm.String)", "value": out})
		return nil
	}
	return noRoute(c.r)
}

var orgType = typeInfo{name: "organization", set: "organization", filterable: []string{"id"}}

func orgJSON(t identity.Tenant) map[string]any {
	domains := make([]any, 0, len(t.Domains))
	for i, d := range t.Domains {
		domains = append(domains, map[string]any{"name": d, "isDefault": i == 0, "isInitial": i == 0, "type": "Managed", "capabilities": "None"})
	}
	return map[string]any{
		"@odata.type":       orgType.odataType(),
		"id":                t.ID,
		"displayName":       t.DisplayName,
		"createdDateTime":   timeOrZero(t.Created),
		"verifiedDomains":   domains,
		"tenantType":        "AAD",
		"countryLetterCode": nil,
		"deletedDateTime":   nil,
	}
}

// organization serves the caller's tenant; any authenticated caller of
// the tenant may read it, as in Entra.
func (c *call) organization(rest []string) error {
	if c.r.Method != http.MethodGet {
		return methodNotAllowed(c.r)
	}
	t, err := c.h.dir.Tenant(c.ctx, c.tenant)
	if err != nil {
		return err
	}
	switch len(rest) {
	case 0:
		return c.list(orgType, []map[string]any{orgJSON(t)}, "organization")
	case 1:
		if !strings.EqualFold(rest[0], t.ID) {
			return notFound(rest[0])
		}
		return c.one(orgType, orgJSON(t), http.StatusOK)
	}
	return noRoute(c.r)
}

// me serves the signed-in user; app-only tokens have none.
func (c *call) me(rest []string) error {
	if c.p.IdentityType != "user" {
		return badRequest("/me request is only valid with delegated authentication flow.")
	}
	u, err := c.h.dir.User(c.ctx, c.tenant, c.p.ObjectID)
	if err != nil {
		return err
	}
	return c.userRoutes(u, rest)
}

// decodeInto decodes the request body into a struct.
func (c *call) decodeInto(out any) error {
	body, err := c.decode()
	if err != nil {
		return err
	}
	if err := remarshal(body, out); err != nil {
		return badRequest("Invalid request body: %s.", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}
