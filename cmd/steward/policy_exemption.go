package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armpolicy"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cliout"
)

func newPolicyExemptionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "exemption",
		Short: "Create, list, show and delete policy exemptions through the management API",
		Long: `exemption manages policy exemptions in a Steward (or Azure) through the
Azure SDK, as "az policy exemption" does. An exemption excludes its scope
from one assignment (or some of an initiative's policies) as a Waiver or
as Mitigated. Scopes default to the subscription.`,
	}
	create := &cobra.Command{Use: "create NAME", Short: "Exempt a scope from a policy assignment", Args: cobra.ExactArgs(1), RunE: runPolicyExemptionCreate,
		Example: `  steward policy exemption create sandbox-waiver --policy-assignment eu-only \
    --exemption-category Waiver --scope /subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/sandbox`}
	f := create.Flags()
	f.String("policy-assignment", "", "the assignment: full ID, or the name of one at the subscription (required)")
	f.String("exemption-category", "", "Waiver or Mitigated (required)")
	f.StringArray("policy-definition-reference-ids", nil, "exempt only these policies of an initiative (repeatable)")
	f.String("expires-on", "", "expiry, RFC 3339 (e.g. 2030-01-01T00:00:00Z)")
	f.String("display-name", "", "display name")
	f.String("description", "", "description")
	list := &cobra.Command{Use: "list", Short: "List the exemptions at a scope", Args: cobra.NoArgs, RunE: runPolicyExemptionList,
		Example: "  steward policy exemption list\n  steward policy exemption list --scope /subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/sandbox -o json"}
	show := &cobra.Command{Use: "show NAME", Short: "Show an exemption", Args: cobra.ExactArgs(1), RunE: runPolicyExemptionShow,
		Example: "  steward policy exemption show sandbox-waiver --scope /subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/sandbox"}
	del := &cobra.Command{Use: "delete NAME", Short: "Delete an exemption", Args: cobra.ExactArgs(1), RunE: runPolicyExemptionDelete,
		Example: "  steward policy exemption delete sandbox-waiver --scope /subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/sandbox"}
	for _, c := range []*cobra.Command{create, list, show, del} {
		addAPIFlags(c)
		c.Flags().String("scope", "", "scope (default: the subscription)")
		cmd.AddCommand(c)
	}
	return cmd
}

// exemptionClients is the exemptions client, the subscription and the
// command's scope.
type exemptionClients struct {
	c          *armpolicy.ExemptionsClient
	sub, scope string
}

func newExemptionClients(cmd *cobra.Command) (*exemptionClients, error) {
	api, err := newAPIClient(cmd)
	if err != nil {
		return nil, err
	}
	c, err := armpolicy.NewExemptionsClient(api.subscription, api.cred, api.opts)
	if err != nil {
		return nil, err
	}
	scope, _ := cmd.Flags().GetString("scope")
	if scope == "" {
		scope = "/subscriptions/" + api.subscription
	}
	return &exemptionClients{c: c, sub: api.subscription, scope: scope}, nil
}

func runPolicyExemptionCreate(cmd *cobra.Command, args []string) error {
	f := cmd.Flags()
	assignment, err := requireFlag(cmd, "policy-assignment")
	if err != nil {
		return err
	}
	category, err := requireFlag(cmd, "exemption-category")
	if err != nil {
		return err
	}
	switch armpolicy.ExemptionCategory(category) {
	case armpolicy.ExemptionCategoryWaiver, armpolicy.ExemptionCategoryMitigated:
	default:
		return usageError("--exemption-category %q: want Waiver or Mitigated", category)
	}
	ec, err := newExemptionClients(cmd)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(assignment, "/") {
		assignment = "/subscriptions/" + ec.sub + "/providers/Microsoft.Authorization/policyAssignments/" + assignment
	}
	props := &armpolicy.ExemptionProperties{PolicyAssignmentID: to.Ptr(assignment),
		ExemptionCategory: to.Ptr(armpolicy.ExemptionCategory(category))}
	refs, _ := f.GetStringArray("policy-definition-reference-ids")
	for _, r := range refs {
		props.PolicyDefinitionReferenceIDs = append(props.PolicyDefinitionReferenceIDs, to.Ptr(r))
	}
	if s, _ := f.GetString("expires-on"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return usageError("--expires-on: %v", err)
		}
		props.ExpiresOn = &t
	}
	if s, _ := f.GetString("display-name"); s != "" {
		props.DisplayName = to.Ptr(s)
	}
	if s, _ := f.GetString("description"); s != "" {
		props.Description = to.Ptr(s)
	}
	resp, err := ec.c.CreateOrUpdate(cmd.Context(), sdkScope(ec.scope), args[0], armpolicy.Exemption{Properties: props}, nil)
	if err != nil {
		return apiError(err)
	}
	return printPolicyExemptions(cmd, []*armpolicy.Exemption{&resp.Exemption}, false)
}

