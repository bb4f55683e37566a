package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"

	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/identity/graph"
	"github.com/steward-gov/steward/internal/logs"
	"github.com/steward-gov/steward/internal/logs/kql"
	"github.com/steward-gov/steward/internal/reports"
)

// Defaults of the scheduled reports.
const (
	DefaultReportsEvery = 24 * time.Hour
	reportsTick         = time.Minute
)

// ReportsOptions configure the governance reports that steward serve runs
// as scheduled jobs.
type ReportsOptions struct {
	// Every is how often each report runs (0: DefaultReportsEvery).
	Every time.Duration
	// AccessDays is the access report's window (0: 90 days).
	AccessDays int
	// Rogue names the approved paths; the rogue job runs only when it
	// names at least one pipeline or template hash.
	Rogue reports.RogueOptions
	// Workspace is the resource ID of the Log Analytics workspace the jobs
	// write StewardReportRuns_CL and StewardReportFindings_CL to ("" for
	// none).
	Workspace string
	// ActionGroup is the resource ID of the action group incidents go
	// through ("" for none).
	ActionGroup string
	// HTTP posts to webhooks (nil: a client with a timeout).
	HTTP *http.Client
	// Mailer sends incidents to the action group's email receivers (nil:
	// a group with email receivers fails the notification, visibly).
	Mailer reports.Mailer
	// Now is the scheduler's clock (nil: the wall clock).
	Now func() time.Time
	// BenchmarkAssignment is the name of the subscription's assignment of
	// the Microsoft cloud security benchmark the benchmark job reports
	// ("": "mcsb", as steward report benchmark --assign names it). The job
	// reports nothing while no such assignment exists.
	BenchmarkAssignment string
	// Disabled mounts the scheduler but starts no loop (tests tick it).
	Disabled bool
}

