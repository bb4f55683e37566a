package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// delegationPath is the management API's delegation analysis under a
// scope (Steward's own read, docs/rbac.md).
const delegationPath = "/providers/Microsoft.Authorization/delegationAnalysis"

var (
	scopePattern     = regexp.MustCompile(`(?i)^/(subscriptions/[0-9a-z-]{1,64}(/resourceGroups/[-\w.()]{1,90})?|providers/Microsoft\.Management/managementGroups/[-\w.()]{1,90})$`)
	principalPattern = regexp.MustCompile(`(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// delegationCell and delegationEscalation are the API's answer.
type delegationCell struct {
	RoleName      string `json:"roleName"`
	PrincipalType string `json:"principalType"`
	Target        string `json:"target"`
	TargetKind    string `json:"targetKind"`
	Allowed       bool   `json:"allowed"`
	RefusedBy     string `json:"refusedBy"`
	Reason        string `json:"reason"`
}

type delegationEscalation struct {
	Kind, RoleName, PrincipalType, Target, TargetKind string
	Actions                                           []string
}

// delegationRow is one row of the matrix: a role for a principal type,
// one cell per target column.
type delegationRow struct {
	Role, Type string
	Cells      []delegationCell
}

type delegationData struct {
	Scope, Principal, Targets string
	AllowedOnly               bool
	// Columns are the targets' labels.
	Columns     []string
	Rows        []delegationRow
	Hidden      int
	Escalations []delegationEscalation
	Ran         bool
}

// delegationPage shows what a principal (the user by default) can grant
// at a scope: the management API's delegation analysis, read as the user
// (it needs roleAssignments/read there).
func (c *Console) delegationPage(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	d := &delegationData{Scope: strings.TrimSpace(q.Get("scope")), Principal: strings.TrimSpace(q.Get("principal")),
		Targets: strings.TrimSpace(q.Get("targets")), AllowedOnly: q.Get("all") != "1"}
	pd := pageData{Title: "Delegation", User: s, Delegation: d}
	if d.Principal == "" {
		d.Principal = s.ObjectID
	}
	if d.Scope == "" {
		if subs, err := c.subscriptionIDs(r.Context(), s, 1); err == nil && len(subs) > 0 {
			d.Scope = "/subscriptions/" + subs[0]
		}
		c.render(w, r, "delegation", http.StatusOK, pd)
		return
	}
	targets := strings.FieldsFunc(d.Targets, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
	bad := !scopePattern.MatchString(d.Scope) || !principalPattern.MatchString(d.Principal) || len(targets) > 20
	for _, t := range targets {
		bad = bad || !principalPattern.MatchString(t)
	}
	if bad {
		pd.Error = "Give a subscription, resource group or management group ID, a principal's object ID and at most 20 target object IDs."
		c.render(w, r, "delegation", http.StatusBadRequest, pd)
		return
	}
	var rep struct {
		Cells       []delegationCell       `json:"cells"`
		Escalations []delegationEscalation `json:"escalations"`
	}
	if err := c.armCall(r.Context(), s, http.MethodGet, d.Scope+delegationPath,
		url.Values{"api-version": {"2022-04-01"}, "principalId": {d.Principal}, "target": targets}, &rep); err != nil {
		msg, status := queryError(err)
		pd.Error = strings.Replace(msg, "The query was refused", "The analysis was refused", 1)
		c.opts.Logger.InfoContext(r.Context(), "console: delegation analysis refused", "err", err.Error())
		c.render(w, r, "delegation", status, pd)
		return
	}
	d.Ran, d.Escalations = true, rep.Escalations
	col := map[string]int{}
	row := map[string]int{}
	for _, cell := range rep.Cells {
		if _, ok := col[cell.Target]; !ok {
			col[cell.Target] = len(d.Columns)
			label := cell.TargetKind
			if cell.TargetKind != "any" && cell.TargetKind != "self" {
				label = cell.Target + " (" + cell.TargetKind + ")"
			}
			d.Columns = append(d.Columns, label)
		}
	}
	for _, cell := range rep.Cells {
		k := cell.RoleName + "\x00" + cell.PrincipalType
		i, ok := row[k]
		if !ok {
			i = len(d.Rows)
			row[k] = i
			d.Rows = append(d.Rows, delegationRow{Role: cell.RoleName, Type: cell.PrincipalType, Cells: make([]delegationCell, len(d.Columns))})
		}
		d.Rows[i].Cells[col[cell.Target]] = cell
	}
	if d.AllowedOnly {
		kept := d.Rows[:0]
		for _, rw := range d.Rows {
			grants := false
			for _, cell := range rw.Cells {
				grants = grants || cell.Allowed
			}
			if grants {
				kept = append(kept, rw)
			} else {
				d.Hidden++
			}
		}
		d.Rows = kept
	}
	c.render(w, r, "delegation", http.StatusOK, pd)
}
