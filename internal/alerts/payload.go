package alerts

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/arm"
)

// MaxPayloadBytes is Azure Monitor's cap on one alert's payload.
const MaxPayloadBytes = 256 << 10

// Notification is everything a payload is built from: the rule, the
// event, the evaluation window and the query API base URL for the links.
type Notification struct {
	Rule  *Rule
	Event Event
	// WindowStart and WindowEnd are the evaluated query range.
	WindowStart, WindowEnd time.Time
	// QueryBase is the query API's base URL ("https://api.loganalytics.io"
	// on Azure; Steward's own when embedded).
	QueryBase string
}

// alertResourceID is the ID of an alert instance: alerts live under the
// subscription of the rule.
func alertResourceID(ruleID, alertID string) string {
	sub := ""
	if rid, err := arm.ParseResourceID(ruleID); err == nil {
		sub = rid.SubscriptionID
	}
	return "/subscriptions/" + sub + "/providers/" + TypeAlert + "/" + alertID
}

// target is the resource the alert is about: the resourceIdColumn's value,
// or the rule's workspace.
func (n *Notification) target() string {
	if n.Event.Series.ResourceID != "" {
		return n.Event.Series.ResourceID
	}
	if len(n.Rule.Scopes) > 0 {
		return n.Rule.Scopes[0]
	}
	return ""
}

// configurationItems follow Azure's rule for 2021-08-01 log rules: the
// value of the first dimension among _ResourceId, ResourceId, Resource and
// Computer, else the target's name.
func (n *Notification) configurationItems() []string {
	for _, want := range []string{"_ResourceId", "ResourceId", "Resource", "Computer"} {
		for _, d := range n.Event.Series.Dimensions {
			if strings.EqualFold(d.Name, want) && d.Value != "" {
				return []string{d.Value}
			}
		}
	}
	return []string{lastSegment(n.target())}
}

func (n *Notification) links() (ui, api string) {
	span := n.WindowStart.UTC().Format(time.RFC3339) + "/" + n.WindowEnd.UTC().Format(time.RFC3339)
	q := url.Values{"query": {n.Rule.Query}, "timespan": {span}}
	scope := ""
	if len(n.Rule.Scopes) > 0 {
		scope = n.Rule.Scopes[0]
	}
	base := strings.TrimSuffix(n.QueryBase, "/")
	return base + "/v1" + scope + "/query?" + q.Encode(), base + "/v1" + scope + "/query?" + q.Encode()
}

