package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/logs"
	"github.com/steward-gov/steward/internal/logs/kql"
)

// ActivityTableName is the Log Analytics table the activity log lands in.
const ActivityTableName = "AzureActivity"

// DefaultActivityForwardEvery is how often the activity log is forwarded
// to the workspaces that subscriptions' diagnostic settings name.
const DefaultActivityForwardEvery = 10 * time.Second

// ActivityTableOptions configure the activity-log export.
type ActivityTableOptions struct {
	// Every is the forwarding period (0: DefaultActivityForwardEvery).
	Every time.Duration
	// Disabled validates diagnostic settings but starts no forwarder (for
	// tests that call the returned forwarder themselves).
	Disabled bool
}

// ActivityForwarder runs one forwarding pass and returns how many events
// it sent.
type ActivityForwarder func(ctx context.Context) (int, error)

// ActivityTableService is the Service that implements diagnostic settings
// at subscription scope: their PUT is validated, and a background worker
// forwards the activity log of each such subscription, past a watermark,
// to the AzureActivity table of the workspace the setting names. It runs
// beside the write path, never in it: a write does not wait for, nor fail
// because of, the export. It needs CloudService and LogsService mounted
// before it; it appends through a logs engine of its own on the same
// store (tables are versioned there, as between replicas). ready, when
// given, receives the forwarder (tests run passes with it).
func ActivityTableService(opts ActivityTableOptions, ready ...func(ActivityForwarder)) Service {
	return func(ctx context.Context, s *Steward) error {
		c := s.Cloud
		if c == nil {
			return errors.New("activity table: mount CloudService and LogsService before it")
		}
		svc := logs.New(s.Store, logs.Options{Sealer: s.Sealer})
		c.EnableActivityExport()
		sink := activitySink(svc)
		forward := func(ctx context.Context) (int, error) { return c.ForwardActivity(ctx, sink) }
		for _, f := range ready {
			f(forward)
		}
		if opts.Disabled {
			return nil
		}
		every := opts.Every
		if every <= 0 {
			every = DefaultActivityForwardEvery
		}
		log := s.log.With("component", "activity-export")
		s.periodic(every, nil, false, func(ctx context.Context) {
			// A pass cut short by shutdown (not by its timeout) is quiet.
			if n, err := forward(ctx); err != nil && !errors.Is(ctx.Err(), context.Canceled) {
				log.Warn("forwarding the activity log", "err", err, "forwarded", n)
			}
		})
		return nil
	}
}

// activitySink appends events to a workspace's AzureActivity table.
func activitySink(svc *logs.Service) cloud.ActivitySink {
	return func(ctx context.Context, workspaceID string, events []cloud.ActivityEvent) error {
		ws, err := svc.WorkspaceByResourceID(ctx, workspaceID)
		if err != nil {
			return fmt.Errorf("workspace %s: %w", workspaceID, err)
		}
		rows := make([]kql.Row, 0, len(events))
		for _, ev := range events {
			rows = append(rows, ActivityRow(ev))
		}
		return svc.Rows.Append(ctx, ws.CustomerID, ActivityTableName, ActivityColumns, rows, logs.Evolve)
	}
}

