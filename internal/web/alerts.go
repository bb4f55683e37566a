package web

import (
	"context"
	"errors"
	"fmt"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"

	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armsubscriptions"
)

// alertsAPIVersion is the Microsoft.AlertsManagement api-version the
// console reads alerts with (no Go SDK module for it is published, so the
// console sends the calls through an ARM client's pipeline).
const alertsAPIVersion = "2019-05-05-preview"

// maxAlerts bounds the alerts one page shows.
const maxAlerts = 500

// alertRow is one alert as the alerts page shows it.
type alertRow struct {
	ID, Name, Severity, Condition, State, Target, Started, Resolved string
}

type alertDoc struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Properties struct {
		Essentials struct {
			Severity         string `json:"severity"`
			AlertState       string `json:"alertState"`
			MonitorCondition string `json:"monitorCondition"`
			TargetResource   string `json:"targetResourceName"`
			Started          string `json:"startDateTime"`
			Resolved         string `json:"monitorConditionResolvedDateTime"`
		} `json:"essentials"`
	} `json:"properties"`
}

// armCall sends one request to the management API as the user and decodes
// its JSON answer into out (nil: ignored).
func (c *Console) armCall(ctx context.Context, s *session, method, path string, q url.Values, out any) error {
	client, err := azarm.NewClient("steward-console", "v1.0.0", userCredential{s}, c.opts.ARM)
	if err != nil {
		return err
	}
	req, err := runtime.NewRequest(ctx, method, runtime.JoinPaths(client.Endpoint(), path)+"?"+q.Encode())
	if err != nil {
		return err
	}
	return sendJSON(client.Pipeline(), req, out)
}

// sendJSON sends req through pl and decodes the JSON answer into out
// (nil: ignored). An answer other than 200 is an *azcore.ResponseError.
func sendJSON(pl runtime.Pipeline, req *policy.Request, out any) error {
	resp, err := pl.Do(req)
	if err != nil {
		return err
	}
	if !runtime.HasStatusCode(resp, http.StatusOK) {
		return runtime.NewResponseError(resp)
	}
	if out == nil {
		return nil
	}
	return runtime.UnmarshalAsJSON(resp, out)
}

// subscriptionIDs lists the subscriptions the user may read, at most max.
func (c *Console) subscriptionIDs(ctx context.Context, s *session, max int) ([]string, error) {
	client, err := armsubscriptions.NewClient(userCredential{s}, c.opts.ARM)
	if err != nil {
		return nil, err
	}
	var ids []string
	pager := client.NewListPager(nil)
	for pager.More() && len(ids) < max {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, sub := range page.Value {
			if sub.SubscriptionID != nil && len(ids) < max {
				ids = append(ids, *sub.SubscriptionID)
			}
		}
	}
	return ids, nil
}

// alertsPage lists the alerts of the user's subscriptions, fired first,
// newest first, with the forms that acknowledge and close them.
func (c *Console) alertsPage(w http.ResponseWriter, r *http.Request, s *session) {
	d := pageData{Title: "Alerts", User: s, FreshMFA: s.freshMFA(c.opts.Now()), Notice: noticeText(r.URL.Query().Get("done"))}
	d.Alerts, d.Error = c.listAlerts(r.Context(), s)
	c.render(w, r, "alerts", http.StatusOK, d)
}

// listAlerts reads the alerts of the last 30 days of the user's
// subscriptions as the user, fired first and newest first, at most
// maxAlerts; msg is the text to show when some could not be read.
func (c *Console) listAlerts(ctx context.Context, s *session) (alerts []alertRow, msg string) {
	subs, err := c.subscriptionIDs(ctx, s, maxSummaries)
	if err != nil {
		c.opts.Logger.WarnContext(ctx, "console: listing subscriptions", "err", err.Error())
		msg = "The management API could not be read; try again."
	}
	for _, sub := range subs {
		var list struct {
			Value []alertDoc `json:"value"`
		}
		q := url.Values{"api-version": {alertsAPIVersion}, "timeRange": {"30d"}}
		if err := c.armCall(ctx, s, http.MethodGet, "/subscriptions/"+url.PathEscape(sub)+"/providers/Microsoft.AlertsManagement/alerts", q, &list); err != nil {
			c.opts.Logger.WarnContext(ctx, "console: listing alerts", "subscription", sub, "err", err.Error())
			msg = "The alerts of some subscriptions could not be read."
			continue
		}
		for _, a := range list.Value {
			e := a.Properties.Essentials
			alerts = append(alerts, alertRow{ID: a.ID, Name: a.Name, Severity: e.Severity, Condition: e.MonitorCondition,
				State: e.AlertState, Target: e.TargetResource, Started: e.Started, Resolved: e.Resolved})
		}
	}
	sort.SliceStable(alerts, func(i, j int) bool {
		if fi, fj := alerts[i].Condition == "Fired", alerts[j].Condition == "Fired"; fi != fj {
			return fi
		}
		return alerts[i].Started > alerts[j].Started
	})
	if len(alerts) > maxAlerts {
		alerts = alerts[:maxAlerts]
	}
	return alerts, msg
}

