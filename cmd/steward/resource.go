package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cliout"
)

func init() { register(newResourceCmd) }

// defaultResourceAPIVersion is sent for generic resources unless
// --api-version names another; Steward accepts any well-formed version for
// types no provider registered. A type with published api-versions gets
// the newest stable one of its own (resourceAPIVersion), as az resource
// picks one from the provider's list.
const defaultResourceAPIVersion = "2021-04-01"

// resourceAPIVersion is the --api-version flag when given, else the newest
// stable published version of id's type, else defaultResourceAPIVersion.
func resourceAPIVersion(cmd *cobra.Command, id string) string {
	ver, _ := cmd.Flags().GetString("api-version")
	if cmd.Flags().Changed("api-version") {
		return ver
	}
	rid, err := arm.ParseResourceID(id)
	if err != nil {
		return ver
	}
	vs := arm.TypeAPIVersions(rid.ResourceType())
	for i := len(vs) - 1; i >= 0; i-- {
		if !arm.IsPreviewAPIVersion(vs[i]) {
			return vs[i]
		}
	}
	return ver
}

func newResourceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "resource",
		Short: "Manage resources of any type through the management API",
		Long: `resource creates, shows, lists and deletes resources by ID, or by
--group, --type and --name, through the Azure SDK, as "az resource" does.`,
	}
	create := &cobra.Command{Use: "create [ID]", Short: "Create or update a resource", Args: cobra.MaximumNArgs(1), RunE: runResourceCreate}
	create.Flags().StringP("location", "l", "", "location, such as westeurope")
	create.Flags().String("properties", "", "properties as a JSON object")
	create.Flags().String("kind", "", "resource kind")
	create.Flags().StringArray("tags", nil, "tag as key=value (repeatable)")
	flagAliases(create, map[string]string{"tag": "tags"})
	show := &cobra.Command{Use: "show [ID]", Short: "Show a resource", Args: cobra.MaximumNArgs(1), RunE: runResourceShow}
	del := &cobra.Command{Use: "delete [ID]", Short: "Delete a resource", Args: cobra.MaximumNArgs(1), RunE: runResourceDelete}
	list := &cobra.Command{Use: "list", Short: "List resources of the subscription or of a group", Args: cobra.NoArgs, RunE: runResourceList}
	list.Flags().String("tag", "", "only resources with this tag: key or key=value")
	for _, c := range []*cobra.Command{create, show, del, list} {
		addAPIFlags(c)
		c.Flags().StringP("resource-group", "g", "", "resource group")
		flagAliases(c, map[string]string{"group": "resource-group"})
		c.Flags().String("type", "", "resource type, such as Microsoft.Web/sites (list: filter by type)")
		if c != list {
			c.Flags().StringP("name", "n", "", "resource name")
			c.Flags().String("api-version", defaultResourceAPIVersion, "api-version for the resource's type (default: the newest stable one Steward knows for the type, else this)")
		}
		cmd.AddCommand(c)
	}
	return cmd
}

// resourceID takes the ID from the argument or builds it from --group,
// --type and --name.
func resourceID(cmd *cobra.Command, args []string, sub string) (string, error) {
	if len(args) == 1 {
		if _, err := arm.ParseResourceID(args[0]); err != nil {
			return "", fmt.Errorf("%q is not a resource ID", args[0])
		}
		return args[0], nil
	}
	group, _ := cmd.Flags().GetString("resource-group")
	typ, _ := cmd.Flags().GetString("type")
	name, _ := cmd.Flags().GetString("name")
	ns, rest, ok := strings.Cut(typ, "/")
	if group == "" || name == "" || !ok || ns == "" || rest == "" {
		return "", fmt.Errorf("give a resource ID, or --resource-group, --type {namespace}/{type} and --name")
	}
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/%s/%s/%s", sub, group, ns, rest, name), nil
}

func resourcesClient(cmd *cobra.Command) (*armresources.Client, string, error) {
	api, err := newAPIClient(cmd)
	if err != nil {
		return nil, "", err
	}
	c, err := armresources.NewClient(api.subscription, api.cred, api.opts)
	return c, api.subscription, err
}

// resourceTarget returns the client and the ID a create, show or delete
// names.
func resourceTarget(cmd *cobra.Command, args []string) (*armresources.Client, string, error) {
	c, sub, err := resourcesClient(cmd)
	if err != nil {
		return nil, "", err
	}
	id, err := resourceID(cmd, args, sub)
	return c, id, err
}

