package arm

import (
	"fmt"
	"strings"
)

// ScopeKind names the level of the ARM hierarchy a scope sits at.
type ScopeKind int

// The scope levels, from the root down.
const (
	ScopeRoot ScopeKind = iota
	ScopeManagementGroup
	ScopeSubscription
	ScopeResourceGroup
	ScopeResource
)

// String returns the level's name as Azure documents it.
func (k ScopeKind) String() string {
	switch k {
	case ScopeRoot:
		return "root"
	case ScopeManagementGroup:
		return "managementGroup"
	case ScopeSubscription:
		return "subscription"
	case ScopeResourceGroup:
		return "resourceGroup"
	case ScopeResource:
		return "resource"
	}
	return fmt.Sprintf("ScopeKind(%d)", int(k))
}

// ResourceID is a parsed ARM resource ID or scope. Names keep the case they
// were given; comparisons through this package are case-insensitive, as ARM's
// are.
type ResourceID struct {
	// ManagementGroup is set for IDs under
	// /providers/Microsoft.Management/managementGroups/{name}.
	ManagementGroup string
	SubscriptionID  string
	ResourceGroup   string
	// Namespace is the resource provider namespace of the last provider
	// segment, such as "Microsoft.Compute".
	Namespace string
	// Types and Names are the type/name pairs after the namespace:
	// for .../providers/Microsoft.Sql/servers/s1/databases/d1 they are
	// [servers databases] and [s1 d1].
	Types []string
	Names []string
	// Parent is the scope an extension resource is attached to, such as the
	// resource a role assignment is created on; nil for ordinary resources.
	Parent *ResourceID
}

// ErrInvalidResourceID is wrapped by every error ParseResourceID returns.
var ErrInvalidResourceID = fmt.Errorf("invalid resource ID")

// ParseResourceID parses an ARM resource ID or scope such as "/",
// "/subscriptions/{id}", "/subscriptions/{id}/resourceGroups/{rg}",
// "/providers/Microsoft.Management/managementGroups/{mg}" or a provider
// resource, including extension resources (a provider segment after
// another resource).
func ParseResourceID(id string) (*ResourceID, error) {
	if !strings.HasPrefix(id, "/") {
		return nil, fmt.Errorf("%w %q: must start with '/'", ErrInvalidResourceID, id)
	}
	trimmed := strings.Trim(id, "/")
	r := &ResourceID{}
	if trimmed == "" {
		return r, nil
	}
	// the segments go to an array on the stack: IDs are parsed for every
	// resource a scan reads, and their substrings are all that is kept
	var buf [24]string
	segs := appendSegments(buf[:0], trimmed)
	for _, s := range segs {
		if s == "" {
			return nil, fmt.Errorf("%w %q: empty segment", ErrInvalidResourceID, id)
		}
	}
	i := 0
	if strings.EqualFold(segs[0], "subscriptions") {
		if len(segs) < 2 {
			return nil, fmt.Errorf("%w %q: missing subscription ID", ErrInvalidResourceID, id)
		}
		r.SubscriptionID = segs[1]
		i = 2
		if i < len(segs) && strings.EqualFold(segs[i], "resourceGroups") {
			if i+1 >= len(segs) {
				return nil, fmt.Errorf("%w %q: missing resource group name", ErrInvalidResourceID, id)
			}
			r.ResourceGroup = segs[i+1]
			i += 2
		}
	} else if len(segs) >= 4 && strings.EqualFold(segs[0], "providers") &&
		strings.EqualFold(segs[1], "Microsoft.Management") && strings.EqualFold(segs[2], "managementGroups") {
		r.ManagementGroup = segs[3]
		i = 4
	}
	for i < len(segs) {
		if !strings.EqualFold(segs[i], "providers") || i+1 >= len(segs) {
			return nil, fmt.Errorf("%w %q: expected 'providers/{namespace}' at segment %d", ErrInvalidResourceID, id, i+1)
		}
		if r.Namespace != "" {
			// A second provider segment: what we have so far is the parent
			// scope of an extension resource.
			parent := *r
			r = &ResourceID{Parent: &parent, ManagementGroup: parent.ManagementGroup,
				SubscriptionID: parent.SubscriptionID, ResourceGroup: parent.ResourceGroup}
		}
		r.Namespace = segs[i+1]
		i += 2
		if i >= len(segs) {
			// "/subscriptions/x/providers/Microsoft.Compute" names a provider.
			break
		}
		for i < len(segs) && !strings.EqualFold(segs[i], "providers") {
			r.Types = append(r.Types, segs[i])
			if i+1 < len(segs) {
				r.Names = append(r.Names, segs[i+1])
			}
			i += 2
		}
	}
	return r, nil
}

// appendSegments appends the '/'-separated segments of s to dst, as
// strings.Split(s, "/") returns them.
func appendSegments(dst []string, s string) []string {
	for {
		i := strings.IndexByte(s, '/')
		if i < 0 {
			return append(dst, s)
		}
		dst = append(dst, s[:i])
		s = s[i+1:]
	}
}

