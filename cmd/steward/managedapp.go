package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cliout"
)

func init() { register(newManagedAppCmd) }

// managedAppAPIVersion is the newest stable Microsoft.Solutions version.
const managedAppAPIVersion = "2021-07-01"

func newManagedAppCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "managedapp",
		Short: "Manage managed applications and their definitions",
		Long: `managedapp publishes managed application definitions and creates managed
applications from them (Microsoft.Solutions), as "az managedapp" does, through
the Azure SDK. Creating an application creates its managed resource group,
deploys the definition's template there, assigns its policies, grants the
publisher's principals their roles and locks the group for the customer.`,
	}
	create := &cobra.Command{Use: "create NAME", Short: "Create a managed application from a definition", Args: cobra.ExactArgs(1), RunE: runAppCreate,
		Example: `  steward managedapp create app1 -g apps -l westeurope \
    --definition-id /subscriptions/$SUB/resourceGroups/offers/providers/Microsoft.Solutions/applicationDefinitions/def1 \
    --managed-rg-id mrg-app1 --parameters '{"nsgName":{"value":"nsg1"}}'`}
	create.Flags().StringP("location", "l", "", "location, such as westeurope (required)")
	create.Flags().String("kind", "ServiceCatalog", "ServiceCatalog or MarketPlace")
	create.Flags().StringP("definition-id", "d", "", "ID of the application definition (required)")
	create.Flags().StringP("managed-rg-id", "m", "", "managed resource group: a name or an ID; it must not exist (default mrg-NAME-TIMESTAMP)")
	create.Flags().String("parameters", "", `template parameters as JSON {"name":{"value":...}}, @FILE or a file`)
	create.Flags().String("plan-name", "", "plan name (MarketPlace)")
	create.Flags().String("plan-product", "", "plan product, the offer (MarketPlace)")
	create.Flags().String("plan-publisher", "", "plan publisher (MarketPlace)")
	create.Flags().String("plan-version", "", "plan version (MarketPlace)")
	create.Flags().StringArray("tags", nil, "tag as key=value (repeatable)")
	solutionsCommands(cmd, create, solutionsKind{
		typ: "applications", noun: "managed application", command: "managedapp",
		group: "apps", name: "app1", deleteAlso: " and its managed resource group",
	})
	cmd.AddCommand(newManagedAppDefinitionCmd())
	return cmd
}

// solutionsID is the ID of an application or definition named in a group.
func solutionsID(cmd *cobra.Command, sub, typ, name string) (string, error) {
	group, err := requireFlag(cmd, "resource-group")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Solutions/%s/%s", sub, group, typ, name), nil
}

// solutionsKind names one Microsoft.Solutions type for the commands that
// read and delete it.
type solutionsKind struct {
	typ        string // the resource type under Microsoft.Solutions
	noun       string // what the help calls one, such as "managed application"
	command    string // the command path after "steward"
	group      string // the group and the name the examples use
	name       string
	deleteAlso string // what a delete removes besides the resource
}

// solutionsCommands adds create and the list, show and delete commands of
// one kind to parent, each with the API flags and --resource-group.
func solutionsCommands(parent, create *cobra.Command, k solutionsKind) {
	ex := "  steward " + k.command
	list := &cobra.Command{Use: "list", Short: "List " + k.noun + "s", Args: cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return solutionsList(cmd, k.typ) },
		Example: ex + " list\n" + ex + " list -g " + k.group + " -o json"}
	show := &cobra.Command{Use: "show NAME", Short: "Show a " + k.noun, Args: cobra.ExactArgs(1),
		RunE:    func(cmd *cobra.Command, args []string) error { return solutionsShow(cmd, k.typ, args[0]) },
		Example: ex + " show " + k.name + " -g " + k.group + " -o json"}
	del := &cobra.Command{Use: "delete NAME", Short: "Delete a " + k.noun + k.deleteAlso, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return solutionsDelete(cmd, k.typ, args[0], "Delete "+k.noun+" %s"+k.deleteAlso+"?")
		},
		Example: ex + " delete " + k.name + " -g " + k.group + " --yes"}
	del.Flags().BoolP("yes", "y", false, "do not ask for confirmation")
	of := k.noun[strings.LastIndex(k.noun, " ")+1:]
	for _, c := range []*cobra.Command{create, list, show, del} {
		addAPIFlags(c)
		c.Flags().StringP("resource-group", "g", "", "resource group of the "+of)
		flagAliases(c, map[string]string{"group": "resource-group"})
		parent.AddCommand(c)
	}
}