// ActivityColumns are the AzureActivity columns Steward fills, with
// Azure's names and types (the AzureActivity table reference).
var ActivityColumns = []kql.Column{
	{Name: "TimeGenerated", Type: kql.TypeDateTime},
	{Name: "EventSubmissionTimestamp", Type: kql.TypeDateTime},
	{Name: "OperationName", Type: kql.TypeString},
	{Name: "OperationNameValue", Type: kql.TypeString},
	{Name: "Level", Type: kql.TypeString},
	{Name: "ActivityStatus", Type: kql.TypeString},
	{Name: "ActivityStatusValue", Type: kql.TypeString},
	{Name: "ActivitySubstatus", Type: kql.TypeString},
	{Name: "ActivitySubstatusValue", Type: kql.TypeString},
	{Name: "Category", Type: kql.TypeString},
	{Name: "CategoryValue", Type: kql.TypeString},
	{Name: "Caller", Type: kql.TypeString},
	{Name: "CallerIpAddress", Type: kql.TypeString},
	{Name: "CorrelationId", Type: kql.TypeString},
	{Name: "OperationId", Type: kql.TypeString},
	{Name: "EventDataId", Type: kql.TypeString},
	{Name: "ResourceGroup", Type: kql.TypeString},
	{Name: "SubscriptionId", Type: kql.TypeString},
	{Name: "TenantId", Type: kql.TypeString},
	{Name: "ResourceProvider", Type: kql.TypeString},
	{Name: "ResourceProviderValue", Type: kql.TypeString},
	{Name: "Resource", Type: kql.TypeString},
	{Name: "ResourceId", Type: kql.TypeString},
	{Name: "_ResourceId", Type: kql.TypeString},
	{Name: "Properties", Type: kql.TypeString},
	{Name: "Properties_d", Type: kql.TypeDynamic},
	{Name: "Authorization", Type: kql.TypeString},
	{Name: "Authorization_d", Type: kql.TypeDynamic},
	{Name: "Claims", Type: kql.TypeString},
	{Name: "Claims_d", Type: kql.TypeDynamic},
	{Name: "HTTPRequest", Type: kql.TypeString},
	{Name: "Hierarchy", Type: kql.TypeString},
	{Name: "SourceSystem", Type: kql.TypeString},
}

// ActivityRow is an activity-log event as an AzureActivity row, in the
// order of ActivityColumns.
func ActivityRow(ev cloud.ActivityEvent) kql.Row {
	at := func(s string) kql.Value {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return kql.Value{}
		}
		return kql.DateTimeOf(t)
	}
	str := kql.String
	props := map[string]any{"eventCategory": ev.Category.Value, "entity": ev.ResourceID, "message": ev.OperationName.Value}
	for k, v := range ev.Properties {
		props[k] = v
	}
	var auth any
	if ev.Authorization != nil {
		auth = map[string]any{"action": ev.Authorization.Action, "scope": ev.Authorization.Scope}
	}
	var claims any
	if ev.Claims != nil {
		claims = ev.Claims
	}
	httpReq := ""
	ip := ""
	if ev.HTTPRequest != nil {
		b, _ := json.Marshal(ev.HTTPRequest)
		httpReq, ip = string(b), ev.HTTPRequest.ClientIPAddress
	}
	resource := ev.ResourceID
	if i := strings.LastIndexByte(resource, '/'); i >= 0 {
		resource = resource[i+1:]
	}
	hierarchy := ev.TenantID
	if ev.SubscriptionID != "" {
		hierarchy += "/" + ev.SubscriptionID
	}
	ps, pd := jsonPair(props)
	as, ad := jsonPair(auth)
	cs, cd := jsonPair(claims)
	return kql.Row{
		at(ev.EventTimestamp), at(ev.SubmissionTimestamp),
		str(ev.OperationName.LocalizedValue), str(ev.OperationName.Value),
		str(ev.Level),
		str(ev.Status.LocalizedValue), str(ev.Status.Value),
		str(ev.SubStatus.LocalizedValue), str(ev.SubStatus.Value),
		str(ev.Category.LocalizedValue), str(ev.Category.Value),
		str(ev.Caller), str(ip),
		str(ev.CorrelationID), str(ev.OperationID), str(ev.EventDataID),
		str(ev.ResourceGroupName), str(ev.SubscriptionID), str(ev.TenantID),
		str(ev.ResourceProviderName.LocalizedValue), str(ev.ResourceProviderName.Value),
		str(resource), str(ev.ResourceID), str(strings.ToLower(ev.ResourceID)),
		ps, pd, as, ad, cs, cd,
		str(httpReq), str(hierarchy), str("Azure"),
	}
}

// jsonPair is a value as Azure's pair of columns gives it: the JSON text
// (string) and the parsed object (dynamic). nil gives empty and null.
func jsonPair(v any) (kql.Value, kql.Value) {
	if v == nil {
		return kql.String(""), kql.Value{}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return kql.String(""), kql.Value{}
	}
	d, err := kql.ParseJSON(string(b))
	if err != nil {
		return kql.String(string(b)), kql.Value{}
	}
	return kql.String(string(b)), kql.Dynamic(d)
}