// ReportsService is the Service that runs the governance reports as
// scheduled jobs (access, credentials, network, logging, benchmark, and
// rogue when approved paths are named): each reads the subscription through the Azure SDK in
// process as the administrator, as the CLI does; a store lock per job
// lets one replica run it; each run's outcome and findings go to the
// workspace's log tables, and findings become incidents of the action
// group. It needs CloudService, LogsService and AlertsService (for
// action groups) mounted before it. ready receives the scheduler.
func ReportsService(opts ReportsOptions, ready ...func(*reports.Scheduler)) Service {
	return func(ctx context.Context, s *Steward) error {
		if s.Cloud == nil {
			return errors.New("reports: mount CloudService and LogsService before ReportsService")
		}
		cred, err := s.SecretCredential(s.Bootstrap.ClientID, s.Bootstrap.ClientSecret)
		if err != nil {
			return fmt.Errorf("reports: %w", err)
		}
		src := reports.Source{Credential: cred, Options: &azarm.ClientOptions{ClientOptions: s.ARMClientOptions()}, Subscription: s.Bootstrap.SubscriptionID}
		every := opts.Every
		if every <= 0 {
			every = DefaultReportsEvery
		}
		days := opts.AccessDays
		if days <= 0 || days > reports.MaxActivityDays {
			days = reports.MaxActivityDays
		}
		now := opts.Now
		if now == nil {
			now = time.Now
		}
		window := time.Duration(days) * 24 * time.Hour
		jobs := []reports.Job{{Name: "access", Every: every, Run: func(ctx context.Context) ([]reports.Finding, error) {
			t := now().UTC()
			data, err := reports.UsageOperations(ctx, s.Store, t.Add(-window))
			if err != nil {
				return nil, fmt.Errorf("data-plane use: %w", err)
			}
			// Credential sign-ins are not actions a role grants.
			data = slices.DeleteFunc(data, func(o reports.Operation) bool { return o.Action == reports.ActionCredentialSignIn })
			return reports.AccessFrom(ctx, src, t, window, data...)
		}}}
		if len(opts.Rogue.Pipelines)+len(opts.Rogue.TemplateHashes) > 0 {
			jobs = append(jobs, reports.Job{Name: "rogue", Every: every, Run: func(ctx context.Context) ([]reports.Finding, error) {
				return reports.RogueFrom(ctx, src, now().UTC(), window, opts.Rogue)
			}})
		}
		var record reports.RecordFunc
		if opts.Workspace != "" {
			record = reportsRecorder(logs.New(s.Store, logs.Options{Sealer: s.Sealer}), opts.Workspace)
		}
		csrc := reports.CredentialSource{Source: src, DataOptions: s.ARMClientOptions(), GraphBase: "https://" + GraphHost + "/" + graph.Version}
		jobs = append(jobs,
			reports.Job{Name: "credentials", Every: every, Run: func(ctx context.Context) ([]reports.Finding, error) {
				rows, err := credentialsReport(ctx, s, csrc, now())
				if err == nil && record != nil {
					// The inventory with its last-used times, for KQL.
					if err := record(ctx, reports.CredentialsTable, reports.CredentialLogRows(rows)); err != nil {
						return nil, fmt.Errorf("%s: %w", reports.CredentialsTable, err)
					}
				}
				return reports.CredentialFindings(rows), err
			}},
			reports.Job{Name: "network", Every: every, Run: func(ctx context.Context) ([]reports.Finding, error) {
				return reports.NetworkFrom(ctx, src)
			}},
			reports.Job{Name: "logging", Every: every, Run: func(ctx context.Context) ([]reports.Finding, error) {
				return reports.LoggingFrom(ctx, src)
			}},
			reports.Job{Name: "benchmark", Every: every, Run: func(ctx context.Context) ([]reports.Finding, error) {
				name := opts.BenchmarkAssignment
				if name == "" {
					name = "mcsb"
				}
				_, findings, _, err := reports.BenchmarkFrom(ctx, src, reports.MCSBInitiativeID, name)
				return findings, err
			}})
		so := reports.SchedulerOptions{Store: s.Store, Jobs: jobs, Subscription: s.Bootstrap.SubscriptionID, Now: now,
			Log: s.log.With("component", "reports")}
		if opts.ActionGroup != "" {
			if so.Notify, err = reports.ActionGroupNotifier(src, opts.ActionGroup, opts.HTTP, opts.Mailer); err != nil {
				return fmt.Errorf("reports: %w", err)
			}
		}
		so.Record = record
		sched := reports.NewScheduler(so)
		for _, f := range ready {
			f(sched)
		}
		if opts.Disabled {
			return nil
		}
		s.Background(func(ctx context.Context) {
			t := time.NewTicker(reportsTick)
			defer t.Stop()
			for {
				if err := sched.Tick(ctx); err != nil && ctx.Err() == nil {
					so.Log.Warn("scheduled reports", "err", err)
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		})
		return nil
	}
}

// reportsRecorder appends the jobs' rows to a workspace's custom tables,
// typing columns by their Data Collector suffix (_s string, _d real, _t
// datetime, _b bool).
func reportsRecorder(svc *logs.Service, workspaceID string) reports.RecordFunc {
	return func(ctx context.Context, table string, rows []map[string]any) error {
		if len(rows) == 0 {
			return nil
		}
		ws, err := svc.WorkspaceByResourceID(ctx, workspaceID)
		if err != nil {
			return fmt.Errorf("workspace %s: %w", workspaceID, err)
		}
		var cols []kql.Column
		for name := range rows[0] {
			t := kql.TypeString
			switch {
			case strings.HasSuffix(name, "_d"):
				t = kql.TypeReal
			case strings.HasSuffix(name, "_t"):
				t = kql.TypeDateTime
			case strings.HasSuffix(name, "_b"):
				t = kql.TypeBool
			}
			cols = append(cols, kql.Column{Name: name, Type: t})
		}
		out := make([]kql.Row, 0, len(rows))
		for _, r := range rows {
			row := make(kql.Row, len(cols))
			for i, c := range cols {
				switch v := r[c.Name].(type) {
				case string:
					if c.Type == kql.TypeDateTime {
						if ts, err := time.Parse(time.RFC3339Nano, v); err == nil {
							row[i] = kql.DateTimeOf(ts)
						}
					} else {
						row[i] = kql.String(v)
					}
				case float64:
					row[i] = kql.Real(v)
				case bool:
					row[i] = kql.Bool(v)
				}
			}
			out = append(out, row)
		}
		return svc.Rows.Append(ctx, ws.CustomerID, table, cols, out, logs.Evolve)
	}
}

// credentialUsed is the identity service's CredentialUsed hook: it notes
// the credential's sign-in in the data-plane use records (at most once
// per 5 minutes per credential, written off the request), where the
// credentials job reads each application credential's last use.
func credentialUsed(usage *reports.UsageRecorder) func(identity.CredentialUse) {
	collection := map[string]string{identity.CredentialPassword: "passwordCredentials",
		identity.CredentialCertificate: "keyCredentials", identity.CredentialFederated: "federatedIdentityCredentials"}
	return func(u identity.CredentialUse) {
		if scope := reports.AppCredentialScope(u.AppObjectID, collection[u.Kind], u.KeyID); scope != "" {
			usage.Note(u.AppID, scope, reports.ActionCredentialSignIn)
		}
	}
}

// credentialsReport runs the credentials report with the last use of
// each vault object and application credential from the data-plane
// records.
func credentialsReport(ctx context.Context, s *Steward, src reports.CredentialSource, now time.Time) ([]reports.CredentialRow, error) {
	used, err := reports.UsageOperations(ctx, s.Store, time.Time{})
	if err != nil {
		return nil, fmt.Errorf("data-plane use: %w", err)
	}
	src.LastUsed = reports.LastUsedByScope(used)
	return reports.CredentialsFrom(ctx, src, now)
}

// credentialActivity is Graph's CredentialActivity hook: the last
// sign-in of each application credential from the data-plane use
// records, after writing those still queued so a sign-in that returned
// before the request is in the answer.
func credentialActivity(s *Steward) graph.CredentialActivityFunc {
	return func(ctx context.Context) (map[string]time.Time, error) {
		if err := s.usageRecorder().Drain(ctx); err != nil {
			return nil, err
		}
		ops, err := reports.UsageOperations(ctx, s.Store, time.Time{})
		if err != nil {
			return nil, err
		}
		out := map[string]time.Time{}
		for _, o := range ops {
			k := strings.ToLower(o.Scope)
			if o.Action == reports.ActionCredentialSignIn && o.Time.After(out[k]) {
				out[k] = o.Time
			}
		}
		return out, nil
	}
}
