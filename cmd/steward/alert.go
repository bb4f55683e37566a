package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/monitor/armmonitor"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/alerts"
	"github.com/steward-gov/steward/internal/cliout"
)

func init() { register(newAlertCmd) }

// alertsAPIVersion is the Microsoft.AlertsManagement api-version the alert
// commands use.
const alertsAPIVersion = "2019-05-05-preview"

func newAlertCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alert",
		Short: "Log search alert rules, action groups and the alerts they raise",
		Long: `alert manages log search alert rules (Microsoft.Insights/scheduledQueryRules)
and action groups (Microsoft.Insights/actionGroups), and lists, acknowledges and
closes the alerts they raise (Microsoft.AlertsManagement/alerts), through the
management API, as "az monitor scheduled-query" and "az monitor action-group" do.
Steward evaluates the rules itself and notifies the action groups' webhooks and
email addresses, with the common alert schema.`,
	}
	rule := &cobra.Command{Use: "rule", Short: "Create, list, show and delete log search alert rules"}
	ruleCreate := &cobra.Command{Use: "create NAME", Short: "Create or update a log search alert rule", Args: cobra.ExactArgs(1), RunE: runAlertRuleCreate,
		Example: `  steward alert rule create policy-violations -g collector \
    --workspace /subscriptions/SUB/resourceGroups/collector/providers/Microsoft.OperationalInsights/workspaces/publisher \
    --query 'PolicyComplianceStates_CL | summarize arg_max(TimeGenerated,*) by Policy_assignment_id | where Is_compliant==false' \
    --operator GreaterThan --threshold 0 --dimension Policy_assignment_id --action-group oncall`}
	f := ruleCreate.Flags()
	f.StringP("resource-group", "g", "", "resource group of the rule (required)")
	f.String("workspace", "", "Log Analytics workspace: a resource ID, or a name in the rule's group (required)")
	f.String("query", "", "KQL query the rule runs (required)")
	f.String("aggregation", "Count", "Count (rows), Average, Minimum, Maximum or Total")
	f.String("measure-column", "", "column aggregated when --aggregation is not Count")
	f.String("operator", "GreaterThan", "Equals, GreaterThan, GreaterThanOrEqual, LessThan or LessThanOrEqual")
	f.Float64("threshold", 0, "threshold the measure is compared with")
	f.String("frequency", "PT5M", "evaluation frequency (ISO 8601: PT1M, PT5M, PT15M, PT1H, ...)")
	f.String("window", "", "aggregation window (ISO 8601; default the frequency)")
	f.Int("periods", 1, "number of evaluation periods (windows) looked at")
	f.Int("min-failing", 1, "how many of those periods must violate to fire")
	f.StringArray("dimension", nil, "split by a column: NAME (all values) or NAME=v1,v2 (repeatable)")
	f.String("resource-id-column", "", "column holding the resource each alert is about")
	f.Int("severity", 3, "severity 0 (critical) to 4 (verbose)")
	f.String("description", "", "description sent with the alert")
	f.StringArray("action-group", nil, "action group: a resource ID, or a name in the rule's group (repeatable)")
	f.StringArray("property", nil, "custom property added to the payload, key=value (repeatable)")
	f.Bool("disabled", false, "create the rule disabled")
	f.Bool("stateless", false, "fire at every violating evaluation instead of once until resolved (autoMitigate false)")
	f.String("mute", "", "with --stateless, suppress actions this long after firing (ISO 8601)")
	ruleList := &cobra.Command{Use: "list", Short: "List log search alert rules", Args: cobra.NoArgs, RunE: groupedList(alertRules),
		Example: "  steward alert rule list\n  steward alert rule list -g collector -o json"}
	ruleList.Flags().StringP("resource-group", "g", "", "only the rules of this resource group")
	ruleShow := &cobra.Command{Use: "show NAME", Short: "Show a log search alert rule", Args: cobra.ExactArgs(1), RunE: groupedShow(alertRules),
		Example: "  steward alert rule show policy-violations -g collector -o json"}
	ruleDelete := &cobra.Command{Use: "delete NAME", Short: "Delete a log search alert rule", Args: cobra.ExactArgs(1), RunE: groupedDelete(alertRules),
		Example: "  steward alert rule delete policy-violations -g collector"}
	for _, c := range []*cobra.Command{ruleShow, ruleDelete} {
		c.Flags().StringP("resource-group", "g", "", "resource group of the rule (required)")
	}
	for _, c := range []*cobra.Command{ruleCreate, ruleList, ruleShow, ruleDelete} {
		addAPIFlags(c)
		rule.AddCommand(c)
	}

	group := &cobra.Command{Use: "group", Short: "Create, list, show and delete action groups"}
	groupCreate := &cobra.Command{Use: "create NAME", Short: "Create or update an action group", Args: cobra.ExactArgs(1), RunE: runAlertGroupCreate,
		Example: `  steward alert group create oncall -g collector --short-name oncall \
    --webhook ticketing=https://tickets.example/hooks/azure --email publisher=oncall@example.com`}
	gf := groupCreate.Flags()
	gf.StringP("resource-group", "g", "", "resource group of the action group (required)")
	gf.String("short-name", "", "short name shown in notifications, at most 12 characters (default NAME, cut)")
	gf.StringArray("webhook", nil, "webhook receiver as name=URL (repeatable)")
	gf.StringArray("email", nil, "email receiver as name=address (repeatable)")
	gf.Bool("legacy-schema", false, "send the legacy log alert payload instead of the common alert schema")
	gf.Bool("disabled", false, "create the group disabled")
	groupList := &cobra.Command{Use: "list", Short: "List action groups", Args: cobra.NoArgs, RunE: groupedList(actionGroups),
		Example: "  steward alert group list -g collector"}
	groupList.Flags().StringP("resource-group", "g", "", "only the groups of this resource group")
	groupShow := &cobra.Command{Use: "show NAME", Short: "Show an action group", Args: cobra.ExactArgs(1), RunE: groupedShow(actionGroups),
		Example: "  steward alert group show oncall -g collector -o json"}
	groupDelete := &cobra.Command{Use: "delete NAME", Short: "Delete an action group", Args: cobra.ExactArgs(1), RunE: groupedDelete(actionGroups),
		Example: "  steward alert group delete oncall -g collector"}
	for _, c := range []*cobra.Command{groupShow, groupDelete} {
		c.Flags().StringP("resource-group", "g", "", "resource group of the action group (required)")
	}
	for _, c := range []*cobra.Command{groupCreate, groupList, groupShow, groupDelete} {
		addAPIFlags(c)
		group.AddCommand(c)
	}

	list := &cobra.Command{Use: "list", Short: "List the alerts rules raised", Args: cobra.NoArgs, RunE: runAlertList,
		Example: "  steward alert list\n  steward alert list --condition Fired --state New --time-range 7d -o json"}
	list.Flags().String("condition", "", "only Fired or Resolved alerts")
	list.Flags().String("state", "", "only New, Acknowledged or Closed alerts")
	list.Flags().String("severity", "", "only alerts of this severity (Sev0 to Sev4)")
	list.Flags().String("rule", "", "only alerts of this rule (resource ID)")
	list.Flags().String("time-range", "1d", "alerts changed within 1h, 1d, 7d or 30d")
	show := &cobra.Command{Use: "show ALERT", Short: "Show one alert (its ID or its GUID)", Args: cobra.ExactArgs(1), RunE: runAlertShow,
		Example: "  steward alert show 0f4b6c0e-9a1e-4a43-8c41-5d3b1f0a7e21 -o json"}
	ack := &cobra.Command{Use: "ack ALERT", Short: "Acknowledge an alert", Args: cobra.ExactArgs(1), RunE: alertStateCmd(alerts.StateAcknowledged),
		Example: "  steward alert ack 0f4b6c0e-9a1e-4a43-8c41-5d3b1f0a7e21"}
	closeCmd := &cobra.Command{Use: "close ALERT", Short: "Close an alert", Args: cobra.ExactArgs(1), RunE: alertStateCmd(alerts.StateClosed),
		Example: "  steward alert close 0f4b6c0e-9a1e-4a43-8c41-5d3b1f0a7e21"}
	for _, c := range []*cobra.Command{list, show, ack, closeCmd} {
		addAPIFlags(c)
	}
	cmd.AddCommand(rule, group, list, show, ack, closeCmd)
	return cmd
}

