package main

import (
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/steward-gov/steward/internal/reports"
	"github.com/steward-gov/steward/internal/server"
)

// addServeReportFlags adds serve's flags of the scheduled reports.
func addServeReportFlags(f *pflag.FlagSet) {
	f.Duration("reports-every", server.DefaultReportsEvery, "how often the scheduled reports run (access, credentials, network, logging, benchmark; rogue when approved paths are named); 0 turns them off")
	f.String("reports-workspace", "", "workspace resource ID the scheduled reports write StewardReportRuns_CL and StewardReportFindings_CL to")
	f.String("reports-action-group", "", "action group resource ID the reports' incidents are posted through (its webhook receivers, common alert schema)")
	f.StringSlice("reports-pipeline", nil, "approved pipeline principal for the rogue report (repeatable)")
	f.StringSlice("reports-template-hash", nil, "approved templateHash for the rogue report (repeatable)")
	f.StringSlice("reports-golden-image", nil, "approved gallery image version ID for the rogue report (repeatable)")
}

// reportsOptions reads them; nil when the reports are off.
func reportsOptions(cmd *cobra.Command) *server.ReportsOptions {
	f := cmd.Flags()
	every, _ := f.GetDuration("reports-every")
	if every <= 0 {
		return nil
	}
	o := &server.ReportsOptions{Every: max(every, time.Minute)}
	o.Workspace, _ = f.GetString("reports-workspace")
	o.ActionGroup, _ = f.GetString("reports-action-group")
	var r reports.RogueOptions
	r.Pipelines, _ = f.GetStringSlice("reports-pipeline")
	r.TemplateHashes, _ = f.GetStringSlice("reports-template-hash")
	r.GoldenImages, _ = f.GetStringSlice("reports-golden-image")
	o.Rogue = r
	return o
}
