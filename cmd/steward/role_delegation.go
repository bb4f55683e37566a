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

// delegationFromStore runs the delegation analysis over a Steward's stored
// role definitions, role assignments, management-group hierarchy and policy
// assignments (steward rbac delegation --data DIR).
func delegationFromStore(cmd *cobra.Command, format cliout.Format, q delegationQuery) error {
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
}

// newRoleDelegationCmd keeps `steward role delegation` working as a hidden,
// deprecated alias of `steward rbac delegation --data DIR`, the one
// delegation command.
func newRoleDelegationCmd() *cobra.Command {
	cmd := newRbacDelegationCmd()
	cmd.Hidden = true
	cmd.PreRun = func(cmd *cobra.Command, _ []string) {
		fmt.Fprintln(cmd.ErrOrStderr(), `"steward role delegation" is deprecated: use "steward rbac delegation --data DIR"`)
	}
	return cmd
}
