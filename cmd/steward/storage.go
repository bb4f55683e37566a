package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/storage/armstorage"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cliout"
)

func init() { register(newStorageCmd) }

func newStorageCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "storage",
		Short: "Manage storage accounts, tables and entities",
		Long: `storage mirrors "az storage": account commands go through the management
API (Microsoft.Storage/storageAccounts), table and entity commands through
the Table service with the account's key, fetched with listKeys.`,
	}
	cmd.AddCommand(newStorageAccountCmd(), newStorageTableCmd(), newStorageEntityCmd())
	return cmd
}

func newStorageAccountCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "account", Short: "Manage storage accounts (az storage account)"}
	create := &cobra.Command{Use: "create", Short: "Create a storage account (a long-running operation)", Args: cobra.NoArgs, RunE: runAccountCreate,
		Example: `  steward group create data -l westeurope
  steward storage account create -g data -n registry001 -l westeurope`}
	create.Flags().StringP("location", "l", "", "location, such as westeurope (default: the group's)")
	create.Flags().String("sku", "Standard_LRS", "SKU name")
	create.Flags().String("kind", "StorageV2", "account kind")
	create.Flags().Bool("allow-shared-key-access", true, "accept SharedKey and SAS (false: Entra tokens only)")
	show := &cobra.Command{Use: "show", Short: "Show a storage account", Args: cobra.NoArgs, RunE: runAccountShow,
		Example: `  steward storage account show -n registry001 -o json`}
	list := &cobra.Command{Use: "list", Short: "List storage accounts of the subscription or of a group", Args: cobra.NoArgs, RunE: runAccountList,
		Example: `  steward storage account list`}
	del := &cobra.Command{Use: "delete", Short: "Delete a storage account with its tables", Args: cobra.NoArgs, RunE: runAccountDelete,
		Example: `  steward storage account delete -n registry001`}
	keys := &cobra.Command{Use: "keys", Short: "List the account's two access keys", Args: cobra.NoArgs, RunE: runAccountKeys,
		Example: `  steward storage account keys -n registry001`}
	regen := &cobra.Command{Use: "regenerate-key", Short: "Replace key1 or key2; what it signed stops working", Args: cobra.NoArgs, RunE: runAccountKeys,
		Example: `  steward storage account regenerate-key -n registry001 --key key2`}
	regen.Flags().String("key", "key1", "key1 or key2")
	conn := &cobra.Command{Use: "connection-string", Short: "Print a connection string for the Azure SDKs", Args: cobra.NoArgs, RunE: runAccountConnString,
		Example: `  export AzureWebJobsStorage="$(steward storage account connection-string -n registry001)"`}
	conn.Flags().Bool("azure-form", false, "print the portal's form (EndpointSuffix=core.windows.net), for use through the proxy")
	sas := &cobra.Command{Use: "sas", Short: "Create a service SAS for a table (ListServiceSas)", Args: cobra.NoArgs, RunE: runAccountSAS,
		Example: `  steward storage account sas -n registry001 --table catalog --permissions r --expiry 24h`}
	sas.Flags().String("table", "", "table the SAS is for")
	sas.Flags().String("permissions", "r", "of r (query), a (add), u (update), d (delete)")
	sas.Flags().Duration("expiry", 24*time.Hour, "how long the SAS is valid")
	sas.Flags().String("key", "key1", "key that signs it")
	for _, c := range []*cobra.Command{create, show, list, del, keys, regen, conn, sas} {
		addAPIFlags(c)
		c.Flags().StringP("group", "g", "", "resource group (default: found by name in the subscription)")
		if c != list {
			c.Flags().StringP("name", "n", "", "account name")
		}
		cmd.AddCommand(c)
	}
	return cmd
}

// storageTarget is the accounts client and, for commands on one account,
// its group and name.
type storageTarget struct {
	c     *armstorage.AccountsClient
	api   *apiClient
	group string
	name  string
}

