package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/policyinsights/armpolicyinsights"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armpolicy"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/reports"
)

func newReportBenchmarkCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "benchmark",
		Short: "Conformance to the Microsoft cloud security benchmark, per control",
		Long: `benchmark answers "does the subscription conform to the best practices
Microsoft has outlined?" as the portal's regulatory compliance view does: it
reads the assignment of Azure's built-in Microsoft cloud security benchmark
initiative (--assign creates it first, in one command, with the initiative's
default parameters), evaluates the subscription, and reports every control of
the initiative (its policyDefinitionGroups, such as NS-1 or DP-3) as Passed,
Failed or Skipped (nothing assessed), with its policies and non-compliant
resources. Each failed control is a finding.

The initiative must be served: on Steward, start serve with --policy-builtins
naming Azure/azure-policy's built-in-policies folder.`,
		Example: `  steward report benchmark --assign
  steward report benchmark -o json --no-evaluate
  steward report benchmark --initiative /providers/Microsoft.Authorization/policySetDefinitions/ID --name my-baseline -o sarif`,
		Args: cobra.NoArgs,
		RunE: runReportBenchmark,
	}
	addAPIFlags(cmd)
	cmd.Flags().Bool("assign", false, "assign the initiative to the subscription first (idempotent)")
	cmd.Flags().String("initiative", reports.MCSBInitiativeID, "policy set definition ID of the benchmark")
	cmd.Flags().String("name", "mcsb", "name of the assignment at the subscription")
	cmd.Flags().Bool("no-evaluate", false, "report the last evaluation instead of evaluating the subscription first")
	cmd.Flags().String("fail-on", reports.Medium, "exit 1 when a finding is at least this severe: high, medium, low or none")
	return cmd
}

func runReportBenchmark(cmd *cobra.Command, _ []string) error {
	format, failOn, err := reportFlags(cmd)
	if err != nil {
		return err
	}
	initiative, _ := cmd.Flags().GetString("initiative")
	name, _ := cmd.Flags().GetString("name")
	setName := initiative[strings.LastIndexByte(initiative, '/')+1:]
	if !strings.HasPrefix(strings.ToLower(initiative), "/providers/microsoft.authorization/policysetdefinitions/") || setName == "" {
		return usageError("--initiative %q: want a built-in policy set definition ID (/providers/Microsoft.Authorization/policySetDefinitions/NAME)", initiative)
	}
	api, err := newAPIClient(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	sets, err := armpolicy.NewSetDefinitionsClient(api.subscription, api.cred, api.opts)
	if err != nil {
		return err
	}
	set, err := sets.GetBuiltIn(ctx, setName, nil)
	if err != nil {
		var re *azcore.ResponseError
		if errors.As(err, &re) && re.StatusCode == 404 {
			return &exitError{code: exitNo, msg: fmt.Sprintf("the initiative %s is not served here; on Steward start serve with --policy-builtins", initiative)}
		}
		return apiError(err)
	}
	scope := "/subscriptions/" + api.subscription
	assignments, err := armpolicy.NewAssignmentsClient(api.subscription, api.cred, api.opts)
	if err != nil {
		return err
	}
	if assign, _ := cmd.Flags().GetBool("assign"); assign {
		display := "Microsoft cloud security benchmark"
		if set.Properties != nil && set.Properties.DisplayName != nil {
			display = *set.Properties.DisplayName
		}
		if _, err := assignments.Create(ctx, scope, name, armpolicy.Assignment{Properties: &armpolicy.AssignmentProperties{
			PolicyDefinitionID: to.Ptr(initiative), DisplayName: to.Ptr(display)}}, nil); err != nil {
			return apiError(err)
		}
	}
	a, err := assignments.Get(ctx, scope, name, nil)
	if err != nil {
		return apiError(err)
	}
	if a.Properties == nil || !strings.EqualFold(deref(a.Properties.PolicyDefinitionID), initiative) {
		return usageError("assignment %s does not assign %s (use --name or --assign)", name, initiative)
	}
	states, err := armpolicyinsights.NewPolicyStatesClient(api.cred, api.opts)
	if err != nil {
		return err
	}
	if noEval, _ := cmd.Flags().GetBool("no-evaluate"); !noEval {
		p, err := states.BeginTriggerSubscriptionEvaluation(ctx, api.subscription, nil)
		if err != nil {
			return apiError(err)
		}
		if _, err := p.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: time.Second}); err != nil {
			return apiError(err)
		}
	}
	sum, err := states.SummarizeForSubscriptionLevelPolicyAssignment(ctx, armpolicyinsights.PolicyStatesSummaryResourceTypeLatest,
		api.subscription, name, nil, nil)
	if err != nil {
		return apiError(err)
	}
	counts := reports.GroupCountsOf(sum.SummarizeResults)
	controls, findings := reports.Benchmark(deref(a.ID), reports.AsDoc(set.SetDefinition), counts)
	if format == cliout.Table || format == cliout.JSON || format == formatCSV {
		if err := printControls(cmd, format, controls); err != nil {
			return err
		}
		return failOnFindings(failOn, findings)
	}
	return finishReport(cmd, format, failOn, findings)
}

// printControls writes the per-control view.
func printControls(cmd *cobra.Command, format cliout.Format, controls []reports.ControlResult) error {
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), controls)
	}
	header := []string{"CONTROL", "DOMAIN", "STATE", "POLICIES", "NON-COMPLIANT POLICIES", "NON-COMPLIANT RESOURCES", "COMPLIANT RESOURCES"}
	rows := make([][]string, 0, len(controls))
	for _, c := range controls {
		rows = append(rows, []string{c.Control, c.Domain, c.State, strconv.Itoa(c.Policies), strconv.Itoa(c.NonCompliantPolicies),
			strconv.Itoa(c.NonCompliantResources), strconv.Itoa(c.CompliantResources)})
	}
	return writeRows(cmd, format, header, rows)
}

// failOnFindings is the exit code --fail-on asks for.
func failOnFindings(failOn string, findings []reports.Finding) error {
	for _, f := range findings {
		if severityRank[f.Severity] >= severityRank[failOn] {
			return &exitError{code: exitNo}
		}
	}
	return nil
}

func deref32(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}