// CommonSchema is the payload in the common alert schema
// (schemaId azureMonitorCommonAlertSchema), capped at MaxPayloadBytes.
func (n *Notification) CommonSchema() []byte {
	r, ev := n.Rule, n.Event
	target := n.target()
	rg, typ := "", ""
	if rid, err := arm.ParseResourceID(target); err == nil {
		rg, typ = rid.ResourceGroup, strings.ToLower(rid.ResourceType())
	}
	essentials := map[string]any{
		"alertId":             alertResourceID(r.ID, ev.AlertID),
		"alertRule":           r.Name,
		"alertRuleID":         r.ID,
		"severity":            "Sev" + strconv.Itoa(r.Severity),
		"signalType":          "Log",
		"monitorCondition":    ev.Condition,
		"monitoringService":   "Log Alerts V2",
		"alertTargetIDs":      []string{strings.ToLower(target)},
		"configurationItems":  n.configurationItems(),
		"originAlertId":       ev.AlertID,
		"firedDateTime":       ev.FiredAt.UTC().Format("2006-01-02T15:04:05.000Z"),
		"description":         r.Description,
		"essentialsVersion":   "1.0",
		"alertContextVersion": "1.0",
		"targetResourceGroup": rg,
		"targetResourceType":  typ,
	}
	if ev.Condition == Resolved {
		essentials["resolvedDateTime"] = ev.ResolvedAt.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	ui, api := n.links()
	dims := ev.Series.Dimensions
	if dims == nil {
		dims = []DimensionValue{}
	}
	var measure any
	if r.MeasureColumn != "" {
		measure = r.MeasureColumn
	}
	var metricValue any
	if !isNaN(ev.Series.Value) {
		metricValue = ev.Series.Value
	}
	cond := map[string]any{
		"searchQuery":                    r.Query,
		"metricMeasureColumn":            measure,
		"targetResourceTypes":            "['" + TypeWorkspace + "']",
		"operator":                       r.Operator,
		"threshold":                      strconv.FormatFloat(r.Threshold, 'f', -1, 64),
		"timeAggregation":                r.Aggregation,
		"dimensions":                     dims,
		"metricValue":                    metricValue,
		"failingPeriods":                 map[string]int{"numberOfEvaluationPeriods": r.Periods, "minFailingPeriodsToAlert": r.MinFailing},
		"linkToSearchResultsUI":          ui,
		"linkToFilteredSearchResultsUI":  ui,
		"linkToSearchResultsAPI":         api,
		"linkToFilteredSearchResultsAPI": api,
	}
	custom := r.CustomProperties
	if len(custom) == 0 {
		custom = nil
	}
	doc := map[string]any{
		"schemaId": "azureMonitorCommonAlertSchema",
		"data": map[string]any{
			"essentials": essentials,
			"alertContext": map[string]any{
				"properties":    custom,
				"conditionType": "LogQueryCriteria",
				"condition": map[string]any{
					"windowSize":      FormatDuration(r.Window),
					"allOf":           []any{cond},
					"windowStartTime": n.WindowStart.UTC().Format(time.RFC3339),
					"windowEndTime":   n.WindowEnd.UTC().Format(time.RFC3339),
				},
			},
			"customProperties": custom,
		},
	}
	return capPayload(doc, func(keep int) {
		essentials["description"] = clip(r.Description, keep)
		cond["searchQuery"] = clip(r.Query, keep)
		cond["linkToSearchResultsUI"], cond["linkToFilteredSearchResultsUI"] = clip(ui, keep), clip(ui, keep)
		cond["linkToSearchResultsAPI"], cond["linkToFilteredSearchResultsAPI"] = clip(api, keep), clip(api, keep)
		cond["dimensions"] = clipDimensions(dims, keep)
		essentials["configurationItems"] = clipAll(n.configurationItems(), keep)
		small := map[string]string{}
		for k, v := range r.CustomProperties {
			small[clip(k, keep)] = clip(v, keep)
		}
		doc["data"].(map[string]any)["customProperties"] = small
		doc["data"].(map[string]any)["alertContext"].(map[string]any)["properties"] = small
	})
}

// LegacySchema is the payload for receivers with the common schema off:
// the flat log-search alert form (SearchQuery, AlertThresholdValue, ...).
func (n *Notification) LegacySchema() []byte {
	r, ev := n.Rule, n.Event
	sub := ""
	if rid, err := arm.ParseResourceID(r.ID); err == nil {
		sub = rid.SubscriptionID
	}
	ui, api := n.links()
	doc := map[string]any{
		"SubscriptionId":                 sub,
		"AlertRuleName":                  r.Name,
		"SearchQuery":                    r.Query,
		"SearchIntervalStartTimeUtc":     n.WindowStart.UTC().Format(time.RFC3339),
		"SearchIntervalEndtimeUtc":       n.WindowEnd.UTC().Format(time.RFC3339),
		"AlertThresholdOperator":         r.Operator,
		"AlertThresholdValue":            r.Threshold,
		"ResultCount":                    ev.Series.Value,
		"SearchIntervalInSeconds":        int(n.WindowEnd.Sub(n.WindowStart) / time.Second),
		"LinkToSearchResults":            ui,
		"LinkToFilteredSearchResultsUI":  ui,
		"LinkToSearchResultsAPI":         api,
		"LinkToFilteredSearchResultsAPI": api,
		"Description":                    r.Description,
		"Severity":                       strconv.Itoa(r.Severity),
		"AffectedConfigurationItems":     n.configurationItems(),
		"Dimensions":                     ev.Series.Dimensions,
		"AlertType":                      "Number of results",
		"MonitorCondition":               ev.Condition,
		"AlertId":                        alertResourceID(r.ID, ev.AlertID),
	}
	if isNaN(ev.Series.Value) {
		doc["ResultCount"] = nil
	}
	return capPayload(doc, func(keep int) {
		doc["SearchQuery"] = clip(r.Query, keep)
		doc["Dimensions"] = clipDimensions(ev.Series.Dimensions, keep)
		doc["AffectedConfigurationItems"] = clipAll(n.configurationItems(), keep)
		doc["Description"] = clip(r.Description, keep)
		doc["LinkToSearchResults"], doc["LinkToFilteredSearchResultsUI"] = clip(ui, keep), clip(ui, keep)
		doc["LinkToSearchResultsAPI"], doc["LinkToFilteredSearchResultsAPI"] = clip(api, keep), clip(api, keep)
	})
}

// capPayload encodes doc; while it is over MaxPayloadBytes, shrink clips
// its free-text fields to ever fewer characters.
func capPayload(doc map[string]any, shrink func(keep int)) []byte {
	b, _ := json.Marshal(doc)
	for keep := 16 << 10; len(b) > MaxPayloadBytes && keep >= 64; keep /= 2 {
		shrink(keep)
		b, _ = json.Marshal(doc)
	}
	return b
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("… (%d characters cut)", len(s)-n)
}

func clipDimensions(dims []DimensionValue, keep int) []DimensionValue {
	out := make([]DimensionValue, len(dims))
	for i, d := range dims {
		out[i] = DimensionValue{Name: clip(d.Name, keep), Value: clip(d.Value, keep)}
	}
	return out
}

func clipAll(v []string, keep int) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = clip(s, keep)
	}
	return out
}
