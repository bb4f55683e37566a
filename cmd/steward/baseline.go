package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armpolicy"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/policy/baseline"
)

func init() { register(newBaselineCmd) }

func newBaselineCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "baseline",
		Short: "Steward's secure-baseline initiative: show it, or assign it in one command",
		Long: `baseline is the initiative Steward ships for automated deployments: required
tags with allowed values, allowed locations, no NSG rule open to the Internet
on 22, 3389 or any port, diagnostic settings to a Log Analytics workspace
(AuditIfNotExists, or DeployIfNotExists with remediation), VMs and scale sets
only from approved image IDs or a shared image gallery, storage HTTPS only with
TLS 1.2, and Key Vault purge protection. It is the default policy set of
steward template check.`,
		Example: "  steward baseline show\n  steward baseline assign --scope /subscriptions/$AZURE_SUBSCRIPTION_ID",
	}
	show := &cobra.Command{Use: "show", Short: "List the baseline's rules", Args: cobra.NoArgs, RunE: runBaselineShow,
		Example: "  steward baseline show\n  steward baseline show -o json > baseline.json"}
	assign := &cobra.Command{Use: "assign", Short: "Create the baseline's definitions and initiative at a scope and assign it", Args: cobra.NoArgs, RunE: runBaselineAssign,
		Example: `  steward baseline assign --scope /subscriptions/$AZURE_SUBSCRIPTION_ID
  steward baseline assign --scope /subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/app-rg --parameters '{"allowedLocations": ["westeurope"]}'
  steward baseline assign --system-identity --location westeurope \
    --parameters '{"diagnosticsEffect": "DeployIfNotExists", "workspaceId": "/subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/ops/providers/Microsoft.OperationalInsights/workspaces/logs"}'`}
	assign.Flags().String("scope", "", "scope to assign at: a subscription, resource group or management group (default: the subscription)")
	assign.Flags().String("name", baseline.InitiativeName, "assignment name")
	assign.Flags().String("parameters", "", `initiative parameter values as JSON ({"p": v} or {"p": {"value": v}}), or @FILE`)
	assign.Flags().String("enforcement-mode", "Default", "Default or DoNotEnforce")
	assign.Flags().Bool("system-identity", false, "give the assignment a system-assigned identity, which deployIfNotExists remediation deploys as (needs --location)")
	assign.Flags().String("location", "", "the assignment's location (where its identity lives)")
	addAPIFlags(assign)
	cmd.AddCommand(show, assign)
	return cmd
}

// baselineDocs are the baseline's initiative and definitions as parsed
// JSON.
func baselineDocs() (set map[string]any, defs []map[string]any, err error) {
	data, err := fs.ReadFile(baseline.FS(), "initiative.json")
	if err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, nil, err
	}
	names, err := fs.Glob(baseline.FS(), "definitions/*.json")
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := fs.ReadFile(baseline.FS(), n)
		if err != nil {
			return nil, nil, err
		}
		var d map[string]any
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, nil, err
		}
		defs = append(defs, d)
	}
	return set, defs, nil
}

func runBaselineShow(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	set, defs, err := baselineDocs()
	if err != nil {
		return err
	}
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), map[string]any{"initiative": set, "definitions": defs})
	}
	var rows [][]string
	byName := map[string]map[string]any{}
	for _, d := range defs {
		byName[d["name"].(string)] = d
	}
	members, _ := set["properties"].(map[string]any)["policyDefinitions"].([]any)
	for _, m := range members {
		mm := m.(map[string]any)
		id := mm["policyDefinitionId"].(string)
		name := id[strings.LastIndex(id, "/")+1:]
		props, _ := byName[name]["properties"].(map[string]any)
		params, _ := props["parameters"].(map[string]any)
		effect, _ := params["effect"].(map[string]any)
		rows = append(rows, []string{fmt.Sprint(mm["policyDefinitionReferenceId"]), name, fmt.Sprint(effect["defaultValue"]), fmt.Sprint(props["displayName"])})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"REFERENCE", "DEFINITION", "DEFAULT EFFECT", "DISPLAY NAME"}, rows)
}

