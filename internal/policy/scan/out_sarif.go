package scan

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/steward-gov/steward/internal/policy"
)

// SARIF 2.1.0 constants.
const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)

// SARIFSink writes a SARIF 2.1.0 log for CI: one result per
// non-compliant (resource, definition) pair, the rule being the
// definition. Results are streamed; the rules, which are known only at
// the end, follow them in the same run object. Evaluation errors and
// malformed records become tool execution notifications.
type SARIFSink struct {
	Out io.Writer
	// EstateURI is the artifact the locations point into (the estate
	// file as given).
	EstateURI string
	// ToolVersion is the steward version.
	ToolVersion string
	rules       []sarifRule
	ruleIndex   map[string]int
	notes       []sarifNotification
	results     jsonArray
	started     bool
}

type sarifRule struct {
	ID               string         `json:"id"`
	Name             string         `json:"name,omitempty"`
	ShortDescription *sarifText     `json:"shortDescription,omitempty"`
	Properties       map[string]any `json:"properties,omitempty"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID     string          `json:"ruleId"`
	RuleIndex  int             `json:"ruleIndex"`
	Level      string          `json:"level"`
	Message    sarifText       `json:"message"`
	Locations  []sarifLocation `json:"locations"`
	Properties map[string]any  `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation struct {
		URI string `json:"uri"`
	} `json:"artifactLocation"`
	Region *struct {
		StartLine int `json:"startLine"`
	} `json:"region,omitempty"`
}

type sarifLogical struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifNotification struct {
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

func (s *SARIFSink) start() error {
	if s.started {
		return nil
	}
	s.started = true
	_, err := fmt.Fprintf(s.Out, "{\n  \"version\": %q,\n  \"$schema\": %q,\n  \"runs\": [\n    {\n      \"results\": [", sarifVersion, sarifSchema)
	return err
}

// locationIn is location in another file than the estate, when uri is set.
func (s *SARIFSink) locationIn(uri, resourceID string, line int) sarifLocation {
	loc := s.location(resourceID, line)
	if uri != "" && loc.PhysicalLocation != nil {
		loc.PhysicalLocation.ArtifactLocation.URI = uri
	}
	return loc
}

func (s *SARIFSink) location(resourceID string, line int) sarifLocation {
	loc := sarifLocation{LogicalLocations: []sarifLogical{{FullyQualifiedName: resourceID, Kind: "resource"}}}
	if s.EstateURI != "" {
		p := &sarifPhysical{}
		p.ArtifactLocation.URI = s.EstateURI
		if line > 0 {
			p.Region = &struct {
				StartLine int `json:"startLine"`
			}{line}
		}
		loc.PhysicalLocation = p
	}
	return loc
}

// Finding streams a result for a non-compliant pair; an evaluation error
// becomes a notification.
func (s *SARIFSink) Finding(f *Finding) error {
	f.Explain()
	if err := s.start(); err != nil {
		return err
	}
	if f.State != policy.StateNonCompliant {
		s.note("error", fmt.Sprintf("%s: evaluating %s failed: %s", f.ResourceID, f.DefinitionName, f.Error), f.ResourceID, f.Line)
		return nil
	}
	if s.ruleIndex == nil {
		s.ruleIndex = map[string]int{}
	}
	idx, ok := s.ruleIndex[f.DefinitionID]
	if !ok {
		idx = len(s.rules)
		s.ruleIndex[f.DefinitionID] = idx
		r := sarifRule{ID: f.DefinitionName, Properties: map[string]any{"policyDefinitionId": f.DefinitionID}}
		if f.DisplayName != "" {
			r.Name, r.ShortDescription = f.DisplayName, &sarifText{Text: f.DisplayName}
		}
		s.rules = append(s.rules, r)
	}
	level := "warning"
	if f.NextWrite != nil && f.NextWrite.Denied {
		level = "error"
	}
	name := f.DisplayName
	if name == "" {
		name = f.DefinitionName
	}
	text := fmt.Sprintf("%s is non-compliant with %q (assignment %s, effect %s)", f.ResourceID, name, f.AssignmentName, f.Effect)
	if f.Message != "" {
		text += ": " + f.Message
	}
	if f.Reason != "" {
		text += ". Reason: " + f.Reason
	}
	props := map[string]any{"policyAssignmentId": f.AssignmentID, "complianceState": f.State, "effect": f.Effect}
	if f.ReferenceID != "" {
		props["policyDefinitionReferenceId"] = f.ReferenceID
	}
	if f.NextWrite != nil {
		props["nextWrite"] = f.NextWrite
	}
	res := sarifResult{RuleID: f.DefinitionName, RuleIndex: idx, Level: level, Message: sarifText{Text: text},
		Locations: []sarifLocation{s.locationIn(f.URI, f.ResourceID, f.Line)}, Properties: props}
	return s.results.add(s.Out, "        ", res)
}

func (s *SARIFSink) note(level, text, resourceID string, line int) {
	if len(s.notes) >= maxKeptMalformed {
		return
	}
	n := sarifNotification{Level: level, Message: sarifText{Text: text}}
	if resourceID != "" || line > 0 {
		n.Locations = []sarifLocation{s.location(resourceID, line)}
	}
	s.notes = append(s.notes, n)
}

// Diff is not a SARIF result: a diff run in SARIF lists nothing.
func (s *SARIFSink) Diff(*DiffEntry) error { return s.start() }

// Malformed records a notification for a bad record.
func (s *SARIFSink) Malformed(e *RecordError) error {
	s.note("error", "malformed record "+e.Error(), "", e.Line)
	return nil
}

// Finish closes the results and writes the tool (with its rules) and the
// invocation.
func (s *SARIFSink) Finish(r *Report) error {
	if err := s.start(); err != nil {
		return err
	}
	rules := s.rules
	if rules == nil {
		rules = []sarifRule{}
	}
	driver := map[string]any{"name": "steward", "informationUri": "https://github.com/steward-gov/steward", "rules": rules}
	if s.ToolVersion != "" {
		driver["version"] = s.ToolVersion
	}
	tool := map[string]any{"driver": driver}
	inv := map[string]any{"executionSuccessful": r.InputError == "",
		"properties": map[string]any{"resources": r.Resources, "malformedRecords": r.Malformed, "overall": r.Overall}}
	if len(s.notes) > 0 {
		inv["toolExecutionNotifications"] = s.notes
	}
	tb, err := json.MarshalIndent(tool, "      ", "  ")
	if err != nil {
		return err
	}
	ib, err := json.MarshalIndent([]any{inv}, "      ", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(s.Out, "\n      ],\n      \"tool\": %s,\n      \"invocations\": %s\n    }\n  ]\n}\n", tb, ib)
	return err
}
