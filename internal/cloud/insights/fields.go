package insights

import (
	"strings"
	"time"
)

// stateFields are the properties of a PolicyState (policyStates spec) that
// queries may name, by lower-case name. OData names are matched
// case-insensitively: Azure's own examples write PolicyAssignmentId for
// policyAssignmentId.
var stateFields = map[string]string{}

func init() {
	for _, f := range []string{
		"timestamp", "resourceId", "policyAssignmentId", "policyDefinitionId", "effectiveParameters", "isCompliant",
		"subscriptionId", "resourceType", "resourceLocation", "resourceGroup", "resourceTags", "policyAssignmentName",
		"policyAssignmentOwner", "policyAssignmentParameters", "policyAssignmentScope", "policyDefinitionName",
		"policyDefinitionAction", "policyDefinitionCategory", "policySetDefinitionId", "policySetDefinitionName",
		"policySetDefinitionOwner", "policySetDefinitionCategory", "policySetDefinitionParameters", "managementGroupIds",
		"policyDefinitionReferenceId", "complianceState", "policyDefinitionGroupNames", "policyDefinitionVersion",
		"policySetDefinitionVersion", "policyAssignmentVersion", "complianceReasonCode",
	} {
		stateFields[strings.ToLower(f)] = f
	}
}

// Row is one record a query works on: a policy state, or a row an $apply
// transformation produced. Get takes a lower-case property name.
type Row interface {
	Get(field string) (any, bool)
}

// stateRow is a State seen as a Row, with what the API derives from it.
type stateRow struct {
	s   *State
	ctx *rowContext
}

// rowContext carries what rows derive from the assignments in effect.
type rowContext struct {
	assignments map[string]*assignmentInfo // lower-case assignment ID
}

// assignmentInfo is what a state reports about its assignment.
type assignmentInfo struct {
	Parameters string // JSON of the assigned parameters
	Version    string
}

// Get implements Row.
func (r stateRow) Get(field string) (any, bool) {
	s := r.s
	switch field {
	case "timestamp":
		return s.Timestamp, true
	case "resourceid":
		return s.ResourceID, true
	case "policyassignmentid":
		return s.AssignmentID, true
	case "policydefinitionid":
		return s.DefinitionID, true
	case "iscompliant":
		return s.isCompliant(), true
	case "subscriptionid":
		sub, _ := resourceParts(s.ResourceID)
		return sub, true
	case "resourcetype":
		return s.ResourceType, true
	case "resourcelocation":
		return s.Location, true
	case "resourcegroup":
		_, g := resourceParts(s.ResourceID)
		return g, true
	case "resourcetags":
		return tagsString(s.Tags), true
	case "policyassignmentname":
		return lastName(s.AssignmentID), true
	case "policyassignmentscope":
		return assignmentScope(s.AssignmentID), true
	case "policyassignmentparameters":
		if a := r.info(); a != nil {
			return a.Parameters, true
		}
		return "{}", true
	case "policyassignmentversion":
		if a := r.info(); a != nil && a.Version != "" {
			return a.Version, true
		}
		return nil, true
	case "policydefinitionname":
		return lastName(s.DefinitionID), true
	case "policydefinitionaction":
		return s.Effect, true
	case "policysetdefinitionid":
		return s.SetDefinitionID, true
	case "policysetdefinitionname":
		if s.SetDefinitionID == "" {
			return "", true
		}
		return lastName(s.SetDefinitionID), true
	case "managementgroupids":
		return strings.Join(s.ManagementGroups, ","), true
	case "policydefinitionreferenceid":
		return s.ReferenceID, true
	case "compliancestate":
		return string(s.State), true
	case "policydefinitiongroupnames":
		return s.GroupNames, true
	case "compliancereasoncode":
		return s.ReasonCode, true
	}
	if _, ok := stateFields[field]; ok {
		return nil, true // known but not tracked: null, as Azure returns for owners and categories
	}
	return nil, false
}

func (r stateRow) info() *assignmentInfo {
	if r.ctx == nil {
		return nil
	}
	return r.ctx.assignments[strings.ToLower(r.s.AssignmentID)]
}

// tagsString renders resource tags as the spec's resourceTags string.
func tagsString(tags map[string]string) string {
	if len(tags) == 0 {
		return ""
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sortStrings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(";")
		}
		b.WriteString(k + "=" + tags[k])
	}
	return b.String()
}

// mapRow is a row an $apply produced: group keys and aggregates, by
// lower-case name, with their spelling for output.
type mapRow struct {
	vals  map[string]any
	names []string // output names in order
}

func (m *mapRow) Get(field string) (any, bool) {
	v, ok := m.vals[field]
	return v, ok
}

func (m *mapRow) set(name string, v any) {
	k := strings.ToLower(name)
	if _, ok := m.vals[k]; !ok {
		m.names = append(m.names, name)
	}
	m.vals[k] = v
}

// formatTime is the timestamp format of the API.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
