package rbac

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// MaxRoleDocument bounds the size of a role-definition document read by
// DecodeRoleDefinitions. Azure's full built-in list is about 1.2 MB.
const MaxRoleDocument = 64 << 20

// Catalog holds role definitions by GUID. It is safe for concurrent use.
type Catalog struct {
	mu     sync.RWMutex
	byGUID map[string]*RoleDefinition
	byName map[string]*RoleDefinition // lower-cased roleName
}

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog {
	return &Catalog{byGUID: map[string]*RoleDefinition{}, byName: map[string]*RoleDefinition{}}
}

// Add puts a role definition in the catalog, replacing one with the same
// GUID. Custom roles are validated against Azure's custom-role limits;
// built-in roles are taken as Azure publishes them.
func (c *Catalog) Add(rd *RoleDefinition) error {
	if err := rd.normalize(); err != nil {
		return err
	}
	if !rd.IsBuiltIn() {
		if err := rd.Validate(); err != nil {
			return err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.byGUID[rd.Name]; ok {
		delete(c.byName, strings.ToLower(old.RoleName))
	}
	c.byGUID[rd.Name] = rd
	c.byName[strings.ToLower(rd.RoleName)] = rd
	return nil
}

// Get returns the role whose GUID is id, accepting a bare GUID or a full
// role definition ID at any scope.
func (c *Catalog) Get(id string) (*RoleDefinition, bool) {
	g, ok := roleGUID(id)
	if !ok {
		return nil, false
	}
	c.mu.RLock()
	rd, ok := c.byGUID[g]
	c.mu.RUnlock()
	return rd, ok
}

// getCanonical looks a role up by a GUID already in canonical form, without
// normalising it: the access-check path.
func (c *Catalog) getCanonical(g string) (*RoleDefinition, bool) {
	c.mu.RLock()
	rd, ok := c.byGUID[g]
	c.mu.RUnlock()
	return rd, ok
}

// Find looks a role up by GUID, role definition ID or role name (ignoring
// case).
func (c *Catalog) Find(ref string) (*RoleDefinition, bool) {
	if rd, ok := c.Get(ref); ok {
		return rd, true
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	rd, ok := c.byName[strings.ToLower(strings.TrimSpace(ref))]
	return rd, ok
}

// Len returns the number of roles in the catalog.
func (c *Catalog) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.byGUID)
}

// List returns the roles sorted by role name.
func (c *Catalog) List() []*RoleDefinition {
	c.mu.RLock()
	out := make([]*RoleDefinition, 0, len(c.byGUID))
	for _, rd := range c.byGUID {
		out = append(out, rd)
	}
	c.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := strings.ToLower(out[i].RoleName), strings.ToLower(out[j].RoleName)
		if a != b {
			return a < b
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// DecodeRoleDefinitions reads role definitions in the JSON that the ARM
// role-definitions list returns ({"value": [...]}), a plain array of them,
// or a single one; each in the ARM resource shape or the flattened dump
// shape. It does not validate them; Catalog.Add does.
func DecodeRoleDefinitions(r io.Reader) ([]*RoleDefinition, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxRoleDocument+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxRoleDocument {
		return nil, fmt.Errorf("role definition document is larger than %d bytes", MaxRoleDocument)
	}
	data = bytes.TrimSpace(data)
	var list []*RoleDefinition
	switch {
	case len(data) == 0:
		return nil, fmt.Errorf("empty role definition document")
	case data[0] == '[':
		err = json.Unmarshal(data, &list)
	default:
		var wrapper struct {
			Value *[]*RoleDefinition `json:"value"`
		}
		if err = json.Unmarshal(data, &wrapper); err == nil && wrapper.Value != nil {
			list = *wrapper.Value
		} else if err == nil {
			var one RoleDefinition
			err = json.Unmarshal(data, &one)
			list = []*RoleDefinition{&one}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("role definitions: %w", err)
	}
	for i, rd := range list {
		if rd == nil {
			return nil, fmt.Errorf("role definitions: entry %d is null", i)
		}
	}
	return list, nil
}

// Import decodes role definitions and adds them all, stopping at the first
// that is invalid. It returns how many were added.
func (c *Catalog) Import(r io.Reader) (int, error) {
	list, err := DecodeRoleDefinitions(r)
	if err != nil {
		return 0, err
	}
	for i, rd := range list {
		if err := c.Add(rd); err != nil {
			return i, err
		}
	}
	return len(list), nil
}
