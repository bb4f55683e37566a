package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/logs"
	"github.com/steward-gov/steward/internal/reports"
)

// Token audiences of the logs data plane, as Azure's SDKs request them.
const (
	LogAnalyticsAudience = "https://api.loganalytics.io"
	MonitorAudience      = "https://monitor.azure.com"
)

// Path prefixes of the logs data plane on Steward's base URL.
const (
	// LogsQueryPrefix serves the query API: {base}/v1/workspaces/{id}/query
	// (point azlogs query clients at {base}/v1).
	LogsQueryPrefix = "/v1/workspaces/"
	// LogsResourceQueryPrefix serves resource-centric queries:
	// {base}/v1/subscriptions/.../workspaces/{name}/query.
	LogsResourceQueryPrefix = "/v1/subscriptions/"
	// LogsBatchPath serves the query API's batches ({base}/v1/$batch).
	LogsBatchPath = "/v1/$batch"
	// LogsIngestPrefix serves the Logs Ingestion API; data collection
	// endpoints and rules get endpoints under it.
	LogsIngestPrefix = "/ingest/"
	// LogsCollectorPrefix serves the HTTP Data Collector API at
	// {base}/ods/{customerId}/api/logs.
	LogsCollectorPrefix = "/ods/"
	// collectorHostSuffix is the Data Collector API's Azure host, for
	// clients whose DNS sends {customerId}.ods.opinsights.azure.com here.
	collectorHostSuffix = ".ods.opinsights.azure.com"
)

// LogAnalyticsHosts are the query API's host names.
var LogAnalyticsHosts = []string{"api.loganalytics.io", "api.loganalytics.azure.com"}

// IngestionHosts are the host shapes of data collection endpoints
// ("{name}-{suffix}.{region}-1.ingest.monitor.azure.com") and of rules'
// own endpoints ("{name}-{suffix}-{region}.logs.z1.ingest.monitor.azure.com").
var IngestionHosts = []string{"*.*-1.ingest.monitor.azure.com", "*.logs.z1.ingest.monitor.azure.com"}

// dceEndpoint is a data collection endpoint's ingestion URL in Azure's
// shape: the endpoint's name, four characters derived from its ID, and
// its region.
func dceEndpoint(id, location string) string {
	name := strings.ToLower(id[strings.LastIndex(id, "/")+1:])
	sum := sha256.Sum256([]byte(strings.ToLower(id)))
	region := strings.ToLower(strings.ReplaceAll(location, " ", ""))
	if region == "" {
		region = "local"
	}
	return "https://" + name + "-" + hex.EncodeToString(sum[:2]) + "." + region + "-1.ingest.monitor.azure.com"
}

// LogsService is the Service that mounts Log Analytics: the ARM hooks that
// give workspaces their customerId and keys, create log tables and
// register data collection rules and endpoints; the workspace sharedKeys
// and regenerateSharedKey actions; and the query, Logs Ingestion and Data
// Collector APIs. It needs the embedded ARM, so it is mounted after
// CloudService. ready, when given, receives the logs engine.
func LogsService(ready ...func(*logs.Service)) Service {
	return func(ctx context.Context, s *Steward) error {
		svc, err := s.mountLogs(ctx)
		if err != nil {
			return err
		}
		for _, f := range ready {
			f(svc)
		}
		return nil
	}
}

