package reports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

// Store tables of the scheduler: the last run of each job, and the open
// incidents (one per finding of a job, by fingerprint).
const (
	tableJobs      = "reports.jobs"
	tableIncidents = "reports.incidents"
)

// Log tables the scheduler writes (custom tables, Data Collector suffixes).
const (
	RunsTable     = "StewardReportRuns_CL"
	FindingsTable = "StewardReportFindings_CL"
)

// JobsQuery is the KQL that shows the last run of each job from
// RunsTable (steward report jobs runs it).
const JobsQuery = `StewardReportRuns_CL
| summarize arg_max(TimeGenerated, *) by Job_s
| project Job=Job_s, Status=Status_s, LastRun=Started_t, DurationMs=DurationMs_d, Findings=Findings_d, Opened=Opened_d, Resolved=Resolved_d, Error=Error_s, NotifyError=NotifyError_s
| sort by Job asc`

// Job is a report run on a schedule.
type Job struct {
	Name  string
	Every time.Duration
	// Run produces the report's findings.
	Run func(ctx context.Context) ([]Finding, error)
}

// JobRun is the record of a job's last run.
type JobRun struct {
	Job       string        `json:"job"`
	Started   time.Time     `json:"started"`
	Duration  time.Duration `json:"duration"`
	Error     string        `json:"error,omitempty"`
	Findings  int           `json:"findings"`
	Opened    int           `json:"opened"`
	Resolved  int           `json:"resolved"`
	NotifyErr string        `json:"notifyError,omitempty"`
}

// incident is an open finding of a job, notified once when it opens and
// once when it resolves.
type incident struct {
	Finding  Finding   `json:"finding"`
	Fired    time.Time `json:"fired"`
	Notified bool      `json:"notified"`
}

// NotifyFunc delivers an incident's payload (the common alert schema)
// through the configured action group.
type NotifyFunc func(ctx context.Context, payload []byte) error

// RecordFunc appends rows to a log table (Steward*_CL).
type RecordFunc func(ctx context.Context, table string, rows []map[string]any) error

// SchedulerOptions configure the report scheduler.
type SchedulerOptions struct {
	Store store.Store
	Jobs  []Job
	// Notify, when set, receives every incident that opens or resolves.
	Notify NotifyFunc
	// Record, when set, receives the run and finding rows.
	Record RecordFunc
	// Subscription names the alerts' IDs (alerts live under a
	// subscription).
	Subscription string
	// Timeout bounds one run (default 10 minutes).
	Timeout time.Duration
	Now     func() time.Time
	Log     *slog.Logger
}

// Scheduler runs report jobs when due, one replica at a time per job (a
// store lock), keeps their last run, turns findings into incidents
// (deduplicated by fingerprint across runs, resolved when a run no longer
// finds them) and writes log tables.
type Scheduler struct{ opts SchedulerOptions }

// NewScheduler returns a scheduler; call Tick periodically.
func NewScheduler(opts SchedulerOptions) *Scheduler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Minute
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{opts: opts}
}

// Tick runs every job that is due. A failing job records its error and
// does not stop the others.
func (s *Scheduler) Tick(ctx context.Context) error {
	var errs []error
	for _, j := range s.opts.Jobs {
		if err := s.runIfDue(ctx, j); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", j.Name, err))
		}
	}
	return errors.Join(errs...)
}

