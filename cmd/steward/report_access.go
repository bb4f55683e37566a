package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/monitor/armmonitor"
	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/reports"
)

// maxActivityDays is how far back the activity log goes (Azure keeps 90
// days).
const maxActivityDays = 90

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
	cmd.Flags().Int("days", maxActivityDays, "how many days of activity count as use (1 to 90)")
	cmd.Flags().String("fail-on", reports.Medium, "exit 1 when a finding is at least this severe: high, medium, low or none")
	return cmd
}

func runReportAccess(cmd *cobra.Command, _ []string) error {
	format, failOn, err := reportFlags(cmd)
	if err != nil {
		return err
	}
	days, _ := cmd.Flags().GetInt("days")
	if days < 1 || days > maxActivityDays {
		return usageError("--days %d: want 1 to %d (the activity log keeps %d days)", days, maxActivityDays, maxActivityDays)
	}
	api, err := newAPIClient(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	now := time.Now().UTC()
	window := time.Duration(days) * 24 * time.Hour
	roles, err := listRoleDefinitions(ctx, api)
	if err != nil {
		return err
	}
	assignments, err := listRoleAssignments(ctx, api)
	if err != nil {
		return err
	}
	var ops []reports.Operation
	err = eachActivity(ctx, api, now.Add(-window), now, func(e *armmonitor.EventData) {
		if o, ok := operationOf(e); ok {
			ops = append(ops, o)
		}
	})
	if err != nil {
		return err
	}
	findings := reports.Access(assignments, roles, ops, reports.AccessOptions{Now: now, Window: window})
	return finishReport(cmd, format, failOn, findings)
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

// listRoleDefinitions reads the role definitions usable in the
// subscription: built-in and custom.
func listRoleDefinitions(ctx context.Context, api *apiClient) ([]reports.RoleDefinition, error) {
	c, err := armauthorization.NewRoleDefinitionsClient(api.cred, api.opts)
	if err != nil {
		return nil, err
	}
	var out []reports.RoleDefinition
	p := c.NewListPager("/subscriptions/"+api.subscription, nil)
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, apiError(err)
		}
		for _, d := range page.Value {
			r := reports.RoleDefinition{ID: deref(d.ID)}
			if pr := d.Properties; pr != nil {
				r.Name = deref(pr.RoleName)
				r.BuiltIn = strings.EqualFold(deref(pr.RoleType), "BuiltInRole")
				for _, perm := range pr.Permissions {
					r.Actions = append(r.Actions, derefAll(perm.Actions)...)
					r.NotActions = append(r.NotActions, derefAll(perm.NotActions)...)
					r.DataActions = append(r.DataActions, derefAll(perm.DataActions)...)
					r.NotDataActions = append(r.NotDataActions, derefAll(perm.NotDataActions)...)
				}
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// listRoleAssignments reads every role assignment in the subscription
// (at it, its groups and resources, and those inherited from above).
func listRoleAssignments(ctx context.Context, api *apiClient) ([]reports.RoleAssignment, error) {
	c, err := armauthorization.NewRoleAssignmentsClient(api.subscription, api.cred, api.opts)
	if err != nil {
		return nil, err
	}
	var out []reports.RoleAssignment
	p := c.NewListForSubscriptionPager(nil)
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, apiError(err)
		}
		for _, a := range page.Value {
			r := reports.RoleAssignment{ID: deref(a.ID)}
			if pr := a.Properties; pr != nil {
				r.Scope, r.PrincipalID, r.RoleDefinitionID = deref(pr.Scope), deref(pr.PrincipalID), deref(pr.RoleDefinitionID)
				if pr.PrincipalType != nil {
					r.PrincipalType = string(*pr.PrincipalType)
				}
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// eachActivity pages through the subscription's activity log between
// from and to.
func eachActivity(ctx context.Context, api *apiClient, from, to time.Time, fn func(*armmonitor.EventData)) error {
	c, err := armmonitor.NewActivityLogsClient(api.subscription, api.cred, api.opts)
	if err != nil {
		return err
	}
	// Fractions of a second matter: the last events are within the second.
	const layout = "2006-01-02T15:04:05.0000000Z"
	filter := fmt.Sprintf("eventTimestamp ge '%s' and eventTimestamp le '%s'", from.UTC().Format(layout), to.UTC().Format(layout))
	p := c.NewListPager(filter, nil)
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return apiError(err)
		}
		for _, e := range page.Value {
			if e != nil {
				fn(e)
			}
		}
	}
	return nil
}

// oidClaims are the claim names the caller's object ID comes under.
var oidClaims = []string{"oid", "http://schemas.microsoft.com/identity/claims/objectidentifier"}

// claim returns the first of names present in an event's claims.
func claim(e *armmonitor.EventData, names ...string) string {
	for _, n := range names {
		if v := deref(e.Claims[n]); v != "" {
			return v
		}
	}
	return ""
}

// succeeded reports whether an activity event records an operation that
// was allowed (a failed one was refused: it shows no use of a role).
func succeeded(e *armmonitor.EventData) bool {
	if e.Status == nil {
		return false
	}
	switch strings.ToLower(deref(e.Status.Value)) {
	case "succeeded", "started", "accepted":
		return true
	}
	return false
}

// operationOf turns an activity event into an operation of its caller.
func operationOf(e *armmonitor.EventData) (reports.Operation, bool) {
	if !succeeded(e) {
		return reports.Operation{}, false
	}
	o := reports.Operation{PrincipalID: claim(e, oidClaims...), Scope: deref(e.ResourceID)}
	if o.PrincipalID == "" {
		o.PrincipalID = deref(e.Caller)
	}
	if e.Authorization != nil && deref(e.Authorization.Action) != "" {
		o.Action = deref(e.Authorization.Action)
		if s := deref(e.Authorization.Scope); s != "" {
			o.Scope = s
		}
	} else if e.OperationName != nil {
		o.Action = deref(e.OperationName.Value)
	}
	if e.EventTimestamp != nil {
		o.Time = *e.EventTimestamp
	}
	return o, o.Action != "" && o.PrincipalID != ""
}

func derefAll(list []*string) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		if s != nil {
			out = append(out, *s)
		}
	}
	return out
}
