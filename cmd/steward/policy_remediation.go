package main

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/policyinsights/armpolicyinsights"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cliout"
)

func newPolicyRemediationCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "remediation",
		Short: "Create, list, show and cancel policy remediation tasks through the management API",
		Long: `remediation manages remediation tasks in a Steward (or Azure) through the
Azure SDK, as "az policy remediation" does. A remediation takes the
non-compliant resources of a deployIfNotExists or modify assignment and
deploys the policy's template for each (deployIfNotExists) or writes the
resource again so that the modify operations apply, as the assignment's
managed identity. Scopes default to the subscription.`,
	}
	create := &cobra.Command{Use: "create NAME", Short: "Remediate the non-compliant resources of an assignment", Args: cobra.ExactArgs(1), RunE: runPolicyRemediationCreate,
		Example: `  steward policy remediation create fix-tags --policy-assignment require-env-tag \
    --scope /subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/app-rg
  steward policy remediation create fix-tags --policy-assignment require-env-tag --no-wait`}
	f := create.Flags()
	f.String("policy-assignment", "", "the assignment: full ID, or the name of one at the subscription (required)")
	f.String("definition-reference-id", "", "the initiative member to remediate (required for an initiative)")
	f.String("resource-discovery-mode", "", "ExistingNonCompliant (default) or ReEvaluateCompliance")
	f.StringArray("location-filters", nil, "remediate only resources in these locations (repeatable)")
	f.Int32("resource-count", 0, "remediate at most this many resources (1 to 50000; default 500)")
	f.Bool("no-wait", false, "answer once the remediation is accepted instead of waiting for its end (follow it with show)")
	list := &cobra.Command{Use: "list", Short: "List the remediations at a scope", Args: cobra.NoArgs, RunE: runPolicyRemediationList,
		Example: "  steward policy remediation list\n  steward policy remediation list --scope /subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/app-rg -o json"}
	show := &cobra.Command{Use: "show NAME", Short: "Show a remediation", Args: cobra.ExactArgs(1), RunE: runPolicyRemediationShow,
		Example: "  steward policy remediation show fix-tags --scope /subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/app-rg"}
	deployments := &cobra.Command{Use: "deployments NAME", Short: "List a remediation's deployments, one per resource", Args: cobra.ExactArgs(1), RunE: runPolicyRemediationDeployments,
		Example: "  steward policy remediation deployments fix-tags --scope /subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/app-rg"}
	cancel := &cobra.Command{Use: "cancel NAME", Short: "Cancel a running remediation", Args: cobra.ExactArgs(1), RunE: runPolicyRemediationCancel,
		Example: "  steward policy remediation cancel fix-tags --scope /subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/app-rg"}
	for _, c := range []*cobra.Command{create, list, show, deployments, cancel} {
		addAPIFlags(c)
		c.Flags().String("scope", "", "scope: a management group, subscription, resource group or resource (default: the subscription)")
		cmd.AddCommand(c)
	}
	return cmd
}

// remediationClients is the remediations client, the subscription and the
// command's scope, parsed.
type remediationClients struct {
	c     *armpolicyinsights.RemediationsClient
	sub   string
	scope *arm.ResourceID
}

func newRemediationClients(cmd *cobra.Command) (*remediationClients, error) {
	api, err := newAPIClient(cmd)
	if err != nil {
		return nil, err
	}
	scope, _ := cmd.Flags().GetString("scope")
	if scope == "" {
		scope = "/subscriptions/" + api.subscription
	}
	r, err := arm.ParseResourceID(scope)
	if err != nil {
		return nil, usageError("--scope: %v", err)
	}
	c, err := armpolicyinsights.NewRemediationsClient(subscriptionOfScope(r, api.subscription), api.cred, api.opts)
	if err != nil {
		return nil, err
	}
	return &remediationClients{c: c, sub: api.subscription, scope: r}, nil
}

func subscriptionOfScope(r *arm.ResourceID, fallback string) string {
	if r.SubscriptionID != "" {
		return r.SubscriptionID
	}
	return fallback
}

