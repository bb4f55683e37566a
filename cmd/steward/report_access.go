package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/reports"
)

func newReportAccessCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "access",
		Short: "Role assignments whose principal has not used them, and narrower built-in roles",
		Long: `access compares the role assignments of a subscription with what their
principals did in the last --days days, as the activity log records it: an
assignment whose principal performed none of the role's actions at its scope
(or below) is unused (medium when the role can write, low for read-only roles:
reads are not in the activity log); one whose principal used only actions that
a narrower built-in role also grants is over-privileged, and the report names
that role. Each finding lists what breaks if the assignment is removed: the
operations of the window no other assignment of the principal grants.

Role definitions (custom and built-in) are read from the subscription, so a
custom role's permissions are judged as written. Group assignments are judged
on the group's own object ID: membership is not expanded.`,
		Example: `  steward report access
  steward report access --days 30 -o json
  steward report access -o sarif > access.sarif`,
		Args: cobra.NoArgs,
		RunE: runReportAccess,
	}
	addAPIFlags(cmd)
	cmd.Flags().Int("days", reports.MaxActivityDays, "how many days of activity count as use (1 to 90)")
	cmd.Flags().String("fail-on", reports.Medium, "exit 1 when a finding is at least this severe: high, medium, low or none")
	return cmd
}

func runReportAccess(cmd *cobra.Command, _ []string) error {
	format, failOn, err := reportFlags(cmd)
	if err != nil {
		return err
	}
	days, err := activityDays(cmd)
	if err != nil {
		return err
	}
	api, err := newAPIClient(cmd)
	if err != nil {
		return err
	}
	findings, err := reports.AccessFrom(cmd.Context(), api.source(), time.Now().UTC(), time.Duration(days)*24*time.Hour)
	if err != nil {
		return apiError(err)
	}
	return finishReport(cmd, format, failOn, findings)
}

// activityDays reads --days, the days of the activity log a report reads:
// 1 to the 90 the activity log keeps.
func activityDays(cmd *cobra.Command) (int, error) {
	days, _ := cmd.Flags().GetInt("days")
	if days < 1 || days > reports.MaxActivityDays {
		return 0, usageError("--days %d: want 1 to %d (the activity log keeps %d days)", days, reports.MaxActivityDays, reports.MaxActivityDays)
	}
	return days, nil
}

// reportFlags reads --output and --fail-on.
func reportFlags(cmd *cobra.Command) (format cliout.Format, failOn string, err error) {
	format, err = outputFormat(cmd, reportFormats...)
	if err != nil {
		return format, "", err
	}
	failOn, _ = cmd.Flags().GetString("fail-on")
	if _, ok := severityRank[failOn]; !ok {
		return format, "", usageError("--fail-on %q: want high, medium, low or none", failOn)
	}
	return format, failOn, nil
}

// source is the estate the reports read through this client.
func (a *apiClient) source() reports.Source {
	return reports.Source{Credential: a.cred, Options: a.opts, Subscription: a.subscription}
}
