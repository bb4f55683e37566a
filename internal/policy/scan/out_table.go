package scan

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/steward-gov/steward/internal/cliout"
)

// DefaultTableLimit is how many non-compliant results a table lists; the
// rest are counted (the JSON, CSV and SARIF outputs stream them all).
const DefaultTableLimit = 1000

// TableSink renders a scan for people: the summary per assignment and
// per definition, then the non-compliant resources (up to Limit) with
// the reason and what their next write would meet. Malformed records are
// written to Errs as they are found.
type TableSink struct {
	Out, Errs io.Writer
	Limit     int
	rows      [][]string
	diffs     [][]string
	dropped   int64
}

// Finding keeps a row for the table, up to the limit.
func (s *TableSink) Finding(f *Finding) error {
	if len(s.rows) >= s.limit() {
		s.dropped++
		return nil
	}
	f.Explain()
	effect, next := f.Effect, ""
	if f.State != "NonCompliant" {
		effect = string(f.State)
	}
	if f.NextWrite != nil {
		next = describeWrite(f.NextWrite)
	}
	why := f.Reason
	if f.Message != "" {
		why = f.Message + ": " + why
	}
	s.rows = append(s.rows, []string{f.ResourceID, policyLabel(f.AssignmentName, f.ReferenceID), effect, next, clip(why, 240)})
	return nil
}

// Diff keeps a row of a diff, up to the limit.
func (s *TableSink) Diff(d *DiffEntry) error {
	if len(s.diffs) >= s.limit() {
		s.dropped++
		return nil
	}
	var ms []string
	for _, m := range d.Members {
		ms = append(ms, fmt.Sprintf("%s: %s -> %s", m.ReferenceID, m.Old, m.New))
	}
	s.diffs = append(s.diffs, []string{d.ResourceID, string(d.Old), string(d.New), clip(strings.Join(ms, "; "), 240)})
	return nil
}

// Malformed reports a bad record on Errs at once.
func (s *TableSink) Malformed(e *RecordError) error {
	_, err := fmt.Fprintf(s.Errs, "malformed record: %v\n", e)
	return err
}

func (s *TableSink) limit() int {
	if s.Limit <= 0 {
		return DefaultTableLimit
	}
	return s.Limit
}

// Finish writes the summary and the kept rows.
func (s *TableSink) Finish(r *Report) error {
	w := s.Out
	fmt.Fprintf(w, "%d resources scanned", r.Resources)
	if r.Malformed > 0 {
		fmt.Fprintf(w, ", %d malformed records skipped", r.Malformed)
	}
	o := r.Overall
	if r.Diff {
		fmt.Fprintln(w)
	} else {
		fmt.Fprintf(w, "; overall %s: %d compliant, %d non-compliant, %d exempt, %d error (%.1f%% compliant)\n",
			o.State, o.Compliant, o.NonCompliant, o.Exempt, o.Error, o.Percent)
	}
	if r.InputError != "" {
		fmt.Fprintf(w, "input stopped early: %s\n", r.InputError)
	}
	if len(r.Skipped) > 0 {
		fmt.Fprintf(w, "%d definitions or assignments skipped (listed with --output json)\n", len(r.Skipped))
	}
	if r.Diff {
		return s.finishDiff(r)
	}
	fmt.Fprintln(w)
	var arows, prows [][]string
	idle := 0
	for _, a := range r.Assignments {
		if a.Resources.Total == 0 {
			idle++
			continue
		}
		arows = append(arows, append([]string{a.Name, string(a.Resources.State)}, countCells(a.Resources)...))
		arows[len(arows)-1] = append(arows[len(arows)-1], fmt.Sprintf("%d/%d", a.NonCompliantPolicies, len(a.Policies)))
		for _, p := range a.Policies {
			if p.Resources.Total == 0 {
				continue
			}
			row := append([]string{policyLabel(a.Name, p.ReferenceID), string(p.Resources.State)}, countCells(p.Resources)...)
			prows = append(prows, append(row, strconv.FormatInt(p.Denied, 10)))
		}
	}
	head := []string{"state", "compliant", "non-compliant", "exempt", "error", "compliance"}
	if err := cliout.WriteTable(w, append(append([]string{"assignment"}, head...), "non-compliant policies"), arows); err != nil {
		return err
	}
	if idle > 0 {
		fmt.Fprintf(w, "(%d assignments applied to no resource)\n", idle)
	}
	fmt.Fprintln(w)
	if err := cliout.WriteTable(w, append(append([]string{"policy"}, head...), "denied"), prows); err != nil {
		return err
	}
	if len(s.rows) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	if err := cliout.WriteTable(w, []string{"resource", "policy", "effect", "next write", "reason"}, s.rows); err != nil {
		return err
	}
	if s.dropped > 0 {
		fmt.Fprintf(w, "... %d more non-compliant results not listed (raise --limit, or use --output json, csv or sarif for all)\n", s.dropped)
	}
	return nil
}

func (s *TableSink) finishDiff(r *Report) error {
	w := s.Out
	fmt.Fprintf(w, "%d resources change compliance\n", r.Changed)
	for _, k := range slices.Sorted(maps.Keys(r.Transitions)) {
		fmt.Fprintf(w, "  %s: %d\n", k, r.Transitions[k])
	}
	if len(s.diffs) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	if err := cliout.WriteTable(w, []string{"resource", "old", "new", "changed policies"}, s.diffs); err != nil {
		return err
	}
	if s.dropped > 0 {
		fmt.Fprintf(w, "... %d more changed resources not listed (use --output json or csv for all)\n", s.dropped)
	}
	return nil
}

func countCells(c Counts) []string {
	return []string{strconv.FormatInt(c.Compliant, 10), strconv.FormatInt(c.NonCompliant, 10),
		strconv.FormatInt(c.Exempt, 10), strconv.FormatInt(c.Error, 10), strconv.FormatFloat(c.Percent, 'f', 1, 64) + "%"}
}

// policyLabel names a definition in a table: assignment/reference.
func policyLabel(assignment, ref string) string {
	if ref == "" {
		return assignment
	}
	return assignment + "/" + ref
}

// describeWrite says in a few words what the next write would meet.
func describeWrite(w *NextWrite) string {
	var parts []string
	if w.Denied {
		parts = append(parts, "denied")
	}
	for _, c := range w.Changes {
		switch strings.ToLower(c.Operation) {
		case "remove":
			parts = append(parts, "remove "+c.Field)
		default:
			parts = append(parts, fmt.Sprintf("%s %s=%s", c.Operation, c.Field, jsonText(c.Value)))
		}
	}
	if w.Action == "deployIfNotExists" {
		parts = append(parts, "remediation deployment")
	}
	if len(parts) == 0 {
		if strings.HasPrefix(w.Note, "enforcementMode") {
			return "not enforced"
		}
		return "-"
	}
	return strings.Join(parts, ", ")
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
