package insights

import (
	"context"
	"maps"
	"strings"
	"sync"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/policy"
	"github.com/steward-gov/steward/internal/store"
)

// scanEnv caches what evaluations share: the documents of resource groups
// and subscriptions (for resourceGroup() and subscription()) and the
// management groups above each subscription. It is safe for concurrent use.
type scanEnv struct {
	e    *Engine
	mu   sync.Mutex
	docs map[string]map[string]any
	mgs  map[string][]string
	// rcs holds, by lower-case type, what requestContext() returns during
	// compliance evaluation: the type's latest api-version.
	rcs map[string]map[string]any
	// sums holds the digests of the documents (digest.go).
	sums map[string][]byte
}

func newScanEnv(e *Engine) *scanEnv {
	return &scanEnv{e: e, docs: map[string]map[string]any{}, mgs: map[string][]string{}, rcs: map[string]map[string]any{}, sums: map[string][]byte{}}
}

// doc returns a stored document (nil when absent), cached.
func (s *scanEnv) doc(ctx context.Context, id string) map[string]any {
	return cachedIn(&s.mu, s.docs, strings.ToLower(id), func() map[string]any {
		if r, err := s.e.cloud.Get(ctx, id); err == nil {
			return r.Doc
		}
		return nil
	})
}

// cachedIn returns m[k], filled by fill on a miss (outside the lock mu
// that guards m).
func cachedIn[V any](mu *sync.Mutex, m map[string]V, k string, fill func() V) V {
	mu.Lock()
	v, ok := m[k]
	mu.Unlock()
	if ok {
		return v
	}
	v = fill()
	mu.Lock()
	m[k] = v
	mu.Unlock()
	return v
}

// requestContext is requestContext() for a resource type during
// compliance evaluation: no request is in flight, and Azure documents that
// requestContext().apiVersion is then the latest api-version. Nil when the
// type's route lists none (the alias table's latest is used then).
func (s *scanEnv) requestContext(typ string) map[string]any {
	return cachedIn(&s.mu, s.rcs, strings.ToLower(typ), func() map[string]any {
		if v := s.e.cloud.LatestAPIVersion(typ); v != "" {
			return map[string]any{"apiVersion": v}
		}
		return nil
	})
}

// groups returns the management group IDs and names above a subscription.
func (s *scanEnv) groups(sub string) (ids, names []string) {
	k := strings.ToLower(sub)
	s.mu.Lock()
	names, ok := s.mgs[k]
	s.mu.Unlock()
	if !ok {
		names = s.e.cloud.ManagementGroupsAbove(sub)
		s.mu.Lock()
		s.mgs[k] = names
		s.mu.Unlock()
	}
	ids = make([]string, len(names))
	for i, n := range names {
		ids[i] = "/providers/Microsoft.Management/managementGroups/" + n
	}
	return ids, names
}

// evaluate computes the policy states of one resource under every
// assignment in effect, or only under the assignment only (a lower-case
// ID) when it is set.
func (e *Engine) evaluate(ctx context.Context, ps *policies, env *scanEnv, r cloud.Resource, only string) []*State {
	doc := r.Doc
	if doc == nil {
		return nil
	}
	if t, _ := doc["type"].(string); r.Type != "" && !strings.EqualFold(t, r.Type) {
		// Policy sees the canonical type: ARM documents a resource group
		// as Microsoft.Resources/resourceGroups, rules test
		// Microsoft.Resources/subscriptions/resourceGroups.
		doc = maps.Clone(doc)
		doc["type"] = r.Type
	}
	res := policy.NewResource(doc)
	sub, group := resourceParts(r.ID)
	mgIDs, mgNames := env.groups(sub)
	now := e.now()
	opts := policy.EvalOptions{Now: now, Related: e.related(), RequestContext: env.requestContext(r.Type)}
	if sub != "" {
		opts.Subscription = subscriptionValue(env.doc(ctx, "/subscriptions/"+sub), sub, e.cloud.TenantID())
	}
	if group != "" {
		opts.ResourceGroup = env.doc(ctx, "/subscriptions/"+sub+"/resourceGroups/"+group)
	}
	exemptions := ps.exemptionsFor(mgNames)
	var results []policy.AssignmentResult
	var evaluated []*compiled
	add := func(pick func(*compiled) bool) {
		for _, c := range ps.assigned {
			if !pick(c) || !c.a.InScope(r.ID, mgIDs...) {
				continue
			}
			if ar := c.eval.Evaluate(ctx, res, exemptions, now, opts); ar.Applicable {
				results = append(results, ar)
				evaluated = append(evaluated, c)
			}
		}
	}
	isOnly := func(c *compiled) bool { return only == "" || strings.ToLower(c.a.ID) == only }
	add(isOnly)
	// Append and modify members of different assignments that would write
	// one field differently are Conflicting. That needs the resource's
	// other assignments too, but only when the rescanned one would write.
	// Their states are then renewed too, since a conflict involves both
	// sides.
	others := only != "" && writes(results)
	if others {
		add(func(c *compiled) bool { return !isOnly(c) })
	}
	policy.MarkConflicts(results)
	var out []*State
	var location string
	var tags map[string]string
	described := false
	for i, ar := range results {
		c := evaluated[i]
		if !others && !isOnly(c) {
			continue
		}
		var explained map[string]policy.MemberResult
		for _, m := range ar.Members {
			if m.State == policy.StateNonCompliant {
				o := opts
				o.Explain = true
				explained = map[string]policy.MemberResult{}
				for _, x := range c.eval.Evaluate(ctx, res, exemptions, now, o).Members {
					explained[strings.ToLower(x.ReferenceID)] = x
				}
				break
			}
		}
		setID := ""
		if c.eval.Set != nil {
			setID = c.a.PolicyDefinitionID
		}
		for _, m := range ar.Members {
			if m.State == policy.StateNotApplicable || m.State == policy.StateNotStarted || strings.EqualFold(m.Effect, policy.EffectDisabled) {
				continue
			}
			if !described {
				// Shared read-only by the resource's states, as the
				// management groups are.
				location, tags, described = stringOf(doc["location"]), tagsOf(doc), true
			}
			st := &State{Timestamp: now, ResourceID: r.ID, ResourceType: r.Type, Location: location,
				Tags: tags, AssignmentID: c.a.ID, DefinitionID: m.DefinitionID, SetDefinitionID: setID,
				ReferenceID: m.ReferenceID, Effect: m.Effect, GroupNames: m.GroupNames, State: m.State,
				ManagementGroups: mgNames}
			if m.State == policy.StateError && m.Err != nil {
				st.ReasonCode = "EvaluationError: " + m.Err.Error()
			}
			if x, ok := explained[strings.ToLower(m.ReferenceID)]; ok && m.State == policy.StateNonCompliant {
				st.Expressions = x.Explanation
			}
			out = append(out, st)
		}
	}
	return out
}

