package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/rbac"
	"github.com/steward-gov/steward/internal/rbac/abac"
)

func init() { register(newRbacCmd) }

func newRbacCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rbac",
		Short: "Azure RBAC: access checks, role catalog and delegation analysis",
		Long: `Evaluate Azure role-based access control offline, exactly as ARM does:
role and deny assignments, scope inheritance through management groups, and
role-assignment conditions (ABAC). The assignments come from a JSON state
file (--state; see docs/rbac.md for its format), or for delegation from a
Steward's data directory (--data).`,
	}
	cmd.PersistentFlags().String("state", "", "JSON state file with role definitions, assignments, groups and hierarchy")
	cmd.AddCommand(newRbacCanCmd(), newRbacDelegationCmd(), newRbacRolesCmd())
	return cmd
}

// loadRbacState reads --state; without the flag the state is empty
// (built-in roles only). A file that does not exist or does not parse is
// an input error (exit 2), never an empty state.
func loadRbacState(cmd *cobra.Command) (*rbac.State, string, error) {
	return readRbacState(cmd, rbac.LoadState)
}

func readRbacState(cmd *cobra.Command, load func(string) (*rbac.State, error)) (*rbac.State, string, error) {
	path, _ := cmd.Flags().GetString("state")
	if path == "" {
		return &rbac.State{}, "", nil
	}
	s, err := load(path)
	if err != nil {
		return nil, path, &exitError{code: 2, msg: "--state: " + err.Error()}
	}
	return s, path, nil
}

// parseAttrFlags turns repeated name=value flags into attribute values; a
// name given twice gets both values.
func parseAttrFlags(attrs rbac.Attributes, src abac.Source, flags []string) error {
	for _, f := range flags {
		name, value, ok := strings.Cut(f, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return fmt.Errorf("attribute %q: want name=value", f)
		}
		if attrs[src] == nil {
			attrs[src] = map[string][]string{}
		}
		attrs[src][name] = append(attrs[src][name], value)
	}
	return nil
}

func newRbacCanCmd() *cobra.Command {
	var groups, request, resource, principal, environment []string
	var data bool
	var subOp string
	cmd := &cobra.Command{
		Use:   "can PRINCIPAL ACTION SCOPE",
		Short: "Check whether a principal may perform an action at a scope",
		Long: `Check whether a principal may perform an action at a scope, and say why:
the role assignment and permission that grant it, the deny assignment that
blocks it, or the condition that was not met. The principal's groups come
from the state file (transitively) plus any --group. Exit status 1 when
access is denied.

Condition attributes are given as name=value, for example
  --request Microsoft.Authorization/roleAssignments:RoleDefinitionId=8e3af657-a8ff-443c-a75c-2fe8c4bcb635`,
		Example: `  steward rbac can --state examples/rbac/state.json 5eed0004-0000-0000-0000-00000000a001 \
    Microsoft.Compute/virtualMachines/write /subscriptions/5eed0004-0000-0000-0000-000000000001/resourceGroups/team-rg`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(cmd)
			if err != nil {
				return err
			}
			st, _, err := loadRbacState(cmd)
			if err != nil {
				return err
			}
			e, err := st.Engine()
			if err != nil {
				return err
			}
			attrs := rbac.Attributes{}
			for src, list := range map[abac.Source][]string{abac.Request: request, abac.Resource: resource,
				abac.Principal: principal, abac.Environment: environment} {
				if err := parseAttrFlags(attrs, src, list); err != nil {
					return err
				}
			}
			req := rbac.Request{PrincipalID: args[0], Groups: append(st.GroupsOf(args[0]), groups...), Action: args[1],
				Scope: args[2], DataAction: data, SubOperation: subOp, Attributes: attrs}
			d, err := e.Check(cmd.Context(), req)
			if err != nil {
				return err
			}
			if err := writeDecision(cmd.OutOrStdout(), format, d); err != nil {
				return err
			}
			if !d.Allowed {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&groups, "group", nil, "a group the principal belongs to (repeatable), in addition to the state file's")
	f.BoolVar(&data, "data-action", false, "ACTION is a data action (matched against dataActions)")
	f.StringVar(&subOp, "suboperation", "", "the request's suboperation, for SubOperationMatches")
	f.StringArrayVar(&request, "request", nil, "@Request attribute as name=value (repeatable)")
	f.StringArrayVar(&resource, "resource", nil, "@Resource attribute as name=value (repeatable)")
	f.StringArrayVar(&principal, "principal-attr", nil, "@Principal attribute as name=value (repeatable)")
	f.StringArrayVar(&environment, "environment", nil, "@Environment attribute as name=value (repeatable)")
	return cmd
}

func writeDecision(w io.Writer, format cliout.Format, d rbac.Decision) error {
	if format == cliout.JSON {
		return cliout.WriteJSON(w, d)
	}
	verdict := "denied"
	if d.Allowed {
		verdict = "allowed"
	}
	rows := [][]string{{"decision", verdict}, {"reason", d.Reason}}
	if g := d.Grant; g != nil {
		rows = append(rows, []string{"assignment", g.AssignmentID}, []string{"role", g.RoleName + " (" + g.RoleDefinitionID + ")"},
			[]string{"permission", g.Permission})
	}
	if x := d.Deny; x != nil {
		rows = append(rows, []string{"deny assignment", x.DenyAssignmentID}, []string{"permission", x.Permission})
	}
	for _, f := range d.FailedConditions {
		msg := f.RoleName + " via " + f.AssignmentID + " (condition on " + f.On + ")"
		if f.Error != "" {
			msg += ": " + f.Error
		}
		rows = append(rows, []string{"failed condition", msg})
	}
	return cliout.WriteTable(w, []string{"field", "value"}, rows)
}