// storageAccount connects to the management API; name, when not empty,
// is the account the command is on (its group found when not given).
func storageAccount(cmd *cobra.Command, name string) (*storageTarget, error) {
	api, err := newAPIClient(cmd)
	if err != nil {
		return nil, err
	}
	c, err := armstorage.NewAccountsClient(api.subscription, api.cred, api.opts)
	if err != nil {
		return nil, err
	}
	t := &storageTarget{c: c, api: api}
	t.group, _ = cmd.Flags().GetString("group")
	if t.name = name; name == "" {
		return t, nil
	}
	if t.group == "" {
		if t.group, err = findAccountGroup(cmd.Context(), c, t.name); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// findAccountGroup finds an account's resource group by listing the
// subscription's accounts.
func findAccountGroup(ctx context.Context, c *armstorage.AccountsClient, name string) (string, error) {
	for p := c.NewListPager(nil); p.More(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", apiError(err)
		}
		for _, a := range page.Value {
			if a.Name != nil && strings.EqualFold(*a.Name, name) && a.ID != nil {
				if id, err := arm.ParseResourceID(*a.ID); err == nil {
					return id.ResourceGroup, nil
				}
			}
		}
	}
	return "", &exitError{code: 1, msg: fmt.Sprintf("no storage account named %s in the subscription", name)}
}

func runAccountCreate(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	t, err := storageAccount(cmd, "")
	if err != nil {
		return err
	}
	t.name, _ = cmd.Flags().GetString("name")
	if t.group == "" || t.name == "" {
		return &exitError{code: 2, msg: "give --group and --name"}
	}
	loc, _ := cmd.Flags().GetString("location")
	if loc == "" {
		loc = "westeurope"
	}
	sku, _ := cmd.Flags().GetString("sku")
	kind, _ := cmd.Flags().GetString("kind")
	shared, _ := cmd.Flags().GetBool("allow-shared-key-access")
	poller, err := t.c.BeginCreate(cmd.Context(), t.group, t.name, armstorage.AccountCreateParameters{
		Location: to.Ptr(loc), Kind: to.Ptr(armstorage.Kind(kind)), SKU: &armstorage.SKU{Name: to.Ptr(armstorage.SKUName(sku))},
		Properties: &armstorage.AccountPropertiesCreateParameters{AllowSharedKeyAccess: to.Ptr(shared)}}, nil)
	if err != nil {
		return apiError(err)
	}
	res, err := poller.PollUntilDone(cmd.Context(), &runtime.PollUntilDoneOptions{Frequency: time.Second})
	if err != nil {
		return apiError(err)
	}
	return writeAccounts(cmd, format, []*armstorage.Account{&res.Account})
}

func runAccountShow(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	t, err := namedAccount(cmd)
	if err != nil {
		return err
	}
	res, err := t.c.GetProperties(cmd.Context(), t.group, t.name, nil)
	if err != nil {
		return apiError(err)
	}
	return writeAccounts(cmd, format, []*armstorage.Account{&res.Account})
}

func runAccountList(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	t, err := storageAccount(cmd, "")
	if err != nil {
		return err
	}
	var all []*armstorage.Account
	if t.group != "" {
		for p := t.c.NewListByResourceGroupPager(t.group, nil); p.More(); {
			page, err := p.NextPage(cmd.Context())
			if err != nil {
				return apiError(err)
			}
			all = append(all, page.Value...)
		}
	} else {
		for p := t.c.NewListPager(nil); p.More(); {
			page, err := p.NextPage(cmd.Context())
			if err != nil {
				return apiError(err)
			}
			all = append(all, page.Value...)
		}
	}
	return writeAccounts(cmd, format, all)
}

func writeAccounts(cmd *cobra.Command, format cliout.Format, accts []*armstorage.Account) error {
	if format == cliout.JSON {
		if len(accts) == 1 && cmd.Name() != "list" {
			return cliout.WriteJSON(cmd.OutOrStdout(), accts[0])
		}
		return cliout.WriteJSON(cmd.OutOrStdout(), accts)
	}
	rows := make([][]string, 0, len(accts))
	for _, a := range accts {
		group := ""
		if id, err := arm.ParseResourceID(deref(a.ID)); err == nil {
			group = id.ResourceGroup
		}
		sku, kind, table, state := "", "", "", ""
		if a.SKU != nil && a.SKU.Name != nil {
			sku = string(*a.SKU.Name)
		}
		if a.Kind != nil {
			kind = string(*a.Kind)
		}
		if p := a.Properties; p != nil {
			if p.PrimaryEndpoints != nil {
				table = deref(p.PrimaryEndpoints.Table)
			}
			if p.ProvisioningState != nil {
				state = string(*p.ProvisioningState)
			}
		}
		rows = append(rows, []string{deref(a.Name), group, deref(a.Location), sku, kind, state, table})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"NAME", "GROUP", "LOCATION", "SKU", "KIND", "STATE", "TABLE ENDPOINT"}, rows)
}