// writes reports whether a result has a NonCompliant append or modify
// member, the only kind that can conflict with another assignment.
func writes(results []policy.AssignmentResult) bool {
	for _, ar := range results {
		for _, m := range ar.Members {
			if m.State == policy.StateNonCompliant && (strings.EqualFold(m.Effect, policy.EffectAppend) || strings.EqualFold(m.Effect, policy.EffectModify)) {
				return true
			}
		}
	}
	return false
}

// subscriptionValue is what subscription() returns.
func subscriptionValue(doc map[string]any, sub, tenant string) map[string]any {
	out := map[string]any{"id": "/subscriptions/" + sub, "subscriptionId": sub, "tenantId": tenant, "displayName": sub}
	if doc != nil {
		if n, ok := doc["displayName"].(string); ok && n != "" {
			out["displayName"] = n
		}
	}
	return out
}

// related finds the resources auditIfNotExists and deployIfNotExists look
// for, optionally by name: resources of a child type or an extension type
// (diagnostic settings) under the evaluated resource, as Azure queries
// them on the resource; other types in the evaluated resource's group
// (or subscription). The rule is the scan's (docs/decisions/scan.md).
func (e *Engine) related() policy.RelatedFunc {
	return func(ctx context.Context, q policy.RelatedQuery) ([]map[string]any, error) {
		id := q.Resource.ID()
		sub, group := resourceParts(id)
		if sub == "" {
			return nil, nil
		}
		scope := "/subscriptions/" + sub
		if g := q.ResourceGroupName; g != "" {
			scope += "/resourceGroups/" + g
		} else if group != "" && !strings.EqualFold(q.ExistenceScope, "subscription") {
			scope += "/resourceGroups/" + group
		}
		var found []cloud.Resource
		extension := false
		after := ""
		for {
			page, next, err := e.cloud.List(ctx, cloud.ListQuery{Type: q.Type, Scope: scope, Limit: store.MaxPageSize, After: after})
			if err != nil {
				return nil, err
			}
			for _, r := range page {
				extension = extension || policy.IsExtensionResourceID(r.ID)
				if !strings.EqualFold(r.ID, id) && (q.Name == "" || strings.Contains(q.Name, "?") || strings.EqualFold(lastName(r.ID), lastName(q.Name))) {
					found = append(found, r)
				}
			}
			if next == "" {
				break
			}
			after = next
		}
		under := policy.RelatedUnderResource(q.Resource.Type(), q.Type, extension)
		var out []map[string]any
		for _, r := range found {
			if !under || policy.DirectlyUnder(id, r.ID) {
				out = append(out, r.Doc)
			}
		}
		return out, nil
	}
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

func tagsOf(doc map[string]any) map[string]string {
	t, _ := doc["tags"].(map[string]any)
	if len(t) == 0 {
		return nil
	}
	out := make(map[string]string, len(t))
	for k, v := range t {
		out[k] = stringOf(v)
	}
	return out
}

// exemptionsFor returns the exemptions to evaluate a resource with, given
// the management groups above its subscription: an exemption made at one
// of them covers the resource, which policy.Exemption.Covers cannot see
// from IDs alone, so it is passed with its scope cleared; exemptions at
// other groups are left out.
func (ps *policies) exemptionsFor(groups []string) []*policy.Exemption {
	hasGroup := false
	for _, x := range ps.exemptions {
		if isGroupScope(x.Scope) {
			hasGroup = true
			break
		}
	}
	if !hasGroup {
		return ps.exemptions
	}
	out := make([]*policy.Exemption, 0, len(ps.exemptions))
	for _, x := range ps.exemptions {
		if !isGroupScope(x.Scope) {
			out = append(out, x)
			continue
		}
		if containsFold(groups, lastName(x.Scope)) {
			c := *x
			c.Scope = ""
			out = append(out, &c)
		}
	}
	return out
}

func isGroupScope(scope string) bool {
	return strings.HasPrefix(strings.ToLower(scope), "/providers/microsoft.management/managementgroups/")
}