// requireGroup reads -g, which the command needs.
func requireGroup(cmd *cobra.Command) (string, error) {
	rg, _ := cmd.Flags().GetString("resource-group")
	if rg == "" {
		return "", &exitError{code: 2, msg: "--resource-group (-g) is required"}
	}
	return rg, nil
}

// resourceRef turns a name into an ID of typ in rg, leaving IDs as they are.
func resourceRef(api *apiClient, rg, typ, ref string) string {
	if strings.HasPrefix(ref, "/") {
		return ref
	}
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/%s/%s", api.subscription, rg, typ, ref)
}

func runAlertRuleCreate(cmd *cobra.Command, args []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	rg, err := requireGroup(cmd)
	if err != nil {
		return err
	}
	f := cmd.Flags()
	get := func(n string) string { v, _ := f.GetString(n); return v }
	if get("workspace") == "" || get("query") == "" {
		return &exitError{code: 2, msg: "--workspace and --query are required"}
	}
	api, err := newAPIClient(cmd)
	if err != nil {
		return err
	}
	threshold, _ := f.GetFloat64("threshold")
	severity, _ := f.GetInt("severity")
	periods, _ := f.GetInt("periods")
	minFailing, _ := f.GetInt("min-failing")
	window := get("window")
	if window == "" {
		window = get("frequency")
	}
	cond := &armmonitor.Condition{
		Query:           to.Ptr(get("query")),
		TimeAggregation: to.Ptr(armmonitor.TimeAggregation(get("aggregation"))),
		Operator:        to.Ptr(armmonitor.ConditionOperator(get("operator"))),
		Threshold:       to.Ptr(threshold),
		FailingPeriods: &armmonitor.ConditionFailingPeriods{NumberOfEvaluationPeriods: to.Ptr(int64(periods)),
			MinFailingPeriodsToAlert: to.Ptr(int64(minFailing))},
	}
	if c := get("measure-column"); c != "" {
		cond.MetricMeasureColumn = to.Ptr(c)
	}
	if c := get("resource-id-column"); c != "" {
		cond.ResourceIDColumn = to.Ptr(c)
	}
	dims, _ := f.GetStringArray("dimension")
	for _, d := range dims {
		name, vals, ok := strings.Cut(d, "=")
		values := []*string{to.Ptr("*")}
		if ok {
			values = nil
			for _, v := range strings.Split(vals, ",") {
				values = append(values, to.Ptr(v))
			}
		}
		cond.Dimensions = append(cond.Dimensions, &armmonitor.Dimension{Name: to.Ptr(name), Operator: to.Ptr(armmonitor.DimensionOperatorInclude), Values: values})
	}
	disabled, _ := f.GetBool("disabled")
	stateless, _ := f.GetBool("stateless")
	props := &armmonitor.ScheduledQueryRuleProperties{
		Severity: to.Ptr(armmonitor.AlertSeverity(int64(severity))), Enabled: to.Ptr(!disabled),
		Scopes:              []*string{to.Ptr(resourceRef(api, rg, alerts.TypeWorkspace, get("workspace")))},
		EvaluationFrequency: to.Ptr(get("frequency")), WindowSize: to.Ptr(window),
		Criteria:     &armmonitor.ScheduledQueryRuleCriteria{AllOf: []*armmonitor.Condition{cond}},
		AutoMitigate: to.Ptr(!stateless),
		Actions:      &armmonitor.Actions{CustomProperties: map[string]*string{}},
	}
	if d := get("description"); d != "" {
		props.Description = to.Ptr(d)
	}
	if m := get("mute"); m != "" {
		props.MuteActionsDuration = to.Ptr(m)
	}
	groups, _ := f.GetStringArray("action-group")
	for _, g := range groups {
		props.Actions.ActionGroups = append(props.Actions.ActionGroups, to.Ptr(resourceRef(api, rg, alerts.TypeActionGroup, g)))
	}
	pairs, _ := f.GetStringArray("property")
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return &exitError{code: 2, msg: fmt.Sprintf("--property %q is not key=value", p)}
		}
		props.Actions.CustomProperties[k] = to.Ptr(v)
	}
	loc, err := groupLocation(cmd, api, rg)
	if err != nil {
		return err
	}
	c, err := armmonitor.NewScheduledQueryRulesClient(api.subscription, api.cred, api.opts)
	if err != nil {
		return err
	}
	resp, err := c.CreateOrUpdate(cmd.Context(), rg, args[0], armmonitor.ScheduledQueryRuleResource{Location: to.Ptr(loc), Properties: props}, nil)
	if err != nil {
		return apiError(err)
	}
	return printRules(cmd, format, []*armmonitor.ScheduledQueryRuleResource{&resp.ScheduledQueryRuleResource}, false)
}

