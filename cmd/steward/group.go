package main

import (
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
)

func init() { register(newGroupCmd) }

func newGroupCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "group",
		Short: "Manage resource groups through the management API",
		Long: `group creates, lists, shows and deletes resource groups in a Steward (or
Azure) subscription through the Azure SDK, as "az group" does. Credentials come
from DATA/bootstrap.json, or from the AZURE_* variables that "steward env"
prints.`,
	}
	create := &cobra.Command{Use: "create NAME", Short: "Create or update a resource group", Args: cobra.ExactArgs(1), RunE: runGroupCreate}
	create.Flags().StringP("location", "l", "", "location, such as westeurope (required)")
	create.Flags().StringArray("tags", nil, "tag as key=value (repeatable)")
	flagAliases(create, map[string]string{"tag": "tags"})
	list := &cobra.Command{Use: "list", Short: "List resource groups", Args: cobra.NoArgs, RunE: runGroupList}
	list.Flags().String("tag", "", "only groups with this tag: key or key=value")
	show := &cobra.Command{Use: "show NAME", Short: "Show a resource group", Args: cobra.ExactArgs(1), RunE: runGroupShow}
	del := &cobra.Command{Use: "delete NAME", Short: "Delete a resource group and everything in it", Args: cobra.ExactArgs(1), RunE: runGroupDelete,
		Long: `delete removes a resource group and every resource in it, and waits for it.
On a terminal it asks first; elsewhere (a script, a pipe) it needs --yes, as
"az group delete" does. A lock on the group or on anything in it refuses the
delete (ScopeLocked); Steward's own group "steward" carries one.`,
		Example: `  steward group delete team-a          # asks for confirmation
  steward group delete team-a --yes    # in scripts`}
	del.Flags().BoolP("yes", "y", false, "do not ask for confirmation")
	for _, c := range []*cobra.Command{create, list, show, del} {
		addAPIFlags(c)
		cmd.AddCommand(c)
	}
	return cmd
}

// groupCommand reads the output format and builds the client.
func groupCommand(cmd *cobra.Command) (cliout.Format, *armresources.ResourceGroupsClient, error) {
	format, err := outputFormat(cmd)
	if err != nil {
		return "", nil, err
	}
	c, err := groupsClient(cmd)
	return format, c, err
}

func groupsClient(cmd *cobra.Command) (*armresources.ResourceGroupsClient, error) {
	api, err := newAPIClient(cmd)
	if err != nil {
		return nil, err
	}
	return armresources.NewResourceGroupsClient(api.subscription, api.cred, api.opts)
}

func runGroupCreate(cmd *cobra.Command, args []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	loc, _ := cmd.Flags().GetString("location")
	if loc == "" {
		return fmt.Errorf("--location is required")
	}
	pairs, _ := cmd.Flags().GetStringArray("tags")
	tags, err := parseTags(pairs)
	if err != nil {
		return err
	}
	c, err := groupsClient(cmd)
	if err != nil {
		return err
	}
	resp, err := c.CreateOrUpdate(cmd.Context(), args[0], armresources.ResourceGroup{Location: to.Ptr(loc), Tags: tags}, nil)
	if err != nil {
		return apiError(err)
	}
	return printGroups(cmd, format, []*armresources.ResourceGroup{&resp.ResourceGroup}, false)
}

func runGroupList(cmd *cobra.Command, _ []string) error {
	format, c, err := groupCommand(cmd)
	if err != nil {
		return err
	}
	opts := &armresources.ResourceGroupsClientListOptions{}
	if tag, _ := cmd.Flags().GetString("tag"); tag != "" {
		opts.Filter = to.Ptr(tagFilter(tag))
	}
	var groups []*armresources.ResourceGroup
	pager := c.NewListPager(opts)
	for pager.More() {
		page, err := pager.NextPage(cmd.Context())
		if err != nil {
			return apiError(err)
		}
		groups = append(groups, page.Value...)
	}
	return printGroups(cmd, format, groups, true)
}

// tagFilter turns key or key=value into ARM's tag $filter.
func tagFilter(tag string) string {
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	if k, v, ok := strings.Cut(tag, "="); ok {
		return "tagName eq " + quote(k) + " and tagValue eq " + quote(v)
	}
	return "tagName eq " + quote(tag)
}

func runGroupShow(cmd *cobra.Command, args []string) error {
	format, c, err := groupCommand(cmd)
	if err != nil {
		return err
	}
	resp, err := c.Get(cmd.Context(), args[0], nil)
	if err != nil {
		return apiError(err)
	}
	return printGroups(cmd, format, []*armresources.ResourceGroup{&resp.ResourceGroup}, false)
}

func runGroupDelete(cmd *cobra.Command, args []string) error {
	if err := confirm(cmd, fmt.Sprintf("Delete resource group %s and every resource in it?", args[0])); err != nil {
		return err
	}
	c, err := groupsClient(cmd)
	if err != nil {
		return err
	}
	poller, err := c.BeginDelete(cmd.Context(), args[0], nil)
	if err != nil {
		return apiError(err)
	}
	if _, err := poller.PollUntilDone(cmd.Context(), nil); err != nil {
		return apiError(err)
	}
	return printResult(cmd, actionResult{Name: args[0], Result: "deleted"})
}

// printGroups writes groups as a table or JSON (an array for lists, the
// object for one group).
func printGroups(cmd *cobra.Command, format cliout.Format, groups []*armresources.ResourceGroup, list bool) error {
	if format == cliout.JSON {
		if !list && len(groups) == 1 {
			return cliout.WriteJSON(cmd.OutOrStdout(), groups[0])
		}
		if groups == nil {
			groups = []*armresources.ResourceGroup{}
		}
		return cliout.WriteJSON(cmd.OutOrStdout(), groups)
	}
	rows := make([][]string, 0, len(groups))
	for _, g := range groups {
		state := ""
		if g.Properties != nil {
			state = deref(g.Properties.ProvisioningState)
		}
		rows = append(rows, []string{deref(g.Name), deref(g.Location), state, formatTags(g.Tags)})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"NAME", "LOCATION", "STATE", "TAGS"}, rows)
}
