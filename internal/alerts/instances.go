package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/store"
)

// User responses to an alert (alertState), set through changestate.
const (
	StateNew          = "New"
	StateAcknowledged = "Acknowledged"
	StateClosed       = "Closed"
)

// retention is how long alert instances are kept, as Azure keeps them.
const retention = 30 * 24 * time.Hour

// Instance is one alert: what fired, its monitor condition (system) and
// alert state (user).
type Instance struct {
	ID               string           `json:"id"`
	Subscription     string           `json:"subscription"`
	RuleID           string           `json:"ruleId"`
	RuleName         string           `json:"ruleName"`
	Severity         int              `json:"severity"`
	Target           string           `json:"target"`
	Description      string           `json:"description,omitempty"`
	Dimensions       []DimensionValue `json:"dimensions,omitempty"`
	MonitorCondition string           `json:"monitorCondition"`
	AlertState       string           `json:"alertState"`
	Started          time.Time        `json:"started"`
	Modified         time.Time        `json:"modified"`
	Resolved         time.Time        `json:"resolved,omitzero"`
	ModifiedBy       string           `json:"modifiedBy,omitempty"`
	Suppressed       bool             `json:"suppressed"`
	Context          any              `json:"context,omitempty"`
}

func newInstance(r *Rule, ev *Event, target string) *Instance {
	sub := ""
	if rid, err := arm.ParseResourceID(r.ID); err == nil {
		sub = rid.SubscriptionID
	}
	return &Instance{ID: ev.AlertID, Subscription: strings.ToLower(sub), RuleID: r.ID, RuleName: r.Name,
		Severity: r.Severity, Target: target, Description: r.Description, Dimensions: ev.Series.Dimensions,
		MonitorCondition: ev.Condition, AlertState: StateNew, Started: ev.FiredAt, Modified: ev.FiredAt,
		ModifiedBy: "System"}
}

func getInstance(ctx context.Context, tx store.Tx, id string) (*Instance, error) {
	rec, err := tx.Get(ctx, tableInstances, key(id))
	if err != nil {
		return nil, err
	}
	var in Instance
	return &in, json.Unmarshal(rec.Value, &in)
}

func putInstance(ctx context.Context, tx store.Tx, in *Instance) error {
	b, _ := json.Marshal(in)
	_, err := tx.Put(ctx, tableInstances, key(in.ID), b, store.Cond{})
	return err
}

// Document is the instance in the shape of Microsoft.AlertsManagement
// alerts (api-version 2019-05-05-preview and later).
func (in *Instance) Document() map[string]any {
	rg, typ, name := "", "", lastSegment(in.Target)
	if rid, err := arm.ParseResourceID(in.Target); err == nil {
		rg, typ = rid.ResourceGroup, strings.ToLower(rid.ResourceType())
	}
	essentials := map[string]any{
		"severity":             "Sev" + strconv.Itoa(in.Severity),
		"signalType":           "Log",
		"alertState":           in.AlertState,
		"monitorCondition":     in.MonitorCondition,
		"targetResource":       in.Target,
		"targetResourceName":   name,
		"targetResourceGroup":  rg,
		"targetResourceType":   typ,
		"monitorService":       "Log Alerts V2",
		"alertRule":            in.RuleID,
		"sourceCreatedId":      in.ID,
		"startDateTime":        in.Started.UTC().Format(time.RFC3339Nano),
		"lastModifiedDateTime": in.Modified.UTC().Format(time.RFC3339Nano),
		"lastModifiedUserName": in.ModifiedBy,
		"actionStatus":         map[string]bool{"isSuppressed": in.Suppressed},
		"description":          in.Description,
	}
	if !in.Resolved.IsZero() {
		essentials["monitorConditionResolvedDateTime"] = in.Resolved.UTC().Format(time.RFC3339Nano)
	}
	ctx := in.Context
	if ctx == nil {
		ctx = map[string]any{}
	}
	return map[string]any{
		"id":   "/subscriptions/" + in.Subscription + "/providers/" + TypeAlert + "/" + in.ID,
		"type": TypeAlert,
		"name": in.RuleName,
		"properties": map[string]any{
			"essentials":   essentials,
			"context":      ctx,
			"egressConfig": map[string]any{},
		},
	}
}

// Filter selects alerts for List, as the alerts API's query parameters do.
type Filter struct {
	Subscription     string
	TargetResource   string
	AlertRule        string
	MonitorCondition string
	AlertState       string
	Severity         string
	// Since keeps alerts modified at or after it (timeRange).
	Since time.Time
}

// ParseFilter reads the alerts API's list parameters.
func ParseFilter(subscription string, q map[string][]string, now time.Time) (Filter, error) {
	get := func(k string) string {
		for qk, v := range q {
			if strings.EqualFold(qk, k) && len(v) > 0 {
				return v[0]
			}
		}
		return ""
	}
	f := Filter{Subscription: strings.ToLower(subscription), TargetResource: get("targetResource"), AlertRule: get("alertRule"),
		MonitorCondition: get("monitorCondition"), AlertState: get("alertState"), Severity: get("severity")}
	for _, v := range []struct {
		name, val string
		allowed   []string
	}{
		{"monitorCondition", f.MonitorCondition, []string{Fired, Resolved}},
		{"alertState", f.AlertState, []string{StateNew, StateAcknowledged, StateClosed}},
		{"severity", f.Severity, []string{"Sev0", "Sev1", "Sev2", "Sev3", "Sev4"}},
	} {
		if v.val != "" {
			if _, ok := oneOf(v.val, v.allowed); !ok {
				return f, arm.BadRequest("InvalidParameter", "%s '%s' is not one of %s.", v.name, v.val, strings.Join(v.allowed, ", "))
			}
		}
	}
	if tr := get("timeRange"); tr != "" {
		d, ok := map[string]time.Duration{"1h": time.Hour, "1d": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour}[tr]
		if !ok {
			return f, arm.BadRequest("InvalidParameter", "timeRange '%s' is not one of 1h, 1d, 7d, 30d.", tr)
		}
		f.Since = now.Add(-d)
	} else {
		f.Since = now.Add(-24 * time.Hour)
	}
	return f, nil
}

