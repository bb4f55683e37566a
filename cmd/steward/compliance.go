package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/policyinsights/armpolicyinsights"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
)

func init() { register(newComplianceCmd) }

func newComplianceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "compliance",
		Short: "Query policy compliance through the Policy Insights API",
		Long: `compliance lists policy states, summarizes them and triggers evaluations through
the Azure SDK's Policy Insights client, as "az policy state" does. It works
against Steward's embedded cloud and against Azure alike. The scope is the
subscription unless --resource-group, --resource or --management-group says
otherwise.`,
	}
	list := &cobra.Command{Use: "list", Short: "List policy states (every page)", Args: cobra.NoArgs, RunE: runComplianceList}
	list.Flags().String("filter", "", "OData $filter, such as \"IsCompliant eq false\"")
	list.Flags().String("apply", "", "OData $apply, such as \"groupby((PolicyAssignmentId), aggregate($count as N))\"")
	list.Flags().String("select", "", "OData $select: the properties to return")
	list.Flags().String("orderby", "", "OData $orderby, such as \"ResourceId asc\"")
	list.Flags().Int("top", 0, "return at most this many records (0: all)")
	list.Flags().String("from", "", "start of the time window (ISO 8601; default: a day before --to)")
	list.Flags().String("to", "", "end of the time window (ISO 8601; default: now)")
	list.Flags().Bool("all", false, "policyStates/default (all states) instead of latest")
	list.Flags().String("expand", "", "$expand: PolicyEvaluationDetails (with --resource only, as in Azure's API)")
	summarize := &cobra.Command{Use: "summarize", Short: "Summarize compliance per assignment", Args: cobra.NoArgs, RunE: runComplianceSummarize}
	summarize.Flags().String("filter", "", "OData $filter applied before summarizing")
	summarize.Flags().Int("top", 0, "list at most this many assignments (0: all)")
	trigger := &cobra.Command{Use: "trigger", Short: "Start an evaluation of the subscription or a resource group and wait for it",
		Args: cobra.NoArgs, RunE: runComplianceTrigger}
	trigger.Flags().Bool("no-wait", false, "return once the evaluation is accepted")
	for _, c := range []*cobra.Command{list, summarize, trigger} {
		addAPIFlags(c)
		c.Flags().StringP("resource-group", "g", "", "resource group scope")
		if c != trigger {
			c.Flags().String("resource", "", "resource ID scope")
			c.Flags().String("management-group", "", "management group scope (name)")
			c.Flags().String("assignment", "", "policy assignment scope (name, at the subscription or --resource-group)")
			c.Flags().String("definition", "", "policy definition scope (name, at the subscription)")
			c.Flags().String("set-definition", "", "policy set definition scope (name, at the subscription)")
		}
		cmd.AddCommand(c)
	}
	return cmd
}

// complianceClient reads the output format and the scope flags and builds
// the Policy Insights client.
func complianceClient(cmd *cobra.Command) (cliout.Format, *armpolicyinsights.PolicyStatesClient, complianceScope, error) {
	format, err := outputFormat(cmd)
	if err != nil {
		return "", nil, complianceScope{}, err
	}
	if err := scopeFlags(cmd, "").validate(cmd); err != nil {
		return "", nil, complianceScope{}, err
	}
	api, err := newAPIClient(cmd)
	if err != nil {
		return "", nil, complianceScope{}, err
	}
	c, err := armpolicyinsights.NewPolicyStatesClient(api.cred, api.opts)
	return format, c, scopeFlags(cmd, api.subscription), err
}

// complianceScope is where a compliance command looks.
type complianceScope struct {
	sub, group, resource, mg, assignment, definition, set string
}

func scopeFlags(cmd *cobra.Command, sub string) complianceScope {
	s := complianceScope{sub: sub}
	s.group, _ = cmd.Flags().GetString("resource-group")
	if cmd.Flags().Lookup("resource") != nil {
		s.resource, _ = cmd.Flags().GetString("resource")
		s.mg, _ = cmd.Flags().GetString("management-group")
		s.assignment, _ = cmd.Flags().GetString("assignment")
		s.definition, _ = cmd.Flags().GetString("definition")
		s.set, _ = cmd.Flags().GetString("set-definition")
	}
	return s
}

