package web

import "net/http"

// The access page reads the unused role assignments of the latest
// succeeded run of the scheduled `access` report, from the tables the
// report jobs write to a workspace (StewardReportRuns_CL and
// StewardReportFindings_CL, docs/reports.md), as the user. A run's
// findings are written right after its run row, so the latest run's
// findings are those not older than that row; a run with no finding
// writes none, and the page then lists nothing.
const (
	accessTimespan = "P7D"
	accessQuery    = `let last = toscalar(StewardReportRuns_CL | where Job_s == "access" and Status_s == "Succeeded" | summarize max(TimeGenerated));
StewardReportFindings_CL
| where Job_s == "access" and Kind_s == "UnusedRoleAssignment" and TimeGenerated >= last
| summarize arg_max(TimeGenerated, *) by Fingerprint_s
| extend Order = case(Severity_s == "high", 1, Severity_s == "medium", 2, 3)
| sort by Order asc, ResourceId_s asc
| project Severity = Severity_s, Assignment = ResourceId_s, Finding = Message_s, Reported = TimeGenerated`
	accessRunQuery = `StewardReportRuns_CL
| where Job_s == "access"
| summarize arg_max(TimeGenerated, *)
| project LastRun = Started_t, Status = Status_s, Findings = Findings_d, Error = Error_s`
)

// noReports says that the workspace holds no report tables.
const noReports = "No report job writes to this workspace (it has no StewardReportRuns_CL or StewardReportFindings_CL table)."

type accessData struct {
	workspaceChoice
	Run, Unused *kqlData
}

// accessPage shows the latest access report run of the chosen workspace
// and its unused role assignments.
func (c *Console) accessPage(w http.ResponseWriter, r *http.Request, s *session) {
	d := pageData{Title: "Access", User: s, Access: &accessData{}}
	a := d.Access
	if !c.pickWorkspace(w, r, s, "access", &d, &a.workspaceChoice) {
		return
	}
	status := http.StatusOK
	if a.Workspace != "" {
		a.Run = &kqlData{Workspace: a.Workspace, Query: accessRunQuery, Timespan: accessTimespan}
		a.Unused = &kqlData{Workspace: a.Workspace, Query: accessQuery, Timespan: accessTimespan}
		if d.Error, status = c.runQueries(r.Context(), s, a.Run, a.Unused); d.Error != "" {
			a.Run, a.Unused = nil, nil
			if msg := missingTable(d.Error, "StewardReport", noReports); msg != d.Error {
				d.Error, status = msg, http.StatusOK
			}
		}
	}
	c.render(w, r, "access", status, d)
}
