package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	ingest "github.com/Azure/azure-sdk-for-go/sdk/monitor/ingestion/azlogs"
	query "github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/collector"
	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/rbac"
	"github.com/steward-gov/steward/internal/store"
)

// The collector's resources in the home subscription, created on first
// use by the administrator through the Azure SDK.
const (
	CollectorResourceGroup = "steward-collector"
	CollectorAccount       = "stewardcollector"
	CollectorWorkspace     = "collector"
	collectorTable         = "deployments"
	collectorSigRecord     = "sig"
	collectorConfigTable   = "collector.config"
	// The roles the collector's principal holds on its own resources.
	storageTableDataContributorRoleID = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
	monitoringMetricsPublisherRoleID  = "3913510d-42f4-4e42-8a64-420c390055eb"
	logAnalyticsReaderRoleID          = "73c42c96-874c-492b-b04d-ab87d138a893"
)

// CollectorServeOptions configure the collector `steward serve` runs.
type CollectorServeOptions struct {
	// Interval is the collection schedule (default 6 hours); Disabled
	// runs collections on demand only.
	Interval time.Duration
	Disabled bool
	// ReconcileInterval is how often the inventory is reconciled with the
	// applications the publisher can see (default 1 hour);
	// ReconcileDisabled leaves reconciliation on demand only.
	ReconcileInterval time.Duration
	ReconcileDisabled bool
	// Check is how often the schedules look whether work is due (default
	// 1 minute for reconciliation, 10 seconds for whether the collector
	// has been prepared).
	Check time.Duration
}

// collectorServer is the collector of `steward serve`: it reads as its
// own principal (the application "Steward collector"), which publishers
// authorize in their definitions, and the API under /collector/api/
// runs and reports collections for the administrator.
type collectorServer struct {
	s    *Steward
	opts CollectorServeOptions

	mu        sync.Mutex
	coll      *collector.Collector
	inventory *collector.TableInventory
	reconcile *collector.Reconciler
	sig       string
	// identity is the collector's principal; notifications is the
	// endpoint's handler, reading as that principal.
	identity      CollectorIdentity
	notifications *collector.Notifications
}

// CollectorServeService mounts the notification endpoint (CollectorService)
// with a collector configured for the embedded cloud: its inventory table,
// workspace, DCE and DCR, and default alert rule are created on first use
// in resource group steward-collector of the home subscription, and
// collections run on the schedule and on demand (POST
// /collector/api/runs, administrator only).
func CollectorServeService(opts CollectorServeOptions) Service {
	return func(ctx context.Context, s *Steward) error {
		var plane *CollectorPlane
		if err := CollectorService(func(p *CollectorPlane) { plane = p })(ctx, s); err != nil {
			return err
		}
		cs := &collectorServer{s: s, opts: opts}
		plane.api = s.Validator(ARMAudiences(s.BaseURL)...).Middleware(http.HandlerFunc(cs.serveAPI))
		plane.lazy = func(ctx context.Context) error {
			n, err := cs.ensure(ctx)
			if err == nil {
				plane.SetNotifications(n)
			}
			return err
		}
		// The schedules start once the collector has been prepared by its
		// first use (an API call or a notification), so a serve that never
		// uses it creates nothing.
		if !opts.Disabled {
			s.Background(func(ctx context.Context) {
				if c := cs.prepared(ctx); c != nil {
					c.Run(ctx)
				}
			})
		}
		if !opts.ReconcileDisabled {
			s.Background(func(ctx context.Context) {
				if cs.prepared(ctx) == nil {
					return
				}
				cs.mu.Lock()
				r := cs.reconcile
				cs.mu.Unlock()
				r.Run(ctx)
			})
		}
		return nil
	}
}

// prepared waits until the collector has been prepared by its first use
// and returns it (nil when ctx ends first).
func (cs *collectorServer) prepared(ctx context.Context) *collector.Collector {
	for {
		cs.mu.Lock()
		c := cs.coll
		cs.mu.Unlock()
		if c != nil {
			return c
		}
		poll := 10 * time.Second
		if cs.opts.Check > 0 && cs.opts.Check < poll {
			poll = cs.opts.Check
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(poll):
		}
	}
}

