package main

import (
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
)

func init() { register(newRoleCmd) }

func newRoleCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "role",
		Short: "Manage role definitions and role assignments through the management API",
		Long: `role lists and shows role definitions and creates, lists and deletes role
assignments through the Azure SDK, as "az role" does. Scopes default to the
subscription (--subscription, AZURE_SUBSCRIPTION_ID or the bootstrap one).
Credentials come from DATA/bootstrap.json or the AZURE_* variables.`,
	}
	def := &cobra.Command{Use: "definition", Short: "Create, list, show and delete role definitions"}
	list := &cobra.Command{Use: "list", Short: "List role definitions", Args: cobra.NoArgs, RunE: runRoleDefinitionList}
	list.Flags().StringP("name", "n", "", "only the role with this name")
	list.Flags().Bool("custom-role-only", false, "only custom roles")
	show := &cobra.Command{Use: "show NAME|GUID|ID", Short: "Show a role definition", Args: cobra.ExactArgs(1), RunE: runRoleDefinitionShow}
	for _, c := range append([]*cobra.Command{list, show}, newRoleDefinitionWriteCmds()...) {
		addAPIFlags(c)
		c.Flags().String("scope", "", "scope (default: the subscription)")
		def.AddCommand(c)
	}
	cmd.AddCommand(def, newRoleAssignmentCmd(), newRoleDelegationCmd())
	return cmd
}

// roleClients builds the authorization clients and the default scope.
type roleClients struct {
	defs  *armauthorization.RoleDefinitionsClient
	ras   *armauthorization.RoleAssignmentsClient
	scope string
}

func newRoleClients(cmd *cobra.Command) (*roleClients, error) {
	api, err := newAPIClient(cmd)
	if err != nil {
		return nil, err
	}
	defs, err := armauthorization.NewRoleDefinitionsClient(api.cred, api.opts)
	if err != nil {
		return nil, err
	}
	ras, err := armauthorization.NewRoleAssignmentsClient(api.subscription, api.cred, api.opts)
	if err != nil {
		return nil, err
	}
	scope, _ := cmd.Flags().GetString("scope")
	if scope == "" {
		scope = "/subscriptions/" + api.subscription
	}
	return &roleClients{defs: defs, ras: ras, scope: scope}, nil
}

// sdkScope is a scope as the SDK's {scope} parameter wants it.
func sdkScope(s string) string { return strings.TrimPrefix(s, "/") }

// listRoleDefinitions pages through the role definitions at the scope.
func (rc *roleClients) listRoleDefinitions(cmd *cobra.Command, filter string) ([]*armauthorization.RoleDefinition, error) {
	opts := &armauthorization.RoleDefinitionsClientListOptions{}
	if filter != "" {
		opts.Filter = to.Ptr(filter)
	}
	return pageAll(cmd, rc.defs.NewListPager(sdkScope(rc.scope), opts),
		func(r armauthorization.RoleDefinitionsClientListResponse) []*armauthorization.RoleDefinition {
			return r.Value
		})
}

// pageAll collects every item of a pager.
func pageAll[R any, T any](cmd *cobra.Command, pager *runtime.Pager[R], values func(R) []*T) ([]*T, error) {
	var out []*T
	for pager.More() {
		page, err := pager.NextPage(cmd.Context())
		if err != nil {
			return nil, apiError(err)
		}
		out = append(out, values(page)...)
	}
	return out, nil
}

// writeJSONItems writes one item as an object (a show) or items as an
// array (a list, never null).
func writeJSONItems[T any](cmd *cobra.Command, items []*T, list bool) error {
	if !list && len(items) == 1 {
		return cliout.WriteJSON(cmd.OutOrStdout(), items[0])
	}
	if items == nil {
		items = []*T{}
	}
	return cliout.WriteJSON(cmd.OutOrStdout(), items)
}

// findRole resolves a role name, GUID or ID to its definition.
func (rc *roleClients) findRole(cmd *cobra.Command, ref string) (*armauthorization.RoleDefinition, error) {
	guid := ref[strings.LastIndexByte(ref, '/')+1:]
	if len(guid) == 36 && strings.Count(guid, "-") == 4 {
		resp, err := rc.defs.Get(cmd.Context(), sdkScope(rc.scope), guid, nil)
		if err != nil {
			return nil, apiError(err)
		}
		return &resp.RoleDefinition, nil
	}
	roles, err := rc.listRoleDefinitions(cmd, "roleName eq '"+strings.ReplaceAll(ref, "'", "''")+"'")
	if err != nil {
		return nil, err
	}
	if len(roles) != 1 {
		return nil, &exitError{code: 1, msg: fmt.Sprintf("error: no role named %q at %s", ref, rc.scope)}
	}
	return roles[0], nil
}

func runRoleDefinitionList(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	rc, err := newRoleClients(cmd)
	if err != nil {
		return err
	}
	var clauses []string
	if n, _ := cmd.Flags().GetString("name"); n != "" {
		clauses = append(clauses, "roleName eq '"+strings.ReplaceAll(n, "'", "''")+"'")
	}
	if c, _ := cmd.Flags().GetBool("custom-role-only"); c {
		clauses = append(clauses, "type eq 'CustomRole'")
	}
	roles, err := rc.listRoleDefinitions(cmd, strings.Join(clauses, " and "))
	if err != nil {
		return err
	}
	return printRoleDefinitions(cmd, format, roles, true)
}

func runRoleDefinitionShow(cmd *cobra.Command, args []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	rc, err := newRoleClients(cmd)
	if err != nil {
		return err
	}
	rd, err := rc.findRole(cmd, args[0])
	if err != nil {
		return err
	}
	return printRoleDefinitions(cmd, format, []*armauthorization.RoleDefinition{rd}, false)
}

func printRoleDefinitions(cmd *cobra.Command, format cliout.Format, roles []*armauthorization.RoleDefinition, list bool) error {
	if format == cliout.JSON {
		return writeJSONItems(cmd, roles, list)
	}
	rows := make([][]string, 0, len(roles))
	for _, r := range roles {
		var name, typ, desc string
		if p := r.Properties; p != nil {
			name, typ, desc = deref(p.RoleName), deref(p.RoleType), deref(p.Description)
		}
		if len(desc) > 60 {
			desc = desc[:57] + "..."
		}
		rows = append(rows, []string{name, deref(r.Name), typ, desc})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"NAME", "GUID", "TYPE", "DESCRIPTION"}, rows)
}
