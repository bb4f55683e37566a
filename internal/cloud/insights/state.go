package insights

import (
	"encoding/json"
	"strings"
	"time"

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
type stored struct {
	T  int64                        `json:"t"`
	R  string                       `json:"r"`
	RT string                       `json:"rt,omitempty"`
	L  string                       `json:"l,omitempty"`
	Tg map[string]string            `json:"tg,omitempty"`
	A  string                       `json:"a"`
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

func (s *State) encode() ([]byte, error) {
	return appendStored(make([]byte, 0, 512), s.stored())
}

// stored is the state's stored form.
func (s *State) stored() *stored {
	return &stored{T: s.Timestamp.UnixMilli(), R: s.ResourceID, RT: s.ResourceType, L: s.Location, Tg: s.Tags,
		A: s.AssignmentID, D: s.DefinitionID, S: s.SetDefinitionID, F: s.ReferenceID, E: s.Effect, G: s.GroupNames,
		C: string(s.State), M: s.ManagementGroups, X: s.Expressions, RC: s.ReasonCode}
}

func decodeState(b []byte) (*State, error) {
	var v stored
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return v.state(), nil
}

// state is the State a stored value holds.
func (v *stored) state() *State {
	return &State{Timestamp: time.UnixMilli(v.T).UTC(), ResourceID: v.R, ResourceType: v.RT, Location: v.L, Tags: v.Tg,
		AssignmentID: v.A, DefinitionID: v.D, SetDefinitionID: v.S, ReferenceID: v.F, Effect: v.E, GroupNames: v.G,
		State: policy.ComplianceState(v.C), ManagementGroups: v.M, Expressions: v.X, ReasonCode: v.RC}
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
