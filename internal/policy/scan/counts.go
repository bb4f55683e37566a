package scan

import "github.com/steward-gov/steward/internal/policy"

// stateIndex numbers the states a scan counts; NotStarted (a disabled
// effect) and NotApplicable are not counted, as Azure omits them.
var states = []policy.ComplianceState{policy.StateCompliant, policy.StateNonCompliant, policy.StateExempt,
	policy.StateError, policy.StateConflicting, policy.StateUnknown, policy.StateProtected}

const nStates = 7

func stateIndex(s policy.ComplianceState) int {
	for i, st := range states {
		if st == s {
			return i
		}
	}
	return -1
}

// tally is a fixed-size counter of resources per state.
type tally [nStates]int64

func (t *tally) add(s policy.ComplianceState) {
	if i := stateIndex(s); i >= 0 {
		t[i]++
	}
}

func (t *tally) merge(o *tally) {
	for i := range t {
		t[i] += o[i]
	}
}

// Counts are resources per compliance state, with the roll-up and the
// compliance percentage Azure shows.
type Counts struct {
	Compliant    int64 `json:"compliant"`
	NonCompliant int64 `json:"nonCompliant"`
	Exempt       int64 `json:"exempt"`
	Error        int64 `json:"error"`
	Conflicting  int64 `json:"conflicting,omitempty"`
	Unknown      int64 `json:"unknown,omitempty"`
	Protected    int64 `json:"protected,omitempty"`
	// Total is the number of resources counted.
	Total int64 `json:"total"`
	// State is the roll-up: the highest-ranked state present
	// (policy.Rollup); NotStarted when nothing was evaluated.
	State policy.ComplianceState `json:"complianceState"`
	// Percent is (compliant + exempt + unknown) / (those + non-compliant
	// + conflicting + error), 100 when nothing counts.
	Percent float64 `json:"compliancePercentage"`
}

func (t *tally) counts() Counts {
	c := Counts{Compliant: t[0], NonCompliant: t[1], Exempt: t[2], Error: t[3], Conflicting: t[4], Unknown: t[5], Protected: t[6]}
	var present []policy.ComplianceState
	for i, n := range t {
		c.Total += n
		if n > 0 {
			present = append(present, states[i])
		}
	}
	c.State = policy.Rollup(present...)
	good := c.Compliant + c.Exempt + c.Unknown
	if all := good + c.NonCompliant + c.Conflicting + c.Error; all > 0 {
		c.Percent = float64(int64(1000*float64(good)/float64(all)+0.5)) / 10
	} else {
		c.Percent = 100
	}
	return c
}

// counters are one worker's tallies: per member, per assignment, and per
// resource over all assignments.
type counters struct {
	members []tally
	targets []tally
	overall tally
	// nonCompliantMembers counts, per member, the non-compliant
	// resources that are denied on their next write.
	denied []int64
}

func newCounters(p *Plan) *counters {
	return &counters{members: make([]tally, p.Members), targets: make([]tally, len(p.Targets)), denied: make([]int64, p.Members)}
}

func (c *counters) merge(o *counters) {
	for i := range c.members {
		c.members[i].merge(&o.members[i])
		c.denied[i] += o.denied[i]
	}
	for i := range c.targets {
		c.targets[i].merge(&o.targets[i])
	}
	c.overall.merge(&o.overall)
}
