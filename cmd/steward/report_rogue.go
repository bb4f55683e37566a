package main

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/monitor/armmonitor"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/reports"
)

// vmAPIVersion is the Microsoft.Compute api-version the rogue report
// reads virtual machines with (for their image reference).
const vmAPIVersion = "2024-07-01"

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
	cmd.Flags().Int("days", maxActivityDays, "how many days of the activity log to read (1 to 90)")
	cmd.Flags().String("fail-on", reports.High, "exit 1 when a finding is at least this severe: high, medium, low or none")
	return cmd
}

func runReportRogue(cmd *cobra.Command, _ []string) error {
	format, failOn, err := reportFlags(cmd)
	if err != nil {
		return err
	}
	days, _ := cmd.Flags().GetInt("days")
	if days < 1 || days > maxActivityDays {
		return usageError("--days %d: want 1 to %d (the activity log keeps %d days)", days, maxActivityDays, maxActivityDays)
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
	ctx := cmd.Context()
	now := time.Now().UTC()
	var events []reports.Event
	err = eachActivity(ctx, api, now.Add(-time.Duration(days)*24*time.Hour), now, func(e *armmonitor.EventData) {
		if !succeeded(e) || e.OperationName == nil {
			return
		}
		ev := reports.Event{Caller: deref(e.Caller), PrincipalID: claim(e, oidClaims...), AppID: claim(e, "appid"),
			Action: deref(e.OperationName.Value), ResourceID: deref(e.ResourceID), CorrelationID: deref(e.CorrelationID)}
		if e.EventTimestamp != nil {
			ev.Time = *e.EventTimestamp
		}
		events = append(events, ev)
	})
	if err != nil {
		return err
	}
	resources, err := listResourceDocs(ctx, api)
	if err != nil {
		return err
	}
	deployments, err := listDeploymentDocs(ctx, api)
	if err != nil {
		return err
	}
	return finishReport(cmd, format, failOn, reports.Rogue(resources, events, deployments, opt))
}

// asDoc turns an SDK model into its ARM JSON document.
func asDoc(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// listResourceDocs lists the subscription's resources; virtual machines
// are read in full for their image reference.
func listResourceDocs(ctx context.Context, api *apiClient) ([]map[string]any, error) {
	c, err := armresources.NewClient(api.subscription, api.cred, api.opts)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	p := c.NewListPager(nil)
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, apiError(err)
		}
		for _, r := range page.Value {
			doc := asDoc(r)
			if strings.EqualFold(deref(r.Type), "Microsoft.Compute/virtualMachines") {
				full, err := c.GetByID(ctx, deref(r.ID), vmAPIVersion, nil)
				if err != nil {
					return nil, apiError(err)
				}
				doc = asDoc(full.GenericResource)
			}
			out = append(out, doc)
		}
	}
	return out, nil
}

// listDeploymentDocs lists the template deployments of the subscription
// and of each of its resource groups.
func listDeploymentDocs(ctx context.Context, api *apiClient) ([]map[string]any, error) {
	dc, err := armresources.NewDeploymentsClient(api.subscription, api.cred, api.opts)
	if err != nil {
		return nil, err
	}
	gc, err := armresources.NewResourceGroupsClient(api.subscription, api.cred, api.opts)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	sp := dc.NewListAtSubscriptionScopePager(nil)
	for sp.More() {
		page, err := sp.NextPage(ctx)
		if err != nil {
			return nil, apiError(err)
		}
		for _, d := range page.Value {
			out = append(out, asDoc(d))
		}
	}
	gp := gc.NewListPager(nil)
	for gp.More() {
		page, err := gp.NextPage(ctx)
		if err != nil {
			return nil, apiError(err)
		}
		for _, g := range page.Value {
			p := dc.NewListByResourceGroupPager(deref(g.Name), nil)
			for p.More() {
				dp, err := p.NextPage(ctx)
				if err != nil {
					return nil, apiError(err)
				}
				for _, d := range dp.Value {
					out = append(out, asDoc(d))
				}
			}
		}
	}
	return out, nil
}