func runPolicyRemediationCreate(cmd *cobra.Command, args []string) error {
	f := cmd.Flags()
	assignment, err := requireFlag(cmd, "policy-assignment")
	if err != nil {
		return err
	}
	props := &armpolicyinsights.RemediationProperties{}
	if s, _ := f.GetString("resource-discovery-mode"); s != "" {
		switch m := armpolicyinsights.ResourceDiscoveryMode(s); m {
		case armpolicyinsights.ResourceDiscoveryModeExistingNonCompliant, armpolicyinsights.ResourceDiscoveryModeReEvaluateCompliance:
			props.ResourceDiscoveryMode = &m
		default:
			return usageError("--resource-discovery-mode %q: want ExistingNonCompliant or ReEvaluateCompliance", s)
		}
	}
	if n, _ := f.GetInt32("resource-count"); n != 0 {
		if n < 1 || n > 50000 {
			return usageError("--resource-count %d: want 1 to 50000", n)
		}
		props.ResourceCount = to.Ptr(n)
	}
	rc, err := newRemediationClients(cmd)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(assignment, "/") {
		assignment = "/subscriptions/" + rc.sub + "/providers/Microsoft.Authorization/policyAssignments/" + assignment
	}
	props.PolicyAssignmentID = to.Ptr(assignment)
	if s, _ := f.GetString("definition-reference-id"); s != "" {
		props.PolicyDefinitionReferenceID = to.Ptr(s)
	}
	if locs, _ := f.GetStringArray("location-filters"); len(locs) > 0 {
		props.Filters = &armpolicyinsights.RemediationFilters{}
		for _, l := range locs {
			props.Filters.Locations = append(props.Filters.Locations, to.Ptr(l))
		}
	}
	body := armpolicyinsights.Remediation{Properties: props}
	ctx, name, r := cmd.Context(), args[0], rc.scope
	var rem armpolicyinsights.Remediation
	switch r.Kind() {
	case arm.ScopeManagementGroup:
		var resp armpolicyinsights.RemediationsClientCreateOrUpdateAtManagementGroupResponse
		resp, err = rc.c.CreateOrUpdateAtManagementGroup(ctx, r.ManagementGroup, name, body, nil)
		rem = resp.Remediation
	case arm.ScopeSubscription:
		var resp armpolicyinsights.RemediationsClientCreateOrUpdateAtSubscriptionResponse
		resp, err = rc.c.CreateOrUpdateAtSubscription(ctx, name, body, nil)
		rem = resp.Remediation
	case arm.ScopeResourceGroup:
		var resp armpolicyinsights.RemediationsClientCreateOrUpdateAtResourceGroupResponse
		resp, err = rc.c.CreateOrUpdateAtResourceGroup(ctx, r.ResourceGroup, name, body, nil)
		rem = resp.Remediation
	default:
		var resp armpolicyinsights.RemediationsClientCreateOrUpdateAtResourceResponse
		resp, err = rc.c.CreateOrUpdateAtResource(ctx, sdkScope(r.String()), name, body, nil)
		rem = resp.Remediation
	}
	if err != nil {
		return apiError(err)
	}
	// The deployments run in the background: wait for the end, showing the
	// counts, unless --no-wait.
	if noWait, _ := f.GetBool("no-wait"); !noWait {
		if rem, err = waitRemediation(cmd, rc, name, rem); err != nil {
			return err
		}
	}
	if err := printRemediations(cmd, []*armpolicyinsights.Remediation{&rem}, false); err != nil {
		return err
	}
	if p := rem.Properties; p != nil && deref(p.ProvisioningState) == "Failed" {
		return &exitError{code: exitNo, msg: "error: the remediation failed: " + deref(p.StatusMessage) +
			" (see `steward policy remediation deployments " + name + "`)"}
	}
	return nil
}

