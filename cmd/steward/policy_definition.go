package main

import (
	"errors"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armpolicy"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
)

func newPolicyDefinitionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "definition",
		Short: "Create, list, show and delete policy definitions through the management API",
		Long: `definition manages the subscription's custom policy definitions in a
Steward (or Azure) through the Azure SDK, as "az policy definition" does.
list and show include the built-in definitions the server has.`,
	}
	create := &cobra.Command{Use: "create NAME", Short: "Create or update a custom policy definition", Args: cobra.ExactArgs(1), RunE: runPolicyDefinitionCreate,
		Example: `  steward policy definition create rg-eu --mode All \
    --rules examples/guardrails/rg-eu.rules.json --parameters examples/guardrails/rg-eu.parameters.json`}
	create.Flags().String("rules", "", "the policyRule: JSON, or a file holding it (required)")
	create.Flags().String("parameters", "", "parameter declarations: JSON, or a file holding them")
	create.Flags().String("mode", "Indexed", "mode: All, Indexed, or a resource provider mode")
	create.Flags().String("display-name", "", "display name")
	create.Flags().String("description", "", "description")
	create.Flags().String("metadata", "", "metadata: JSON, or a file holding it")
	flagAliases(create, map[string]string{"params": "parameters"})
	list := &cobra.Command{Use: "list", Short: "List policy definitions (custom and built-in)", Args: cobra.NoArgs, RunE: runPolicyDefinitionList,
		Example: "  steward policy definition list\n  steward policy definition list --custom-only -o json"}
	list.Flags().Bool("custom-only", false, "only custom definitions")
	show := &cobra.Command{Use: "show NAME", Short: "Show a custom or built-in policy definition", Args: cobra.ExactArgs(1), RunE: runPolicyDefinitionShow,
		Example: "  steward policy definition show rg-eu -o json"}
	del := &cobra.Command{Use: "delete NAME", Short: "Delete a custom policy definition", Args: cobra.ExactArgs(1), RunE: runPolicyDefinitionDelete,
		Example: "  steward policy definition delete rg-eu"}
	for _, c := range []*cobra.Command{create, list, show, del} {
		addAPIFlags(c)
		cmd.AddCommand(c)
	}
	return cmd
}

func newDefinitionsClient(cmd *cobra.Command) (*armpolicy.DefinitionsClient, error) {
	api, err := newAPIClient(cmd)
	if err != nil {
		return nil, err
	}
	return armpolicy.NewDefinitionsClient(api.subscription, api.cred, api.opts)
}

func runPolicyDefinitionCreate(cmd *cobra.Command, args []string) error {
	f := cmd.Flags()
	rulesArg, err := requireFlag(cmd, "rules")
	if err != nil {
		return err
	}
	props := &armpolicy.DefinitionProperties{PolicyType: to.Ptr(armpolicy.PolicyTypeCustom)}
	if err := jsonArg("rules", rulesArg, &props.PolicyRule); err != nil {
		return err
	}
	if s, _ := f.GetString("parameters"); s != "" {
		if err := jsonArg("parameters", s, &props.Parameters); err != nil {
			return err
		}
	}
	if s, _ := f.GetString("metadata"); s != "" {
		if err := jsonArg("metadata", s, &props.Metadata); err != nil {
			return err
		}
	}
	mode, _ := f.GetString("mode")
	props.Mode = to.Ptr(mode)
	if s, _ := f.GetString("display-name"); s != "" {
		props.DisplayName = to.Ptr(s)
	}
	if s, _ := f.GetString("description"); s != "" {
		props.Description = to.Ptr(s)
	}
	c, err := newDefinitionsClient(cmd)
	if err != nil {
		return err
	}
	resp, err := c.CreateOrUpdate(cmd.Context(), args[0], armpolicy.Definition{Properties: props}, nil)
	if err != nil {
		return apiError(err)
	}
	return printPolicyDefinitions(cmd, []*armpolicy.Definition{&resp.Definition}, false)
}

func runPolicyDefinitionList(cmd *cobra.Command, _ []string) error {
	c, err := newDefinitionsClient(cmd)
	if err != nil {
		return err
	}
	defs, err := pageAll(cmd, c.NewListPager(nil), func(r armpolicy.DefinitionsClientListResponse) []*armpolicy.Definition { return r.Value })
	if err != nil {
		return err
	}
	if custom, _ := cmd.Flags().GetBool("custom-only"); custom {
		kept := defs[:0]
		for _, d := range defs {
			if d.Properties != nil && d.Properties.PolicyType != nil && *d.Properties.PolicyType == armpolicy.PolicyTypeCustom {
				kept = append(kept, d)
			}
		}
		defs = kept
	}
	return printPolicyDefinitions(cmd, defs, true)
}

// getPolicyDefinition reads the subscription's definition NAME, or the
// built-in one of that name.
func getPolicyDefinition(cmd *cobra.Command, c *armpolicy.DefinitionsClient, name string) (*armpolicy.Definition, error) {
	resp, err := c.Get(cmd.Context(), name, nil)
	if err == nil {
		return &resp.Definition, nil
	}
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusNotFound {
		return nil, apiError(err)
	}
	b, berr := c.GetBuiltIn(cmd.Context(), name, nil)
	if berr != nil {
		return nil, apiError(err)
	}
	return &b.Definition, nil
}

func runPolicyDefinitionShow(cmd *cobra.Command, args []string) error {
	c, err := newDefinitionsClient(cmd)
	if err != nil {
		return err
	}
	d, err := getPolicyDefinition(cmd, c, args[0])
	if err != nil {
		return err
	}
	return printPolicyDefinitions(cmd, []*armpolicy.Definition{d}, false)
}

func runPolicyDefinitionDelete(cmd *cobra.Command, args []string) error {
	c, err := newDefinitionsClient(cmd)
	if err != nil {
		return err
	}
	// ARM answers 204 to a delete of nothing; like az, say it is not there.
	got, err := c.Get(cmd.Context(), args[0], nil)
	if err != nil {
		return apiError(err)
	}
	if _, err := c.Delete(cmd.Context(), args[0], nil); err != nil {
		return apiError(err)
	}
	return printResult(cmd, actionResult{Name: args[0], ID: deref(got.ID), Result: "deleted"})
}

func printPolicyDefinitions(cmd *cobra.Command, defs []*armpolicy.Definition, list bool) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	if format == cliout.JSON {
		return writeJSONItems(cmd, defs, list)
	}
	rows := make([][]string, 0, len(defs))
	for _, d := range defs {
		var typ, mode, display string
		if p := d.Properties; p != nil {
			mode, display = deref(p.Mode), deref(p.DisplayName)
			if p.PolicyType != nil {
				typ = string(*p.PolicyType)
			}
		}
		rows = append(rows, []string{deref(d.Name), typ, mode, display})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"NAME", "TYPE", "MODE", "DISPLAY NAME"}, rows)
}
