package main

import (
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
)

// subcommands are the top-level command constructors. Each command group
// lives in its own file and adds itself here from an init function, so
// groups can be added without editing this file.
var subcommands []func() *cobra.Command

func register(f func() *cobra.Command) { subcommands = append(subcommands, f) }

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "steward",
		Short: "Self-hosted governance control plane for Azure-style clouds",
		Long: `Steward is a governance control plane for Azure-style clouds in one binary.

It evaluates Azure Policy and Azure RBAC offline (steward policy, steward rbac),
and runs an embedded, Azure-compatible cloud (steward serve): a token service,
a management API with RBAC and policy enforcement, continuous compliance, a
Key Vault-compatible vault and Log Analytics-compatible ingestion and queries.
The other commands talk to a running "steward serve".

Output is a table by default; pass --output json (-o json) for JSON.

` + exitCodeHelp,
		Example: `  steward serve --data ~/steward-data &
  eval "$(steward env --data ~/steward-data)"
  steward group create rg-demo -l westeurope
  steward policy test examples/policy`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringP("output", "o", string(cliout.Table), "output format: table or json (some commands also take csv or sarif)")
	for _, f := range subcommands {
		root.AddCommand(f())
	}
	refuseUnknownSubcommands(root)
	applyExamples(root)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError("%v (see %q)", err, c.CommandPath()+" --help")
	})
	return root
}

// refuseUnknownSubcommands makes every command that only groups others
// refuse an argument it does not know (exit 2) instead of printing its help
// and succeeding; without arguments it prints its help.
func refuseUnknownSubcommands(c *cobra.Command) {
	for _, sub := range c.Commands() {
		refuseUnknownSubcommands(sub)
	}
	if !c.HasSubCommands() || c.Runnable() {
		return
	}
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageError("unknown command %q for %q (see %q)", args[0], cmd.CommandPath(), cmd.CommandPath()+" --help")
		}
		return cmd.Help()
	}
}

// outputFormat reads the persistent --output flag, accepting the formats
// given (table and json when none are).
func outputFormat(cmd *cobra.Command, allowed ...cliout.Format) (cliout.Format, error) {
	s, _ := cmd.Flags().GetString("output")
	f, err := cliout.ParseFormat(s, allowed...)
	if err != nil {
		return f, usageError("%v", err)
	}
	return f, nil
}