func runResourceCreate(cmd *cobra.Command, args []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	c, id, err := resourceTarget(cmd, args)
	if err != nil {
		return err
	}
	var res armresources.GenericResource
	if loc, _ := cmd.Flags().GetString("location"); loc != "" {
		res.Location = to.Ptr(loc)
	}
	if kind, _ := cmd.Flags().GetString("kind"); kind != "" {
		res.Kind = to.Ptr(kind)
	}
	if p, _ := cmd.Flags().GetString("properties"); p != "" {
		var props map[string]any
		if err := json.Unmarshal([]byte(p), &props); err != nil {
			return fmt.Errorf("--properties: %v", err)
		}
		res.Properties = props
	}
	pairs, _ := cmd.Flags().GetStringArray("tags")
	if res.Tags, err = parseTags(pairs); err != nil {
		return err
	}
	ver := resourceAPIVersion(cmd, id)
	poller, err := c.BeginCreateOrUpdateByID(cmd.Context(), id, ver, res, nil)
	if err != nil {
		return apiError(err)
	}
	out, err := poller.PollUntilDone(cmd.Context(), nil)
	if err != nil {
		return apiError(err)
	}
	return printResource(cmd, format, &out.GenericResource)
}

func runResourceShow(cmd *cobra.Command, args []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	c, id, err := resourceTarget(cmd, args)
	if err != nil {
		return err
	}
	ver := resourceAPIVersion(cmd, id)
	out, err := c.GetByID(cmd.Context(), id, ver, nil)
	if err != nil {
		return apiError(err)
	}
	return printResource(cmd, format, &out.GenericResource)
}

func runResourceDelete(cmd *cobra.Command, args []string) error {
	c, id, err := resourceTarget(cmd, args)
	if err != nil {
		return err
	}
	return deleteByID(cmd, c, id, resourceAPIVersion(cmd, id), "")
}

// deleteByID deletes the resource id through the generic resources
// client, waits for the delete and prints the result. It reads the
// resource first: ARM answers 200 or 204 to a delete of nothing, and like
// az the command says that it is not there instead. With a question, it
// asks it (confirm) before it deletes.
func deleteByID(cmd *cobra.Command, c *armresources.Client, id, apiVersion, question string) error {
	if _, err := c.GetByID(cmd.Context(), id, apiVersion, nil); err != nil {
		return apiError(err)
	}
	if question != "" {
		if err := confirm(cmd, question); err != nil {
			return err
		}
	}
	poller, err := c.BeginDeleteByID(cmd.Context(), id, apiVersion, nil)
	if err != nil {
		return apiError(err)
	}
	if _, err := poller.PollUntilDone(cmd.Context(), nil); err != nil {
		return apiError(err)
	}
	return printResult(cmd, actionResult{Name: lastSegment(id), ID: id, Result: "deleted"})
}

func runResourceList(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	c, _, err := resourcesClient(cmd)
	if err != nil {
		return err
	}
	var clauses []string
	if typ, _ := cmd.Flags().GetString("type"); typ != "" {
		clauses = append(clauses, "resourceType eq '"+strings.ReplaceAll(typ, "'", "''")+"'")
	}
	if tag, _ := cmd.Flags().GetString("tag"); tag != "" {
		clauses = append(clauses, tagFilter(tag))
	}
	var filter *string
	if len(clauses) > 0 {
		filter = to.Ptr(strings.Join(clauses, " and "))
	}
	var items []*armresources.GenericResourceExpanded
	group, _ := cmd.Flags().GetString("resource-group")
	if group != "" {
		pager := c.NewListByResourceGroupPager(group, &armresources.ClientListByResourceGroupOptions{Filter: filter})
		for pager.More() {
			page, err := pager.NextPage(cmd.Context())
			if err != nil {
				return apiError(err)
			}
			items = append(items, page.Value...)
		}
	} else {
		pager := c.NewListPager(&armresources.ClientListOptions{Filter: filter})
		for pager.More() {
			page, err := pager.NextPage(cmd.Context())
			if err != nil {
				return apiError(err)
			}
			items = append(items, page.Value...)
		}
	}
	if format == cliout.JSON {
		if items == nil {
			items = []*armresources.GenericResourceExpanded{}
		}
		return cliout.WriteJSON(cmd.OutOrStdout(), items)
	}
	rows := make([][]string, 0, len(items))
	for _, r := range items {
		rg := ""
		if id, err := arm.ParseResourceID(deref(r.ID)); err == nil {
			rg = id.ResourceGroup
		}
		rows = append(rows, []string{deref(r.Name), deref(r.Type), rg, deref(r.Location), formatTags(r.Tags)})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"NAME", "TYPE", "GROUP", "LOCATION", "TAGS"}, rows)
}

func printResource(cmd *cobra.Command, format cliout.Format, r *armresources.GenericResource) error {
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), r)
	}
	rg := ""
	if id, err := arm.ParseResourceID(deref(r.ID)); err == nil {
		rg = id.ResourceGroup
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"NAME", "TYPE", "GROUP", "LOCATION", "TAGS"},
		[][]string{{deref(r.Name), deref(r.Type), rg, deref(r.Location), formatTags(r.Tags)}})
}