// groupLocation is the location of a resource group, for the resources
// created in it.
func groupLocation(cmd *cobra.Command, api *apiClient, rg string) (string, error) {
	c, err := armresources.NewResourceGroupsClient(api.subscription, api.cred, api.opts)
	if err != nil {
		return "", err
	}
	g, err := c.Get(cmd.Context(), rg, nil)
	if err != nil {
		return "", apiError(err)
	}
	return deref(g.Location), nil
}

// alertRules reads and deletes scheduled query rules with the SDK.
func alertRules(cmd *cobra.Command) (*groupedResource[armmonitor.ScheduledQueryRuleResource], error) {
	api, err := newAPIClient(cmd)
	if err != nil {
		return nil, err
	}
	c, err := armmonitor.NewScheduledQueryRulesClient(api.subscription, api.cred, api.opts)
	if err != nil {
		return nil, err
	}
	return &groupedResource[armmonitor.ScheduledQueryRuleResource]{noun: "alert rule", print: printRules,
		get: func(ctx context.Context, rg, name string) (*armmonitor.ScheduledQueryRuleResource, error) {
			r, err := c.Get(ctx, rg, name, nil)
			return &r.ScheduledQueryRuleResource, err
		},
		del: func(ctx context.Context, rg, name string) error {
			_, err := c.Delete(ctx, rg, name, nil)
			return err
		},
		list: func(cmd *cobra.Command, rg string) ([]*armmonitor.ScheduledQueryRuleResource, error) {
			if rg != "" {
				return pageAll(cmd, c.NewListByResourceGroupPager(rg, nil), func(r armmonitor.ScheduledQueryRulesClientListByResourceGroupResponse) []*armmonitor.ScheduledQueryRuleResource {
					return r.Value
				})
			}
			return pageAll(cmd, c.NewListBySubscriptionPager(nil), func(r armmonitor.ScheduledQueryRulesClientListBySubscriptionResponse) []*armmonitor.ScheduledQueryRuleResource {
				return r.Value
			})
		},
	}, nil
}

