package main

import (
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
)

func newRoleAssignmentCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "assignment", Short: "Create, list and delete role assignments"}
	create := &cobra.Command{Use: "create", Short: "Assign a role to a principal at a scope", Args: cobra.NoArgs, RunE: runRoleAssignmentCreate}
	create.Flags().String("assignee", "", "object ID of the principal (required)")
	create.Flags().String("assignee-principal-type", "User", "User, Group, ServicePrincipal or ForeignGroup (the API's default is User)")
	create.Flags().String("role", "", "role name, GUID or ID (required)")
	create.Flags().String("name", "", "assignment name (a GUID; default: a new one)")
	create.Flags().String("description", "", "description")
	create.Flags().String("condition", "", "ABAC condition (conditionVersion 2.0)")
	list := &cobra.Command{Use: "list", Short: "List role assignments at, above and below a scope", Args: cobra.NoArgs, RunE: runRoleAssignmentList}
	list.Flags().String("assignee", "", "only this principal's assignments")
	list.Flags().Bool("at-scope", false, "only assignments at the scope and above")
	del := &cobra.Command{Use: "delete", Short: "Delete role assignments by ID or by assignee and role", Args: cobra.NoArgs, RunE: runRoleAssignmentDelete}
	del.Flags().StringArray("ids", nil, "role assignment ID (repeatable)")
	del.Flags().String("assignee", "", "object ID of the principal")
	del.Flags().String("role", "", "role name, GUID or ID")
	for _, c := range []*cobra.Command{create, list, del} {
		addAPIFlags(c)
		c.Flags().String("scope", "", "scope (default: the subscription)")
		cmd.AddCommand(c)
	}
	return cmd
}

func runRoleAssignmentCreate(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	f := cmd.Flags()
	assignee, _ := f.GetString("assignee")
	role, _ := f.GetString("role")
	if assignee == "" || role == "" {
		return fmt.Errorf("--assignee and --role are required")
	}
	rc, err := newRoleClients(cmd)
	if err != nil {
		return err
	}
	rd, err := rc.findRole(cmd, role)
	if err != nil {
		return err
	}
	name, _ := f.GetString("name")
	if name == "" {
		name = uuid.NewString()
	}
	ptype, _ := f.GetString("assignee-principal-type")
	props := &armauthorization.RoleAssignmentProperties{RoleDefinitionID: rd.ID, PrincipalID: to.Ptr(assignee),
		PrincipalType: to.Ptr(armauthorization.PrincipalType(ptype))}
	if d, _ := f.GetString("description"); d != "" {
		props.Description = to.Ptr(d)
	}
	if c, _ := f.GetString("condition"); c != "" {
		props.Condition, props.ConditionVersion = to.Ptr(c), to.Ptr("2.0")
	}
	resp, err := rc.ras.Create(cmd.Context(), sdkScope(rc.scope), name, armauthorization.RoleAssignmentCreateParameters{Properties: props}, nil)
	if err != nil {
		return apiError(err)
	}
	return printRoleAssignments(cmd, format, []*armauthorization.RoleAssignment{&resp.RoleAssignment}, false)
}

// listAssignments pages through the role assignments of a scope.
func (rc *roleClients) listAssignments(cmd *cobra.Command, filter string) ([]*armauthorization.RoleAssignment, error) {
	opts := &armauthorization.RoleAssignmentsClientListForScopeOptions{}
	if filter != "" {
		opts.Filter = to.Ptr(filter)
	}
	return pageAll(cmd, rc.ras.NewListForScopePager(sdkScope(rc.scope), opts),
		func(r armauthorization.RoleAssignmentsClientListForScopeResponse) []*armauthorization.RoleAssignment {
			return r.Value
		})
}

func assignmentFilter(assignee string, atScope bool) string {
	var clauses []string
	if atScope {
		clauses = append(clauses, "atScope()")
	}
	if assignee != "" {
		clauses = append(clauses, "assignedTo('"+strings.ReplaceAll(assignee, "'", "''")+"')")
	}
	return strings.Join(clauses, " and ")
}

func runRoleAssignmentList(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	rc, err := newRoleClients(cmd)
	if err != nil {
		return err
	}
	assignee, _ := cmd.Flags().GetString("assignee")
	atScope, _ := cmd.Flags().GetBool("at-scope")
	ras, err := rc.listAssignments(cmd, assignmentFilter(assignee, atScope))
	if err != nil {
		return err
	}
	return printRoleAssignments(cmd, format, ras, true)
}

func runRoleAssignmentDelete(cmd *cobra.Command, _ []string) error {
	f := cmd.Flags()
	ids, _ := f.GetStringArray("ids")
	rc, err := newRoleClients(cmd)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		assignee, _ := f.GetString("assignee")
		role, _ := f.GetString("role")
		if assignee == "" {
			return fmt.Errorf("give --ids, or --assignee (with --role to pick one role)")
		}
		var guid string
		if role != "" {
			rd, err := rc.findRole(cmd, role)
			if err != nil {
				return err
			}
			guid = strings.ToLower(deref(rd.Name))
		}
		ras, err := rc.listAssignments(cmd, assignmentFilter(assignee, false))
		if err != nil {
			return err
		}
		for _, ra := range ras {
			p := ra.Properties
			if p == nil || !strings.EqualFold(deref(p.Scope), rc.scope) {
				continue
			}
			if guid == "" || strings.HasSuffix(strings.ToLower(deref(p.RoleDefinitionID)), guid) {
				ids = append(ids, deref(ra.ID))
			}
		}
		if len(ids) == 0 {
			return &exitError{code: 1, msg: "error: no matching role assignment at " + rc.scope}
		}
	}
	var done []actionResult
	for _, id := range ids {
		resp, err := rc.ras.DeleteByID(cmd.Context(), id, nil)
		if err != nil {
			return apiError(err)
		}
		if resp.ID == nil {
			// 204: there was nothing to delete.
			return notFoundError("no role assignment %s", id)
		}
		done = append(done, actionResult{Name: lastSegment(id), ID: id, Result: "deleted"})
	}
	return printResults(cmd, done, true)
}

func printRoleAssignments(cmd *cobra.Command, format cliout.Format, ras []*armauthorization.RoleAssignment, list bool) error {
	if format == cliout.JSON {
		return writeJSONItems(cmd, ras, list)
	}
	rows := make([][]string, 0, len(ras))
	for _, ra := range ras {
		var principal, ptype, role, scope string
		if p := ra.Properties; p != nil {
			principal, role, scope = deref(p.PrincipalID), deref(p.RoleDefinitionID), deref(p.Scope)
			if p.PrincipalType != nil {
				ptype = string(*p.PrincipalType)
			}
		}
		rows = append(rows, []string{deref(ra.Name), principal, ptype, role[strings.LastIndexByte(role, '/')+1:], scope})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"NAME", "PRINCIPAL", "TYPE", "ROLE", "SCOPE"}, rows)
}