// validate refuses flags the request would not honour: scopes that do
// not combine (only --assignment takes --resource-group with it), and
// --expand anywhere but a resource's states, the only scope for which
// Azure's Policy Insights API (and so its SDK) sends $expand.
func (s complianceScope) validate(cmd *cobra.Command) error {
	var set []string
	for _, f := range []struct{ name, v string }{{"management-group", s.mg}, {"resource", s.resource},
		{"definition", s.definition}, {"set-definition", s.set}, {"assignment", s.assignment}, {"resource-group", s.group}} {
		if f.v != "" {
			set = append(set, "--"+f.name)
		}
	}
	if len(set) > 1 && !(len(set) == 2 && s.assignment != "" && s.group != "") {
		return &exitError{code: 2, msg: fmt.Sprintf("%s name different scopes: give one (only --assignment combines with --resource-group)",
			strings.Join(set, " and "))}
	}
	if f := cmd.Flags().Lookup("expand"); f != nil && f.Value.String() != "" && s.resource == "" {
		return &exitError{code: 2, msg: "--expand needs --resource: the Policy Insights API expands policy evaluation details only for one resource's states"}
	}
	return nil
}

func runComplianceList(cmd *cobra.Command, _ []string) error {
	format, client, scope, err := complianceClient(cmd)
	if err != nil {
		return err
	}
	opts, err := complianceQuery(cmd)
	if err != nil {
		return err
	}
	resource := armpolicyinsights.PolicyStatesResourceLatest
	if all, _ := cmd.Flags().GetBool("all"); all {
		resource = armpolicyinsights.PolicyStatesResourceDefault
	}
	var states []*armpolicyinsights.PolicyState
	// The nextLink must be POSTed (the SDK pager GETs it, which the
	// service refuses): each page is a new first request with the
	// nextLink's $skiptoken.
	for page := 0; ; page++ {
		res, err := firstStatesPage(cmd, client, resource, scope, opts)
		if err != nil {
			return apiError(err)
		}
		states = append(states, res.Value...)
		if res.ODataNextLink == nil || *res.ODataNextLink == "" || page > 100000 {
			break
		}
		u, err := url.Parse(*res.ODataNextLink)
		if err != nil {
			return err
		}
		opts.SkipToken = to.Ptr(u.Query().Get("$skiptoken"))
	}
	return printStates(cmd, format, states)
}

// complianceQuery reads the OData flags.
func complianceQuery(cmd *cobra.Command) (*armpolicyinsights.QueryOptions, error) {
	q := &armpolicyinsights.QueryOptions{}
	for flag, dst := range map[string]**string{"filter": &q.Filter, "apply": &q.Apply, "select": &q.Select,
		"orderby": &q.OrderBy, "expand": &q.Expand} {
		if v, _ := cmd.Flags().GetString(flag); v != "" {
			*dst = to.Ptr(v)
		}
	}
	if top, _ := cmd.Flags().GetInt("top"); top > 0 {
		q.Top = to.Ptr(int32(top))
	}
	for flag, dst := range map[string]**time.Time{"from": &q.From, "to": &q.To} {
		if v, _ := cmd.Flags().GetString(flag); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return nil, fmt.Errorf("--%s: %q is not an ISO 8601 time such as 2026-01-02T15:04:05Z", flag, v)
			}
			*dst = &t
		}
	}
	return q, nil
}

