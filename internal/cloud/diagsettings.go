package cloud

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/arm"
)

// MaxDiagnosticSettings is how many diagnostic settings one resource may
// have (Azure's documented limit).
const MaxDiagnosticSettings = 5

// diagnosticCategoryGroups are the log category groups of resource
// diagnostic settings (Azure's documented groups).
var diagnosticCategoryGroups = []string{"allLogs", "audit"}

// diagnosticDestinations are the destination properties of a diagnostic
// setting and the resource type each must name ("" for any resource).
var diagnosticDestinations = []struct{ key, typ string }{
	{"workspaceId", "Microsoft.OperationalInsights/workspaces"},
	{"storageAccountId", "Microsoft.Storage/storageAccounts"},
	{"eventHubAuthorizationRuleId", "Microsoft.EventHub/namespaces/authorizationRules"},
	{"marketplacePartnerId", ""},
}

func (c *Cloud) registerDiagnosticSettings() {
	c.OnPut(TypeDiagnosticSettings, c.putDiagnosticSetting)
}

// EnableActivityExport lets diagnostic settings be written at
// subscription scope: the caller runs the forwarder (ForwardActivity)
// that sends the activity log where they say. Without it they are
// refused, since nothing would be exported.
func (c *Cloud) EnableActivityExport() { c.activityExport.Store(true) }

// putDiagnosticSetting validates a diagnostic setting at PUT. At
// subscription scope it is the activity log's export
// (validateSubscriptionSetting). At resource scope it is stored as Azure
// shapes it once its destinations and categories are valid. Resource logs
// flow only where Steward emits them (a Key Vault's audit log, read with
// ResourceDiagnosticSettings; docs/cloud.md lists what does).
func (c *Cloud) putDiagnosticSetting(ctx context.Context, id string, doc, existing map[string]any) error {
	parent := strings.TrimSuffix(extensionParent(id), "/")
	pid, err := arm.ParseResourceID(parent)
	if err != nil {
		return arm.BadRequest("BadRequest", "'%s' is not a resource that supports diagnostic settings.", truncate(parent, 200))
	}
	switch kind := pid.Kind(); {
	case kind == arm.ScopeSubscription && pid.Parent == nil:
		if !c.activityExport.Load() {
			return arm.Errorf(http.StatusBadRequest, CodeResourceTypeNotImplemented,
				"This server does not run the activity log export, so diagnostic settings at subscription scope would export nothing.")
		}
		return c.validateSubscriptionSetting(ctx, doc)
	case kind != arm.ScopeResource:
		return arm.BadRequest("BadRequest", "The resource type '%s' does not support diagnostic settings.", pid.ResourceType())
	case strings.EqualFold(pid.ResourceType(), TypeDiagnosticSettings):
		return arm.BadRequest("BadRequest", "The resource type '%s' does not support diagnostic settings.", TypeDiagnosticSettings)
	}
	props, _ := doc["properties"].(map[string]any)
	if props == nil {
		return arm.BadRequest("BadRequest", "A diagnostic setting needs properties: a destination and the logs or metrics to send.")
	}
	// Azure's diagnostic settings have no provisioningState.
	delete(props, "provisioningState")
	if err := c.checkDestinations(ctx, props); err != nil {
		return err
	}
	if err := checkLogSettings(props); err != nil {
		return err
	}
	if err := checkMetricSettings(props); err != nil {
		return err
	}
	if v, ok := props["logAnalyticsDestinationType"]; ok && v != nil {
		s, _ := v.(string)
		if !strings.EqualFold(s, "Dedicated") && !strings.EqualFold(s, "AzureDiagnostics") {
			return arm.BadRequest("BadRequest", "logAnalyticsDestinationType '%s' is not supported: use Dedicated, or null for AzureDiagnostics.", truncate(fmt.Sprint(v), 40))
		}
	}
	if existing == nil {
		return c.checkSettingCount(ctx, parent)
	}
	return nil
}