func printRules(cmd *cobra.Command, format cliout.Format, rules []*armmonitor.ScheduledQueryRuleResource, list bool) error {
	if format == cliout.JSON {
		return writeJSONItems(cmd, rules, list)
	}
	rows := make([][]string, 0, len(rules))
	for _, r := range rules {
		p := r.Properties
		if p == nil {
			p = &armmonitor.ScheduledQueryRuleProperties{}
		}
		sev, enabled, cond := "", "", ""
		if p.Severity != nil {
			sev = fmt.Sprintf("Sev%d", *p.Severity)
		}
		if p.Enabled != nil {
			enabled = fmt.Sprint(*p.Enabled)
		}
		if p.Criteria != nil && len(p.Criteria.AllOf) == 1 && p.Criteria.AllOf[0] != nil {
			c := p.Criteria.AllOf[0]
			cond = fmt.Sprintf("%s %s %g", derefString(c.TimeAggregation), derefString(c.Operator), derefFloat(c.Threshold))
		}
		rows = append(rows, []string{deref(r.Name), resourceGroupOf(deref(r.ID)), sev, enabled, deref(p.EvaluationFrequency), cond})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"NAME", "RESOURCE GROUP", "SEVERITY", "ENABLED", "FREQUENCY", "CONDITION"}, rows)
}

func derefString[T ~string](p *T) string {
	if p == nil {
		return ""
	}
	return string(*p)
}

