package policy

import (
	"context"
	"fmt"
	"strings"

	"github.com/steward-gov/steward/internal/armexpr"
)

// SetDefinition is a parsed initiative (policySetDefinition).
type SetDefinition struct {
	ID, Name    string
	DisplayName string
	Description string
	PolicyType  string
	Metadata    map[string]any
	Parameters  []*ParameterDef
	Members     []*SetMember
	Groups      []PolicyGroup

	src SourceSum
}

// SetMember is one policyDefinitions entry of an initiative.
type SetMember struct {
	ReferenceID       string
	DefinitionID      string
	DefinitionVersion string
	// Parameters are the values passed to the member definition, as
	// written: literals or expressions over the set's parameters.
	Parameters map[string]any
	GroupNames []string
}

// PolicyGroup is a policyDefinitionGroups entry.
type PolicyGroup struct {
	Name, Category, DisplayName, Description, AdditionalMetadataID string
}

// ParseSetDefinition parses an initiative document: the whole resource
// ({"properties": {...}}) or its properties object.
func ParseSetDefinition(data []byte) (s *SetDefinition, err error) {
	defer recoverParse(&err)
	env, err := parseEnvelope(data, "a policy set definition")
	if err != nil {
		return nil, err
	}
	props, path := env.props, env.path
	s = &SetDefinition{ID: env.id, Name: env.name}
	s.DisplayName, s.Description = stringAt(props, "displayName"), stringAt(props, "description")
	s.PolicyType = stringAt(props, "policyType")
	if md, ok := armexpr.Lookup(props, "metadata"); ok {
		s.Metadata, _ = md.(map[string]any)
	}
	if pv, ok := armexpr.Lookup(props, "parameters"); ok && pv != nil {
		if s.Parameters, err = parseParameterDefs(pv, path+".parameters"); err != nil {
			return nil, err
		}
	}
	refs, ok := armexpr.Lookup(props, "policyDefinitions")
	if !ok {
		return nil, perr(path, "policyDefinitions is required")
	}
	list, ok := refs.([]any)
	if !ok {
		return nil, perr(path+".policyDefinitions", "must be an array, got %s", armexpr.TypeName(refs))
	}
	seen := map[string]bool{}
	for i, e := range list {
		mp := fmt.Sprintf("%s.policyDefinitions[%d]", path, i)
		mem, err := parseSetMember(e, mp)
		if err != nil {
			return nil, err
		}
		key := strings.ToLower(mem.ReferenceID)
		if seen[key] {
			return nil, perr(mp+".policyDefinitionReferenceId", "duplicate reference ID %q", mem.ReferenceID)
		}
		seen[key] = true
		s.Members = append(s.Members, mem)
	}
	if gv, ok := armexpr.Lookup(props, "policyDefinitionGroups"); ok && gv != nil {
		gl, ok := gv.([]any)
		if !ok {
			return nil, perr(path+".policyDefinitionGroups", "must be an array")
		}
		for _, g := range gl {
			gm, _ := g.(map[string]any)
			s.Groups = append(s.Groups, PolicyGroup{Name: stringAt(gm, "name"), Category: stringAt(gm, "category"),
				DisplayName: stringAt(gm, "displayName"), Description: stringAt(gm, "description"),
				AdditionalMetadataID: stringAt(gm, "additionalMetadataId")})
		}
	}
	s.src = sumOf(data)
	return s, nil
}

func parseSetMember(v any, path string) (*SetMember, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, perr(path, "must be an object, got %s", armexpr.TypeName(v))
	}
	mem := &SetMember{ReferenceID: stringAt(m, "policyDefinitionReferenceId"),
		DefinitionID: stringAt(m, "policyDefinitionId"), DefinitionVersion: stringAt(m, "definitionVersion")}
	if mem.DefinitionID == "" {
		return nil, perr(path+".policyDefinitionId", "policyDefinitionId is required")
	}
	if mem.ReferenceID == "" {
		// Azure generates one; the definition's name is a stable stand-in.
		mem.ReferenceID = mem.DefinitionID[strings.LastIndexByte(mem.DefinitionID, '/')+1:]
	}
	if pv, ok := armexpr.Lookup(m, "parameters"); ok && pv != nil {
		pm, ok := pv.(map[string]any)
		if !ok {
			return nil, perr(path+".parameters", "must be an object")
		}
		mem.Parameters = make(map[string]any, len(pm))
		for k, e := range pm {
			if err := checkExpressions(e, path+".parameters."+k); err != nil {
				return nil, err
			}
			mem.Parameters[k] = unwrapParameterValue(e)
		}
	}
	if gv, ok := armexpr.Lookup(m, "groupNames"); ok {
		gl, _ := gv.([]any)
		for _, g := range gl {
			if s, ok := g.(string); ok {
				mem.GroupNames = append(mem.GroupNames, s)
			}
		}
	}
	return mem, nil
}