func runPolicyRemediationList(cmd *cobra.Command, _ []string) error {
	rc, err := newRemediationClients(cmd)
	if err != nil {
		return err
	}
	var out []*armpolicyinsights.Remediation
	switch r := rc.scope; r.Kind() {
	case arm.ScopeManagementGroup:
		out, err = pageAll(cmd, rc.c.NewListForManagementGroupPager(r.ManagementGroup, nil, nil),
			func(p armpolicyinsights.RemediationsClientListForManagementGroupResponse) []*armpolicyinsights.Remediation {
				return p.Value
			})
	case arm.ScopeSubscription:
		out, err = pageAll(cmd, rc.c.NewListForSubscriptionPager(nil, nil),
			func(p armpolicyinsights.RemediationsClientListForSubscriptionResponse) []*armpolicyinsights.Remediation {
				return p.Value
			})
	case arm.ScopeResourceGroup:
		out, err = pageAll(cmd, rc.c.NewListForResourceGroupPager(r.ResourceGroup, nil, nil),
			func(p armpolicyinsights.RemediationsClientListForResourceGroupResponse) []*armpolicyinsights.Remediation {
				return p.Value
			})
	default:
		out, err = pageAll(cmd, rc.c.NewListForResourcePager(sdkScope(r.String()), nil, nil),
			func(p armpolicyinsights.RemediationsClientListForResourceResponse) []*armpolicyinsights.Remediation {
				return p.Value
			})
	}
	if err != nil {
		return err
	}
	return printRemediations(cmd, out, true)
}

func runPolicyRemediationShow(cmd *cobra.Command, args []string) error {
	rc, err := newRemediationClients(cmd)
	if err != nil {
		return err
	}
	rem, err := getRemediation(cmd, rc, args[0])
	if err != nil {
		return apiError(err)
	}
	return printRemediations(cmd, []*armpolicyinsights.Remediation{&rem}, false)
}

// getRemediation reads a remediation at the command's scope.
func getRemediation(cmd *cobra.Command, rc *remediationClients, name string) (armpolicyinsights.Remediation, error) {
	ctx, r := cmd.Context(), rc.scope
	switch r.Kind() {
	case arm.ScopeManagementGroup:
		resp, err := rc.c.GetAtManagementGroup(ctx, r.ManagementGroup, name, nil)
		return resp.Remediation, err
	case arm.ScopeSubscription:
		resp, err := rc.c.GetAtSubscription(ctx, name, nil)
		return resp.Remediation, err
	case arm.ScopeResourceGroup:
		resp, err := rc.c.GetAtResourceGroup(ctx, r.ResourceGroup, name, nil)
		return resp.Remediation, err
	default:
		resp, err := rc.c.GetAtResource(ctx, sdkScope(r.String()), name, nil)
		return resp.Remediation, err
	}
}

// remediationPoll is how often a waiting create reads the remediation.
const remediationPoll = 250 * time.Millisecond

// waitRemediation polls a remediation until it has ended, with a progress
// line on a terminal.
func waitRemediation(cmd *cobra.Command, rc *remediationClients, name string, rem armpolicyinsights.Remediation) (armpolicyinsights.Remediation, error) {
	var mu sync.Mutex
	status := func(time.Duration) string {
		mu.Lock()
		defer mu.Unlock()
		return remediationStatus(rem)
	}
	stop := showProgress(cmd.ErrOrStderr(), stderrIsTerminal(cmd), time.Second, "remediation "+name, status)
	defer stop()
	for {
		p := rem.Properties
		switch deref(p.ProvisioningState) {
		case "Succeeded", "Failed", "Canceled", "Complete":
			return rem, nil
		}
		select {
		case <-cmd.Context().Done():
			return rem, cmd.Context().Err()
		case <-time.After(remediationPoll):
		}
		next, err := getRemediation(cmd, rc, name)
		if err != nil {
			return rem, apiError(err)
		}
		mu.Lock()
		rem = next
		mu.Unlock()
	}
}

// remediationStatus is a remediation's state and deployment counts.
func remediationStatus(rem armpolicyinsights.Remediation) string {
	p := rem.Properties
	if p == nil {
		return ""
	}
	out := deref(p.ProvisioningState)
	if d := p.DeploymentStatus; d != nil {
		out += fmt.Sprintf(", %d of %d deployments done (%d failed)", derefInt32(d.SuccessfulDeployments)+derefInt32(d.FailedDeployments),
			derefInt32(d.TotalDeployments), derefInt32(d.FailedDeployments))
	}
	return out
}