func runPolicyExemptionList(cmd *cobra.Command, _ []string) error {
	ec, err := newExemptionClients(cmd)
	if err != nil {
		return err
	}
	r, err := arm.ParseResourceID(ec.scope)
	if err != nil {
		return usageError("--scope: %v", err)
	}
	var out []*armpolicy.Exemption
	switch r.Kind() {
	case arm.ScopeSubscription:
		out, err = pageAll(cmd, ec.c.NewListPager(nil),
			func(p armpolicy.ExemptionsClientListResponse) []*armpolicy.Exemption { return p.Value })
	case arm.ScopeResourceGroup:
		out, err = pageAll(cmd, ec.c.NewListForResourceGroupPager(r.ResourceGroup, nil),
			func(p armpolicy.ExemptionsClientListForResourceGroupResponse) []*armpolicy.Exemption { return p.Value })
	case arm.ScopeManagementGroup:
		out, err = pageAll(cmd, ec.c.NewListForManagementGroupPager(r.ManagementGroup, nil),
			func(p armpolicy.ExemptionsClientListForManagementGroupResponse) []*armpolicy.Exemption {
				return p.Value
			})
	default:
		return usageError("--scope: list at a management group, subscription or resource group")
	}
	if err != nil {
		return err
	}
	return printPolicyExemptions(cmd, out, true)
}

func runPolicyExemptionShow(cmd *cobra.Command, args []string) error {
	ec, err := newExemptionClients(cmd)
	if err != nil {
		return err
	}
	resp, err := ec.c.Get(cmd.Context(), sdkScope(ec.scope), args[0], nil)
	if err != nil {
		return apiError(err)
	}
	return printPolicyExemptions(cmd, []*armpolicy.Exemption{&resp.Exemption}, false)
}

func runPolicyExemptionDelete(cmd *cobra.Command, args []string) error {
	ec, err := newExemptionClients(cmd)
	if err != nil {
		return err
	}
	// ARM answers 204 to a delete of nothing; like az, say it is not there.
	got, err := ec.c.Get(cmd.Context(), sdkScope(ec.scope), args[0], nil)
	if err != nil {
		return apiError(err)
	}
	if _, err := ec.c.Delete(cmd.Context(), sdkScope(ec.scope), args[0], nil); err != nil {
		return apiError(err)
	}
	return printResult(cmd, actionResult{Name: args[0], ID: deref(got.ID), Result: "deleted"})
}

func printPolicyExemptions(cmd *cobra.Command, es []*armpolicy.Exemption, list bool) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	if format == cliout.JSON {
		return writeJSONItems(cmd, es, list)
	}
	rows := make([][]string, 0, len(es))
	for _, e := range es {
		var assignment, category, expires string
		if p := e.Properties; p != nil {
			assignment = lastSegment(deref(p.PolicyAssignmentID))
			if p.ExemptionCategory != nil {
				category = string(*p.ExemptionCategory)
			}
			if p.ExpiresOn != nil {
				expires = p.ExpiresOn.UTC().Format(time.RFC3339)
			}
		}
		id := deref(e.ID)
		scope := id
		if i := strings.Index(strings.ToLower(id), "/providers/microsoft.authorization/policyexemptions/"); i >= 0 {
			scope = id[:i]
		}
		rows = append(rows, []string{deref(e.Name), assignment, category, expires, fmt.Sprint(scope)})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"NAME", "ASSIGNMENT", "CATEGORY", "EXPIRES", "SCOPE"}, rows)
}
