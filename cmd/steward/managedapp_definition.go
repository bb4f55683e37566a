package main

import (
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/spf13/cobra"
)

func newManagedAppDefinitionCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "definition", Short: "Manage managed application definitions"}
	create := &cobra.Command{Use: "create NAME", Short: "Create or update a managed application definition", Args: cobra.ExactArgs(1), RunE: runDefCreate,
		Example: `  steward managedapp definition create def1 -g offers -l westeurope --lock-level ReadOnly \
    --main-template mainTemplate.json --create-ui-definition createUiDefinition.json \
    --authorizations 3f1c...:b24988ac-6180-42a0-ab88-20f7382dd24c \
    --notification-uri https://publisher.example/hooks?sig=s3cret`}
	create.Flags().StringP("location", "l", "", "location, such as westeurope (required)")
	create.Flags().String("lock-level", "", "ReadOnly, CanNotDelete or None (required)")
	create.Flags().String("display-name", "", "display name")
	create.Flags().String("description", "", "description")
	create.Flags().String("main-template", "", "the package's mainTemplate: JSON, @FILE or a file (required)")
	create.Flags().String("create-ui-definition", "", "the package's createUiDefinition: JSON, @FILE or a file")
	create.Flags().StringArray("authorizations", nil, "publisher principal as principalObjectId:roleDefinitionId (repeatable)")
	create.Flags().String("policies", "", `policies to assign in the managed resource group, as JSON [{"name","policyDefinitionId","parameters"}], @FILE or a file`)
	create.Flags().String("notification-uri", "", "endpoint that receives the lifecycle notifications (Steward posts to URI/resource)")
	create.Flags().String("deployment-mode", "", "Incremental or Complete")
	create.Flags().String("management-mode", "Managed", "Managed or Unmanaged; it cannot change once the definition exists")
	create.Flags().Bool("disabled", false, "create the definition disabled (isEnabled false)")
	solutionsCommands(cmd, create, solutionsKind{
		typ: "applicationDefinitions", noun: "managed application definition", command: "managedapp definition",
		group: "offers", name: "def1",
	})
	return cmd
}

func runDefCreate(cmd *cobra.Command, args []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	loc, err := requireFlag(cmd, "location")
	if err != nil {
		return err
	}
	lock, err := requireFlag(cmd, "lock-level")
	if err != nil {
		return err
	}
	tmplArg, err := requireFlag(cmd, "main-template")
	if err != nil {
		return err
	}
	props := map[string]any{"lockLevel": lock}
	var tmpl map[string]any
	if err := jsonArg("main-template", tmplArg, &tmpl); err != nil {
		return err
	}
	props["mainTemplate"] = tmpl
	if s, _ := cmd.Flags().GetString("create-ui-definition"); s != "" {
		var ui map[string]any
		if err := jsonArg("create-ui-definition", s, &ui); err != nil {
			return err
		}
		props["createUiDefinition"] = ui
	}
	for flag, key := range map[string]string{"display-name": "displayName", "description": "description"} {
		if s, _ := cmd.Flags().GetString(flag); s != "" {
			props[key] = s
		}
	}
	auths := []any{}
	pairs, _ := cmd.Flags().GetStringArray("authorizations")
	for _, p := range pairs {
		principal, role, ok := strings.Cut(p, ":")
		if !ok || principal == "" || role == "" {
			return usageError("--authorizations %q: want principalObjectId:roleDefinitionId", p)
		}
		auths = append(auths, map[string]any{"principalId": principal, "roleDefinitionId": role})
	}
	props["authorizations"] = auths
	if s, _ := cmd.Flags().GetString("policies"); s != "" {
		var pol []any
		if err := jsonArg("policies", s, &pol); err != nil {
			return err
		}
		props["policies"] = pol
	}
	if s, _ := cmd.Flags().GetString("notification-uri"); s != "" {
		props["notificationPolicy"] = map[string]any{"notificationEndpoints": []any{map[string]any{"uri": s}}}
	}
	if s, _ := cmd.Flags().GetString("deployment-mode"); s != "" {
		props["deploymentPolicy"] = map[string]any{"deploymentMode": s}
	}
	if s, _ := cmd.Flags().GetString("management-mode"); s != "" {
		props["managementPolicy"] = map[string]any{"mode": s}
	}
	if off, _ := cmd.Flags().GetBool("disabled"); off {
		props["isEnabled"] = false
	}
	c, sub, err := resourcesClient(cmd)
	if err != nil {
		return err
	}
	id, err := solutionsID(cmd, sub, "applicationDefinitions", args[0])
	if err != nil {
		return err
	}
	out, err := createByID(cmd, c, id, armresources.GenericResource{Location: to.Ptr(loc), Properties: props})
	if err != nil {
		return err
	}
	return printSolutions(cmd, format, []map[string]any{out}, false)
}