// checkDestinations requires at least one destination, each the ID of an
// existing resource of the right type.
func (c *Cloud) checkDestinations(ctx context.Context, props map[string]any) error {
	n := 0
	for _, d := range diagnosticDestinations {
		v, ok := props[d.key]
		if !ok || v == nil {
			continue
		}
		s, _ := v.(string)
		if s == "" {
			return arm.BadRequest("BadRequest", "properties.%s must be a resource ID.", d.key)
		}
		rid, err := arm.ParseResourceID(s)
		if err != nil || rid.Kind() != arm.ScopeResource || (d.typ != "" && !strings.EqualFold(rid.ResourceType(), d.typ)) {
			want := "an Azure resource"
			if d.typ != "" {
				want = "a resource of type " + d.typ
			}
			return arm.BadRequest("BadRequest", "properties.%s '%s' is not the ID of %s.", d.key, truncate(s, 200), want)
		}
		if ok, err := c.Exists(ctx, s); err != nil {
			return err
		} else if !ok {
			return arm.BadRequest("BadRequest", "The destination '%s' (properties.%s) was not found.", truncate(s, 200), d.key)
		}
		n++
	}
	if v, _ := props["serviceBusRuleId"].(string); v != "" {
		return arm.BadRequest("BadRequest", "properties.serviceBusRuleId is kept for compatibility only; send to an event hub with eventHubAuthorizationRuleId.")
	}
	if n == 0 {
		return arm.BadRequest("BadRequest", "A diagnostic setting needs at least one destination: workspaceId, storageAccountId, eventHubAuthorizationRuleId or marketplacePartnerId.")
	}
	return nil
}

// checkLogSettings validates properties.logs: each entry names a category
// or a categoryGroup (not both) and says whether it is enabled.
func checkLogSettings(props map[string]any) error {
	logs, err := settingList(props, "logs")
	if err != nil {
		return err
	}
	metrics, err := settingList(props, "metrics")
	if err != nil {
		return err
	}
	if len(logs) == 0 && len(metrics) == 0 {
		return arm.BadRequest("BadRequest", "A diagnostic setting needs at least one entry in properties.logs or properties.metrics.")
	}
	for i, m := range logs {
		cat, _ := m["category"].(string)
		group, _ := m["categoryGroup"].(string)
		switch {
		case cat != "" && group != "":
			return arm.BadRequest("BadRequest", "properties.logs[%d] names both a category and a categoryGroup; name one.", i)
		case group != "":
			if !slices.ContainsFunc(diagnosticCategoryGroups, func(g string) bool { return strings.EqualFold(g, group) }) {
				return arm.BadRequest("BadRequest", "CategoryGroup: '%s' is not supported, supported ones are: '%s'", truncate(group, 40), strings.Join(diagnosticCategoryGroups, ", "))
			}
		case cat == "":
			return arm.BadRequest("BadRequest", "properties.logs[%d] needs a category or a categoryGroup.", i)
		}
		if err := checkEnabled(m, "logs", i); err != nil {
			return err
		}
	}
	return nil
}

// checkMetricSettings validates properties.metrics: each entry has a
// category and says whether it is enabled.
func checkMetricSettings(props map[string]any) error {
	metrics, _ := settingList(props, "metrics")
	for i, m := range metrics {
		if cat, _ := m["category"].(string); cat == "" {
			return arm.BadRequest("BadRequest", "properties.metrics[%d] needs a category (such as AllMetrics).", i)
		}
		if err := checkEnabled(m, "metrics", i); err != nil {
			return err
		}
	}
	return nil
}

// settingList reads properties.logs or properties.metrics as a list of
// objects.
func settingList(props map[string]any, key string) ([]map[string]any, error) {
	v, ok := props[key]
	if !ok || v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, arm.BadRequest("BadRequest", "properties.%s must be an array.", key)
	}
	out := make([]map[string]any, 0, len(list))
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, arm.BadRequest("BadRequest", "properties.%s[%d] must be an object.", key, i)
		}
		out = append(out, m)
	}
	return out, nil
}