// DefinitionResolver finds a member definition by its policyDefinitionId.
type DefinitionResolver func(definitionID string) (*Definition, error)

// CompiledSet is an initiative whose members are compiled with the
// parameter values the set passes them.
type CompiledSet struct {
	Set     *SetDefinition
	Members []*CompiledMember
}

// CompiledMember is one compiled member of a set.
type CompiledMember struct {
	*SetMember
	Policy *Policy
}

// CompileSet compiles every member of an initiative. Set parameter values
// (opts.Parameters, with the set's defaults) are passed to the members:
// each member parameter value is evaluated with parameters() reading the
// set's parameters. With opts.Parameters nil the set is compiled unbound:
// values that need a set parameter without a default are left out, and
// expressions using them fail per evaluation.
func CompileSet(s *SetDefinition, resolve DefinitionResolver, opts CompileOptions) (*CompiledSet, error) {
	strict := opts.Parameters != nil
	setParams, err := resolveParameters(s.Parameters, opts.Parameters, strict, false)
	if err != nil {
		return nil, err
	}
	cs := &CompiledSet{Set: s}
	for i, mem := range s.Members {
		path := fmt.Sprintf("$.properties.policyDefinitions[%d]", i)
		def, err := resolve(mem.DefinitionID)
		if err != nil {
			return nil, &CompileError{Path: path + ".policyDefinitionId", Message: err.Error()}
		}
		params, err := memberParameters(mem, setParams, path, strict)
		if err != nil {
			return nil, err
		}
		pol, err := compile(def, CompileOptions{Aliases: opts.Aliases, Parameters: params, AllowUnknownAliases: opts.AllowUnknownAliases, setMember: true}, strict)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", path, mem.ReferenceID, err)
		}
		cs.Members = append(cs.Members, &CompiledMember{SetMember: mem, Policy: pol})
	}
	return cs, nil
}

// memberParameters evaluates the parameter values a set passes a member.
func memberParameters(mem *SetMember, setParams map[string]any, path string, strict bool) (map[string]any, error) {
	st := &state{params: setParams, opts: &EvalOptions{}}
	st.ec.Host = st.host
	out := make(map[string]any, len(mem.Parameters))
	for k, v := range mem.Parameters {
		val, err := st.evalDeep(v)
		if err != nil && !strict {
			continue
		}
		if err != nil {
			return nil, &CompileError{Path: path + ".parameters." + k, Message: err.Error()}
		}
		out[k] = val
	}
	return out, nil
}

// MemberResult is the evaluation of one member of a set.
type MemberResult struct {
	ReferenceID  string   `json:"policyDefinitionReferenceId"`
	DefinitionID string   `json:"policyDefinitionId"`
	GroupNames   []string `json:"groupNames,omitempty"`
	// ConflictsWith lists, for a Conflicting member, the members of other
	// assignments it contradicts ("assignmentID[/referenceID]: field");
	// see MarkConflicts.
	ConflictsWith []string `json:"conflictsWith,omitempty"`
	Result
}

// Evaluate evaluates every member whose mode and type conditions apply
// to the resource; opts.Parameters must be nil (set parameters are bound
// by CompileSet). The second result is the roll-up of the members' states.
func (cs *CompiledSet) Evaluate(ctx context.Context, res *Resource, opts EvalOptions) ([]MemberResult, ComplianceState) {
	opts.Parameters = nil
	var out []MemberResult
	var states []ComplianceState
	for _, m := range cs.Members {
		if !m.Policy.AppliesTo(res) {
			continue
		}
		o := opts
		o.Policy = withReference(opts.Policy, m.ReferenceID, m.DefinitionID, cs.Set.ID)
		r := m.Policy.Evaluate(ctx, res, o)
		markNotApplicable(ctx, m.Policy, res, o, &r)
		out = append(out, MemberResult{ReferenceID: m.ReferenceID, DefinitionID: m.DefinitionID, GroupNames: m.GroupNames, Result: r})
		states = append(states, r.State)
	}
	return out, Rollup(states...)
}

// markNotApplicable turns a Compliant result into NotApplicable when the
// policy's applicability rules exclude the resource, so it is not counted.
func markNotApplicable(ctx context.Context, p *Policy, res *Resource, opts EvalOptions, r *Result) {
	if r.Matched || r.Err != nil || r.State != StateCompliant {
		return
	}
	if ok, err := p.Applicable(ctx, res, opts); err == nil && !ok {
		r.State = StateNotApplicable
	}
}

// withReference adds the member's identity to what policy() returns.
func withReference(base map[string]any, refID, defID, setID string) map[string]any {
	m := make(map[string]any, len(base)+3)
	for k, v := range base {
		m[k] = v
	}
	m["definitionReferenceId"] = refID
	m["definitionId"] = defID
	if _, ok := armexpr.Lookup(m, "setDefinitionId"); !ok {
		m["setDefinitionId"] = setID
	}
	return m
}
