package main

import (
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/cloud/authorization"
	"github.com/steward-gov/steward/internal/cloud/policyprovider"
	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/rbac"
	"github.com/steward-gov/steward/internal/server"
	"github.com/steward-gov/steward/internal/store"
)

// openCloudReadOnly opens the store of a data directory and a Cloud over
// it with the authorization and policy providers, without serving and
// without touching bootstrap.json, so that it can run beside `steward
// serve` on the same directory.
func openCloudReadOnly(cmd *cobra.Command) (*cloud.Cloud, *policyprovider.Provider, func(), error) {
	dir := dataDir(cmd)
	info, err := identity.ReadBootstrap(dir)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w (start `steward serve --data %s` once)", dir, err, dir)
	}
	cfg := server.DefaultConfig()
	cfg.DataDir = dir
	st, err := store.Open(cmd.Context(), cfg.Store())
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := cloud.New(cloud.Options{Store: st, TenantID: info.TenantID,
		Authenticate: func(h http.Handler) http.Handler { return h }})
	if err == nil {
		err = authorization.Register(c)
	}
	var pp *policyprovider.Provider
	if err == nil {
		pp, err = policyprovider.Register(c, policyprovider.Options{})
	}
	if err == nil {
		err = c.Start(cmd.Context())
	}
	if err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	return c, pp, func() { st.Close() }, nil
}

// delegationQuery holds the flags of a delegation analysis.
type delegationQuery struct {
	principal, scope              string
	groups, targets, roles, types []string
	allowedOnly                   bool
}

// request is the analysis the flags ask for.
func (q *delegationQuery) request(policy rbac.RoleAssignmentPolicy) rbac.DelegationRequest {
	return rbac.DelegationRequest{PrincipalID: q.principal, Groups: q.groups, Scope: q.scope, Roles: q.roles,
		PrincipalTypes: q.types, Targets: q.targets, Policy: policy}
}

// printDelegation writes a report as the table or JSON and exits 1 when it
// holds an escalation path.
func printDelegation(cmd *cobra.Command, format cliout.Format, rep *rbac.DelegationReport, allowedOnly bool) error {
	write := func() error { return writeDelegationTable(cmd.OutOrStdout(), rep, allowedOnly) }
	if format == cliout.JSON {
		write = func() error { return cliout.WriteJSON(cmd.OutOrStdout(), rep) }
	}
	if err := write(); err != nil {
		return err
	}
	if len(rep.Escalations) > 0 {
		return &exitError{code: 1}
	}
	return nil
}

// newRoleDelegationCmd is `steward role delegation`: the delegation
// analysis of `steward rbac delegation`, run over a Steward's stored role
// definitions, role assignments, management-group hierarchy and policy
// assignments instead of a state file.
func newRoleDelegationCmd() *cobra.Command {
	var q delegationQuery
	cmd := &cobra.Command{
		Use:   "delegation --principal P --scope S",
		Short: "Enumerate the role assignments a principal can create, from a Steward's data",
		Long: `delegation opens the data directory of a Steward (SQLite, the default
store of "steward serve --data DIR") in process and decides, for every role,
principal type and target, whether the principal could create that role
assignment at the scope: RBAC with its conditions, then the policy
assignments stored there, as a real write would be decided. Exit status 1
when an escalation path is found.`,
		Example: `  steward role delegation --data ./steward-data --principal 5eed0004-0000-0000-0000-00000000a001 \
    --scope /subscriptions/5eed0004-0000-0000-0000-000000000001/resourceGroups/team-rg --allowed`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := outputFormat(cmd)
			if err != nil {
				return err
			}
			if q.principal == "" || q.scope == "" {
				return fmt.Errorf("--principal and --scope are required")
			}
			c, pp, closeStore, err := openCloudReadOnly(cmd)
			if err != nil {
				return err
			}
			defer closeStore()
			rep, err := c.Engine().Analyze(cmd.Context(), q.request(pp))
			if err != nil {
				return err
			}
			return printDelegation(cmd, format, rep, q.allowedOnly)
		},
	}
	f := cmd.Flags()
	f.String("data", "", "data directory of the Steward (also STEWARD_DATA; default $XDG_DATA_HOME/steward or ~/.local/share/steward)")
	for _, v := range []struct {
		p          *string
		name, help string
	}{{&q.principal, "principal", "the delegated principal's object ID"}, {&q.scope, "scope", "the scope role assignments would be created at"}} {
		f.StringVar(v.p, v.name, "", v.help)
	}
	for _, v := range []struct {
		p          *[]string
		name, help string
	}{
		{&q.groups, "group", "a group the principal belongs to (repeatable)"},
		{&q.targets, "target", "a principal to test as assignee (repeatable), besides any and self"},
		{&q.roles, "role", "limit to this role: name, GUID or ID (repeatable)"},
		{&q.types, "type", "principal type to test (repeatable; default User, Group, ServicePrincipal)"},
	} {
		f.StringArrayVar(v.p, v.name, nil, v.help)
	}
	f.BoolVar(&q.allowedOnly, "allowed", false, "show only rows with at least one allowed grant")
	return cmd
}
