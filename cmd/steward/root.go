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

It evaluates Azure Policy offline (steward policy), and runs an embedded,
Azure-compatible cloud for platform teams: resource-group vending inside
guardrails, delegated role assignments that cannot escalate, policy compliance
across subscriptions with alerts, certificate-based identities with a vault that
signs without exporting keys, and template checks before deployment.

Output is a table by default; pass --output json for machine-readable output.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringP("output", "o", string(cliout.Table), "output format: table or json (some commands also take csv or sarif)")
	for _, f := range subcommands {
		root.AddCommand(f())
	}
	return root
}

// outputFormat reads the persistent --output flag, accepting the formats
// given (table and json when none are).
func outputFormat(cmd *cobra.Command, allowed ...cliout.Format) (cliout.Format, error) {
	s, _ := cmd.Flags().GetString("output")
	return cliout.ParseFormat(s, allowed...)
}
