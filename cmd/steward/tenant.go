package main

import (
	"net/http"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/identity/graph"
)

func init() { register(newTenantCmd) }

func newTenantCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tenant",
		Short: "Create and list directory tenants",
		Long: `tenant creates more directory tenants beside the home tenant, for
multi-tenant applications (an app registered in one tenant, consented to in
another with "steward identity sp create APPID"). Creating a tenant makes an
administrator service principal for it, Global Administrator there, whose
client secret is shown once. Only a Global Administrator of the home tenant
may create or list tenants.`,
	}
	create := leaf("create NAME", "Create a tenant and its administrator",
		`  steward tenant create Fabrikam --domain fabrikam.test
  steward tenant create Fabrikam -o json > fabrikam.json`,
		cobra.ExactArgs(1), func(cmd *cobra.Command, g *graphClient, f cliout.Format, a []string) error {
			domains, _ := cmd.Flags().GetStringArray("domain")
			var out map[string]any
			body := map[string]any{"displayName": a[0], "domains": domains}
			if err := g.do(cmd.Context(), http.MethodPost, "/"+graph.TenantsPath, body, &out); err != nil {
				return err
			}
			return printObjects(cmd, f, []map[string]any{out}, true, "tenantId", "displayName", "clientId", "clientSecret")
		})
	create.Flags().StringArray("domain", nil, "domain name of the tenant, for its users' UPNs (repeatable)")
	list := leaf("list", "List tenants", "  steward tenant list",
		cobra.NoArgs, func(cmd *cobra.Command, g *graphClient, f cliout.Format, _ []string) error {
			var out struct {
				Value []map[string]any `json:"value"`
			}
			if err := g.do(cmd.Context(), http.MethodGet, "/"+graph.TenantsPath, nil, &out); err != nil {
				return err
			}
			return printObjects(cmd, f, out.Value, false, "tenantId", "displayName", "domains", "home")
		})
	cmd.AddCommand(create, list)
	return cmd
}