// firstStatesPage asks for one page of states at the scope.
func firstStatesPage(cmd *cobra.Command, c *armpolicyinsights.PolicyStatesClient, r armpolicyinsights.PolicyStatesResource,
	s complianceScope, q *armpolicyinsights.QueryOptions) (armpolicyinsights.PolicyStatesQueryResults, error) {
	ctx := cmd.Context()
	switch {
	case s.mg != "":
		p, err := c.NewListQueryResultsForManagementGroupPager(r, s.mg, q, nil).NextPage(ctx)
		return p.PolicyStatesQueryResults, err
	case s.resource != "":
		p, err := c.NewListQueryResultsForResourcePager(r, s.resource, q, nil).NextPage(ctx)
		return p.PolicyStatesQueryResults, err
	case s.definition != "":
		p, err := c.NewListQueryResultsForPolicyDefinitionPager(r, s.sub, s.definition, q, nil).NextPage(ctx)
		return p.PolicyStatesQueryResults, err
	case s.set != "":
		p, err := c.NewListQueryResultsForPolicySetDefinitionPager(r, s.sub, s.set, q, nil).NextPage(ctx)
		return p.PolicyStatesQueryResults, err
	case s.assignment != "" && s.group != "":
		p, err := c.NewListQueryResultsForResourceGroupLevelPolicyAssignmentPager(r, s.sub, s.group, s.assignment, q, nil).NextPage(ctx)
		return p.PolicyStatesQueryResults, err
	case s.assignment != "":
		p, err := c.NewListQueryResultsForSubscriptionLevelPolicyAssignmentPager(r, s.sub, s.assignment, q, nil).NextPage(ctx)
		return p.PolicyStatesQueryResults, err
	case s.group != "":
		p, err := c.NewListQueryResultsForResourceGroupPager(r, s.sub, s.group, q, nil).NextPage(ctx)
		return p.PolicyStatesQueryResults, err
	}
	p, err := c.NewListQueryResultsForSubscriptionPager(r, s.sub, q, nil).NextPage(ctx)
	return p.PolicyStatesQueryResults, err
}

func printStates(cmd *cobra.Command, format cliout.Format, states []*armpolicyinsights.PolicyState) error {
	out := cmd.OutOrStdout()
	if format == cliout.JSON {
		if states == nil {
			states = []*armpolicyinsights.PolicyState{}
		}
		return cliout.WriteJSON(out, states)
	}
	apply, _ := cmd.Flags().GetString("apply")
	sel, _ := cmd.Flags().GetString("select")
	if apply != "" || sel != "" {
		return printAggregates(cmd, states)
	}
	rows := make([][]string, 0, len(states))
	for _, s := range states {
		rows = append(rows, []string{show(s.ComplianceState), show(s.ResourceID), show(s.PolicyAssignmentName),
			show(s.PolicyDefinitionReferenceID), show(s.PolicyDefinitionAction)})
	}
	if err := cliout.WriteTable(out, []string{"STATE", "RESOURCE", "ASSIGNMENT", "REFERENCE", "EFFECT"}, rows); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "%d states\n", len(states))
	return err
}

// printAggregates prints rows an $apply (or a $select) produced: the
// columns they have.
func printAggregates(cmd *cobra.Command, states []*armpolicyinsights.PolicyState) error {
	cols := map[string]bool{}
	records := make([]map[string]any, len(states))
	for i, s := range states {
		b, err := json.Marshal(s)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &records[i]); err != nil {
			return err
		}
		for k, v := range records[i] {
			if !strings.HasPrefix(k, "@odata") && v != nil {
				cols[k] = true
			}
		}
	}
	header := make([]string, 0, len(cols))
	for k := range cols {
		header = append(header, k)
	}
	sort.Strings(header)
	rows := make([][]string, 0, len(states))
	for _, r := range records {
		row := make([]string, len(header))
		for i, h := range header {
			if v, ok := r[h]; ok && v != nil {
				row[i] = fmt.Sprint(v)
			}
		}
		rows = append(rows, row)
	}
	return cliout.WriteTable(cmd.OutOrStdout(), header, rows)
}

// show renders an optional SDK value ("" for nil).
func show[T any](p *T) string {
	if p == nil {
		return ""
	}
	return fmt.Sprint(*p)
}

