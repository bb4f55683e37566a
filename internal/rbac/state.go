package rbac

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"

	"github.com/steward-gov/steward/internal/atomicfile"
)

// MaxStateFile bounds the size of a state file read by LoadState.
const MaxStateFile = 256 << 20

// State is the JSON file the steward rbac commands work from until the
// embedded ARM stores these resources: custom role definitions (added to
// the built-in catalog), role and deny assignments in their ARM shapes,
// group memberships and the management-group hierarchy.
type State struct {
	RoleDefinitions []*RoleDefinition `json:"roleDefinitions,omitempty"`
	RoleAssignments []RoleAssignment  `json:"roleAssignments,omitempty"`
	DenyAssignments []DenyAssignment  `json:"denyAssignments,omitempty"`
	// Groups maps a principal ID to the groups it is a direct member of;
	// groups may themselves be members of groups.
	Groups    map[string][]string `json:"groups,omitempty"`
	Hierarchy *HierarchyState     `json:"hierarchy,omitempty"`
}

// HierarchyState is the management-group tree in a state file.
type HierarchyState struct {
	// Subscriptions maps a subscription ID to its management group.
	Subscriptions map[string]string `json:"subscriptions,omitempty"`
	// ManagementGroups maps a management group to its parent.
	ManagementGroups map[string]string `json:"managementGroups,omitempty"`
}

// ReadState decodes a state file, rejecting unknown fields so that typos
// are reported rather than ignored.
func ReadState(r io.Reader) (*State, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxStateFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxStateFile {
		return nil, fmt.Errorf("state file is larger than %d bytes", MaxStateFile)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s State
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("state file: %w", err)
	}
	return &s, nil
}

// LoadState reads a state file. A file that does not exist is an error
// (wrapping fs.ErrNotExist), never an empty state: a mistyped path must not
// answer "denied"; LoadOrNewState is for commands that create the file.
func LoadState(path string) (*State, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := ReadState(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// LoadOrNewState is LoadState, except that a file that does not exist
// yet is an empty state, for commands that write the file.
func LoadOrNewState(path string) (*State, error) {
	s, err := LoadState(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &State{}, nil
	}
	return s, err
}

// Save writes the state atomically (temporary file, fsync, rename; see
// package atomicfile) with mode 0600.
func (s *State) Save(path string) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(data, '\n'), 0o600)
}

// PutRoleDefinition adds a role definition to the state, replacing one with
// the same GUID.
func (s *State) PutRoleDefinition(rd *RoleDefinition) {
	for i, old := range s.RoleDefinitions {
		if old.Name == rd.Name {
			s.RoleDefinitions[i] = rd
			return
		}
	}
	s.RoleDefinitions = append(s.RoleDefinitions, rd)
}

// Catalog returns the built-in roles plus the state's role definitions.
func (s *State) Catalog() (*Catalog, error) {
	c, err := BuiltInCatalog()
	if err != nil {
		return nil, err
	}
	for _, rd := range s.RoleDefinitions {
		if err := c.Add(rd); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Engine builds an engine over the state. Options are applied after the
// state's hierarchy, so a caller may override it.
func (s *State) Engine(opts ...Option) (*Engine, error) {
	c, err := s.Catalog()
	if err != nil {
		return nil, err
	}
	var all []Option
	if s.Hierarchy != nil {
		all = append(all, WithHierarchy(NewStaticHierarchy(s.Hierarchy.Subscriptions, s.Hierarchy.ManagementGroups)))
	}
	e := NewEngine(c, append(all, opts...)...)
	for _, ra := range s.RoleAssignments {
		if err := e.AddRoleAssignment(ra); err != nil {
			return nil, err
		}
	}
	for _, d := range s.DenyAssignments {
		if err := e.AddDenyAssignment(d); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// GroupsOf returns every group the principal belongs to, directly or
// through other groups, sorted. Cycles in membership are harmless.
func (s *State) GroupsOf(principal string) []string {
	byKey := map[string][]string{}
	for k, v := range s.Groups {
		pk := principalKey(k)
		byKey[pk] = append(byKey[pk], v...)
	}
	seen := map[string]bool{}
	var out []string
	queue := []string{principalKey(principal)}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, g := range byKey[cur] {
			k := principalKey(g)
			if seen[k] || k == principalKey(principal) {
				continue
			}
			seen[k] = true
			out = append(out, g)
			queue = append(queue, k)
		}
	}
	sort.Strings(out)
	return out
}