func runPolicyRemediationCancel(cmd *cobra.Command, args []string) error {
	rc, err := newRemediationClients(cmd)
	if err != nil {
		return err
	}
	ctx, name, r := cmd.Context(), args[0], rc.scope
	var rem armpolicyinsights.Remediation
	switch r.Kind() {
	case arm.ScopeManagementGroup:
		var resp armpolicyinsights.RemediationsClientCancelAtManagementGroupResponse
		resp, err = rc.c.CancelAtManagementGroup(ctx, r.ManagementGroup, name, nil)
		rem = resp.Remediation
	case arm.ScopeSubscription:
		var resp armpolicyinsights.RemediationsClientCancelAtSubscriptionResponse
		resp, err = rc.c.CancelAtSubscription(ctx, name, nil)
		rem = resp.Remediation
	case arm.ScopeResourceGroup:
		var resp armpolicyinsights.RemediationsClientCancelAtResourceGroupResponse
		resp, err = rc.c.CancelAtResourceGroup(ctx, r.ResourceGroup, name, nil)
		rem = resp.Remediation
	default:
		var resp armpolicyinsights.RemediationsClientCancelAtResourceResponse
		resp, err = rc.c.CancelAtResource(ctx, sdkScope(r.String()), name, nil)
		rem = resp.Remediation
	}
	if err != nil {
		return apiError(err)
	}
	return printRemediations(cmd, []*armpolicyinsights.Remediation{&rem}, false)
}

func runPolicyRemediationDeployments(cmd *cobra.Command, args []string) error {
	rc, err := newRemediationClients(cmd)
	if err != nil {
		return err
	}
	name, r := args[0], rc.scope
	var out []*armpolicyinsights.RemediationDeployment
	switch r.Kind() {
	case arm.ScopeManagementGroup:
		out, err = pageAll(cmd, rc.c.NewListDeploymentsAtManagementGroupPager(r.ManagementGroup, name, nil, nil),
			func(p armpolicyinsights.RemediationsClientListDeploymentsAtManagementGroupResponse) []*armpolicyinsights.RemediationDeployment {
				return p.Value
			})
	case arm.ScopeSubscription:
		out, err = pageAll(cmd, rc.c.NewListDeploymentsAtSubscriptionPager(name, nil, nil),
			func(p armpolicyinsights.RemediationsClientListDeploymentsAtSubscriptionResponse) []*armpolicyinsights.RemediationDeployment {
				return p.Value
			})
	case arm.ScopeResourceGroup:
		out, err = pageAll(cmd, rc.c.NewListDeploymentsAtResourceGroupPager(r.ResourceGroup, name, nil, nil),
			func(p armpolicyinsights.RemediationsClientListDeploymentsAtResourceGroupResponse) []*armpolicyinsights.RemediationDeployment {
				return p.Value
			})
	default:
		out, err = pageAll(cmd, rc.c.NewListDeploymentsAtResourcePager(sdkScope(r.String()), name, nil, nil),
			func(p armpolicyinsights.RemediationsClientListDeploymentsAtResourceResponse) []*armpolicyinsights.RemediationDeployment {
				return p.Value
			})
	}
	if err != nil {
		return err
	}
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	if format == cliout.JSON {
		return writeJSONItems(cmd, out, true)
	}
	rows := make([][]string, 0, len(out))
	for _, d := range out {
		msg := ""
		if d.Error != nil {
			msg = deref(d.Error.Code) + ": " + deref(d.Error.Message)
		}
		rows = append(rows, []string{deref(d.RemediatedResourceID), deref(d.Status), lastSegment(deref(d.DeploymentID)), msg})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"RESOURCE", "STATUS", "DEPLOYMENT", "ERROR"}, rows)
}

func printRemediations(cmd *cobra.Command, rs []*armpolicyinsights.Remediation, list bool) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	if format == cliout.JSON {
		return writeJSONItems(cmd, rs, list)
	}
	rows := make([][]string, 0, len(rs))
	for _, r := range rs {
		var assignment, state, counts string
		if p := r.Properties; p != nil {
			assignment = lastSegment(deref(p.PolicyAssignmentID))
			state = deref(p.ProvisioningState)
			if s := p.DeploymentStatus; s != nil {
				counts = fmt.Sprintf("%d/%d/%d", derefInt32(s.TotalDeployments), derefInt32(s.SuccessfulDeployments), derefInt32(s.FailedDeployments))
			}
		}
		rows = append(rows, []string{deref(r.Name), assignment, state, counts})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"NAME", "ASSIGNMENT", "STATE", "DEPLOYMENTS (TOTAL/OK/FAILED)"}, rows)
}

func derefInt32(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}
