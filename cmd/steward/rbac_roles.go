package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/rbac"
)

func newRbacRolesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "roles",
		Short: "List, show and import role definitions",
	}
	cmd.AddCommand(newRbacRolesListCmd(), newRbacRolesShowCmd(), newRbacRolesImportCmd())
	return cmd
}

// formatAndCatalog reads --output and builds the catalog of built-in roles
// plus the state file's, which every roles subcommand but import needs.
func formatAndCatalog(cmd *cobra.Command) (cliout.Format, *rbac.Catalog, error) {
	format, err := outputFormat(cmd)
	if err != nil {
		return "", nil, err
	}
	st, _, err := loadRbacState(cmd)
	if err != nil {
		return "", nil, err
	}
	c, err := st.Catalog()
	return format, c, err
}

func newRbacRolesListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the built-in roles Steward ships and those in the state file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, c, err := formatAndCatalog(cmd)
			if err != nil {
				return err
			}
			list := c.List()
			if format == cliout.JSON {
				return cliout.WriteJSON(cmd.OutOrStdout(), map[string]any{"value": list})
			}
			rows := make([][]string, len(list))
			for i, rd := range list {
				rows[i] = []string{rd.RoleName, rd.Name, rd.Type, strings.Join(rd.AssignableScopes, " ")}
			}
			return cliout.WriteTable(cmd.OutOrStdout(), []string{"name", "id", "type", "assignable scopes"}, rows)
		},
	}
}

func newRbacRolesShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show ROLE",
		Short: "Show a role definition by name, GUID or ID",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, c, err := formatAndCatalog(cmd)
			if err != nil {
				return err
			}
			rd, ok := c.Find(args[0])
			if !ok {
				return &exitError{code: 1, msg: fmt.Sprintf("role %q not found (try steward rbac roles list)", args[0])}
			}
			if format == cliout.JSON {
				return cliout.WriteJSON(cmd.OutOrStdout(), rd)
			}
			return writeRoleTable(cmd.OutOrStdout(), rd)
		},
	}
}

func writeRoleTable(w io.Writer, rd *rbac.RoleDefinition) error {
	rows := [][]string{{"name", rd.RoleName}, {"id", rd.ID}, {"type", rd.Type}, {"description", rd.Description},
		{"assignable scopes", strings.Join(rd.AssignableScopes, " ")}}
	for i, p := range rd.Permissions {
		pre := fmt.Sprintf("permissions[%d].", i)
		for _, kv := range []struct {
			k string
			v []string
		}{{"actions", p.Actions}, {"notActions", p.NotActions}, {"dataActions", p.DataActions}, {"notDataActions", p.NotDataActions}} {
			if len(kv.v) > 0 {
				rows = append(rows, []string{pre + kv.k, strings.Join(kv.v, " ")})
			}
		}
		if p.Condition != "" {
			rows = append(rows, []string{pre + "condition", p.Condition})
		}
	}
	return cliout.WriteTable(w, []string{"field", "value"}, rows)
}

func newRbacRolesImportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE",
		Short: "Import role definitions into the state file",
		Long: `Import role definitions from FILE (use - for standard input) in the JSON
the ARM role-definitions list returns ({"value": [...]}), a plain array, or
a single definition. Custom roles are checked against Azure's custom-role
limits. The definitions are stored in the --state file, replacing any with
the same GUID.`,
		Example: `  az role definition list --custom-role-only true > roles.json
  steward rbac roles import --state state.json roles.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, path, err := readRbacState(cmd, rbac.LoadOrNewState)
			if err != nil {
				return err
			}
			if path == "" {
				return fmt.Errorf("roles import needs --state FILE to store the definitions in")
			}
			var in io.Reader = cmd.InOrStdin()
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			list, err := rbac.DecodeRoleDefinitions(in)
			if err != nil {
				return err
			}
			c, err := st.Catalog()
			if err != nil {
				return err
			}
			for _, rd := range list {
				if err := c.Add(rd); err != nil {
					return err
				}
				st.PutRoleDefinition(rd)
			}
			if err := st.Save(path); err != nil {
				return err
			}
			return printResult(cmd, actionResult{Name: path, Result: "imported", Detail: fmt.Sprintf("%d role definitions", len(list))})
		},
	}
}