// checkEnabled requires the entry's enabled flag (required by Azure's
// LogSettings and MetricSettings) and a sane retentionPolicy.
func checkEnabled(m map[string]any, key string, i int) error {
	if _, ok := m["enabled"].(bool); !ok {
		return arm.BadRequest("BadRequest", "properties.%s[%d].enabled is required (true or false).", key, i)
	}
	rp, ok := m["retentionPolicy"]
	if !ok || rp == nil {
		return nil
	}
	r, _ := rp.(map[string]any)
	days, isNum := r["days"].(float64)
	if _, isBool := r["enabled"].(bool); r == nil || !isBool || !isNum || days < 0 || days != float64(int(days)) {
		return arm.BadRequest("BadRequest", "properties.%s[%d].retentionPolicy needs enabled (true or false) and days (a whole number, 0 or more).", key, i)
	}
	return nil
}

// checkSettingCount refuses a resource's sixth diagnostic setting.
func (c *Cloud) checkSettingCount(ctx context.Context, parent string) error {
	settings, err := c.ResourceDiagnosticSettings(ctx, parent)
	if err != nil {
		return err
	}
	if len(settings) >= MaxDiagnosticSettings {
		return arm.BadRequest("BadRequest", "The resource already has %d diagnostic settings, the most a resource can have.", MaxDiagnosticSettings)
	}
	return nil
}

// DiagnosticSetting is a resource's diagnostic setting as a log exporter
// reads it.
type DiagnosticSetting struct {
	// ID is the setting's resource ID; WorkspaceID its Log Analytics
	// destination ("" when it names none).
	ID, WorkspaceID string
	// Dedicated is logAnalyticsDestinationType "Dedicated": resource-
	// specific tables rather than AzureDiagnostics.
	Dedicated bool
	// Logs are the setting's log entries.
	Logs []DiagnosticLog
	// Created is when the setting was first written.
	Created time.Time
}

// DiagnosticLog is one entry of a setting's properties.logs.
type DiagnosticLog struct {
	Category, CategoryGroup string
	Enabled                 bool
}

// Enables reports whether the setting sends the log category, which
// belongs to the category groups (allLogs holds every category).
func (d DiagnosticSetting) Enables(category string, groups ...string) bool {
	for _, l := range d.Logs {
		if !l.Enabled {
			continue
		}
		if l.Category != "" && strings.EqualFold(l.Category, category) {
			return true
		}
		if strings.EqualFold(l.CategoryGroup, "allLogs") {
			return true
		}
		for _, g := range groups {
			if l.CategoryGroup != "" && strings.EqualFold(l.CategoryGroup, g) {
				return true
			}
		}
	}
	return false
}

// ResourceDiagnosticSettings lists the diagnostic settings of a resource
// (those directly on it, not on its children), in ID order.
func (c *Cloud) ResourceDiagnosticSettings(ctx context.Context, resourceID string) ([]DiagnosticSetting, error) {
	parent := strings.TrimSuffix(resourceID, "/")
	var out []DiagnosticSetting
	after := ""
	for {
		page, next, err := c.List(ctx, ListQuery{Type: TypeDiagnosticSettings, Scope: parent, Limit: 50, After: after})
		if err != nil {
			return nil, err
		}
		for _, r := range page {
			if !strings.EqualFold(strings.TrimSuffix(extensionParent(r.ID), "/"), parent) {
				continue
			}
			props, _ := r.Doc["properties"].(map[string]any)
			ws, _ := props["workspaceId"].(string)
			dt, _ := props["logAnalyticsDestinationType"].(string)
			d := DiagnosticSetting{ID: r.ID, WorkspaceID: ws, Dedicated: strings.EqualFold(dt, "Dedicated"), Created: r.Created}
			entries, _ := settingList(props, "logs")
			for _, m := range entries {
				cat, _ := m["category"].(string)
				group, _ := m["categoryGroup"].(string)
				enabled, _ := m["enabled"].(bool)
				d.Logs = append(d.Logs, DiagnosticLog{Category: cat, CategoryGroup: group, Enabled: enabled})
			}
			out = append(out, d)
		}
		if next == "" {
			break
		}
		after = next
	}
	slices.SortFunc(out, func(a, b DiagnosticSetting) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}
