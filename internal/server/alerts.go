package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"

	"github.com/steward-gov/steward/internal/alerts"
	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
)

// AlertsOptions configure the alerts service.
type AlertsOptions struct {
	// Mailer sends email receivers' notifications (SMTP); nil refuses to.
	Mailer alerts.Mailer
	// HTTP posts to webhook receivers; nil uses a client with a timeout.
	HTTP *http.Client
	// Now is the evaluator's clock (nil: the wall clock).
	Now func() time.Time
	// Disabled registers the resource types but starts no evaluator (for
	// tests that drive Service.Tick themselves).
	Disabled bool
}

// AlertsService is the Service that mounts log search alerts: validation
// of Microsoft.Insights/scheduledQueryRules and actionGroups at PUT, the
// Microsoft.AlertsManagement alerts API, and the evaluator, which reads
// rules and runs queries through the Azure SDK in process as the
// administrator. It needs CloudService and LogsService mounted before it.
// ready, when given, receives the evaluator.
func AlertsService(opts AlertsOptions, ready ...func(*alerts.Service)) Service {
	return func(ctx context.Context, s *Steward) error {
		svc, err := s.mountAlerts(opts)
		if err != nil {
			return err
		}
		for _, f := range ready {
			f(svc)
		}
		return nil
	}
}

func (s *Steward) mountAlerts(opts AlertsOptions) (*alerts.Service, error) {
	c := s.Cloud
	if c == nil {
		return nil, errors.New("alerts: mount CloudService and LogsService before AlertsService")
	}
	cred, err := s.SecretCredential(s.Bootstrap.ClientID, s.Bootstrap.ClientSecret)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	armOpts := s.ARMClientOptions()
	base := strings.TrimSuffix(s.BaseURL, "/")
	logsOpts := &azlogs.ClientOptions{ClientOptions: azcore.ClientOptions{
		Cloud: azcloud.Configuration{ActiveDirectoryAuthorityHost: s.BaseURL, Services: map[azcloud.ServiceName]azcloud.ServiceConfiguration{
			azlogs.ServiceName: {Endpoint: base + "/v1", Audience: LogAnalyticsAudience}}},
		Transport: s.Transport(), Retry: armOpts.Retry}}
	query, err := alerts.SDKQuery(cred, logsOpts)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	svc, err := alerts.New(alerts.Options{
		Store:     s.Store,
		Owner:     s.ReplicaID,
		Source:    alerts.SDKSource{Credential: cred, Options: &azarm.ClientOptions{ClientOptions: armOpts}},
		Query:     query,
		QueryBase: base,
		Mailer:    opts.Mailer,
		HTTP:      opts.HTTP,
		Now:       opts.Now,
		Log:       s.log.With("component", "alerts"),
	})
	if err != nil {
		return nil, err
	}
	c.OnPut(alerts.TypeScheduledQueryRule, ruleHook)
	c.OnPut(alerts.TypeActionGroup, groupHook)
	if err := c.Register(cloud.Routes{
		{Type: alerts.TypeAlert, Handler: alertsHandler(svc)},
		{Type: alerts.TypeAlert, Action: "changestate", Handler: alertChangeState(svc)},
		{Type: "Microsoft.AlertsManagement/alertsSummary", Handler: alertsSummary(svc)},
	}); err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	if !opts.Disabled {
		s.Background(func(ctx context.Context) { svc.Run(ctx) })
	}
	s.Queue("alerts-notifications", alerts.OutboxTable, alerts.OutboxPending)
	return svc, nil
}

// ruleHook validates a scheduled query rule as the service does at PUT and
// fills in its read-only properties.
func ruleHook(_ context.Context, id string, doc, _ map[string]any) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return arm.BadRequest("InvalidRequestContent", "The rule could not be read.")
	}
	if _, err := alerts.ParseRule(id, b); err != nil {
		return err
	}
	if _, ok := doc["kind"]; !ok {
		doc["kind"] = "LogAlert"
	}
	if props, ok := doc["properties"].(map[string]any); ok {
		props["isWorkspaceAlertsStorageConfigured"] = false
		props["isLegacyLogAnalyticsRule"] = false
		if _, ok := props["autoMitigate"]; !ok {
			props["autoMitigate"] = true
		}
	}
	return nil
}

// groupHook validates an action group and marks its email receivers
// enabled, as the service reports them.
func groupHook(_ context.Context, id string, doc, _ map[string]any) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return arm.BadRequest("InvalidRequestContent", "The action group could not be read.")
	}
	if _, err := alerts.ParseActionGroup(id, b); err != nil {
		return err
	}
	if props, ok := doc["properties"].(map[string]any); ok {
		if list, ok := props["emailReceivers"].([]any); ok {
			for _, r := range list {
				if m, ok := r.(map[string]any); ok {
					m["status"] = "Enabled"
				}
			}
		}
	}
	return nil
}

func subscriptionOf(t cloud.Target) string {
	scope := t.Scope
	if !t.Collection && t.Resource != nil {
		return t.Resource.SubscriptionID
	}
	if rid, err := arm.ParseResourceID(scope); err == nil {
		return rid.SubscriptionID
	}
	return ""
}

// alertsHandler serves GET {subscription}/providers/Microsoft.AlertsManagement/alerts[/{id}].
func alertsHandler(svc *alerts.Service) cloud.Handler {
	return func(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
		if call.Method != http.MethodGet {
			return nil, arm.Errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "Alerts are read with GET and changed with POST .../changestate.")
		}
		sub := subscriptionOf(call.Target)
		if sub == "" {
			return nil, arm.BadRequest("InvalidScope", "Alerts are listed at a subscription.")
		}
		if !call.Target.Collection {
			in, err := svc.Alert(ctx, sub, call.Target.Name)
			if err != nil {
				return nil, err
			}
			return &cloud.Response{Status: http.StatusOK, Body: in.Document()}, nil
		}
		f, err := alerts.ParseFilter(sub, call.Query, time.Now())
		if err != nil {
			return nil, err
		}
		list, err := svc.Alerts(ctx, f)
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, len(list))
		for i := range list {
			out = append(out, list[i].Document())
		}
		return &cloud.Response{Status: http.StatusOK, Body: map[string]any{"value": out}}, nil
	}
}

// alertChangeState serves POST .../alerts/{id}/changestate?newState=...
func alertChangeState(svc *alerts.Service) cloud.Handler {
	return func(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
		if call.Method != http.MethodPost {
			return nil, arm.Errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "Use POST.")
		}
		state := call.Query.Get("newState")
		if state == "" {
			return nil, arm.BadRequest("MissingParameter", "The query parameter 'newState' is required (New, Acknowledged or Closed).")
		}
		user := call.Principal.ObjectID
		in, err := svc.ChangeState(ctx, subscriptionOf(call.Target), call.Target.Name, state, user)
		if err != nil {
			return nil, err
		}
		return &cloud.Response{Status: http.StatusOK, Body: in.Document()}, nil
	}
}

// alertsSummary serves GET {subscription}/providers/Microsoft.AlertsManagement/alertsSummary?groupby=...
func alertsSummary(svc *alerts.Service) cloud.Handler {
	return func(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
		if call.Method != http.MethodGet {
			return nil, arm.Errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "Use GET.")
		}
		f, err := alerts.ParseFilter(subscriptionOf(call.Target), call.Query, time.Now())
		if err != nil {
			return nil, err
		}
		sum, err := svc.Summary(ctx, f, call.Query.Get("groupby"))
		if err != nil {
			return nil, err
		}
		return &cloud.Response{Status: http.StatusOK, Body: sum}, nil
	}
}
