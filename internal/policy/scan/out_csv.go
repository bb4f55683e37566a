package scan

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// csvHeader is the one column set of the CSV output. The record column
// says what a row is: finding, malformed, change (a diff), policy,
// assignment or overall (the summary rows, written last).
var csvHeader = []string{"record", "resourceId", "resourceType", "source", "policyAssignmentName",
	"policyDefinitionReferenceId", "policyDefinitionId", "complianceState", "effect", "nextWrite", "reason",
	"compliant", "nonCompliant", "exempt", "error", "total", "compliancePercentage"}

// CSVSink writes one row per finding, malformed record or diff change as
// they come, then the summary rows.
type CSVSink struct {
	Out    io.Writer
	w      *csv.Writer
	header bool
}

func (s *CSVSink) row(cells ...string) error {
	if s.w == nil {
		s.w = csv.NewWriter(s.Out)
	}
	if !s.header {
		s.header = true
		if err := s.w.Write(csvHeader); err != nil {
			return err
		}
	}
	for len(cells) < len(csvHeader) {
		cells = append(cells, "")
	}
	return s.w.Write(cells)
}

// Finding writes a finding row.
func (s *CSVSink) Finding(f *Finding) error {
	f.Explain()
	next := ""
	if f.NextWrite != nil {
		next = describeWrite(f.NextWrite)
	}
	why := f.Reason
	if f.Message != "" {
		why = f.Message + ": " + why
	}
	return s.row("finding", f.ResourceID, f.ResourceType, f.Where, f.AssignmentName, f.ReferenceID, f.DefinitionID,
		string(f.State), f.Effect, next, why)
}

// Diff writes a change row: the old and new states in complianceState
// ("Old -> New") and the changed members in reason.
func (s *CSVSink) Diff(d *DiffEntry) error {
	var ms []string
	for _, m := range d.Members {
		ms = append(ms, m.ReferenceID+": "+string(m.Old)+" -> "+string(m.New))
	}
	return s.row("change", d.ResourceID, d.ResourceType, d.Where, "", "", "", string(d.Old)+" -> "+string(d.New), "", "",
		strings.Join(ms, "; "))
}

// Malformed writes a malformed-record row.
func (s *CSVSink) Malformed(e *RecordError) error {
	return s.row("malformed", "", "", e.Where, "", "", "", "", "", "", e.Err.Error())
}

// Finish writes the summary rows and flushes.
func (s *CSVSink) Finish(r *Report) error {
	counts := func(c Counts) []string {
		return []string{strconv.FormatInt(c.Compliant, 10), strconv.FormatInt(c.NonCompliant, 10),
			strconv.FormatInt(c.Exempt, 10), strconv.FormatInt(c.Error, 10), strconv.FormatInt(c.Total, 10),
			strconv.FormatFloat(c.Percent, 'f', 1, 64)}
	}
	for _, a := range r.Assignments {
		for _, p := range a.Policies {
			if err := s.row(append([]string{"policy", "", "", "", a.Name, p.ReferenceID, p.DefinitionID,
				string(p.Resources.State), "", "", ""}, counts(p.Resources)...)...); err != nil {
				return err
			}
		}
		if err := s.row(append([]string{"assignment", "", "", "", a.Name, "", a.PolicyDefinitionID,
			string(a.Resources.State), "", "", ""}, counts(a.Resources)...)...); err != nil {
			return err
		}
	}
	if err := s.row(append([]string{"overall", "", "", "", "", "", "", string(r.Overall.State), "", "", r.InputError},
		counts(r.Overall)...)...); err != nil {
		return err
	}
	s.w.Flush()
	return s.w.Error()
}