// sigValue returns the endpoint's secret, generated once and kept sealed
// in the store.
func (cs *collectorServer) sigValue(ctx context.Context) (string, error) {
	var sig string
	err := cs.s.Store.Update(ctx, func(tx store.Tx) error {
		r, err := tx.Get(ctx, collectorConfigTable, collectorSigRecord)
		if err == nil {
			plain, err := cs.s.Sealer.Open(ctx, collectorConfigTable+"/"+collectorSigRecord, r.Value)
			sig = string(plain)
			return err
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		sig = hex.EncodeToString(b)
		sealed, err := cs.s.Sealer.Seal(collectorConfigTable+"/"+collectorSigRecord, []byte(sig))
		if err != nil {
			return err
		}
		_, err = tx.Put(ctx, collectorConfigTable, collectorSigRecord, sealed, store.IfAbsent())
		return err
	})
	return sig, err
}

// ensure prepares the collector the first time it is needed. The
// administrator creates the collector's resources; the collector reads
// and writes as its own principal (collectorIdentity), with the roles
// granted here on its own resources and, on customers' managed resource
// groups, only what a definition's authorizations give it.
func (cs *collectorServer) ensure(ctx context.Context) (*collector.Notifications, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.coll != nil {
		return cs.notifications, nil
	}
	s := cs.s
	admin, err := s.SecretCredential(s.Bootstrap.ClientID, s.Bootstrap.ClientSecret)
	if err != nil {
		return nil, err
	}
	ident, principal, err := cs.collectorIdentity(ctx, admin)
	if err != nil {
		return nil, err
	}
	cred := principal.Credential
	armOpts := &azarm.ClientOptions{ClientOptions: s.ARMClientOptions()}
	apps, err := collector.NewApplications(cred, armOpts)
	if err != nil {
		return nil, err
	}
	sig, err := cs.sigValue(ctx)
	if err != nil {
		return nil, err
	}
	raw, err := azarm.NewClient("steward-collector-setup", "v1.0.0", admin, armOpts)
	if err != nil {
		return nil, err
	}
	do := func(method, path, apiVersion string, body any) (map[string]any, error) {
		req, err := runtime.NewRequest(ctx, method, runtime.JoinPaths(raw.Endpoint(), path))
		if err != nil {
			return nil, err
		}
		q := req.Raw().URL.Query()
		q.Set("api-version", apiVersion)
		req.Raw().URL.RawQuery = q.Encode()
		if body != nil {
			if err := runtime.MarshalAsJSON(req, body); err != nil {
				return nil, err
			}
		}
		resp, err := raw.Pipeline().Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode >= 300 {
			return nil, runtime.NewResponseError(resp)
		}
		var out map[string]any
		_ = runtime.UnmarshalAsJSON(resp, &out)
		return out, nil
	}
	sub := s.Bootstrap.SubscriptionID
	rg := "/subscriptions/" + sub + "/resourceGroups/" + CollectorResourceGroup
	grant := func(scope, role, name string) error {
		doc := rbac.RoleAssignmentDocument(scope, role, ident.ObjectID, rbac.PrincipalServicePrincipal)
		if _, _, err := s.Cloud.Put(ctx, nil, cloud.PutRequest{ID: doc["id"].(string), Type: cloud.TypeRoleAssignment, Doc: doc}); err != nil {
			var ae *arm.Error
			if !errors.As(err, &ae) || ae.Code != "RoleAssignmentExists" {
				return fmt.Errorf("granting %s: %w", name, err)
			}
		}
		return nil
	}
	if _, err := do("PUT", rg, "2021-04-01", map[string]any{"location": "westeurope", "tags": map[string]any{"steward": "collector"}}); err != nil {
		return nil, err
	}
	account := rg + "/providers/Microsoft.Storage/storageAccounts/" + CollectorAccount
	if _, err := do("GET", account, "2023-01-01", nil); err != nil {
		if _, err := do("PUT", account, "2023-01-01", map[string]any{"location": "westeurope", "kind": "StorageV2", "sku": map[string]any{"name": "Standard_LRS"}}); err != nil {
			return nil, err
		}
	}
	if err := grant(account, storageTableDataContributorRoleID, "Storage Table Data Contributor"); err != nil {
		return nil, err
	}
	ws := rg + "/providers/Microsoft.OperationalInsights/workspaces/" + CollectorWorkspace
	if _, err := do("PUT", ws, "2022-10-01", map[string]any{"location": "westeurope", "properties": map[string]any{}}); err != nil {
		return nil, err
	}
	if err := grant(ws, logAnalyticsReaderRoleID, "Log Analytics Reader"); err != nil {
		return nil, err
	}
	var cols []any
	for _, c := range collector.Columns {
		cols = append(cols, map[string]any{"name": c.Name, "type": c.Type})
	}
	if _, err := do("PUT", ws+"/tables/"+collector.Table, "2022-10-01", map[string]any{"properties": map[string]any{
		"schema": map[string]any{"name": collector.Table, "columns": cols}}}); err != nil {
		return nil, err
	}
	dceID := rg + "/providers/Microsoft.Insights/dataCollectionEndpoints/collector"
	dce, err := do("PUT", dceID, "2022-06-01", map[string]any{"location": "westeurope", "properties": map[string]any{}})
	if err != nil {
		return nil, err
	}
	endpoint, _ := propsOf(dce)["logsIngestion"].(map[string]any)["endpoint"].(string)
	dcrID := rg + "/providers/Microsoft.Insights/dataCollectionRules/collector"
	dcr, err := do("PUT", dcrID, "2022-06-01", map[string]any{"location": "westeurope", "properties": map[string]any{
		"dataCollectionEndpointId": dceID,
		"streamDeclarations":       map[string]any{collector.Stream: map[string]any{"columns": cols}},
		"destinations":             map[string]any{"logAnalytics": []any{map[string]any{"name": "ws", "workspaceResourceId": ws}}},
		"dataFlows": []any{map[string]any{"streams": []any{collector.Stream}, "destinations": []any{"ws"},
			"transformKql": "source", "outputStream": collector.Stream}}}})
	if err != nil {
		return nil, err
	}
	immutableID, _ := propsOf(dcr)["immutableId"].(string)
	if err := grant(dcrID, monitoringMetricsPublisherRoleID, "Monitoring Metrics Publisher"); err != nil {
		return nil, err
	}
	if _, err := collector.EnsureAlertRule(ctx, admin, armOpts, collector.AlertRule{SubscriptionID: sub, ResourceGroup: CollectorResourceGroup,
		Name: "managed-app-noncompliant", Location: "westeurope", Workspace: ws}); err != nil {
		return nil, fmt.Errorf("alert rule: %w", err)
	}

	base := strings.TrimSuffix(s.BaseURL, "/")
	tableOpts := &aztables.ClientOptions{ClientOptions: s.ARMClientOptions()}
	tableOpts.Cloud.Services = map[azcloud.ServiceName]azcloud.ServiceConfiguration{aztables.ServiceName: {Audience: StorageAudience}}
	tc, err := aztables.NewClient(base+"/tables/"+CollectorAccount+"/"+collectorTable, cred, tableOpts)
	if err != nil {
		return nil, err
	}
	ingestOpts := ingest.ClientOptions{ClientOptions: s.ARMClientOptions()}
	ingestOpts.Cloud.Services = map[azcloud.ServiceName]azcloud.ServiceConfiguration{ingest.ServiceNameIngestion: {Audience: MonitorAudience}}
	upload, err := collector.IngestionUploader(endpoint, cred, ingestOpts, immutableID, collector.Stream)
	if err != nil {
		return nil, err
	}
	queryOpts := query.ClientOptions{ClientOptions: s.ARMClientOptions()}
	queryOpts.Cloud.Services = map[azcloud.ServiceName]azcloud.ServiceConfiguration{query.ServiceName: {Endpoint: base + "/v1", Audience: LogAnalyticsAudience}}
	verify, err := collector.WorkspaceVerifier(cred, queryOpts, ws, 7*24*time.Hour)
	if err != nil {
		return nil, err
	}
	inv := &collector.TableInventory{Client: tc}
	coll, err := collector.New(collector.Options{Store: s.Store, Inventory: inv, ARM: *armOpts,
		Principal: func(string) (collector.Principal, error) { return principal, nil },
		Upload:    upload, Verify: verify, Interval: cs.opts.Interval, Log: s.log.With("component", "collector")})
	if err != nil {
		return nil, err
	}
	cs.reconcile = collector.NewReconciler(collector.Reconciler{Store: s.Store, Apps: apps, Inventory: inv, Interval: cs.opts.ReconcileInterval,
		Check: cs.opts.Check, Log: s.log.With("component", "collector")})
	cs.coll, cs.inventory, cs.sig, cs.identity = coll, inv, sig, ident
	cs.notifications = &collector.Notifications{Sig: sig, Apps: apps, Inventory: inv, Log: s.log.With("component", "collector")}
	return cs.notifications, nil
}

// collectorStatus is GET /collector/api/status.
type collectorStatus struct {
	NotificationURL string `json:"notificationUrl"`
	// Principal is the collector's: a definition's authorizations name
	// its objectId to let it read the managed resource groups.
	Principal CollectorIdentity `json:"principal"`
	Workspace string            `json:"workspace"`
	Run       *collector.Run    `json:"run,omitempty"`
	// Reconciliation is the latest, scheduled or on demand.
	Reconciliation *collector.Reconciliation `json:"reconciliation,omitempty"`
}

// serveAPI serves /collector/api/{status,runs,reconcile,deployments} to the
// administrator; every other principal is refused.
func (cs *collectorServer) serveAPI(w http.ResponseWriter, r *http.Request) {
	p, ok := identity.PrincipalFrom(r.Context())
	if !ok || p.AppID != cs.s.Bootstrap.ClientID {
		arm.WriteError(w, arm.Errorf(http.StatusForbidden, "AuthorizationFailed", "Only Steward's administrator may use the collector API."))
		return
	}
	if _, err := cs.ensure(r.Context()); err != nil {
		cs.s.log.Error("collector: preparing", "err", err)
		arm.WriteError(w, arm.Errorf(http.StatusServiceUnavailable, "CollectorUnavailable", "The collector is not ready; try again."))
		return
	}
	ctx := r.Context()
	var out any
	var err error
	switch path := strings.TrimPrefix(r.URL.Path, CollectorPrefix+"api/"); {
	case path == "status" && r.Method == http.MethodGet:
		st := collectorStatus{NotificationURL: strings.TrimSuffix(cs.s.BaseURL, "/") + "/collector?sig=" + cs.sig, Principal: cs.identity,
			Workspace: "/subscriptions/" + cs.s.Bootstrap.SubscriptionID + "/resourceGroups/" + CollectorResourceGroup +
				"/providers/Microsoft.OperationalInsights/workspaces/" + CollectorWorkspace}
		if run, err := cs.coll.Current(ctx); err == nil {
			st.Run = &run
		}
		if rec, err := cs.reconcile.Last(ctx); err == nil {
			st.Reconciliation = &rec
		}
		out = st
	case path == "runs" && r.Method == http.MethodPost:
		var run collector.Run
		run, err = cs.coll.RunOnce(ctx, true)
		if err == nil {
			failures, ferr := cs.coll.Failures(ctx, run.ID)
			out, err = map[string]any{"run": run, "failures": failures}, ferr
		}
	case path == "reconcile" && r.Method == http.MethodPost:
		var rec collector.Reconciliation
		if rec, err = cs.reconcile.Once(ctx, true); err == nil {
			out = rec.Result
		}
	case path == "deployments" && r.Method == http.MethodGet:
		out, err = cs.inventory.List(ctx)
	default:
		arm.WriteError(w, arm.NotFound("NotFound", "No collector API at %s %s.", r.Method, r.URL.Path))
		return
	}
	if err != nil {
		cs.s.log.Error("collector API", "path", r.URL.Path, "err", err)
		arm.WriteError(w, arm.Errorf(http.StatusServiceUnavailable, "CollectorUnavailable", "The collector could not complete the request; try again."))
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(out)
}

func propsOf(m map[string]any) map[string]any { p, _ := m["properties"].(map[string]any); return p }