func runBaselineAssign(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	f := cmd.Flags()
	api, err := newAPIClient(cmd)
	if err != nil {
		return err
	}
	scope, _ := f.GetString("scope")
	if scope == "" {
		scope = "/subscriptions/" + api.subscription
	}
	r, err := arm.ParseResourceID(scope)
	if err != nil || (r.Kind() != arm.ScopeSubscription && r.Kind() != arm.ScopeResourceGroup && r.Kind() != arm.ScopeManagementGroup) {
		return usageError("--scope %q is not a subscription, resource group or management group", scope)
	}
	paramText, _ := f.GetString("parameters")
	params, err := parameterValues(paramText)
	if err != nil {
		return usageError("--parameters: %v", err)
	}
	set, defs, err := baselineDocs()
	if err != nil {
		return err
	}
	defsClient, err := armpolicy.NewDefinitionsClient(api.subscription, api.cred, api.opts)
	if err != nil {
		return err
	}
	setsClient, err := armpolicy.NewSetDefinitionsClient(api.subscription, api.cred, api.opts)
	if err != nil {
		return err
	}
	assignments, err := armpolicy.NewAssignmentsClient(api.subscription, api.cred, api.opts)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	// Definitions live at the management group or at the subscription
	// of the scope; the initiative's members are rewritten to point there.
	home := "/subscriptions/" + r.SubscriptionID
	if r.Kind() == arm.ScopeManagementGroup {
		home = "/providers/Microsoft.Management/managementGroups/" + r.ManagementGroup
	}
	for _, d := range defs {
		var def armpolicy.Definition
		b, _ := json.Marshal(d)
		if err := json.Unmarshal(b, &def); err != nil {
			return err
		}
		name := d["name"].(string)
		if r.Kind() == arm.ScopeManagementGroup {
			_, err = defsClient.CreateOrUpdateAtManagementGroup(ctx, r.ManagementGroup, name, def, nil)
		} else {
			c, cerr := armpolicy.NewDefinitionsClient(r.SubscriptionID, api.cred, api.opts)
			if cerr != nil {
				return cerr
			}
			_, err = c.CreateOrUpdate(ctx, name, def, nil)
		}
		if err != nil {
			return apiError(err)
		}
	}
	members, _ := set["properties"].(map[string]any)["policyDefinitions"].([]any)
	for _, m := range members {
		mm := m.(map[string]any)
		id := mm["policyDefinitionId"].(string)
		mm["policyDefinitionId"] = home + "/providers/Microsoft.Authorization/policyDefinitions/" + id[strings.LastIndex(id, "/")+1:]
	}
	var sd armpolicy.SetDefinition
	b, _ := json.Marshal(set)
	if err := json.Unmarshal(b, &sd); err != nil {
		return err
	}
	if r.Kind() == arm.ScopeManagementGroup {
		_, err = setsClient.CreateOrUpdateAtManagementGroup(ctx, r.ManagementGroup, baseline.InitiativeName, sd, nil)
	} else {
		c, cerr := armpolicy.NewSetDefinitionsClient(r.SubscriptionID, api.cred, api.opts)
		if cerr != nil {
			return cerr
		}
		_, err = c.CreateOrUpdate(ctx, baseline.InitiativeName, sd, nil)
	}
	if err != nil {
		return apiError(err)
	}
	name, _ := f.GetString("name")
	mode, _ := f.GetString("enforcement-mode")
	a := armpolicy.Assignment{Properties: &armpolicy.AssignmentProperties{
		DisplayName:        to.Ptr("Steward secure baseline"),
		PolicyDefinitionID: to.Ptr(home + "/providers/Microsoft.Authorization/policySetDefinitions/" + baseline.InitiativeName),
		Parameters:         params, EnforcementMode: to.Ptr(armpolicy.EnforcementMode(mode))}}
	if id, _ := f.GetBool("system-identity"); id {
		a.Identity = &armpolicy.Identity{Type: to.Ptr(armpolicy.ResourceIdentityTypeSystemAssigned)}
	}
	if loc, _ := f.GetString("location"); loc != "" {
		a.Location = to.Ptr(loc)
	}
	resp, err := assignments.Create(ctx, scope, name, a, nil)
	if err != nil {
		return apiError(err)
	}
	return printPolicyAssignments(cmd, format, []*armpolicy.Assignment{&resp.Assignment}, false)
}