// Kind reports the level of the hierarchy the ID names.
func (r *ResourceID) Kind() ScopeKind {
	switch {
	case r.Namespace != "":
		return ScopeResource
	case r.ResourceGroup != "":
		return ScopeResourceGroup
	case r.SubscriptionID != "":
		return ScopeSubscription
	case r.ManagementGroup != "":
		return ScopeManagementGroup
	}
	return ScopeRoot
}

// ResourceType is the full type, such as "Microsoft.Sql/servers/databases",
// or the pseudo types ARM uses for containers: "Microsoft.Resources/subscriptions",
// "Microsoft.Resources/subscriptions/resourceGroups" and
// "Microsoft.Management/managementGroups".
func (r *ResourceID) ResourceType() string {
	switch r.Kind() {
	case ScopeResource:
		if len(r.Types) == 0 {
			return r.Namespace
		}
		return r.Namespace + "/" + strings.Join(r.Types, "/")
	case ScopeResourceGroup:
		return "Microsoft.Resources/subscriptions/resourceGroups"
	case ScopeSubscription:
		return "Microsoft.Resources/subscriptions"
	case ScopeManagementGroup:
		return "Microsoft.Management/managementGroups"
	}
	return ""
}

// Name is the last name segment, or the container's name for scopes.
func (r *ResourceID) Name() string {
	switch r.Kind() {
	case ScopeResource:
		if len(r.Names) == 0 {
			return ""
		}
		return r.Names[len(r.Names)-1]
	case ScopeResourceGroup:
		return r.ResourceGroup
	case ScopeSubscription:
		return r.SubscriptionID
	case ScopeManagementGroup:
		return r.ManagementGroup
	}
	return ""
}

// String formats the ID in ARM's canonical spelling of the fixed segments.
func (r *ResourceID) String() string {
	var b strings.Builder
	if r.Parent != nil {
		b.WriteString(strings.TrimSuffix(r.Parent.String(), "/"))
	} else {
		if r.ManagementGroup != "" {
			b.WriteString("/providers/Microsoft.Management/managementGroups/")
			b.WriteString(r.ManagementGroup)
		}
		if r.SubscriptionID != "" {
			b.WriteString("/subscriptions/")
			b.WriteString(r.SubscriptionID)
		}
		if r.ResourceGroup != "" {
			b.WriteString("/resourceGroups/")
			b.WriteString(r.ResourceGroup)
		}
	}
	if r.Namespace != "" {
		b.WriteString("/providers/")
		b.WriteString(r.Namespace)
		for i, t := range r.Types {
			b.WriteString("/")
			b.WriteString(t)
			if i < len(r.Names) {
				b.WriteString("/")
				b.WriteString(r.Names[i])
			}
		}
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// ParentScope returns the scope directly above the ID: a child resource's
// parent resource, a resource's resource group, a resource group's
// subscription, and so on up to the root. The root's parent is nil.
// Management groups nest through a stored hierarchy that this package does
// not know, so a management group's parent here is the root.
func (r *ResourceID) ParentScope() *ResourceID {
	switch r.Kind() {
	case ScopeRoot:
		return nil
	case ScopeManagementGroup:
		return &ResourceID{}
	case ScopeSubscription:
		return &ResourceID{}
	case ScopeResourceGroup:
		return &ResourceID{SubscriptionID: r.SubscriptionID}
	}
	if len(r.Types) > 1 {
		p := *r
		p.Types = r.Types[:len(r.Types)-1]
		p.Names = r.Names[:min(len(r.Names), len(r.Types)-1)]
		return &p
	}
	if r.Parent != nil {
		p := *r.Parent
		return &p
	}
	return &ResourceID{ManagementGroup: r.ManagementGroup, SubscriptionID: r.SubscriptionID, ResourceGroup: r.ResourceGroup}
}

// IsScopeAncestor reports whether scope equals id or contains it, comparing
// case-insensitively on whole segments: "/subscriptions/a" contains
// "/subscriptions/a/resourceGroups/rg" but not "/subscriptions/ab". The root
// scope "/" contains everything. Management-group containment of
// subscriptions needs the hierarchy and is not decided here.
func IsScopeAncestor(scope, id string) bool {
	s := strings.TrimRight(scope, "/")
	t := strings.TrimRight(id, "/")
	if s == "" {
		return true
	}
	if len(t) < len(s) || !strings.EqualFold(t[:len(s)], s) {
		return false
	}
	return len(t) == len(s) || t[len(s)] == '/'
}

// EqualIDs compares two IDs as ARM does: case-insensitively, ignoring a
// trailing slash.
func EqualIDs(a, b string) bool {
	return strings.EqualFold(strings.TrimRight(a, "/"), strings.TrimRight(b, "/"))
}
