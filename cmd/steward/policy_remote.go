package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armpolicy"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cliout"
)

// newPolicyAssignmentCmd is `steward policy assignment`: policy
// assignments through the management API, as `az policy assignment`.
func newPolicyAssignmentCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "assignment",
		Short: "Create, list, show and delete policy assignments through the management API",
		Long: `assignment manages policy assignments in a Steward (or Azure) through the
Azure SDK, as "az policy assignment" does. Scopes default to the subscription;
credentials come from DATA/bootstrap.json or the AZURE_* variables.`,
	}
	create := &cobra.Command{Use: "create NAME", Short: "Assign a policy definition or initiative", Args: cobra.ExactArgs(1), RunE: runPolicyAssignmentCreate}
	create.Flags().String("policy", "", "definition or set definition: full ID, or the name of one in the subscription (required)")
	create.Flags().String("parameters", "", `parameter values as JSON ({"p":{"value":...}} or {"p":...}), or @FILE`)
	create.Flags().String("display-name", "", "display name")
	create.Flags().String("enforcement-mode", "Default", "Default or DoNotEnforce")
	create.Flags().StringArray("not-scopes", nil, "scope excluded from the assignment (repeatable)")
	create.Flags().Bool("system-identity", false, "give the assignment a system-assigned identity (needs --location)")
	create.Flags().String("location", "", "location of the assignment's identity")
	flagAliases(create, map[string]string{"params": "parameters", "not-scope": "not-scopes"})
	list := &cobra.Command{Use: "list", Short: "List the assignments that apply at a scope", Args: cobra.NoArgs, RunE: runPolicyAssignmentList}
	list.Flags().Bool("at-scope", false, "only assignments at the scope and above")
	show := &cobra.Command{Use: "show NAME", Short: "Show an assignment", Args: cobra.ExactArgs(1), RunE: runPolicyAssignmentShow}
	del := &cobra.Command{Use: "delete NAME", Short: "Delete an assignment", Args: cobra.ExactArgs(1), RunE: runPolicyAssignmentDelete}
	for _, c := range []*cobra.Command{create, list, show, del} {
		addAPIFlags(c)
		c.Flags().String("scope", "", "scope (default: the subscription)")
		cmd.AddCommand(c)
	}
	return cmd
}

// policyClients is the assignments client and the command's scope.
type policyClients struct {
	assignments *armpolicy.AssignmentsClient
	sub, scope  string
}

func newPolicyClients(cmd *cobra.Command) (*policyClients, error) {
	api, err := newAPIClient(cmd)
	if err != nil {
		return nil, err
	}
	c, err := armpolicy.NewAssignmentsClient(api.subscription, api.cred, api.opts)
	if err != nil {
		return nil, err
	}
	scope, _ := cmd.Flags().GetString("scope")
	if scope == "" {
		scope = "/subscriptions/" + api.subscription
	}
	return &policyClients{assignments: c, sub: api.subscription, scope: scope}, nil
}

// parameterValues reads --params: inline JSON or @FILE, with bare values
// wrapped as {"value": v}.
func parameterValues(s string) (map[string]*armpolicy.ParameterValuesValue, error) {
	if s == "" {
		return nil, nil
	}
	data := []byte(s)
	if strings.HasPrefix(s, "@") {
		b, err := os.ReadFile(s[1:])
		if err != nil {
			return nil, err
		}
		data = b
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("--params: %v", err)
	}
	out := make(map[string]*armpolicy.ParameterValuesValue, len(raw))
	for k, v := range raw {
		if m, ok := v.(map[string]any); ok && len(m) == 1 && m["value"] != nil {
			v = m["value"]
		}
		out[k] = &armpolicy.ParameterValuesValue{Value: v}
	}
	return out, nil
}

// policyDefinitionID expands a bare name to the subscription's custom
// definition of that name; IDs are kept.
func policyDefinitionID(sub, ref string) string {
	if strings.HasPrefix(ref, "/") {
		return ref
	}
	return "/subscriptions/" + sub + "/providers/Microsoft.Authorization/policyDefinitions/" + ref
}