func runComplianceSummarize(cmd *cobra.Command, _ []string) error {
	format, c, s, err := complianceClient(cmd)
	if err != nil {
		return err
	}
	q := &armpolicyinsights.QueryOptions{}
	if f, _ := cmd.Flags().GetString("filter"); f != "" {
		q.Filter = to.Ptr(f)
	}
	if top, _ := cmd.Flags().GetInt("top"); top > 0 {
		q.Top = to.Ptr(int32(top))
	}
	ctx, latest := cmd.Context(), armpolicyinsights.PolicyStatesSummaryResourceTypeLatest
	var res armpolicyinsights.SummarizeResults
	switch {
	case s.mg != "":
		r, e := c.SummarizeForManagementGroup(ctx, latest, s.mg, q, nil)
		res, err = r.SummarizeResults, e
	case s.resource != "":
		r, e := c.SummarizeForResource(ctx, latest, s.resource, q, nil)
		res, err = r.SummarizeResults, e
	case s.definition != "":
		r, e := c.SummarizeForPolicyDefinition(ctx, latest, s.sub, s.definition, q, nil)
		res, err = r.SummarizeResults, e
	case s.set != "":
		r, e := c.SummarizeForPolicySetDefinition(ctx, latest, s.sub, s.set, q, nil)
		res, err = r.SummarizeResults, e
	case s.assignment != "" && s.group != "":
		r, e := c.SummarizeForResourceGroupLevelPolicyAssignment(ctx, latest, s.sub, s.group, s.assignment, q, nil)
		res, err = r.SummarizeResults, e
	case s.assignment != "":
		r, e := c.SummarizeForSubscriptionLevelPolicyAssignment(ctx, latest, s.sub, s.assignment, q, nil)
		res, err = r.SummarizeResults, e
	case s.group != "":
		r, e := c.SummarizeForResourceGroup(ctx, latest, s.sub, s.group, q, nil)
		res, err = r.SummarizeResults, e
	default:
		r, e := c.SummarizeForSubscription(ctx, latest, s.sub, q, nil)
		res, err = r.SummarizeResults, e
	}
	if err != nil {
		return apiError(err)
	}
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), res.Value)
	}
	var rows [][]string
	for _, sum := range res.Value {
		if sum.Results != nil {
			rows = append(rows, summaryRow("(scope)", "", sum.Results))
		}
		for _, a := range sum.PolicyAssignments {
			rows = append(rows, summaryRow(show(a.PolicyAssignmentID), "", a.Results))
			for _, d := range a.PolicyDefinitions {
				rows = append(rows, summaryRow("  "+show(d.PolicyDefinitionID), show(d.PolicyDefinitionReferenceID), d.Results))
			}
		}
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"ASSIGNMENT / DEFINITION", "REFERENCE", "NON-COMPLIANT RESOURCES",
		"NON-COMPLIANT POLICIES", "RESOURCES BY STATE"}, rows)
}

func summaryRow(name, ref string, r *armpolicyinsights.SummaryResults) []string {
	if r == nil {
		return []string{name, ref, "", "", ""}
	}
	var parts []string
	for _, d := range r.ResourceDetails {
		parts = append(parts, show(d.ComplianceState)+"="+show(d.Count))
	}
	return []string{name, ref, show(r.NonCompliantResources), show(r.NonCompliantPolicies), strings.Join(parts, " ")}
}

func runComplianceTrigger(cmd *cobra.Command, _ []string) error {
	format, c, s, err := complianceClient(cmd)
	if err != nil {
		return err
	}
	noWait, _ := cmd.Flags().GetBool("no-wait")
	ctx := cmd.Context()
	scope := "/subscriptions/" + s.sub
	var wait func() error
	if s.group != "" {
		scope += "/resourceGroups/" + s.group
		p, err := c.BeginTriggerResourceGroupEvaluation(ctx, s.sub, s.group, nil)
		if err != nil {
			return apiError(err)
		}
		wait = func() error {
			_, err := p.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: time.Second})
			return err
		}
	} else {
		p, err := c.BeginTriggerSubscriptionEvaluation(ctx, s.sub, nil)
		if err != nil {
			return apiError(err)
		}
		wait = func() error {
			_, err := p.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: time.Second})
			return err
		}
	}
	status := "Accepted"
	if !noWait {
		start := time.Now()
		stop := showProgress(cmd.ErrOrStderr(), stderrIsTerminal(cmd), time.Second, "evaluating "+scope, nil)
		err := wait()
		stop()
		if err != nil {
			return apiError(err)
		}
		status = "Succeeded in " + strconv.FormatFloat(time.Since(start).Seconds(), 'f', 1, 64) + "s"
	}
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), map[string]string{"scope": scope, "status": strings.Fields(status)[0]})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"SCOPE", "EVALUATION"}, [][]string{{scope, status}})
}
