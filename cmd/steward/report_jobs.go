package main

import (
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/reports"
)

func newReportJobsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "The last run of each scheduled report: status, duration, findings, errors",
		Long: `jobs shows the last run of each report that steward serve runs on a schedule
(serve --reports-every, --reports-workspace): when it ran, how long it took,
how many findings it had, how many incidents it opened and resolved, and its
error and notification error if any. It reads StewardReportRuns_CL from the
workspace the jobs write to, through the Log Analytics query API.`,
		Example: `  steward report jobs --workspace governance -g ops
  steward report jobs -w 2f6c0b9e-1d3a-4c5e-9f7a-0b1c2d3e4f5a -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return queryWorkspace(cmd, reports.JobsQuery) },
	}
	addWorkspaceQueryFlags(cmd)
	return cmd
}