func runPolicyAssignmentCreate(cmd *cobra.Command, args []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	f := cmd.Flags()
	ref, _ := f.GetString("policy")
	if ref == "" {
		return fmt.Errorf("--policy is required")
	}
	ps, _ := f.GetString("parameters")
	params, err := parameterValues(ps)
	if err != nil {
		return err
	}
	pc, err := newPolicyClients(cmd)
	if err != nil {
		return err
	}
	mode, _ := f.GetString("enforcement-mode")
	props := &armpolicy.AssignmentProperties{PolicyDefinitionID: to.Ptr(policyDefinitionID(pc.sub, ref)), Parameters: params,
		EnforcementMode: to.Ptr(armpolicy.EnforcementMode(mode))}
	if d, _ := f.GetString("display-name"); d != "" {
		props.DisplayName = to.Ptr(d)
	}
	notScopes, _ := f.GetStringArray("not-scopes")
	for _, ns := range notScopes {
		props.NotScopes = append(props.NotScopes, to.Ptr(ns))
	}
	a := armpolicy.Assignment{Properties: props}
	if id, _ := f.GetBool("system-identity"); id {
		a.Identity = &armpolicy.Identity{Type: to.Ptr(armpolicy.ResourceIdentityTypeSystemAssigned)}
	}
	if loc, _ := f.GetString("location"); loc != "" {
		a.Location = to.Ptr(loc)
	}
	resp, err := pc.assignments.Create(cmd.Context(), sdkScope(pc.scope), args[0], a, nil)
	if err != nil {
		return apiError(err)
	}
	return printPolicyAssignments(cmd, format, []*armpolicy.Assignment{&resp.Assignment}, false)
}

func runPolicyAssignmentList(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	pc, err := newPolicyClients(cmd)
	if err != nil {
		return err
	}
	var filter *string
	if at, _ := cmd.Flags().GetBool("at-scope"); at {
		filter = to.Ptr("atScope()")
	}
	r, err := arm.ParseResourceID(pc.scope)
	if err != nil {
		return fmt.Errorf("--scope: %v", err)
	}
	var out []*armpolicy.Assignment
	switch r.Kind() {
	case arm.ScopeSubscription:
		out, err = pageAll(cmd, pc.assignments.NewListPager(&armpolicy.AssignmentsClientListOptions{Filter: filter}),
			func(p armpolicy.AssignmentsClientListResponse) []*armpolicy.Assignment { return p.Value })
	case arm.ScopeResourceGroup:
		out, err = pageAll(cmd, pc.assignments.NewListForResourceGroupPager(r.ResourceGroup, &armpolicy.AssignmentsClientListForResourceGroupOptions{Filter: filter}),
			func(p armpolicy.AssignmentsClientListForResourceGroupResponse) []*armpolicy.Assignment {
				return p.Value
			})
	case arm.ScopeManagementGroup:
		out, err = pageAll(cmd, pc.assignments.NewListForManagementGroupPager(r.ManagementGroup, &armpolicy.AssignmentsClientListForManagementGroupOptions{Filter: filter}),
			func(p armpolicy.AssignmentsClientListForManagementGroupResponse) []*armpolicy.Assignment {
				return p.Value
			})
	default:
		return fmt.Errorf("--scope: list at a management group, subscription or resource group")
	}
	if err != nil {
		return err
	}
	return printPolicyAssignments(cmd, format, out, true)
}

func runPolicyAssignmentShow(cmd *cobra.Command, args []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	pc, err := newPolicyClients(cmd)
	if err != nil {
		return err
	}
	resp, err := pc.assignments.Get(cmd.Context(), sdkScope(pc.scope), args[0], nil)
	if err != nil {
		return apiError(err)
	}
	return printPolicyAssignments(cmd, format, []*armpolicy.Assignment{&resp.Assignment}, false)
}

func runPolicyAssignmentDelete(cmd *cobra.Command, args []string) error {
	pc, err := newPolicyClients(cmd)
	if err != nil {
		return err
	}
	// ARM answers 204 to a delete of nothing; like az, say it is not there.
	got, err := pc.assignments.Get(cmd.Context(), sdkScope(pc.scope), args[0], nil)
	if err != nil {
		return apiError(err)
	}
	if _, err := pc.assignments.Delete(cmd.Context(), sdkScope(pc.scope), args[0], nil); err != nil {
		return apiError(err)
	}
	return printResult(cmd, actionResult{Name: args[0], ID: deref(got.ID), Result: "deleted"})
}

func printPolicyAssignments(cmd *cobra.Command, format cliout.Format, as []*armpolicy.Assignment, list bool) error {
	if format == cliout.JSON {
		return writeJSONItems(cmd, as, list)
	}
	rows := make([][]string, 0, len(as))
	for _, a := range as {
		var def, scope, mode string
		if p := a.Properties; p != nil {
			def, scope = deref(p.PolicyDefinitionID), deref(p.Scope)
			if p.EnforcementMode != nil {
				mode = string(*p.EnforcementMode)
			}
		}
		rows = append(rows, []string{deref(a.Name), def[strings.LastIndexByte(def, '/')+1:], mode, scope})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"NAME", "DEFINITION", "ENFORCEMENT", "SCOPE"}, rows)
}