// Runs returns the last run of every job that has run.
func (s *Scheduler) Runs(ctx context.Context) ([]JobRun, error) {
	var out []JobRun
	err := s.opts.Store.View(ctx, func(tx store.Tx) error {
		out = nil
		page, err := tx.Scan(ctx, tableJobs, store.Query{Limit: store.MaxPageSize})
		if err != nil {
			return err
		}
		for _, rec := range page.Records {
			var r JobRun
			if err := json.Unmarshal(rec.Value, &r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

func (s *Scheduler) lastRun(ctx context.Context, name string) (JobRun, bool, error) {
	var r JobRun
	found := false
	err := s.opts.Store.View(ctx, func(tx store.Tx) error {
		rec, err := tx.Get(ctx, tableJobs, name)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		return json.Unmarshal(rec.Value, &r)
	})
	return r, found, err
}

func (s *Scheduler) runIfDue(ctx context.Context, j Job) error {
	last, ran, err := s.lastRun(ctx, j.Name)
	if err != nil || ran && s.opts.Now().Before(last.Started.Add(j.Every)) {
		return err
	}
	lock, ok, err := s.opts.Store.TryLock(ctx, "reports/job/"+j.Name)
	if err != nil || !ok {
		return err
	}
	defer lock.Release(context.WithoutCancel(ctx))
	// Another replica may have run it while this one waited.
	if last, ran, err = s.lastRun(ctx, j.Name); err != nil || ran && s.opts.Now().Before(last.Started.Add(j.Every)) {
		return err
	}
	return s.RunNow(ctx, j)
}

// RunNow runs a job whether or not it is due (the caller holds its lock
// or accepts a concurrent run).
func (s *Scheduler) RunNow(ctx context.Context, j Job) error {
	start := s.opts.Now()
	rctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	findings, runErr := j.Run(rctx)
	cancel()
	run := JobRun{Job: j.Name, Started: start, Duration: s.opts.Now().Sub(start), Findings: len(findings)}
	if runErr != nil {
		// A failed run changes no incident: it found nothing reliable.
		run.Error = runErr.Error()
		s.opts.Log.Warn("report job failed", "job", j.Name, "err", runErr)
	} else if err := s.reconcile(ctx, j.Name, findings, &run); err != nil {
		run.Error = "incidents: " + err.Error()
	}
	b, _ := json.Marshal(run)
	if err := s.opts.Store.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Put(ctx, tableJobs, j.Name, b, store.Cond{})
		return err
	}); err != nil {
		return err
	}
	s.record(ctx, j.Name, run, findings, runErr == nil)
	return runErr
}

// reconcile opens an incident per new finding and resolves those the run
// no longer finds, notifying each change once. An incident whose
// notification failed stays marked and is notified again next run.
func (s *Scheduler) reconcile(ctx context.Context, job string, findings []Finding, run *JobRun) error {
	open := map[string]incident{}
	prefix := job + "|"
	err := s.opts.Store.View(ctx, func(tx store.Tx) error {
		after := ""
		for {
			page, err := tx.Scan(ctx, tableIncidents, store.Query{Prefix: prefix, After: after, Limit: store.MaxPageSize})
			if err != nil {
				return err
			}
			for _, rec := range page.Records {
				var in incident
				if err := json.Unmarshal(rec.Value, &in); err != nil {
					return err
				}
				open[rec.Key] = in
			}
			if page.Next == "" {
				return nil
			}
			after = page.Next
		}
	})
	if err != nil {
		return err
	}
	now := s.opts.Now()
	seen := map[string]bool{}
	var notifyErrs []error
	for _, f := range findings {
		k := prefix + f.Fingerprint()
		if seen[k] {
			continue
		}
		seen[k] = true
		in, ok := open[k]
		if ok && in.Notified {
			continue
		}
		if !ok {
			in = incident{Finding: f, Fired: now}
			run.Opened++
		}
		in.Notified = s.notify(ctx, job, in, "Fired", now, &notifyErrs)
		if err := s.put(ctx, k, in); err != nil {
			return err
		}
	}
	keys := make([]string, 0, len(open))
	for k := range open {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if seen[k] {
			continue
		}
		in := open[k]
		if !s.notify(ctx, job, in, "Resolved", now, &notifyErrs) {
			continue // resolved on a later run, once it can be told
		}
		run.Resolved++
		if err := s.opts.Store.Update(ctx, func(tx store.Tx) error {
			return tx.Delete(ctx, tableIncidents, k, store.Cond{})
		}); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if err := errors.Join(notifyErrs...); err != nil {
		run.NotifyErr = err.Error()
	}
	return nil
}

func (s *Scheduler) put(ctx context.Context, k string, in incident) error {
	b, _ := json.Marshal(in)
	return s.opts.Store.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Put(ctx, tableIncidents, k, b, store.Cond{})
		return err
	})
}

// notify sends one incident change; it reports success (true also when
// no action group is configured: there is no one to tell).
func (s *Scheduler) notify(ctx context.Context, job string, in incident, condition string, now time.Time, errs *[]error) bool {
	if s.opts.Notify == nil {
		return true
	}
	if err := s.opts.Notify(ctx, IncidentPayload(s.opts.Subscription, job, in.Finding, condition, in.Fired, now)); err != nil {
		*errs = append(*errs, err)
		return false
	}
	return true
}

// record writes the run row and the finding rows; a failure is logged
// (the run's state is kept in the store either way).
func (s *Scheduler) record(ctx context.Context, job string, run JobRun, findings []Finding, ok bool) {
	if s.opts.Record == nil {
		return
	}
	status := "Succeeded"
	if !ok {
		status = "Failed"
	}
	row := map[string]any{"Job_s": job, "Status_s": status, "Started_t": run.Started.UTC().Format(time.RFC3339Nano),
		"DurationMs_d": float64(run.Duration.Milliseconds()), "Findings_d": float64(run.Findings), "Opened_d": float64(run.Opened),
		"Resolved_d": float64(run.Resolved), "Error_s": run.Error, "NotifyError_s": run.NotifyErr}
	if err := s.opts.Record(ctx, RunsTable, []map[string]any{row}); err != nil {
		s.opts.Log.Warn("report job: writing its run row", "job", job, "err", err)
	}
	if !ok || len(findings) == 0 {
		return
	}
	rows := make([]map[string]any, 0, len(findings))
	for _, f := range findings {
		rows = append(rows, map[string]any{"Job_s": job, "Report_s": f.Report, "Kind_s": f.Kind, "Severity_s": f.Severity,
			"ResourceId_s": f.ResourceID, "Message_s": f.Message, "Fingerprint_s": f.Fingerprint()})
	}
	if err := s.opts.Record(ctx, FindingsTable, rows); err != nil {
		s.opts.Log.Warn("report job: writing its findings", "job", job, "err", err)
	}
}

// severities maps a finding's severity to the alert severities of Azure
// Monitor (Sev0 critical to Sev4 verbose).
var severities = map[string]string{High: "Sev1", Medium: "Sev2", Low: "Sev3"}

// IncidentPayload is an incident in the common alert schema: the
// essentials as Azure Monitor shapes them, with monitoringService
// "Steward Reports" and the finding as the alert context.
func IncidentPayload(subscription, job string, f Finding, condition string, fired, now time.Time) []byte {
	fp := f.Fingerprint()
	alertID := fp[:8] + "-" + fp[8:12] + "-" + fp[12:16] + "-" + fp[16:20] + "-" + fp[20:32]
	rg, typ := "", ""
	if parts := strings.Split(strings.ToLower(f.ResourceID), "/"); len(parts) > 4 && parts[3] == "resourcegroups" {
		rg = parts[4]
	}
	if i := strings.Index(strings.ToLower(f.ResourceID), "/providers/"); i >= 0 {
		segs := strings.Split(f.ResourceID[i+len("/providers/"):], "/")
		if len(segs) >= 2 {
			typ = strings.ToLower(segs[0] + "/" + segs[1])
		}
	}
	essentials := map[string]any{
		"alertId":             "/subscriptions/" + subscription + "/providers/Microsoft.AlertsManagement/alerts/" + alertID,
		"alertRule":           "steward-report-" + job,
		"severity":            severities[f.Severity],
		"signalType":          "Log",
		"monitorCondition":    condition,
		"monitoringService":   "Steward Reports",
		"alertTargetIDs":      []string{strings.ToLower(f.ResourceID)},
		"configurationItems":  []string{lastSegment(f.ResourceID)},
		"originAlertId":       fp,
		"firedDateTime":       fired.UTC().Format("2006-01-02T15:04:05.000Z"),
		"description":         f.Kind + ": " + f.Message,
		"essentialsVersion":   "1.0",
		"alertContextVersion": "1.0",
		"targetResourceGroup": rg,
		"targetResourceType":  typ,
	}
	if condition == "Resolved" {
		essentials["resolvedDateTime"] = now.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	b, _ := json.Marshal(map[string]any{
		"schemaId": "azureMonitorCommonAlertSchema",
		"data": map[string]any{
			"essentials":   essentials,
			"alertContext": map[string]any{"report": f.Report, "kind": f.Kind, "severity": f.Severity, "details": f.Details},
		},
	})
	return b
}