func (f Filter) keep(in *Instance) bool {
	eq := func(want, have string) bool { return want == "" || strings.EqualFold(want, have) }
	return eq(f.Subscription, in.Subscription) && eq(f.TargetResource, in.Target) && eq(f.AlertRule, in.RuleID) &&
		eq(f.MonitorCondition, in.MonitorCondition) && eq(f.AlertState, in.AlertState) &&
		eq(f.Severity, "Sev"+strconv.Itoa(in.Severity)) && !in.Modified.Before(f.Since)
}

// Alerts lists the alert instances that f keeps, newest first.
func (s *Service) Alerts(ctx context.Context, f Filter) ([]Instance, error) {
	var out []Instance
	cutoff := s.opts.Now().Add(-retention)
	err := s.opts.Store.View(ctx, func(tx store.Tx) error {
		return scanAll(ctx, tx, tableInstances, "", func(v []byte) error {
			var in Instance
			if err := json.Unmarshal(v, &in); err != nil {
				return err
			}
			if f.keep(&in) && in.Modified.After(cutoff) {
				out = append(out, in)
			}
			return nil
		})
	})
	slices.SortFunc(out, func(a, b Instance) int { return b.Started.Compare(a.Started) })
	return out, err
}

// Alert returns one alert instance of a subscription.
func (s *Service) Alert(ctx context.Context, subscription, id string) (*Instance, error) {
	var in *Instance
	err := s.opts.Store.View(ctx, func(tx store.Tx) error {
		var err error
		in, err = getInstance(ctx, tx, id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && !strings.EqualFold(in.Subscription, subscription)) {
		return nil, alertNotFound(id)
	}
	return in, err
}

// ChangeState sets an alert's user state (New, Acknowledged, Closed).
func (s *Service) ChangeState(ctx context.Context, subscription, id, state, user string) (*Instance, error) {
	st, ok := oneOf(state, []string{StateNew, StateAcknowledged, StateClosed})
	if !ok {
		return nil, arm.BadRequest("InvalidParameter", "newState '%s' is not one of New, Acknowledged, Closed.", state)
	}
	var in *Instance
	err := s.opts.Store.Update(ctx, func(tx store.Tx) error {
		var err error
		if in, err = getInstance(ctx, tx, id); err != nil {
			return err
		}
		if !strings.EqualFold(in.Subscription, subscription) {
			return store.ErrNotFound
		}
		in.AlertState, in.Modified, in.ModifiedBy = st, s.opts.Now(), user
		return putInstance(ctx, tx, in)
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, alertNotFound(id)
	}
	return in, err
}

// Summary counts the alerts f keeps by the groupby fields (severity,
// alertState, monitorCondition), in the alertsSummary shape.
func (s *Service) Summary(ctx context.Context, f Filter, groupby string) (map[string]any, error) {
	fields := strings.Split(groupby, ",")
	if groupby == "" || len(fields) > 2 {
		return nil, arm.BadRequest("InvalidParameter", "groupby must name one or two of severity, alertState, monitorCondition.")
	}
	value := func(in *Instance, field string) (string, error) {
		switch strings.ToLower(strings.TrimSpace(field)) {
		case "severity":
			return "Sev" + strconv.Itoa(in.Severity), nil
		case "alertstate":
			return in.AlertState, nil
		case "monitorcondition":
			return in.MonitorCondition, nil
		}
		return "", arm.BadRequest("InvalidParameter", "groupby field '%s' is not one of severity, alertState, monitorCondition.", field)
	}
	for _, f := range fields {
		if _, err := value(&Instance{}, f); err != nil {
			return nil, err
		}
	}
	list, err := s.Alerts(ctx, f)
	if err != nil {
		return nil, err
	}
	type group struct {
		count int
		sub   map[string]int
	}
	groups := map[string]*group{}
	var order []string
	for i := range list {
		v, _ := value(&list[i], fields[0])
		g := groups[v]
		if g == nil {
			g = &group{sub: map[string]int{}}
			groups[v] = g
			order = append(order, v)
		}
		g.count++
		if len(fields) == 2 {
			sv, _ := value(&list[i], fields[1])
			g.sub[sv]++
		}
	}
	slices.Sort(order)
	var values []any
	for _, v := range order {
		g := groups[v]
		item := map[string]any{"name": v, "count": g.count}
		if len(fields) == 2 {
			var sub []any
			for sv, c := range g.sub {
				sub = append(sub, map[string]any{"name": sv, "count": c})
			}
			item["groupedby"] = strings.TrimSpace(fields[1])
			item["values"] = sub
		}
		values = append(values, item)
	}
	return map[string]any{
		"id":   "/subscriptions/" + f.Subscription + "/providers/Microsoft.AlertsManagement/alertsSummary/current",
		"type": "Microsoft.AlertsManagement/alertsSummary",
		"name": "current",
		"properties": map[string]any{
			"groupedby": strings.TrimSpace(fields[0]),
			"total":     len(list),
			"values":    values,
		},
	}, nil
}

func alertNotFound(id string) *arm.Error {
	return arm.Errorf(http.StatusNotFound, "ResourceNotFound", "The alert '%s' was not found.", id)
}
