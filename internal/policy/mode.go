package policy

import "strings"

// Mode is a definition's mode: which resources it evaluates.
type Mode struct {
	// Name is the documented spelling: All, Indexed, or a resource
	// provider mode such as Microsoft.KeyVault.Data.
	Name string
}

// Known resource-manager modes.
var (
	ModeAll     = Mode{Name: "All"}
	ModeIndexed = Mode{Name: "Indexed"}
)

// ParseMode reads a mode in any case. An empty mode is Indexed, as the
// documentation says of a null mode.
func ParseMode(s string) Mode {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "all":
		return ModeAll
	case "indexed", "":
		return ModeIndexed
	}
	return Mode{Name: s}
}

// IsResourceProvider reports whether the mode is a resource provider
// (data plane) mode such as Microsoft.Kubernetes.Data.
func (m Mode) IsResourceProvider() bool {
	return strings.HasSuffix(strings.ToLower(m.Name), ".data")
}

// Mode returns the compiled policy's mode.
func (p *Policy) Mode() Mode { return p.mode }

// AppliesTo reports whether the policy's mode and its type conditions let
// it evaluate the resource: All evaluates everything; Indexed only types
// that support tags and location (by the alias table's capabilities when
// it knows the type, else by the resource having a location and not being
// a subscription or resource group); resource provider modes never apply
// to resource manager documents. Types Azure never evaluates
// (Microsoft.Resources/* other than subscriptions and resource groups)
// are excluded.
func (p *Policy) AppliesTo(r *Resource) bool {
	lt := r.typLower
	if strings.HasPrefix(lt, "microsoft.resources/") && lt != "microsoft.resources/subscriptions" &&
		lt != "microsoft.resources/subscriptions/resourcegroups" && lt != "microsoft.resources/resourcegroups" {
		return false
	}
	switch {
	case p.rpMode:
		return false
	case p.mode == ModeIndexed:
		if lt == "microsoft.resources/subscriptions" || lt == "microsoft.resources/subscriptions/resourcegroups" ||
			lt == "microsoft.resources/resourcegroups" {
			return false
		}
		if ti, ok := p.aliases.typeLower(lt); ok && ti.CapabilitiesKnown {
			if !ti.SupportsTags || !ti.SupportsLocation {
				return false
			}
		} else if !r.hasLoc {
			return false
		}
	}
	return p.typeFilter.allows(r)
}

// typeFilter is a necessary condition on the resource type derived from
// a rule's top-level allOf (a "field": "type" equals/in/like condition),
// used to skip definitions that cannot match without evaluating them.
type typeFilter struct {
	exact []string // lower case
	globs []*glob
}

func buildTypeFilter(c *Condition) *typeFilter {
	conds := []*Condition{c}
	if c.Kind == CondAllOf {
		conds = c.Children
	}
	for _, k := range conds {
		if k.Kind != CondField || !strings.EqualFold(k.Field, "type") {
			continue
		}
		switch k.Op {
		case OpEquals:
			if s, ok := k.Operand.(string); ok && !isExpression(s) {
				return &typeFilter{exact: []string{strings.ToLower(s)}}
			}
		case OpIn:
			list, ok := k.Operand.([]any)
			if !ok {
				continue
			}
			tf := &typeFilter{}
			for _, e := range list {
				s, ok := e.(string)
				if !ok || isExpression(s) {
					tf = nil
					break
				}
				tf.exact = append(tf.exact, strings.ToLower(s))
			}
			if tf != nil {
				return tf
			}
		case OpLike:
			if s, ok := k.Operand.(string); ok && !isExpression(s) {
				return &typeFilter{globs: []*glob{compileGlob(s)}}
			}
		}
	}
	return nil
}

func (tf *typeFilter) allows(r *Resource) bool {
	if tf == nil {
		return true
	}
	for _, e := range tf.exact {
		if e == r.typLower {
			return true
		}
	}
	for _, g := range tf.globs {
		if g.match(r.typ) {
			return true
		}
	}
	return false
}