func (s *Steward) mountLogs(ctx context.Context) (*logs.Service, error) {
	c := s.Cloud
	if c == nil {
		return nil, errors.New("logs: mount CloudService before LogsService")
	}
	base := strings.TrimSuffix(s.BaseURL, "/")
	opts := logs.Options{
		Sealer:       s.Sealer,
		IngestionURL: base + strings.TrimSuffix(LogsIngestPrefix, "/"),
		Authorize:    noteDataUse(logs.EngineAuthorizer(c.Engine), s.usageRecorder()),
		QueryLimits:  s.Config.Queries.limits(),
		MaxQueryWait: s.Config.Queries.MaxWait,
		Gate:         s.Config.Queries.gate(),
		GeoIP:        s.geoIP,
	}
	if s.ProxyURL != "" {
		opts.DCEEndpoint = dceEndpoint
	}
	svc := logs.New(s.Store, opts)
	if n, err := svc.SealClearWorkspaces(ctx); err != nil {
		return nil, fmt.Errorf("logs: sealing workspace keys: %w", err)
	} else if n > 0 {
		s.log.Info("sealed workspace shared keys stored in clear by an older version", "count", n)
	}
	for _, h := range svc.Hooks() {
		c.OnPut(h.Type, h.Put)
		c.OnDelete(h.Type, h.Delete)
	}
	if err := c.Register(cloud.Routes{
		{Type: logs.TypeWorkspace, Action: "sharedKeys", Handler: workspaceKeys(svc, false)},
		{Type: logs.TypeWorkspace, Action: "regenerateSharedKey", Handler: workspaceKeys(svc, true)},
	}); err != nil {
		return nil, fmt.Errorf("logs: %w", err)
	}
	r := s.Server.Router
	query := s.Validator(LogAnalyticsAudience, base).Middleware(svc.QueryHandler())
	r.HandlePrefix("logs-query", LogsQueryPrefix, query)
	r.HandlePrefix("logs-query", LogsResourceQueryPrefix, query)
	isBatch := func(r *http.Request) bool { return strings.EqualFold(r.URL.Path, LogsBatchPath) }
	r.Handle(Route{Name: "logs-batch", Match: isBatch,
		Handler: s.Validator(LogAnalyticsAudience, base).Middleware(svc.BatchHandler())})
	r.HandlePrefix("logs-ingest", LogsIngestPrefix, s.Validator(MonitorAudience, base).Middleware(svc.IngestionHandler()))
	// Azure's host names, through the proxy.
	always := func(*http.Request) bool { return true }
	azQuery := s.Validator(LogAnalyticsAudience).Middleware(svc.QueryHandler())
	azBatch := s.Validator(LogAnalyticsAudience).Middleware(svc.BatchHandler())
	for _, h := range LogAnalyticsHosts {
		r.Host(h).Handle(Route{Name: "logs-batch", Match: isBatch, Handler: azBatch})
		r.Host(h).HandlePrefix("logs-query", LogsQueryPrefix, azQuery)
		r.Host(h).HandlePrefix("logs-query", LogsResourceQueryPrefix, azQuery)
	}
	azIngest := s.Validator(MonitorAudience).Middleware(svc.IngestionHandler())
	for _, h := range IngestionHosts {
		r.Host(h).Handle(Route{Name: "logs-ingest", Handler: azIngest, Match: always})
	}
	// The Data Collector API documents 30 MB per post, above the server's
	// default body limit; the collector checks its own limit.
	collectorMax := max(logs.MaxCollectorBody, s.Config.MaxBodyBytes)
	r.Host("*" + collectorHostSuffix).Handle(Route{Name: "logs-collector", Handler: svc.CollectorHandler(), MaxBodyBytes: collectorMax, Match: always})
	r.Handle(Route{Name: "logs-collector", Handler: svc.CollectorHandler(), MaxBodyBytes: collectorMax, Match: func(r *http.Request) bool {
		p := strings.ToLower(r.URL.Path)
		if strings.HasPrefix(p, LogsCollectorPrefix) {
			return true
		}
		host, _, _ := strings.Cut(strings.ToLower(r.Host), ":")
		return strings.HasSuffix(host, collectorHostSuffix) && p == "/api/logs"
	}})
	return svc, nil
}

// workspaceKeys serves POST {workspace}/sharedKeys, and with regenerate
// POST {workspace}/regenerateSharedKey {"keyType":"Primary|Secondary"}.
func workspaceKeys(svc *logs.Service, regenerate bool) cloud.Handler {
	return func(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
		if call.Method != http.MethodPost {
			return nil, arm.Errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "Use POST.")
		}
		ws, err := svc.WorkspaceByResourceID(ctx, call.Target.ID)
		if errors.Is(err, logs.ErrNoWorkspace) {
			return nil, arm.NotFound("ResourceNotFound", "The workspace '%s' was not found.", call.Target.ID)
		}
		if err != nil {
			return nil, err
		}
		if regenerate {
			var body struct {
				KeyType string `json:"keyType"`
			}
			if err := call.Decode(&body); err != nil {
				return nil, arm.BadRequest("InvalidRequestContent", "The body must be {\"keyType\":\"Primary\"|\"Secondary\"}.")
			}
			if ws, err = svc.RegenerateKey(ctx, ws.CustomerID, body.KeyType); err != nil {
				return nil, arm.BadRequest("InvalidParameter", "%v", err)
			}
		}
		return &cloud.Response{Status: http.StatusOK, Body: map[string]string{
			"primarySharedKey": ws.PrimaryKey, "secondarySharedKey": ws.SecondaryKey}}, nil
	}
}

// noteDataUse records the data actions authorize allows (the access
// report's data-plane use).
func noteDataUse(authorize logs.Authorizer, usage *reports.UsageRecorder) logs.Authorizer {
	return func(ctx context.Context, p identity.Principal, action string, dataAction bool, scope string) error {
		err := authorize(ctx, p, action, dataAction, scope)
		if err == nil && dataAction {
			usage.Note(p.ObjectID, scope, action)
		}
		return err
	}
}
