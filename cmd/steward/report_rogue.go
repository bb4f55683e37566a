package main

import (
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/reports"
)

func newReportRogueCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rogue",
		Short: "Resources not created through an approved path, and VMs not on the latest golden image",
		Long: `rogue finds the resources of a subscription that were not created through an
approved path. A resource's creation is its first succeeded write in the
activity log; it is approved when its caller is a listed pipeline principal
(--pipeline: object ID, application ID or caller name), or when a template
deployment whose templateHash is approved (--template-hash) wrote it (the write
carries the deployment's correlation ID, or the deployment lists it in its
outputResources). A resource with no creating write in the window (older than
the log) has an unknown origin, which is reported too.

With --golden-image (gallery image version IDs, repeatable), virtual machines
must run the highest approved version of an approved image definition: others
are NotGoldenImage or OutdatedGoldenImage.`,
		Example: `  steward report rogue --pipeline 0b1c...e9 --template-hash 1234567890123456789
  steward report rogue --pipeline ci-app --golden-image /subscriptions/SUB/resourceGroups/img/providers/Microsoft.Compute/galleries/g/images/ubuntu/versions/1.4.0 -o sarif`,
		Args: cobra.NoArgs,
		RunE: runReportRogue,
	}
	addAPIFlags(cmd)
	cmd.Flags().StringSlice("pipeline", nil, "an approved pipeline principal: object ID, application ID or caller (repeatable)")
	cmd.Flags().StringSlice("template-hash", nil, "the templateHash of an approved template (repeatable)")
	cmd.Flags().StringSlice("golden-image", nil, "an approved gallery image version ID (repeatable); VMs must run the latest per image")
	cmd.Flags().Int("days", reports.MaxActivityDays, "how many days of the activity log to read (1 to 90)")
	cmd.Flags().String("fail-on", reports.High, "exit 1 when a finding is at least this severe: high, medium, low or none")
	return cmd
}

func runReportRogue(cmd *cobra.Command, _ []string) error {
	format, failOn, err := reportFlags(cmd)
	if err != nil {
		return err
	}
	days, err := activityDays(cmd)
	if err != nil {
		return err
	}
	var opt reports.RogueOptions
	opt.Pipelines, _ = cmd.Flags().GetStringSlice("pipeline")
	opt.TemplateHashes, _ = cmd.Flags().GetStringSlice("template-hash")
	opt.GoldenImages, _ = cmd.Flags().GetStringSlice("golden-image")
	if len(opt.Pipelines)+len(opt.TemplateHashes) == 0 {
		return usageError("name the approved paths: --pipeline and/or --template-hash (otherwise every resource would be rogue)")
	}
	for _, g := range opt.GoldenImages {
		if !strings.Contains(strings.ToLower(g), "/images/") || !strings.Contains(strings.ToLower(g), "/versions/") {
			return usageError("--golden-image %q: want a gallery image version ID (.../galleries/G/images/D/versions/V)", g)
		}
	}
	api, err := newAPIClient(cmd)
	if err != nil {
		return err
	}
	findings, err := reports.RogueFrom(cmd.Context(), api.source(), time.Now().UTC(), time.Duration(days)*24*time.Hour, opt)
	if err != nil {
		return apiError(err)
	}
	return finishReport(cmd, format, failOn, findings)
}