func derefFloat(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

func resourceGroupOf(id string) string {
	parts := strings.Split(id, "/")
	for i := 0; i+1 < len(parts); i++ {
		if strings.EqualFold(parts[i], "resourceGroups") {
			return parts[i+1]
		}
	}
	return ""
}

func runAlertGroupCreate(cmd *cobra.Command, args []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	rg, err := requireGroup(cmd)
	if err != nil {
		return err
	}
	f := cmd.Flags()
	short, _ := f.GetString("short-name")
	if short == "" {
		short = args[0]
		if len(short) > 12 {
			short = short[:12]
		}
	}
	legacy, _ := f.GetBool("legacy-schema")
	disabled, _ := f.GetBool("disabled")
	props := &armmonitor.ActionGroup{GroupShortName: to.Ptr(short), Enabled: to.Ptr(!disabled)}
	hooks, _ := f.GetStringArray("webhook")
	for _, h := range hooks {
		name, uri, ok := strings.Cut(h, "=")
		if !ok {
			return &exitError{code: 2, msg: fmt.Sprintf("--webhook %q is not name=URL", h)}
		}
		props.WebhookReceivers = append(props.WebhookReceivers, &armmonitor.WebhookReceiver{Name: to.Ptr(name), ServiceURI: to.Ptr(uri), UseCommonAlertSchema: to.Ptr(!legacy)})
	}
	mails, _ := f.GetStringArray("email")
	for _, m := range mails {
		name, addr, ok := strings.Cut(m, "=")
		if !ok {
			return &exitError{code: 2, msg: fmt.Sprintf("--email %q is not name=address", m)}
		}
		props.EmailReceivers = append(props.EmailReceivers, &armmonitor.EmailReceiver{Name: to.Ptr(name), EmailAddress: to.Ptr(addr), UseCommonAlertSchema: to.Ptr(!legacy)})
	}
	api, err := newAPIClient(cmd)
	if err != nil {
		return err
	}
	c, err := armmonitor.NewActionGroupsClient(api.subscription, api.cred, api.opts)
	if err != nil {
		return err
	}
	resp, err := c.CreateOrUpdate(cmd.Context(), rg, args[0], armmonitor.ActionGroupResource{Location: to.Ptr("Global"), Properties: props}, nil)
	if err != nil {
		return apiError(err)
	}
	return printActionGroups(cmd, format, []*armmonitor.ActionGroupResource{&resp.ActionGroupResource}, false)
}

// actionGroups reads and deletes action groups with the SDK.
func actionGroups(cmd *cobra.Command) (*groupedResource[armmonitor.ActionGroupResource], error) {
	api, err := newAPIClient(cmd)
	if err != nil {
		return nil, err
	}
	c, err := armmonitor.NewActionGroupsClient(api.subscription, api.cred, api.opts)
	if err != nil {
		return nil, err
	}
	return &groupedResource[armmonitor.ActionGroupResource]{noun: "action group", print: printActionGroups,
		get: func(ctx context.Context, rg, name string) (*armmonitor.ActionGroupResource, error) {
			r, err := c.Get(ctx, rg, name, nil)
			return &r.ActionGroupResource, err
		},
		del: func(ctx context.Context, rg, name string) error {
			_, err := c.Delete(ctx, rg, name, nil)
			return err
		},
		list: func(cmd *cobra.Command, rg string) ([]*armmonitor.ActionGroupResource, error) {
			if rg != "" {
				return pageAll(cmd, c.NewListByResourceGroupPager(rg, nil), func(r armmonitor.ActionGroupsClientListByResourceGroupResponse) []*armmonitor.ActionGroupResource {
					return r.Value
				})
			}
			return pageAll(cmd, c.NewListBySubscriptionIDPager(nil), func(r armmonitor.ActionGroupsClientListBySubscriptionIDResponse) []*armmonitor.ActionGroupResource {
				return r.Value
			})
		},
	}, nil
}

func printActionGroups(cmd *cobra.Command, format cliout.Format, groups []*armmonitor.ActionGroupResource, list bool) error {
	if format == cliout.JSON {
		return writeJSONItems(cmd, groups, list)
	}
	rows := make([][]string, 0, len(groups))
	for _, g := range groups {
		p := g.Properties
		if p == nil {
			p = &armmonitor.ActionGroup{}
		}
		var recv []string
		for _, w := range p.WebhookReceivers {
			recv = append(recv, "webhook:"+deref(w.Name))
		}
		for _, e := range p.EmailReceivers {
			recv = append(recv, "email:"+deref(e.Name))
		}
		enabled := ""
		if p.Enabled != nil {
			enabled = fmt.Sprint(*p.Enabled)
		}
		rows = append(rows, []string{deref(g.Name), resourceGroupOf(deref(g.ID)), deref(p.GroupShortName), enabled, strings.Join(recv, ", ")})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"NAME", "RESOURCE GROUP", "SHORT NAME", "ENABLED", "RECEIVERS"}, rows)
}

