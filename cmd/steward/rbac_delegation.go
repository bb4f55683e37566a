package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/rbac"
)

func newRbacDelegationCmd() *cobra.Command {
	var principal, scope string
	var groups, targets, roles, types, policies []string
	var allowedOnly bool
	cmd := &cobra.Command{
		Use:   "delegation --principal P --scope S",
		Short: "Enumerate the role assignments a principal can create at a scope",
		Long: `For a principal (with its groups), decide for every role in the catalog,
every principal type (User, Group, ServicePrincipal) and every target
(any principal, the principal itself, and each --target) whether a
role-assignment write at the scope is allowed by RBAC and its conditions.

Escalation paths are flagged: the principal can grant itself, one of its
groups, or anyone a role that holds Microsoft.Authorization writes, or an
Owner-equivalent role. Exit status 1 when there is at least one.

With --policy, grants that RBAC allows are also evaluated, as the
Microsoft.Authorization/roleAssignments resource they would create, against
Azure Policy definitions; a deny effect refuses them.`,
		Example: `  steward rbac delegation --state examples/rbac/state.json \
    --principal 5eed0004-0000-0000-0000-00000000a001 \
    --scope /subscriptions/5eed0004-0000-0000-0000-000000000001/resourceGroups/team-rg --allowed`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := outputFormat(cmd)
			if err != nil {
				return err
			}
			if principal == "" || scope == "" {
				return fmt.Errorf("--principal and --scope are required")
			}
			st, _, err := loadRbacState(cmd)
			if err != nil {
				return err
			}
			e, err := st.Engine()
			if err != nil {
				return err
			}
			req := rbac.DelegationRequest{PrincipalID: principal, Groups: append(st.GroupsOf(principal), groups...),
				Scope: scope, Roles: roles, PrincipalTypes: types, Targets: targets}
			pols, err := loadRbacPolicies(policies)
			if err != nil {
				return err
			}
			if pols != nil {
				req.Policy = pols
			}
			rep, err := e.Analyze(cmd.Context(), req)
			if err != nil {
				return err
			}
			if format == cliout.JSON {
				err = cliout.WriteJSON(cmd.OutOrStdout(), rep)
			} else {
				err = writeDelegationTable(cmd.OutOrStdout(), rep, allowedOnly)
			}
			if err != nil {
				return err
			}
			if len(rep.Escalations) > 0 {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&principal, "principal", "", "the delegated principal's object ID")
	f.StringVar(&scope, "scope", "", "the scope role assignments would be created at")
	f.StringArrayVar(&groups, "group", nil, "a group the principal belongs to (repeatable), in addition to the state file's")
	f.StringArrayVar(&targets, "target", nil, "a principal to test as assignee (repeatable), besides any and self")
	f.StringArrayVar(&roles, "role", nil, "limit to this role: name, GUID or ID (repeatable)")
	f.StringArrayVar(&types, "type", nil, "principal type to test (repeatable; default User, Group, ServicePrincipal)")
	f.StringArrayVar(&policies, "policy", nil, "Azure Policy definition to consult for each grant (repeatable); a file may wrap it as {\"definition\": ..., \"parameters\": ...}")
	f.BoolVar(&allowedOnly, "allowed", false, "show only rows with at least one allowed grant")
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
