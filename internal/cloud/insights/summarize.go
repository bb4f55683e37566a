package insights

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/policy"
)

// ComplianceDetail is a count of resources, policies or groups in one
// compliance state.
type ComplianceDetail struct {
	ComplianceState string `json:"complianceState"`
	Count           int    `json:"count"`
}

// SummaryResults are the counts of one summary level.
type SummaryResults struct {
	QueryResultsURI       string             `json:"queryResultsUri"`
	NonCompliantResources int                `json:"nonCompliantResources"`
	NonCompliantPolicies  int                `json:"nonCompliantPolicies"`
	ResourceDetails       []ComplianceDetail `json:"resourceDetails"`
	PolicyDetails         []ComplianceDetail `json:"policyDetails"`
	PolicyGroupDetails    []ComplianceDetail `json:"policyGroupDetails"`
}

// DefinitionSummary summarizes one member of an assignment.
type DefinitionSummary struct {
	PolicyDefinitionID          string         `json:"policyDefinitionId"`
	PolicyDefinitionReferenceID string         `json:"policyDefinitionReferenceId"`
	PolicyDefinitionGroupNames  []string       `json:"policyDefinitionGroupNames"`
	Effect                      string         `json:"effect"`
	Results                     SummaryResults `json:"results"`
}

// GroupSummary summarizes one policy definition group of an assignment.
type GroupSummary struct {
	PolicyGroupName string         `json:"policyGroupName"`
	Results         SummaryResults `json:"results"`
}

// AssignmentSummary summarizes one assignment.
type AssignmentSummary struct {
	PolicyAssignmentID    string              `json:"policyAssignmentId"`
	PolicySetDefinitionID string              `json:"policySetDefinitionId"`
	Results               SummaryResults      `json:"results"`
	PolicyDefinitions     []DefinitionSummary `json:"policyDefinitions"`
	PolicyGroups          []GroupSummary      `json:"policyGroups"`
}

// Summary is the summarize answer for one scope.
type Summary struct {
	ODataID           *string             `json:"@odata.id"`
	ODataContext      string              `json:"@odata.context"`
	Results           SummaryResults      `json:"results"`
	PolicyAssignments []AssignmentSummary `json:"policyAssignments"`
}

// tally accumulates the states of one summary level: the roll-up of each
// resource, policy (assignment x reference) and group so far (Rollup
// ranks states, so rolling up one state at a time is rolling up all).
type tally struct {
	resources map[string]policy.ComplianceState
	policies  map[string]policy.ComplianceState
	groups    map[string]policy.ComplianceState
}

func newTally() *tally {
	return &tally{resources: map[string]policy.ComplianceState{}, policies: map[string]policy.ComplianceState{},
		groups: map[string]policy.ComplianceState{}}
}

// add counts a state; lowerID is its lower-case resource ID and policy
// its lower-case "assignment|reference".
func (t *tally) add(s *State, lowerID, policyKey string) {
	roll(t.resources, lowerID, s.State)
	roll(t.policies, policyKey, s.State)
	for _, g := range s.GroupNames {
		roll(t.groups, strings.ToLower(s.AssignmentID+"|"+g), s.State)
	}
}

func roll(m map[string]policy.ComplianceState, k string, st policy.ComplianceState) {
	m[k] = policy.Rollup(m[k], st)
}

// results rolls the tally up as the documented ranking says.
func (t *tally) results(uri string) SummaryResults {
	r := SummaryResults{QueryResultsURI: uri}
	r.ResourceDetails, r.NonCompliantResources = details(t.resources)
	r.PolicyDetails, r.NonCompliantPolicies = details(t.policies)
	r.PolicyGroupDetails, _ = details(t.groups)
	return r
}

func details(m map[string]policy.ComplianceState) ([]ComplianceDetail, int) {
	counts := map[string]int{}
	for _, st := range m {
		if st == policy.StateNotStarted {
			continue
		}
		counts[strings.ToLower(string(st))]++
	}
	out := []ComplianceDetail{}
	for st, n := range counts {
		out = append(out, ComplianceDetail{ComplianceState: st, Count: n})
	}
	slices.SortFunc(out, func(a, b ComplianceDetail) int { return strings.Compare(a.ComplianceState, b.ComplianceState) })
	return out, counts["noncompliant"]
}

func (e *Engine) serveSummarize(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	t, q, err := e.prepare(ctx, call, "summarize", true)
	if err != nil {
		return nil, err
	}
	s, err := e.Summarize(ctx, q, t.prefix, call.BaseURL(), call.APIVersion)
	if err != nil {
		return nil, err
	}
	base := call.BaseURL() + t.scope + "/providers/Microsoft.PolicyInsights/policyStates/$metadata#summary"
	s.ODataContext = base + "/$entity"
	return &cloud.Response{Status: http.StatusOK, Body: map[string]any{"@odata.context": base, "@odata.count": 1,
		"value": []*Summary{s}}}, nil
}

