package insights

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/policy"
)

// tableStates holds the policy states, keyed
// "{resourceId}|{assignmentId}|{referenceId}" in lower case, so a prefix
// scan of a scope ID plus "/" lists the states below it and one of a
// resource ID plus "|" lists that resource's states.
const tableStates = "insights.states"

// State is one policy state: the compliance of one resource with one policy
// definition of one assignment (one member of an assigned set), as Steward
// keeps it. The API shape (PolicyState of the policyStates spec) is built
// from it by Record.
type State struct {
	Timestamp       time.Time
	ResourceID      string
	ResourceType    string
	Location        string
	Tags            map[string]string
	AssignmentID    string
	DefinitionID    string
	SetDefinitionID string
	ReferenceID     string
	Effect          string
	GroupNames      []string
	State           policy.ComplianceState
	// ManagementGroups are the groups above the resource's subscription,
	// nearest first.
	ManagementGroups []string
	// Expressions explain a non-compliant state (policyEvaluationDetails).
	Expressions []policy.EvaluatedExpression
	// ReasonCode is complianceReasonCode: the error behind the Error state.
	ReasonCode string
}

// stored is the compact form a state is kept in: what cannot be derived
// from the key and the IDs.
//
// R and A, the resource and assignment IDs as spelled, are left out when
// the key holds them lower-cased and they differ from that only in ASCII
// letters' case: RU and AU then list the offsets of their upper-case
// letters. They were a third of a state's bytes.
type stored struct {
	T  int64                        `json:"t"`
	R  string                       `json:"r,omitempty"`
	RU []int                        `json:"ru,omitempty"`
	RT string                       `json:"rt,omitempty"`
	L  string                       `json:"l,omitempty"`
	Tg map[string]string            `json:"tg,omitempty"`
	A  string                       `json:"a,omitempty"`
	AU []int                        `json:"au,omitempty"`
	D  string                       `json:"d"`
	S  string                       `json:"s,omitempty"`
	F  string                       `json:"f,omitempty"`
	E  string                       `json:"e,omitempty"`
	G  []string                     `json:"g,omitempty"`
	C  string                       `json:"c"`
	M  []string                     `json:"m,omitempty"`
	X  []policy.EvaluatedExpression `json:"x,omitempty"`
	RC string                       `json:"rc,omitempty"`
}

// stateKeyIn is the key of a state: the resource's key prefix
// (resourcePrefix), the lower-case assignment ID and the reference ID.
func stateKeyIn(prefix, assignment, referenceID string) string {
	return prefix + assignment + "|" + strings.ToLower(referenceID)
}

// resourcePrefix is the key prefix of every state of one resource.
func resourcePrefix(resourceID string) string {
	return strings.ToLower(strings.TrimRight(resourceID, "/")) + "|"
}

// scopePrefix is the key prefix of every state below a scope ("" for the
// root).
func scopePrefix(scope string) string {
	s := strings.ToLower(strings.TrimRight(scope, "/"))
	if s == "" {
		return ""
	}
	return s + "/"
}

func (s *State) encode(key string) ([]byte, error) {
	return appendStored(make([]byte, 0, 384), s.stored(key))
}

// stored is the state's stored form under key.
func (s *State) stored(key string) *stored {
	v := &stored{T: s.Timestamp.UnixMilli(), R: s.ResourceID, RT: s.ResourceType, L: s.Location, Tg: s.Tags,
		A: s.AssignmentID, D: s.DefinitionID, S: s.SetDefinitionID, F: s.ReferenceID, E: s.Effect, G: s.GroupNames,
		C: string(s.State), M: s.ManagementGroups, X: s.Expressions, RC: s.ReasonCode}
	if id, _, assignment, ok := splitStateKey(key); ok {
		if m, ok := caseMask(v.R, id); ok {
			v.R, v.RU = "", m
		}
		if m, ok := caseMask(v.A, assignment); ok {
			v.A, v.AU = "", m
		}
	}
	return v
}

// decodeState decodes the state stored under key.
func decodeState(key string, b []byte) (*State, error) {
	var v stored
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return v.state(key)
}

// state is the State a stored value holds under key.
func (v *stored) state(key string) (*State, error) {
	r, a := v.R, v.A
	if r == "" || a == "" {
		id, _, assignment, ok := splitStateKey(key)
		if !ok {
			return nil, fmt.Errorf("state key %q has no resource and assignment", key)
		}
		if r == "" {
			if r, ok = applyCaseMask(id, v.RU); !ok {
				return nil, fmt.Errorf("state %q: invalid resource ID case offsets", key)
			}
		}
		if a == "" {
			if a, ok = applyCaseMask(assignment, v.AU); !ok {
				return nil, fmt.Errorf("state %q: invalid assignment ID case offsets", key)
			}
		}
	}
	return &State{Timestamp: time.UnixMilli(v.T).UTC(), ResourceID: r, ResourceType: v.RT, Location: v.L, Tags: v.Tg,
		AssignmentID: a, DefinitionID: v.D, SetDefinitionID: v.S, ReferenceID: v.F, Effect: v.E, GroupNames: v.G,
		State: policy.ComplianceState(v.C), ManagementGroups: v.M, Expressions: v.X, ReasonCode: v.RC}, nil
}

// caseMask lists the offsets at which s has an upper-case ASCII letter
// where lower has it lower-cased; false when s differs from lower in any
// other way (another length, another character, a non-ASCII byte).
func caseMask(s, lower string) ([]int, bool) {
	if s == "" || len(s) != len(lower) {
		return nil, false
	}
	var m []int
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf:
			return nil, false
		case c == lower[i]:
		case c >= 'A' && c <= 'Z' && c+('a'-'A') == lower[i]:
			m = append(m, i)
		default:
			return nil, false
		}
	}
	return m, true
}

// applyCaseMask is caseMask's inverse: lower with the letters at the
// offsets of m upper-cased; false for an offset out of range, out of
// order or not at a lower-case letter.
func applyCaseMask(lower string, m []int) (string, bool) {
	if len(m) == 0 {
		return lower, lower != ""
	}
	b := []byte(lower)
	last := -1
	for _, i := range m {
		if i <= last || i >= len(b) || b[i] < 'a' || b[i] > 'z' {
			return "", false
		}
		b[i] -= 'a' - 'A'
		last = i
	}
	return string(b), true
}

// lastName is the last segment of an ID (a definition's or assignment's
// name).
func lastName(id string) string {
	id = strings.TrimRight(id, "/")
	return id[strings.LastIndexByte(id, '/')+1:]
}

// assignmentScope is the scope an assignment ID is made at.
func assignmentScope(id string) string {
	if i := strings.Index(strings.ToLower(id), "/providers/microsoft.authorization/policyassignments/"); i >= 0 {
		if i == 0 {
			return "/"
		}
		return id[:i]
	}
	return ""
}

// resourceParts returns the subscription and resource group of a resource
// ID ("" when it has none).
func resourceParts(id string) (sub, group string) {
	r, err := arm.ParseResourceID(id)
	if err != nil {
		return "", ""
	}
	for r.Parent != nil && r.SubscriptionID == "" {
		r = r.Parent
	}
	return r.SubscriptionID, r.ResourceGroup
}

// isCompliant is the deprecated isCompliant flag: false for non-compliant
// states, true otherwise.
func (s *State) isCompliant() bool { return s.State != policy.StateNonCompliant }