func runAccountDelete(cmd *cobra.Command, _ []string) error {
	t, err := namedAccount(cmd)
	if err != nil {
		return err
	}
	if _, err := t.c.Delete(cmd.Context(), t.group, t.name, nil); err != nil {
		return apiError(err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Deleted storage account %s.\n", t.name)
	return nil
}

func runAccountKeys(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	t, err := namedAccount(cmd)
	if err != nil {
		return err
	}
	var keys []*armstorage.AccountKey
	if cmd.Name() == "regenerate-key" {
		k, _ := cmd.Flags().GetString("key")
		res, err := t.c.RegenerateKey(cmd.Context(), t.group, t.name, armstorage.AccountRegenerateKeyParameters{KeyName: to.Ptr(k)}, nil)
		if err != nil {
			return apiError(err)
		}
		keys = res.Keys
	} else {
		res, err := t.c.ListKeys(cmd.Context(), t.group, t.name, nil)
		if err != nil {
			return apiError(err)
		}
		keys = res.Keys
	}
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), map[string]any{"keys": keys})
	}
	rows := [][]string{}
	for _, k := range keys {
		created := ""
		if k.CreationTime != nil {
			created = k.CreationTime.UTC().Format(time.RFC3339)
		}
		rows = append(rows, []string{deref(k.KeyName), deref(k.Value), created})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"KEY", "VALUE", "CREATED"}, rows)
}

// accountKey fetches key1 and the table endpoint of an account.
func (t *storageTarget) accountKey(ctx context.Context) (key, endpoint string, err error) {
	acct, err := t.c.GetProperties(ctx, t.group, t.name, nil)
	if err != nil {
		return "", "", apiError(err)
	}
	if p := acct.Properties; p != nil && p.PrimaryEndpoints != nil {
		endpoint = strings.TrimSuffix(deref(p.PrimaryEndpoints.Table), "/")
	}
	keys, err := t.c.ListKeys(ctx, t.group, t.name, nil)
	if err != nil {
		return "", "", apiError(err)
	}
	if len(keys.Keys) == 0 {
		return "", "", &exitError{code: 1, msg: "the account has no keys"}
	}
	return deref(keys.Keys[0].Value), endpoint, nil
}

func runAccountConnString(cmd *cobra.Command, _ []string) error {
	t, err := namedAccount(cmd)
	if err != nil {
		return err
	}
	key, endpoint, err := t.accountKey(cmd.Context())
	if err != nil {
		return err
	}
	s := "DefaultEndpointsProtocol=https;AccountName=" + t.name + ";AccountKey=" + key
	if azure, _ := cmd.Flags().GetBool("azure-form"); azure {
		s += ";EndpointSuffix=core.windows.net"
	} else {
		s += ";TableEndpoint=" + endpoint
	}
	fmt.Fprintln(cmd.OutOrStdout(), s)
	return nil
}

func runAccountSAS(cmd *cobra.Command, _ []string) error {
	t, err := namedAccount(cmd)
	if err != nil {
		return err
	}
	table, _ := cmd.Flags().GetString("table")
	perm, _ := cmd.Flags().GetString("permissions")
	exp, _ := cmd.Flags().GetDuration("expiry")
	key, _ := cmd.Flags().GetString("key")
	if table == "" {
		return &exitError{code: 2, msg: "give the table with --table"}
	}
	expiry := time.Now().Add(exp).UTC().Truncate(time.Second)
	res, err := t.c.ListServiceSAS(cmd.Context(), t.group, t.name, armstorage.ServiceSasParameters{
		CanonicalizedResource: to.Ptr("/table/" + t.name + "/" + table), Permissions: to.Ptr(armstorage.Permissions(perm)),
		SharedAccessExpiryTime: &expiry, KeyToSign: to.Ptr(key)}, nil)
	if err != nil {
		return apiError(err)
	}
	fmt.Fprintln(cmd.OutOrStdout(), deref(res.ServiceSasToken))
	return nil
}

// namedAccount is storageAccount for the account named by --name.
func namedAccount(cmd *cobra.Command) (*storageTarget, error) {
	n, _ := cmd.Flags().GetString("name")
	if n == "" {
		return nil, &exitError{code: 2, msg: "give the account with --name"}
	}
	return storageAccount(cmd, n)
}