// Summarize computes the summary of the states a query selects. $top
// limits the number of assignments listed (those with the most
// non-compliant resources first).
func (e *Engine) Summarize(ctx context.Context, q *Query, prefix, baseURL, apiVersion string) (*Summary, error) {
	rc := e.rowContext(ctx)
	all := newTally()
	type member struct {
		s     *State
		tally *tally
	}
	type assignment struct {
		id, setID string
		tally     *tally
		members   map[[2]string]*member // by lower-case reference and definition ID
		groups    map[string]*tally
	}
	byAssignment := map[string]*assignment{}
	// Lower-case IDs come from the state's key ("{resource}|{assignment}|
	// {reference}", lower case) rather than from a lower-casing of each
	// state's fields, which was a third of a summary's CPU time; the
	// definition IDs, which the key does not hold, are lowered once each.
	lowerDef := map[string]string{}
	if _, err := e.scanKeyedStates(ctx, prefix, "", readCached, func(key string, s *State) bool {
		if !q.matches(s, rc) {
			return true
		}
		lowerID, pk, ak, ok := splitStateKey(key)
		if !ok {
			lowerID, ak = strings.ToLower(s.ResourceID), strings.ToLower(s.AssignmentID)
			pk = ak + "|" + strings.ToLower(s.ReferenceID)
		}
		all.add(s, lowerID, pk)
		a := byAssignment[ak]
		if a == nil {
			a = &assignment{id: s.AssignmentID, setID: s.SetDefinitionID, tally: newTally(), members: map[[2]string]*member{},
				groups: map[string]*tally{}}
			byAssignment[ak] = a
		}
		a.tally.add(s, lowerID, pk)
		ld, ok := lowerDef[s.DefinitionID]
		if !ok {
			ld = strings.ToLower(s.DefinitionID)
			lowerDef[s.DefinitionID] = ld
		}
		mk := [2]string{pk[len(ak)+1:], ld}
		m := a.members[mk]
		if m == nil {
			m = &member{s: s, tally: newTally()}
			a.members[mk] = m
		}
		m.tally.add(s, lowerID, pk)
		for _, g := range s.GroupNames {
			gk := strings.ToLower(g)
			if a.groups[gk] == nil {
				a.groups[gk] = newTally()
			}
			a.groups[gk].add(s, lowerID, pk)
		}
		return true
	}); err != nil {
		return nil, err
	}
	uri := func(filters ...string) string {
		v := url.Values{"api-version": {apiVersion}, "$from": {formatTime(q.From)}, "$to": {formatTime(q.To)},
			"$filter": {strings.Join(append([]string{"IsCompliant eq false"}, filters...), " and ")}}
		return baseURL + q.Scope + "/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults?" + v.Encode()
	}
	out := &Summary{Results: all.results(uri()), PolicyAssignments: []AssignmentSummary{}}
	for _, a := range byAssignment {
		af := "PolicyAssignmentId eq '" + strings.ToLower(a.id) + "'"
		as := AssignmentSummary{PolicyAssignmentID: strings.ToLower(a.id), PolicySetDefinitionID: strings.ToLower(a.setID),
			Results: a.tally.results(uri(af)), PolicyDefinitions: []DefinitionSummary{}, PolicyGroups: []GroupSummary{}}
		for _, m := range a.members {
			df := "PolicyDefinitionId eq '" + strings.ToLower(m.s.DefinitionID) + "'"
			if m.s.ReferenceID != "" {
				df += " and PolicyDefinitionReferenceId eq '" + strings.ToLower(m.s.ReferenceID) + "'"
			}
			groups := m.s.GroupNames
			if groups == nil {
				groups = []string{}
			}
			as.PolicyDefinitions = append(as.PolicyDefinitions, DefinitionSummary{PolicyDefinitionID: strings.ToLower(m.s.DefinitionID),
				PolicyDefinitionReferenceID: strings.ToLower(m.s.ReferenceID), PolicyDefinitionGroupNames: groups,
				Effect: strings.ToLower(m.s.Effect), Results: m.tally.results(uri(af, df))})
		}
		slices.SortFunc(as.PolicyDefinitions, func(x, y DefinitionSummary) int {
			return compareSummaries(x.Results, y.Results, x.PolicyDefinitionID+x.PolicyDefinitionReferenceID, y.PolicyDefinitionID+y.PolicyDefinitionReferenceID)
		})
		for g, gt := range a.groups {
			as.PolicyGroups = append(as.PolicyGroups, GroupSummary{PolicyGroupName: g,
				Results: gt.results(uri(af, "'"+g+"' IN PolicyDefinitionGroupNames"))})
		}
		slices.SortFunc(as.PolicyGroups, func(x, y GroupSummary) int {
			return compareSummaries(x.Results, y.Results, x.PolicyGroupName, y.PolicyGroupName)
		})
		out.PolicyAssignments = append(out.PolicyAssignments, as)
	}
	slices.SortFunc(out.PolicyAssignments, func(x, y AssignmentSummary) int {
		return compareSummaries(x.Results, y.Results, x.PolicyAssignmentID, y.PolicyAssignmentID)
	})
	if q.Top >= 0 && len(out.PolicyAssignments) > q.Top {
		out.PolicyAssignments = out.PolicyAssignments[:q.Top]
	}
	return out, nil
}

// splitStateKey splits a state key into the lower-case resource ID, the
// "{assignment}|{reference}" part and the assignment ID; false for a key
// of another shape.
func splitStateKey(key string) (id, policyKey, assignment string, ok bool) {
	i := strings.IndexByte(key, '|')
	if i < 0 {
		return "", "", "", false
	}
	id, policyKey = key[:i], key[i+1:]
	j := strings.IndexByte(policyKey, '|')
	if j < 0 {
		return "", "", "", false
	}
	return id, policyKey, policyKey[:j], true
}

// compareSummaries orders the most non-compliant first, then by name.
func compareSummaries(a, b SummaryResults, an, bn string) int {
	if a.NonCompliantResources != b.NonCompliantResources {
		return b.NonCompliantResources - a.NonCompliantResources
	}
	return strings.Compare(an, bn)
}
