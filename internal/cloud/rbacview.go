package cloud

import (
	"context"
	"encoding/json"
	"strings"
	"sync"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/rbac"
	"github.com/steward-gov/steward/internal/store"
)

// hierarchy is the management-group tree as rbac needs it, kept in step
// with the stored management groups and subscriptions.
type hierarchy struct {
	mu sync.RWMutex
	// root is the tenant root group: the parent of every subscription and
	// group that names no other ("" when the tenant is unknown).
	root   string
	subs   map[string]string // subscription -> management group
	groups map[string]string // management group -> parent
}

func newHierarchy(root string) *hierarchy {
	return &hierarchy{root: root, subs: map[string]string{}, groups: map[string]string{}}
}

// ParentGroup implements rbac.Hierarchy.
func (h *hierarchy) ParentGroup(kind arm.ScopeKind, name string) string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var p string
	if kind == arm.ScopeSubscription {
		p = h.subs[strings.ToLower(name)]
	} else {
		if strings.EqualFold(name, h.root) {
			return ""
		}
		p = h.groups[strings.ToLower(name)]
	}
	if p == "" {
		return h.root
	}
	return p
}

func (h *hierarchy) setSubscription(sub, mg string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if mg == "" {
		delete(h.subs, strings.ToLower(sub))
		return
	}
	h.subs[strings.ToLower(sub)] = mg
}

func (h *hierarchy) setGroup(mg, parent string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if parent == "" {
		delete(h.groups, strings.ToLower(mg))
		return
	}
	h.groups[strings.ToLower(mg)] = parent
}

// wouldCycle reports whether making parent the parent of mg closes a loop.
func (h *hierarchy) wouldCycle(mg, parent string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for p, n := strings.ToLower(parent), 0; p != "" && n < 1000; n++ {
		if p == strings.ToLower(mg) {
			return true
		}
		p = strings.ToLower(h.groups[p])
	}
	return false
}

// rbacTypes are the types whose documents feed rbac's engine.
var rbacTypes = []string{TypeRoleDefinition, TypeRoleAssignment, TypeDenyAssignment}

// reloadRBAC rebuilds the engine and the hierarchy from the store.
func (c *Cloud) reloadRBAC(ctx context.Context) error {
	h := newHierarchy(c.opts.TenantID)
	docs := map[string][]Resource{}
	for _, t := range append([]string{TypeManagementGroup, TypeMGSubscription}, rbacTypes...) {
		rs, err := c.listAll(ctx, t)
		if err != nil {
			return err
		}
		docs[t] = rs
	}
	for _, r := range docs[TypeManagementGroup] {
		h.setGroup(r.ID[strings.LastIndexByte(r.ID, '/')+1:], mgParentName(r.Doc))
	}
	for _, r := range docs[TypeMGSubscription] {
		mg, sub := mgSubscriptionOf(r.ID)
		h.setSubscription(sub, mg)
	}
	cat, err := rbac.BuiltInCatalog()
	if err != nil {
		return err
	}
	if c.opts.Catalog != nil {
		for _, rd := range c.opts.Catalog.List() {
			_ = cat.Add(rd)
		}
	}
	for _, r := range docs[TypeRoleDefinition] {
		var rd rbac.RoleDefinition
		if err := remarshal(r.Doc, &rd); err != nil || cat.Add(&rd) != nil {
			c.log.Warn("skipping stored role definition", "id", r.ID, "err", err)
		}
	}
	eng := rbac.NewEngine(cat, rbac.WithHierarchy(h), rbac.WithClock(c.now))
	for _, r := range docs[TypeRoleAssignment] {
		var ra rbac.RoleAssignment
		if err := remarshal(r.Doc, &ra); err != nil {
			c.log.Warn("skipping stored role assignment", "id", r.ID, "err", err)
			continue
		}
		if err := eng.AddRoleAssignment(ra); err != nil {
			c.log.Warn("skipping stored role assignment", "id", r.ID, "err", err)
		}
	}
	for _, r := range docs[TypeDenyAssignment] {
		var da rbac.DenyAssignment
		if err := remarshal(r.Doc, &da); err == nil {
			err = eng.AddDenyAssignment(da)
		}
		if err != nil {
			c.log.Warn("skipping stored deny assignment", "id", r.ID, "err", err)
		}
	}
	c.mu.Lock()
	c.engine, c.hierarchy = eng, h
	c.mu.Unlock()
	return nil
}