// openAlerts is the overview's summary of the alerts still fired and not
// closed: how many, and the newest few.
type openAlerts struct {
	Count int
	Top   []alertRow
	Error string
}

// overviewAlerts keeps the fired, unclosed alerts of the list.
func overviewAlerts(all []alertRow, msg string) *openAlerts {
	o := &openAlerts{Error: msg}
	for _, a := range all {
		if a.Condition == "Fired" && a.State != "Closed" {
			o.Count++
			if len(o.Top) < 5 {
				o.Top = append(o.Top, a)
			}
		}
	}
	return o
}

var alertIDPattern = regexp.MustCompile(`^/subscriptions/[0-9A-Za-z-]{1,64}/providers/Microsoft\.AlertsManagement/alerts/[0-9A-Za-z-]{1,64}$`)

func noticeText(done string) string {
	switch done {
	case "Acknowledged":
		return "The alert is acknowledged."
	case "Closed":
		return "The alert is closed."
	case "approved":
		return "The request is approved."
	case "rejected":
		return "The request is rejected."
	case "assigned":
		return "The role assignment is created."
	case "authorized":
		return "The authorization is saved in the catalog."
	}
	return ""
}

// alertChange acknowledges or closes an alert as the user (the API's RBAC
// decides). Closing needs a second factor from the last 10 minutes; without
// one the browser goes through the authorization endpoint first.
func (c *Console) alertChange(w http.ResponseWriter, r *http.Request, s *session) {
	id, state := r.PostForm.Get("alert"), r.PostForm.Get("state")
	if !alertIDPattern.MatchString(id) || (state != "Acknowledged" && state != "Closed") {
		c.fail(w, r, http.StatusBadRequest, "The form names no alert or no state (Acknowledged or Closed).", nil)
		return
	}
	if state == "Closed" && !s.freshMFA(c.opts.Now()) {
		http.Redirect(w, r, stepUpURL(Prefix+"alerts"), http.StatusSeeOther)
		return
	}
	q := url.Values{"api-version": {alertsAPIVersion}, "newState": {state}}
	if err := c.armCall(r.Context(), s, http.MethodPost, id+"/changestate", q, nil); err != nil {
		c.apiFail(w, r, err)
		return
	}
	http.Redirect(w, r, Prefix+"alerts?done="+state, http.StatusSeeOther)
}

// stepUpURL is the console's sign-in with the step-up request, back to ret.
func stepUpURL(ret string) string {
	return Prefix + "signin?stepup=1&return=" + url.QueryEscape(ret)
}

// needsStepUp reports whether err is an API's 401 InsufficientClaims (its
// claims challenge asks for a fresh second factor).
func needsStepUp(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusUnauthorized && re.ErrorCode == "InsufficientClaims"
}

// apiFail shows an API refusal: 403 as "not allowed", others generically.
func (c *Console) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		switch re.StatusCode {
		case http.StatusForbidden, http.StatusUnauthorized:
			c.fail(w, r, http.StatusForbidden, "You are not allowed to make this change ("+re.ErrorCode+").", err)
			return
		case http.StatusNotFound, http.StatusBadRequest, http.StatusConflict:
			c.fail(w, r, re.StatusCode, fmt.Sprintf("The change was refused (%s).", strings.TrimSpace(re.ErrorCode)), err)
			return
		}
	}
	c.fail(w, r, http.StatusBadGateway, "The management API could not make the change; try again.", err)
}
