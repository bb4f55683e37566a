package policy

import "strings"

// ComplianceState is the compliance of a resource (or a roll-up of
// resources) against a policy, as Azure Policy reports it.
type ComplianceState string

// The compliance states (compliance-states.md).
const (
	StateCompliant    ComplianceState = "Compliant"
	StateNonCompliant ComplianceState = "NonCompliant"
	StateExempt       ComplianceState = "Exempt"
	StateConflicting  ComplianceState = "Conflicting"
	StateNotStarted   ComplianceState = "NotStarted"
	StateUnknown      ComplianceState = "Unknown"
	StateError        ComplianceState = "Error"
	StateProtected    ComplianceState = "Protected"
	// StateNotApplicable is used by Steward for a resource the policy does
	// not apply to (mode, selectors, notScopes); Azure omits such pairs.
	StateNotApplicable ComplianceState = "NotApplicable"
)

// ParseComplianceState reads a state name in any case ("noncompliant",
// "Non-compliant"); unknown names give StateUnknown.
func ParseComplianceState(s string) ComplianceState {
	k := strings.ToLower(stateNameCleaner.Replace(s))
	for _, st := range []ComplianceState{StateCompliant, StateNonCompliant, StateExempt, StateConflicting,
		StateNotStarted, StateUnknown, StateError, StateProtected, StateNotApplicable} {
		if strings.ToLower(string(st)) == k {
			return st
		}
	}
	if k == "conflict" {
		return StateConflicting
	}
	return StateUnknown
}

var stateNameCleaner = strings.NewReplacer("-", "", " ", "", "_", "")

// rollupRank is the documented precedence when states roll up: the
// highest-ranked state present wins. NotStarted and NotApplicable are
// ignored.
var rollupRank = map[ComplianceState]int{
	StateNonCompliant: 7, StateCompliant: 6, StateError: 5, StateConflicting: 4,
	StateProtected: 3, StateExempt: 2, StateUnknown: 1,
}

// Rollup combines states (of the policies of an initiative, the
// assignments on a resource, the resources of a scope) into one, by the
// documented ranking: NonCompliant, Compliant, Error, Conflicting,
// Protected, Exempt, Unknown. With nothing to roll up it returns
// StateNotStarted.
func Rollup(states ...ComplianceState) ComplianceState {
	best, rank := StateNotStarted, 0
	for _, s := range states {
		if r := rollupRank[s]; r > rank {
			best, rank = s, r
		}
	}
	return best
}

// memberRollup is the state of an assignment from its members' states:
// their Rollup, NotStarted when only disabled members matched, and
// NotApplicable when nothing applied.
func memberRollup(states []ComplianceState) ComplianceState {
	st := Rollup(states...)
	if st != StateNotStarted {
		return st
	}
	for _, s := range states {
		if s == StateNotStarted {
			return StateNotStarted
		}
	}
	return StateNotApplicable
}

// ResourceState is the compliance state of a resource over the results
// of the assignments in scope (after MarkConflicts): their roll-up,
// ignoring assignments that do not apply; StateNotApplicable when none
// applies.
func ResourceState(results []AssignmentResult) ComplianceState {
	states := make([]ComplianceState, 0, len(results))
	for _, r := range results {
		if r.Applicable {
			states = append(states, r.State)
		}
	}
	return memberRollup(states)
}

// Summary counts distinct resources per state.
type Summary struct {
	Counts map[ComplianceState]int `json:"counts"`
}

// Add counts one resource in a state.
func (s *Summary) Add(st ComplianceState) {
	if s.Counts == nil {
		s.Counts = map[ComplianceState]int{}
	}
	s.Counts[st]++
}

// Percentage is the documented compliance percentage:
// (compliant + exempt + unknown) / (compliant + exempt + unknown +
// non-compliant + conflicting + error), or 100 when nothing counts.
func (s *Summary) Percentage() float64 {
	good := s.Counts[StateCompliant] + s.Counts[StateExempt] + s.Counts[StateUnknown]
	total := good + s.Counts[StateNonCompliant] + s.Counts[StateConflicting] + s.Counts[StateError]
	if total == 0 {
		return 100
	}
	return 100 * float64(good) / float64(total)
}
