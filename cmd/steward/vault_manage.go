package main

import (
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cliout"
)

// vaultAPIVersion is the Microsoft.KeyVault api-version the vault
// management commands use.
const vaultAPIVersion = "2023-07-01"

// newVaultManageCmds are `vault create`, `list` and `delete`: the vaults
// themselves, as ARM resources of type Microsoft.KeyVault/vaults (az
// keyvault create, list, delete).
func newVaultManageCmds() []*cobra.Command {
	create := &cobra.Command{Use: "create", Short: "Create a vault (RBAC permission model, soft delete on)", Args: cobra.NoArgs, RunE: runVaultCreate,
		Example: "  steward vault create --name team-kv -g rg-eu -l westeurope\n  steward vault create -n team-kv -g rg-eu -l westeurope --retention-days 7 -o json"}
	create.Flags().StringP("location", "l", "", "location (required)")
	create.Flags().Int("retention-days", 90, "soft-delete retention in days (7 to 90)")
	create.Flags().Bool("enable-purge-protection", false, "refuse purges until the retention ends")
	list := &cobra.Command{Use: "list", Short: "List vaults", Args: cobra.NoArgs, RunE: runVaultList,
		Example: "  steward vault list\n  steward vault list -g rg-eu -o json"}
	del := &cobra.Command{Use: "delete", Short: "Delete a vault (its objects are deleted with it)", Args: cobra.NoArgs, RunE: runVaultDelete,
		Example: "  steward vault delete --name team-kv -g rg-eu"}
	for _, c := range []*cobra.Command{create, list, del} {
		c.Flags().StringP("resource-group", "g", "", "resource group")
		c.Flags().String("subscription", "", "subscription ID (default: AZURE_SUBSCRIPTION_ID or the bootstrap subscription)")
		if c != list {
			c.Flags().StringP("name", "n", "", "vault name (required)")
		}
	}
	return []*cobra.Command{create, list, del}
}

// vaultTarget returns the resources client, the subscription and the
// vault's ID from --name and --resource-group.
func vaultTarget(cmd *cobra.Command) (*armresources.Client, string, string, error) {
	name, err := requireFlag(cmd, "name")
	if err != nil {
		return nil, "", "", err
	}
	rg, err := requireFlag(cmd, "resource-group")
	if err != nil {
		return nil, "", "", err
	}
	c, sub, err := resourcesClient(cmd)
	if err != nil {
		return nil, "", "", err
	}
	return c, sub, "/subscriptions/" + sub + "/resourceGroups/" + rg + "/providers/Microsoft.KeyVault/vaults/" + name, nil
}

func runVaultCreate(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	loc, err := requireFlag(cmd, "location")
	if err != nil {
		return err
	}
	c, _, id, err := vaultTarget(cmd)
	if err != nil {
		return err
	}
	days, _ := cmd.Flags().GetInt("retention-days")
	props := map[string]any{"sku": map[string]any{"family": "A", "name": "standard"}, "enableRbacAuthorization": true,
		"enableSoftDelete": true, "softDeleteRetentionInDays": days}
	if pp, _ := cmd.Flags().GetBool("enable-purge-protection"); pp {
		props["enablePurgeProtection"] = true
	}
	poller, err := c.BeginCreateOrUpdateByID(cmd.Context(), id, vaultAPIVersion,
		armresources.GenericResource{Location: to.Ptr(loc), Properties: props}, nil)
	if err != nil {
		return apiError(err)
	}
	resp, err := poller.PollUntilDone(cmd.Context(), nil)
	if err != nil {
		return apiError(err)
	}
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), resp.GenericResource)
	}
	return writeVaultRows(cmd, []vaultRow{vaultRowOf(resp.ID, resp.Name, resp.Location, resp.Properties)})
}

func runVaultList(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	c, _, err := resourcesClient(cmd)
	if err != nil {
		return err
	}
	filter := to.Ptr("resourceType eq 'Microsoft.KeyVault/vaults'")
	var items []*armresources.GenericResourceExpanded
	if rg, _ := cmd.Flags().GetString("resource-group"); rg != "" {
		items, err = pageAll(cmd, c.NewListByResourceGroupPager(rg, &armresources.ClientListByResourceGroupOptions{Filter: filter}),
			func(p armresources.ClientListByResourceGroupResponse) []*armresources.GenericResourceExpanded {
				return p.Value
			})
	} else {
		items, err = pageAll(cmd, c.NewListPager(&armresources.ClientListOptions{Filter: filter}),
			func(p armresources.ClientListResponse) []*armresources.GenericResourceExpanded { return p.Value })
	}
	if err != nil {
		return err
	}
	if format == cliout.JSON {
		return writeJSONItems(cmd, items, true)
	}
	rows := make([]vaultRow, 0, len(items))
	for _, v := range items {
		rows = append(rows, vaultRowOf(v.ID, v.Name, v.Location, v.Properties))
	}
	return writeVaultRows(cmd, rows)
}

func runVaultDelete(cmd *cobra.Command, _ []string) error {
	if _, err := outputFormat(cmd); err != nil {
		return err
	}
	c, _, id, err := vaultTarget(cmd)
	if err != nil {
		return err
	}
	return deleteByID(cmd, c, id, vaultAPIVersion, "")
}

// vaultRow is one vault in table output.
type vaultRow struct{ name, group, location, uri string }

func vaultRowOf(id, name, location *string, props any) vaultRow {
	r := vaultRow{name: deref(name), location: deref(location)}
	if rid, err := arm.ParseResourceID(deref(id)); err == nil {
		r.group = rid.ResourceGroup
	}
	if p, ok := props.(map[string]any); ok {
		r.uri, _ = p["vaultUri"].(string)
	}
	return r
}

func writeVaultRows(cmd *cobra.Command, rows []vaultRow) error {
	table := make([][]string, 0, len(rows))
	for _, r := range rows {
		table = append(table, []string{r.name, r.group, r.location, strings.TrimSuffix(r.uri, "/")})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"NAME", "GROUP", "LOCATION", "VAULT URI"}, table)
}
