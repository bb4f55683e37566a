package web

import (
	"net/http"
	"net/url"
	"strings"
)

// The credentials page reads the latest credential report that
// `steward report credentials --workspace` sent to a workspace
// (StewardCredentials_CL, HTTP Data Collector API column names), as the
// user, over the last 7 days.
const (
	credentialsTimespan = "P7D"
	credentialsLatest   = "StewardCredentials_CL | summarize arg_max(TimeGenerated, *) by CredentialId_s, Owner_s, Kind_s"
	expiringQuery       = credentialsLatest + " | where isnotnull(ExpiryDate_t) and ExpiryDate_t < now() + 30d" +
		" | project Kind=Kind_s, Owner=Owner_s, Name=Name_s, Credential=CredentialId_s, Expires=ExpiryDate_t, Flags=Flags_s | sort by Expires asc"
	expiringCountQuery = credentialsLatest + " | where isnotnull(ExpiryDate_t) and ExpiryDate_t < now() + 30d" +
		" | summarize Expired = countif(ExpiryDate_t < now()), ExpiringIn30Days = countif(ExpiryDate_t >= now())"
	ageQuery = credentialsLatest +
		" | extend Order = case(Age_d < 30, 1, Age_d < 90, 2, Age_d < 365, 3, 4)" +
		" | summarize Credentials=count() by Order" +
		` | extend Age = case(Order == 1, "under 30 days", Order == 2, "30 to 89 days", Order == 3, "90 to 364 days", "a year or more")` +
		" | sort by Order asc | project Age, Credentials | render columnchart"
)

type credentialsData struct {
	workspaceChoice
	Expiring, Age *kqlData
}

// credentialsPage shows, for the chosen workspace, the credentials that
// expire in the next 30 days (or have expired) and a histogram of their ages.
func (c *Console) credentialsPage(w http.ResponseWriter, r *http.Request, s *session) {
	d := pageData{Title: "Credentials", User: s, Credentials: &credentialsData{}}
	cd := d.Credentials
	if !c.pickWorkspace(w, r, s, "credentials", &d, &cd.workspaceChoice) {
		return
	}
	if cd.Workspace == "" {
		c.render(w, r, "credentials", http.StatusOK, d)
		return
	}
	cd.Expiring = &kqlData{Workspace: cd.Workspace, Query: expiringQuery, Timespan: credentialsTimespan}
	cd.Age = &kqlData{Workspace: cd.Workspace, Query: ageQuery, Timespan: credentialsTimespan}
	var status int
	d.Error, status = c.runQueries(r.Context(), s, cd.Expiring, cd.Age)
	c.render(w, r, "credentials", status, d)
}

// workspaceChoice is the workspace picker of a page that reads one
// workspace: the user's workspaces and the chosen one.
type workspaceChoice struct {
	Workspaces []workspaceRow
	Workspace  string
}

// pickWorkspace fills p with the user's workspaces and the request's
// choice (chooseWorkspace), and d.Error with a listing failure. When the
// request chose a workspace that is not the user's, it renders the page
// with that error and 400 and returns false.
func (c *Console) pickWorkspace(w http.ResponseWriter, r *http.Request, s *session, page string, d *pageData, p *workspaceChoice) bool {
	var bad string
	p.Workspaces, p.Workspace, d.Error, bad = c.chooseWorkspace(r, s)
	if bad != "" {
		d.Error = bad
		c.render(w, r, page, http.StatusBadRequest, *d)
		return false
	}
	return true
}

// chooseWorkspace lists the user's workspaces and picks the one of the
// request's ?workspace= (the first by default, "" when there is none).
// listErr is a listing failure to show; bad says that the chosen
// workspace is not one of the user's.
func (c *Console) chooseWorkspace(r *http.Request, s *session) (ws []workspaceRow, chosen, listErr, bad string) {
	ws, err := c.workspaces(r, s)
	if err != nil {
		listErr = err.Error()
	}
	chosen = r.URL.Query().Get("workspace")
	if chosen == "" && len(ws) > 0 {
		chosen = ws[0].ID
	}
	if chosen == "" {
		return ws, "", listErr, ""
	}
	for _, w := range ws {
		if strings.EqualFold(w.ID, chosen) {
			return ws, chosen, listErr, ""
		}
	}
	return ws, chosen, listErr, "Choose one of the workspaces you may read."
}

// workspaces lists the Log Analytics workspaces of the user's
// subscriptions; the error, if any, is the text to show.
func (c *Console) workspaces(r *http.Request, s *session) ([]workspaceRow, error) {
	var out []workspaceRow
	var failed error
	subs, err := c.subscriptionIDs(r.Context(), s, maxSummaries)
	if err != nil {
		c.opts.Logger.WarnContext(r.Context(), "console: listing subscriptions", "err", err.Error())
		return nil, errText("The management API could not be read; try again.")
	}
	for _, sub := range subs {
		var list struct {
			Value []struct{ ID, Name string } `json:"value"`
		}
		q := url.Values{"api-version": {workspacesAPIVersion}}
		if err := c.armCall(r.Context(), s, http.MethodGet, "/subscriptions/"+url.PathEscape(sub)+"/providers/Microsoft.OperationalInsights/workspaces", q, &list); err != nil {
			c.opts.Logger.WarnContext(r.Context(), "console: listing workspaces", "subscription", sub, "err", err.Error())
			failed = errText("The workspaces of some subscriptions could not be read.")
			continue
		}
		for _, ws := range list.Value {
			out = append(out, workspaceRow{ID: ws.ID, Name: ws.Name})
		}
	}
	return out, failed
}

// errText is an error whose text is shown to the user.
type errText string

func (e errText) Error() string { return string(e) }