// applyRBAC brings the engine and hierarchy up to date with a committed
// change. Changes that the engine cannot apply incrementally (a removed
// role definition or deny assignment) rebuild it from the store.
func (c *Cloud) applyRBAC(ctx context.Context, ch Change) {
	eng := c.Engine()
	var err error
	switch typeKey(ch.Type) {
	case typeKey(TypeRoleAssignment):
		if ch.Operation == OpDelete {
			err = eng.RemoveRoleAssignment(ch.ID)
			break
		}
		var ra rbac.RoleAssignment
		if err = remarshal(ch.Document, &ra); err == nil {
			err = eng.AddRoleAssignment(ra)
		}
	case typeKey(TypeRoleDefinition):
		if ch.Operation == OpDelete {
			err = c.reloadRBAC(ctx)
			break
		}
		var rd rbac.RoleDefinition
		if err = remarshal(ch.Document, &rd); err == nil {
			err = eng.Catalog().Add(&rd)
		}
	case typeKey(TypeDenyAssignment):
		if ch.Operation == OpDelete {
			err = c.reloadRBAC(ctx)
			break
		}
		var da rbac.DenyAssignment
		if err = remarshal(ch.Document, &da); err == nil {
			err = eng.AddDenyAssignment(da)
		}
	case typeKey(TypeManagementGroup):
		name := ch.ID[strings.LastIndexByte(ch.ID, '/')+1:]
		c.currentHierarchy().setGroup(name, "")
		if ch.Operation == OpWrite {
			c.currentHierarchy().setGroup(name, mgParentName(ch.Document))
		}
	case typeKey(TypeMGSubscription):
		mg, sub := mgSubscriptionOf(ch.ID)
		if ch.Operation == OpDelete {
			mg = ""
		}
		c.currentHierarchy().setSubscription(sub, mg)
	}
	if err != nil {
		c.log.Error("rbac view update failed; reloading", "id", ch.ID, "err", err)
		if err := c.reloadRBAC(ctx); err != nil {
			c.log.Error("rbac reload failed", "err", err)
		}
	}
}

func (c *Cloud) currentHierarchy() *hierarchy {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.hierarchy
}

// listAll reads every stored resource of a type.
func (c *Cloud) listAll(ctx context.Context, typ string) ([]Resource, error) {
	var out []Resource
	after := ""
	for {
		page, next, err := c.List(ctx, ListQuery{Type: typ, Limit: store.MaxPageSize, After: after})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		after = next
	}
}

// remarshal converts a document into a typed value through JSON.
func remarshal(doc map[string]any, v any) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// stringAt reads a string at a dotted path of a document.
func stringAt(doc map[string]any, path string) string {
	var cur any = doc
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[k]
	}
	s, _ := cur.(string)
	return s
}

// mgParentName is the name of a management group document's parent, ""
// for the tenant root.
func mgParentName(doc map[string]any) string {
	id := stringAt(doc, "properties.details.parent.id")
	if id == "" {
		return ""
	}
	r, err := arm.ParseResourceID(id)
	if err != nil || r.Kind() != arm.ScopeManagementGroup {
		return ""
	}
	return r.ManagementGroup
}

// mgSubscriptionOf splits the ID of a subscription's membership in a
// management group,
// /providers/Microsoft.Management/managementGroups/{mg}/subscriptions/{s}.
func mgSubscriptionOf(id string) (mg, sub string) {
	segs := strings.Split(strings.Trim(id, "/"), "/")
	if len(segs) != 6 {
		return "", ""
	}
	return segs[3], segs[5]
}