// alertsCall sends one request to the alerts API (no Go SDK module for
// Microsoft.AlertsManagement is published to the module proxy, so the
// commands use the ARM pipeline directly).
func alertsCall(cmd *cobra.Command, method, path string, query url.Values) (map[string]any, error) {
	api, err := newAPIClient(cmd)
	if err != nil {
		return nil, err
	}
	client, err := azarm.NewClient("steward-alerts", "v1.0.0", api.cred, api.opts)
	if err != nil {
		return nil, err
	}
	if query == nil {
		query = url.Values{}
	}
	query.Set("api-version", alertsAPIVersion)
	req, err := runtime.NewRequest(cmd.Context(), method, runtime.JoinPaths(client.Endpoint(), path)+"?"+query.Encode())
	if err != nil {
		return nil, err
	}
	resp, err := client.Pipeline().Do(req)
	if err != nil {
		return nil, err
	}
	if !runtime.HasStatusCode(resp, http.StatusOK) {
		return nil, apiError(runtime.NewResponseError(resp))
	}
	var out map[string]any
	if err := runtime.UnmarshalAsJSON(resp, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// alertPath is the path of an alert given its ID or GUID.
func alertPath(cmd *cobra.Command, ref string) (string, error) {
	if strings.HasPrefix(ref, "/") {
		return ref, nil
	}
	api, err := newAPIClient(cmd)
	if err != nil {
		return "", err
	}
	return "/subscriptions/" + api.subscription + "/providers/" + alerts.TypeAlert + "/" + ref, nil
}

func runAlertList(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	api, err := newAPIClient(cmd)
	if err != nil {
		return err
	}
	q := url.Values{}
	for flag, param := range map[string]string{"condition": "monitorCondition", "state": "alertState", "severity": "severity", "rule": "alertRule", "time-range": "timeRange"} {
		if v, _ := cmd.Flags().GetString(flag); v != "" {
			q.Set(param, v)
		}
	}
	out, err := alertsCall(cmd, http.MethodGet, "/subscriptions/"+api.subscription+"/providers/"+alerts.TypeAlert, q)
	if err != nil {
		return err
	}
	list, _ := out["value"].([]any)
	return printAlerts(cmd, format, list, true)
}

func runAlertShow(cmd *cobra.Command, args []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	p, err := alertPath(cmd, args[0])
	if err != nil {
		return err
	}
	out, err := alertsCall(cmd, http.MethodGet, p, nil)
	if err != nil {
		return err
	}
	return printAlerts(cmd, format, []any{out}, false)
}

func alertStateCmd(state string) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		format, err := outputFormat(cmd)
		if err != nil {
			return err
		}
		p, err := alertPath(cmd, args[0])
		if err != nil {
			return err
		}
		out, err := alertsCall(cmd, http.MethodPost, p+"/changestate", url.Values{"newState": {state}})
		if err != nil {
			return err
		}
		return printAlerts(cmd, format, []any{out}, false)
	}
}

func printAlerts(cmd *cobra.Command, format cliout.Format, list []any, many bool) error {
	if format == cliout.JSON {
		if !many && len(list) == 1 {
			return cliout.WriteJSON(cmd.OutOrStdout(), list[0])
		}
		if list == nil {
			list = []any{}
		}
		return cliout.WriteJSON(cmd.OutOrStdout(), list)
	}
	rows := make([][]string, 0, len(list))
	for _, a := range list {
		doc, _ := a.(map[string]any)
		props, _ := doc["properties"].(map[string]any)
		es, _ := props["essentials"].(map[string]any)
		s := func(k string) string { v, _ := es[k].(string); return v }
		id, _ := doc["id"].(string)
		rule := s("alertRule")
		rows = append(rows, []string{id[strings.LastIndexByte(id, '/')+1:], rule[strings.LastIndexByte(rule, '/')+1:], s("severity"),
			s("monitorCondition"), s("alertState"), s("startDateTime"), s("targetResourceName")})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"ALERT", "RULE", "SEVERITY", "CONDITION", "STATE", "STARTED", "TARGET"}, rows)
}
