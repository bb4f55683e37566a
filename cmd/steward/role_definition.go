package main

import (
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/google/uuid"
	"github.com/spf13/cobra"
)

// newRoleDefinitionWriteCmds are `role definition create` and `delete`.
func newRoleDefinitionWriteCmds() []*cobra.Command {
	create := &cobra.Command{Use: "create", Short: "Create or update a custom role definition", Args: cobra.NoArgs, RunE: runRoleDefinitionCreate,
		Long: `create takes the role in the format of "az role definition create": a JSON
object with Name, Description, Actions, NotActions, DataActions,
NotDataActions and AssignableScopes (an ID or roleName updates that role).`,
		Example: `  steward role definition create --role-definition '{"Name":"Site Reader","Actions":["Microsoft.Web/sites/read"],
    "AssignableScopes":["/subscriptions/'$AZURE_SUBSCRIPTION_ID'"]}'
  steward role definition create --role-definition @role.json`}
	create.Flags().String("role-definition", "", "the role: JSON, @FILE or a file path (required)")
	del := &cobra.Command{Use: "delete NAME|GUID|ID", Short: "Delete a custom role definition", Args: cobra.ExactArgs(1), RunE: runRoleDefinitionDelete,
		Example: `  steward role definition delete "Site Reader"`}
	return []*cobra.Command{create, del}
}

// azRoleDefinition is the role format of az role definition create.
type azRoleDefinition struct {
	ID               string   `json:"id"`
	Name             string   `json:"Name"`
	RoleName         string   `json:"roleName"`
	Description      string   `json:"Description"`
	Actions          []string `json:"Actions"`
	NotActions       []string `json:"NotActions"`
	DataActions      []string `json:"DataActions"`
	NotDataActions   []string `json:"NotDataActions"`
	AssignableScopes []string `json:"AssignableScopes"`
}

func ptrs(ss []string) []*string {
	out := make([]*string, 0, len(ss))
	for _, s := range ss {
		out = append(out, to.Ptr(s))
	}
	return out
}

func runRoleDefinitionCreate(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	arg, err := requireFlag(cmd, "role-definition")
	if err != nil {
		return err
	}
	var in azRoleDefinition
	if err := jsonArg("role-definition", arg, &in); err != nil {
		return err
	}
	if in.Name == "" {
		in.Name = in.RoleName
	}
	if in.Name == "" || len(in.AssignableScopes) == 0 {
		return usageError("--role-definition: Name and AssignableScopes are required")
	}
	rc, err := newRoleClients(cmd)
	if err != nil {
		return err
	}
	guid := lastSegment(in.ID)
	if guid == "" {
		guid = uuid.NewString()
	}
	scope := in.AssignableScopes[0]
	rd := armauthorization.RoleDefinition{Properties: &armauthorization.RoleDefinitionProperties{
		RoleName: to.Ptr(in.Name), Description: to.Ptr(in.Description), RoleType: to.Ptr("CustomRole"),
		AssignableScopes: ptrs(in.AssignableScopes),
		Permissions: []*armauthorization.Permission{{Actions: ptrs(in.Actions), NotActions: ptrs(in.NotActions),
			DataActions: ptrs(in.DataActions), NotDataActions: ptrs(in.NotDataActions)}},
	}}
	resp, err := rc.defs.CreateOrUpdate(cmd.Context(), sdkScope(scope), guid, rd, nil)
	if err != nil {
		return apiError(err)
	}
	return printRoleDefinitions(cmd, format, []*armauthorization.RoleDefinition{&resp.RoleDefinition}, false)
}

func runRoleDefinitionDelete(cmd *cobra.Command, args []string) error {
	rc, err := newRoleClients(cmd)
	if err != nil {
		return err
	}
	rd, err := rc.findRole(cmd, args[0])
	if err != nil {
		return err
	}
	if rd.Properties != nil && strings.EqualFold(deref(rd.Properties.RoleType), "BuiltInRole") {
		return &exitError{code: exitNo, msg: "error: " + args[0] + " is a built-in role and cannot be deleted"}
	}
	scope := rc.scope
	if rd.Properties != nil && len(rd.Properties.AssignableScopes) > 0 {
		scope = deref(rd.Properties.AssignableScopes[0])
	}
	if _, err := rc.defs.Delete(cmd.Context(), sdkScope(scope), deref(rd.Name), nil); err != nil {
		return apiError(err)
	}
	return printResult(cmd, actionResult{Name: args[0], ID: deref(rd.ID), Result: "deleted"})
}
