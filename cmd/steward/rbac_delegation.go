package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/rbac"
)

func newRbacDelegationCmd() *cobra.Command {
	var q delegationQuery
	var policies []string
	cmd := &cobra.Command{
		Use:   "delegation --principal P --scope S",
		Short: "Enumerate the role assignments a principal can create at a scope",
		Long: `For a principal (with its groups), decide for every role in the catalog,
every principal type (User, Group, ServicePrincipal) and every target
(any principal, the principal itself, and each --target) whether a
role-assignment write at the scope is allowed by RBAC and its conditions.

The roles, assignments and hierarchy come from a state file (--state), or,
with --data, from the store of a Steward (read in process, so it runs
beside "steward serve"), whose policy assignments are then consulted as a
real write would be.

Escalation paths are flagged: the principal can grant itself, one of its
groups, or anyone a role that holds Microsoft.Authorization writes, or an
Owner-equivalent role. Exit status 1 when there is at least one.

With --policy, grants that RBAC allows are also evaluated, as the
Microsoft.Authorization/roleAssignments resource they would create, against
Azure Policy definitions; a deny effect refuses them.`,
		Example: `  steward rbac delegation --state examples/rbac/state.json \
    --principal 5eed0004-0000-0000-0000-00000000a001 \
    --scope /subscriptions/5eed0004-0000-0000-0000-000000000001/resourceGroups/team-rg --allowed
  steward rbac delegation --data ~/steward-data --principal 5eed0004-0000-0000-0000-00000000a001 \
    --scope /subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/team-rg`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := outputFormat(cmd)
			if err != nil {
				return err
			}
			if q.principal == "" || q.scope == "" {
				return usageError("--principal and --scope are required")
			}
			state, _ := cmd.Flags().GetString("state")
			if state == "" && (cmd.Flags().Changed("data") || cmd.Parent().Name() == "role") {
				if len(policies) > 0 {
					return usageError("--policy applies to a state file; with --data the Steward's policy assignments are consulted")
				}
				return delegationFromStore(cmd, format, q)
			}
			if state != "" && cmd.Flags().Changed("data") {
				return usageError("give --state or --data, not both")
			}
			st, _, err := loadRbacState(cmd)
			if err != nil {
				return err
			}
			e, err := st.Engine()
			if err != nil {
				return err
			}
			pols, err := loadRbacPolicies(policies)
			if err != nil {
				return err
			}
			var policy rbac.RoleAssignmentPolicy
			if pols != nil {
				policy = pols
			}
			req := q.request(policy)
			req.Groups = append(st.GroupsOf(q.principal), q.groups...)
			rep, err := e.Analyze(cmd.Context(), req)
			if err != nil {
				return err
			}
			return printDelegation(cmd, format, rep, q.allowedOnly)
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.principal, "principal", "", "the delegated principal's object ID")
	f.StringVar(&q.scope, "scope", "", "the scope role assignments would be created at")
	f.StringArrayVar(&q.groups, "group", nil, "a group the principal belongs to (repeatable), in addition to the state file's")
	f.StringArrayVar(&q.targets, "target", nil, "a principal to test as assignee (repeatable), besides any and self")
	f.StringArrayVar(&q.roles, "role", nil, "limit to this role: name, GUID or ID (repeatable)")
	f.StringArrayVar(&q.types, "type", nil, "principal type to test (repeatable; default User, Group, ServicePrincipal)")
	f.StringArrayVar(&policies, "policy", nil, "Azure Policy definition to consult for each grant (repeatable); a file may wrap it as {\"definition\": ..., \"parameters\": ...}")
	f.BoolVar(&q.allowedOnly, "allowed", false, "show only rows with at least one allowed grant")
	f.String("data", "", "read a Steward's data directory instead of --state (also STEWARD_DATA)")
	return cmd
}

// writeDelegationTable prints the matrix (role x principal type by target)
// and then the escalations.
func writeDelegationTable(w io.Writer, rep *rbac.DelegationReport, allowedOnly bool) error {
	type rowKey struct{ role, ptype string }
	var order []rowKey
	cells := map[rowKey]map[string]string{}
	var cols []string
	seenCol := map[string]bool{}
	for _, c := range rep.Cells {
		k := rowKey{c.RoleName, c.PrincipalType}
		if cells[k] == nil {
			cells[k] = map[string]string{}
			order = append(order, k)
		}
		col := c.TargetKind
		if c.TargetKind == rbac.TargetListed || c.TargetKind == rbac.TargetGroup {
			col = c.Target
		}
		if !seenCol[col] {
			seenCol[col] = true
			cols = append(cols, col)
		}
		v := "allowed"
		if !c.Allowed {
			v = "refused:" + c.RefusedBy
		}
		cells[k][col] = v
	}
	header := append([]string{"role", "type"}, cols...)
	var rows [][]string
	for _, k := range order {
		row := []string{k.role, k.ptype}
		some := false
		for _, col := range cols {
			row = append(row, cells[k][col])
			some = some || cells[k][col] == "allowed"
		}
		if allowedOnly && !some {
			continue
		}
		rows = append(rows, row)
	}
	if err := cliout.WriteTable(w, header, rows); err != nil {
		return err
	}
	if len(rep.Escalations) == 0 {
		_, err := fmt.Fprintln(w, "\nno escalation paths")
		return err
	}
	fmt.Fprintf(w, "\n%d escalation paths:\n", len(rep.Escalations))
	var esc [][]string
	for _, x := range rep.Escalations {
		esc = append(esc, []string{x.Kind, x.RoleName, x.PrincipalType, x.TargetKind, x.Target})
	}
	return cliout.WriteTable(w, []string{"kind", "role", "type", "target", "id"}, esc)
}
