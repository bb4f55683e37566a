package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/policy"
)

func newPolicyAliasesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "aliases",
		Short: "List, refresh and extend the policy alias table",
		Long: `Steward ships Azure's policy alias table in the binary. "update" replaces it
with a fresher one exported from Azure, "import" stores extra tables layered
over it, and "list" shows what policy commands resolve.`,
	}
	cmd.AddCommand(newPolicyAliasesListCmd(), newPolicyAliasesUpdateCmd(), newPolicyAliasesImportCmd())
	return cmd
}

func newPolicyAliasesListCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the aliases policy commands resolve",
		Long: `list prints the aliases of the table policy commands use (the built-in table
or the one "update" stored, the imported tables and --aliases), with the JSON
path each stands for. --namespace keeps one resource provider's aliases,
--filter those whose name contains the text (both ignore case).`,
		Example: `  steward policy aliases list --namespace Microsoft.Network --filter securityRules
  steward policy aliases list --filter supportsHttpsTrafficOnly -o json`,
		Args: cobra.NoArgs,
		RunE: runPolicyAliasesList,
	}
	cmd.Flags().String("namespace", "", "only aliases of this resource provider namespace (e.g. Microsoft.Storage)")
	cmd.Flags().String("filter", "", "only aliases whose name contains this text")
	cmd.Flags().String("aliases", "", "alias table file (CSV or provider JSON) added over the built-in table")
	return cmd
}

// aliasRow is one alias in list's output.
type aliasRow struct {
	Name         string `json:"name"`
	ResourceType string `json:"resourceType"`
	DefaultPath  string `json:"defaultPath"`
	Modifiable   bool   `json:"modifiable"`
}

func runPolicyAliasesList(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	t, err := loadAliases(cmd)
	if err != nil {
		return err
	}
	ns, _ := cmd.Flags().GetString("namespace")
	filter, _ := cmd.Flags().GetString("filter")
	ns, filter = strings.ToLower(strings.TrimSuffix(ns, "/")), strings.ToLower(filter)
	rows := []aliasRow{}
	for _, a := range t.All() {
		ln := strings.ToLower(a.Name)
		if ns != "" && !strings.HasPrefix(ln, ns+"/") {
			continue
		}
		if filter != "" && !strings.Contains(ln, filter) {
			continue
		}
		rows = append(rows, aliasRow{Name: a.Name, ResourceType: a.ResourceType, DefaultPath: a.DefaultPath, Modifiable: a.Modifiable})
	}
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), rows)
	}
	if len(rows) == 0 {
		return &exitError{code: 1, msg: "no alias matches"}
	}
	table := make([][]string, 0, len(rows))
	for _, r := range rows {
		table = append(table, []string{r.Name, r.DefaultPath})
	}
	return cliout.WriteTable(cmd.OutOrStdout(), []string{"alias", "path"}, table)
}

func newPolicyAliasesUpdateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "update FILE",
		Short: "Replace the built-in alias table with one exported from Azure",
		Long: `update reads the JSON that "az provider list --expand resourceTypes/aliases"
prints (the REST form {"value": [...]} and the CSV form alias,path are accepted
too), checks it, and stores it gzip-compressed as
$XDG_CONFIG_HOME/steward/policy-aliases.json.gz. Every later policy command and
"steward serve" use it instead of the table built into the binary; delete the
file to go back to the built-in table. The provider JSON also carries versioned
paths and which aliases "modify" may change, which the built-in CSV lacks.`,
		Example: `  az provider list --expand resourceTypes/aliases > aliases.json
  steward policy aliases update aliases.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(cmd)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			dst, err := policy.AliasOverrideFile()
			if err != nil {
				return err
			}
			n, err := policy.UpdateAliases(data, dst)
			if err != nil {
				return &exitError{code: 2, msg: fmt.Sprintf("%s: %v", args[0], err)}
			}
			if format == cliout.JSON {
				return cliout.WriteJSON(cmd.OutOrStdout(), map[string]any{"path": dst, "aliases": n})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "stored %d aliases in %s; policy commands use them instead of the built-in table\n", n, dst)
			return nil
		},
	}
}

func newPolicyAliasesImportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE",
		Short: "Store an extra alias table layered over the built-in one",
		Long: `import checks an alias table (CSV alias,path or "az provider list --expand
resourceTypes/aliases" JSON) and stores it in the user's configuration
directory ($XDG_CONFIG_HOME/steward/aliases), where every later policy command
loads it over the built-in table: its aliases are added, or replace built-in
ones of the same name. Importing a file with the same name replaces it.`,
		Example: `  steward policy aliases import my-provider-aliases.csv`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := policy.DefaultAliasDir()
			if err != nil {
				return err
			}
			dst, n, err := policy.ImportAliases(args[0], dir)
			if err != nil {
				return err
			}
			format, err := outputFormat(cmd)
			if err != nil {
				return err
			}
			if format == cliout.JSON {
				return cliout.WriteJSON(cmd.OutOrStdout(), map[string]any{"path": dst, "aliases": n})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported %d aliases to %s\n", n, dst)
			return nil
		},
	}
}
