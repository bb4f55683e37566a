package collector

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	ingest "github.com/Azure/azure-sdk-for-go/sdk/monitor/ingestion/azlogs"
	query "github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/monitor/armmonitor"
)

// Table is the Log Analytics table the collector writes, and Stream the
// DCR stream it sends to.
const (
	Table  = "PolicyComplianceStates_CL"
	Stream = "Custom-PolicyComplianceStates_CL"
)

// IngestionUploader returns an Options.Upload that sends batches to a data
// collection rule (by immutable ID) through azlogs, gzip-encoded, with the
// collector's retries (Retry-After honoured).
func IngestionUploader(endpoint string, cred azcore.TokenCredential, opts ingest.ClientOptions, ruleID, stream string) (func(context.Context, []byte) error, error) {
	opts.Retry = RetryOptions()
	c, err := ingest.NewClient(endpoint, cred, &opts)
	if err != nil {
		return nil, err
	}
	enc := "gzip"
	return func(ctx context.Context, body []byte) error {
		_, err := c.Upload(ctx, ruleID, stream, body, &ingest.UploadOptions{ContentEncoding: &enc})
		return err
	}, nil
}

// WorkspaceVerifier returns an Options.Verify that counts a batch's rows
// in the workspace (its ARM ID) through the query API. Against Azure,
// rows become queryable minutes after ingestion, so a batch sent just
// before a crash may count 0 and be sent again; RecordId lets queries
// drop such a duplicate (docs/collector.md).
func WorkspaceVerifier(cred azcore.TokenCredential, opts query.ClientOptions, workspaceID string, lookback time.Duration) (func(context.Context, string) (int, error), error) {
	c, err := query.NewClient(cred, &opts)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, batchID string) (int, error) {
		q := fmt.Sprintf("%s | where BatchId == '%s' | count", Table, batchID)
		span := query.NewTimeInterval(time.Now().Add(-lookback), time.Now().Add(time.Hour))
		resp, err := c.QueryResource(ctx, workspaceID, query.QueryBody{Query: &q, Timespan: &span}, nil)
		if err != nil {
			return 0, err
		}
		if resp.Error != nil {
			return 0, resp.Error
		}
		if len(resp.Tables) != 1 {
			return 0, fmt.Errorf("the count query returned %d tables, want 1", len(resp.Tables))
		}
		if len(resp.Tables[0].Rows) == 0 || len(resp.Tables[0].Rows[0]) == 0 {
			return 0, errors.New("the count query returned no row")
		}
		switch n := resp.Tables[0].Rows[0][0].(type) {
		case float64:
			return int(n), nil
		case int64:
			return int(n), nil
		case int:
			return n, nil
		}
		return 0, fmt.Errorf("the count query returned %T", resp.Tables[0].Rows[0][0])
	}, nil
}

// AlertQuery is the default rule's query: the latest state of every
// (application, assignment, resource) in the window, kept when it is
// non-compliant. With the rule's dimensions on ApplicationId and
// PolicyAssignmentId, each non-compliant (application, assignment) is an
// alert of its own, counting its non-compliant resources; it resolves
// once a later run finds them compliant.
const AlertQuery = Table + `
| summarize arg_max(TimeGenerated, ComplianceState) by ApplicationId, PolicyAssignmentId, ResourceId
| where ComplianceState == 'NonCompliant'`

// AlertRule describes the default alert rule.
type AlertRule struct {
	SubscriptionID, ResourceGroup, Name, Location string
	// Workspace is the workspace's ARM ID, the rule's scope.
	Workspace string
	// ActionGroups are notified when an alert fires or resolves.
	ActionGroups []string
	// Window covers at least one collection interval (default one day,
	// at most two), rounded up to a granularity the service accepts.
	Window, Frequency time.Duration
}

// granularities are the window and frequency values, in minutes, that log
// search alert rules accept (the service's own error lists them).
var granularities = []int{1, 5, 10, 15, 30, 45, 60, 120, 180, 240, 300, 360, 1440, 2880}

// isoDuration is the smallest accepted granularity at least d, in ISO
// 8601 (d beyond two days is two days).
func isoDuration(d time.Duration) string {
	m := granularities[len(granularities)-1]
	for _, g := range granularities {
		if time.Duration(g)*time.Minute >= d {
			m = g
			break
		}
	}
	switch {
	case m%1440 == 0:
		return fmt.Sprintf("P%dD", m/1440)
	case m%60 == 0:
		return fmt.Sprintf("PT%dH", m/60)
	}
	return fmt.Sprintf("PT%dM", m)
}

// EnsureAlertRule creates or updates the default rule through armmonitor.
func EnsureAlertRule(ctx context.Context, cred azcore.TokenCredential, opts *azarm.ClientOptions, r AlertRule) (string, error) {
	if r.Window <= 0 {
		r.Window = 24 * time.Hour
	}
	if r.Frequency <= 0 {
		r.Frequency = 15 * time.Minute
	}
	c, err := armmonitor.NewScheduledQueryRulesClient(r.SubscriptionID, cred, opts)
	if err != nil {
		return "", err
	}
	var groups []*string
	for _, g := range r.ActionGroups {
		groups = append(groups, to.Ptr(g))
	}
	rule := armmonitor.ScheduledQueryRuleResource{Location: to.Ptr(r.Location), Kind: to.Ptr(armmonitor.KindLogAlert),
		Properties: &armmonitor.ScheduledQueryRuleProperties{
			DisplayName: to.Ptr("Managed application policy non-compliant"),
			Description: to.Ptr("A policy shipped in a managed application is violated in a customer's managed resource group."),
			Severity:    to.Ptr(armmonitor.AlertSeverityOne), Enabled: to.Ptr(true), AutoMitigate: to.Ptr(true),
			Scopes:              []*string{to.Ptr(r.Workspace)},
			EvaluationFrequency: to.Ptr(isoDuration(r.Frequency)), WindowSize: to.Ptr(isoDuration(r.Window)),
			Criteria: &armmonitor.ScheduledQueryRuleCriteria{AllOf: []*armmonitor.Condition{{
				Query:           to.Ptr(AlertQuery),
				TimeAggregation: to.Ptr(armmonitor.TimeAggregationCount),
				Operator:        to.Ptr(armmonitor.ConditionOperatorGreaterThan), Threshold: to.Ptr[float64](0),
				Dimensions: []*armmonitor.Dimension{
					{Name: to.Ptr("ApplicationId"), Operator: to.Ptr(armmonitor.DimensionOperatorInclude), Values: []*string{to.Ptr("*")}},
					{Name: to.Ptr("PolicyAssignmentId"), Operator: to.Ptr(armmonitor.DimensionOperatorInclude), Values: []*string{to.Ptr("*")}},
				},
				FailingPeriods: &armmonitor.ConditionFailingPeriods{NumberOfEvaluationPeriods: to.Ptr[int64](1), MinFailingPeriodsToAlert: to.Ptr[int64](1)},
			}}},
			Actions: &armmonitor.Actions{ActionGroups: groups},
		}}
	resp, err := c.CreateOrUpdate(ctx, r.ResourceGroup, r.Name, rule, nil)
	if err != nil {
		return "", err
	}
	return *resp.ID, nil
}