func runAppCreate(cmd *cobra.Command, args []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	loc, err := requireFlag(cmd, "location")
	if err != nil {
		return err
	}
	def, err := requireFlag(cmd, "definition-id")
	if err != nil {
		return err
	}
	c, sub, err := resourcesClient(cmd)
	if err != nil {
		return err
	}
	id, err := solutionsID(cmd, sub, "applications", args[0])
	if err != nil {
		return err
	}
	props := map[string]any{"applicationDefinitionId": def}
	if m, _ := cmd.Flags().GetString("managed-rg-id"); m != "" {
		if !strings.HasPrefix(m, "/") {
			m = "/subscriptions/" + sub + "/resourceGroups/" + m
		}
		props["managedResourceGroupId"] = m
	}
	if s, _ := cmd.Flags().GetString("parameters"); s != "" {
		var params map[string]any
		if err := jsonArg("parameters", s, &params); err != nil {
			return err
		}
		props["parameters"] = params
	}
	kind, _ := cmd.Flags().GetString("kind")
	res := armresources.GenericResource{Location: to.Ptr(loc), Kind: to.Ptr(kind), Properties: props}
	if name, _ := cmd.Flags().GetString("plan-name"); name != "" {
		product, _ := cmd.Flags().GetString("plan-product")
		publisher, _ := cmd.Flags().GetString("plan-publisher")
		version, _ := cmd.Flags().GetString("plan-version")
		res.Plan = &armresources.Plan{Name: to.Ptr(name), Product: to.Ptr(product), Publisher: to.Ptr(publisher), Version: to.Ptr(version)}
	}
	pairs, _ := cmd.Flags().GetStringArray("tags")
	if res.Tags, err = parseTags(pairs); err != nil {
		return usageError("%v", err)
	}
	out, err := createByID(cmd, c, id, res)
	if err != nil {
		return err
	}
	return printSolutions(cmd, format, []map[string]any{out}, false)
}

// createByID puts a resource, waits for the operation and returns the
// resource as stored.
func createByID(cmd *cobra.Command, c *armresources.Client, id string, res armresources.GenericResource) (map[string]any, error) {
	poller, err := c.BeginCreateOrUpdateByID(cmd.Context(), id, managedAppAPIVersion, res, nil)
	if err != nil {
		return nil, apiError(err)
	}
	out, err := poller.PollUntilDone(cmd.Context(), nil)
	if err != nil {
		return nil, apiError(err)
	}
	return genericMap(&out.GenericResource)
}

func genericMap(r *armresources.GenericResource) (map[string]any, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

func solutionsShow(cmd *cobra.Command, typ, name string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	c, sub, err := resourcesClient(cmd)
	if err != nil {
		return err
	}
	id, err := solutionsID(cmd, sub, typ, name)
	if err != nil {
		return err
	}
	out, err := c.GetByID(cmd.Context(), id, managedAppAPIVersion, nil)
	if err != nil {
		return apiError(err)
	}
	m, err := genericMap(&out.GenericResource)
	if err != nil {
		return err
	}
	return printSolutions(cmd, format, []map[string]any{m}, false)
}

func solutionsDelete(cmd *cobra.Command, typ, name, question string) error {
	c, sub, err := resourcesClient(cmd)
	if err != nil {
		return err
	}
	id, err := solutionsID(cmd, sub, typ, name)
	if err != nil {
		return err
	}
	return deleteByID(cmd, c, id, managedAppAPIVersion, fmt.Sprintf(question, name))
}

// solutionsList lists a type by group or subscription with the SDK's
// pipeline (the Go SDK has no generic list of one type with properties).
func solutionsList(cmd *cobra.Command, typ string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	api, err := newAPIClient(cmd)
	if err != nil {
		return err
	}
	client, err := azarm.NewClient("steward", "v1.0.0", api.cred, api.opts)
	if err != nil {
		return err
	}
	path := "/subscriptions/" + url.PathEscape(api.subscription)
	if g, _ := cmd.Flags().GetString("resource-group"); g != "" {
		path += "/resourceGroups/" + url.PathEscape(g)
	}
	first := runtime.JoinPaths(client.Endpoint(), path+"/providers/Microsoft.Solutions/"+typ) + "?api-version=" + managedAppAPIVersion
	items, err := armList(cmd.Context(), client, first)
	if err != nil {
		return apiError(err)
	}
	return printSolutions(cmd, format, items, true)
}

// printSolutions writes applications or definitions as a table or JSON
// (an array for lists, the one object otherwise).
func printSolutions(cmd *cobra.Command, format cliout.Format, items []map[string]any, list bool) error {
	if format == cliout.JSON {
		if !list && len(items) == 1 {
			return cliout.WriteJSON(cmd.OutOrStdout(), items[0])
		}
		return cliout.WriteJSON(cmd.OutOrStdout(), items)
	}
	isDef := len(items) > 0 && strings.EqualFold(str(items[0]["type"]), "Microsoft.Solutions/applicationDefinitions")
	header := []string{"NAME", "GROUP", "KIND", "STATE", "MANAGED GROUP"}
	if isDef {
		header = []string{"NAME", "GROUP", "LOCK LEVEL", "ENABLED", "DISPLAY NAME"}
	}
	rows := make([][]string, 0, len(items))
	for _, it := range items {
		props, _ := it["properties"].(map[string]any)
		group := ""
		if id, err := arm.ParseResourceID(str(it["id"])); err == nil {
			group = id.ResourceGroup
		}
		if isDef {
			rows = append(rows, []string{str(it["name"]), group, str(props["lockLevel"]), fmt.Sprint(props["isEnabled"] != false), str(props["displayName"])})
			continue
		}
		mrg := ""
		if id, err := arm.ParseResourceID(str(props["managedResourceGroupId"])); err == nil {
			mrg = id.ResourceGroup
		}
		rows = append(rows, []string{str(it["name"]), group, str(it["kind"]), str(props["provisioningState"]), mrg})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), header, rows)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
