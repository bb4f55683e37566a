package insights

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/store"
)

// tableRemediationJobs holds the remediations still to run, keyed by the
// lower-case remediation ID and leased by the replica running each: a
// replica that stops or crashes loses its lease, and another (or the
// same, restarted) takes the job up where the deployments table says it
// was.
const tableRemediationJobs = "insights.remediation_jobs"

// The provisioning states of a remediation (Azure documents Evaluating,
// Canceled, Cancelling, Failed, Complete and Succeeded; Accepted and
// Running are the states of a queued and a deploying one:
// docs/decisions/templates.md).
const (
	remAccepted   = "Accepted"
	remEvaluating = "Evaluating"
	remRunning    = "Running"
	remCancelling = "Cancelling"
	remCanceled   = "Canceled"
	remSucceeded  = "Succeeded"
	remFailed     = "Failed"
)

// remediationInProgress reports whether a remediation in state st has
// not ended.
func remediationInProgress(st string) bool {
	switch st {
	case remAccepted, remEvaluating, remRunning, remCancelling:
		return true
	}
	return false
}

// remediationJob is what the background runner needs of a remediation
// accepted by its PUT.
type remediationJob struct {
	ID            string           `json:"id"`
	Scope         string           `json:"scope"`
	Input         remediationInput `json:"input"`
	Host          string           `json:"host"`
	TLS           bool             `json:"tls"`
	CorrelationID string           `json:"correlationId"`
	Created       string           `json:"created"`
}

// queueRemediation stores the job of an accepted remediation and wakes
// the runner.
func (e *Engine) queueRemediation(ctx context.Context, j remediationJob) error {
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	if err := e.cloud.Store().Update(ctx, func(tx store.Tx) error {
		_, err := tx.Put(ctx, tableRemediationJobs, strings.ToLower(j.ID), b, store.Cond{})
		return err
	}); err != nil {
		return err
	}
	select {
	case e.remWake <- struct{}{}:
	default:
	}
	return nil
}

// remediationQueued reports whether a remediation has a job: one that
// has not ended but has none (its Steward crashed between storing it and
// queueing it) is treated as ended.
func (e *Engine) remediationQueued(ctx context.Context, id string) bool {
	queued := true
	_ = e.cloud.Store().View(ctx, func(tx store.Tx) error {
		_, err := tx.Get(ctx, tableRemediationJobs, strings.ToLower(id))
		queued = !errors.Is(err, store.ErrNotFound)
		return nil
	})
	return queued
}

// remediationLoop runs queued remediations until ctx ends.
func (e *Engine) remediationLoop(ctx context.Context) {
	defer close(e.remDone)
	tick := time.NewTicker(e.opts.Poll)
	defer tick.Stop()
	for {
		for e.RunRemediations(ctx) > 0 && ctx.Err() == nil {
		}
		select {
		case <-ctx.Done():
			return
		case <-e.remWake:
		case <-tick.C:
		}
	}
}

// RunRemediations takes one queued remediation (if no other replica holds
// it), runs it to its end and reports how many it ran (0 or 1).
func (e *Engine) RunRemediations(ctx context.Context) int {
	st := e.cloud.Store()
	leases, err := st.Acquire(ctx, tableRemediationJobs, "", e.opts.Owner, e.opts.LeaseTTL, 1)
	if err != nil || len(leases) == 0 {
		if err != nil && ctx.Err() == nil {
			e.log.Error("taking a remediation failed", "err", err)
		}
		return 0
	}
	l := leases[0]
	var j remediationJob
	if err := json.Unmarshal(l.Value, &j); err != nil {
		_ = st.Update(ctx, func(tx store.Tx) error { return tx.Delete(ctx, tableRemediationJobs, l.Key, store.Cond{}) })
		return 1
	}
	runCtx, release := e.keepLease(ctx, tableRemediationJobs, l.Key)
	done := e.runRemediation(runCtx, &j)
	release()
	if !done || ctx.Err() != nil {
		// Stopped before the end: the next runner resumes it.
		_ = st.Release(context.WithoutCancel(ctx), tableRemediationJobs, l.Key, e.opts.Owner)
		return 1
	}
	if err := st.Update(ctx, func(tx store.Tx) error {
		err := tx.Delete(ctx, tableRemediationJobs, l.Key, store.Cond{})
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}); err != nil {
		e.log.Error("completing a remediation failed", "remediation", j.ID, "err", err)
	}
	return 1
}

// keepLease renews the lease of key while the returned context is in
// use; the context ends when the lease is lost. release stops renewing.
func (e *Engine) keepLease(ctx context.Context, table, key string) (context.Context, func()) {
	runCtx, cancel := context.WithCancel(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(e.opts.LeaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				if _, err := e.cloud.Store().Renew(runCtx, table, key, e.opts.Owner, e.opts.LeaseTTL); err != nil {
					cancel()
					return
				}
			}
		}
	}()
	return runCtx, func() {
		cancel()
		<-renewed
	}
}

// updateRemediation changes a stored remediation's properties with f,
// atomically; f returns false to leave it as it is. It returns the
// properties as stored afterwards.
func (e *Engine) updateRemediation(ctx context.Context, id string, f func(props map[string]any) bool) (map[string]any, error) {
	var out map[string]any
	_, _, err := e.cloud.Put(ctx, nil, cloud.PutRequest{ID: id, Type: TypeRemediations, Build: func(existing *cloud.Resource) (map[string]any, error) {
		if existing == nil {
			return nil, store.ErrNotFound
		}
		doc := cloneJSON(existing.Doc)
		props, _ := doc["properties"].(map[string]any)
		if props == nil {
			props = map[string]any{}
			doc["properties"] = props
		}
		out = props
		if !f(props) {
			return nil, errUnchanged
		}
		props["lastUpdatedOn"] = e.stamp()
		return doc, nil
	}})
	if errors.Is(err, errUnchanged) {
		err = nil
	}
	return out, err
}

// errUnchanged ends an update that has nothing to write.
var errUnchanged = errors.New("unchanged")

func (e *Engine) stamp() string { return e.now().UTC().Format("2006-01-02T15:04:05.0000000Z") }

// cloneJSON deep-copies a JSON document.
func cloneJSON(doc map[string]any) map[string]any {
	b, _ := json.Marshal(doc)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// runRemediation runs a remediation to its end and reports whether it
// ended (false: ctx ended first, the job stays queued). Deployments
// recorded as ended by an earlier run are kept; the others run again.
func (e *Engine) runRemediation(ctx context.Context, j *remediationJob) bool {
	finish := func(state, message string) bool {
		_, err := e.updateRemediation(context.WithoutCancel(ctx), j.ID, func(p map[string]any) bool {
			p["provisioningState"] = state
			if message != "" {
				p["statusMessage"] = message
			}
			return true
		})
		return err == nil || errors.Is(err, store.ErrNotFound)
	}
	props, err := e.updateRemediation(ctx, j.ID, func(map[string]any) bool { return false })
	if errors.Is(err, store.ErrNotFound) {
		return true // deleted meanwhile
	}
	if err != nil {
		return false
	}
	if stringOf(props["provisioningState"]) == remCancelling {
		return finish(remCanceled, "")
	}
	ps, err := e.current(ctx)
	if err != nil {
		return false
	}
	var c *compiled
	for _, x := range ps.assigned {
		if arm.EqualIDs(x.a.ID, j.Input.AssignmentID) {
			c = x
		}
	}
	if c == nil {
		return finish(remFailed, "The policy assignment was deleted before the remediation ran.")
	}
	sr, err := arm.ParseResourceID(j.Scope)
	if err != nil {
		return finish(remFailed, "The remediation's scope is not valid.")
	}
	if j.Input.Discovery == "ReEvaluateCompliance" && stringOf(props["provisioningState"]) == remAccepted {
		if _, err := e.updateRemediation(ctx, j.ID, setState(remEvaluating)); err != nil {
			return false
		}
		if err := e.ScanAssignment(ctx, j.Scope, c.a.ID); err != nil {
			return false
		}
	}
	targets, err := e.remediationTargets(ctx, j.Scope, sr, c, &j.Input)
	if err != nil {
		return false
	}
	// Deployments an earlier run ended are kept; the rest run.
	deps, err := e.remediationDeployments(ctx, j.ID)
	if err != nil {
		return false
	}
	ended := map[string]bool{}
	var kept []remediationDeployment
	for _, d := range deps {
		if d.Status == "Succeeded" || d.Status == "Failed" {
			ended[strings.ToLower(d.RemediatedResourceID)] = true
			kept = append(kept, d)
		}
	}
	// Each target keeps its index in the target list as its deployment's
	// name, so a resumed run redeploys under the same name.
	var todo []remTarget
	for i, s := range targets {
		if !ended[strings.ToLower(s.ResourceID)] {
			todo = append(todo, remTarget{s, i})
		}
	}
	run := &remediationRun{e: e, j: j, deps: kept, total: len(kept) + len(todo)}
	if _, err := e.updateRemediation(ctx, j.ID, run.progress(remRunning)); err != nil {
		return false
	}
	var runAs identity.Principal
	if len(todo) > 0 {
		if runAs, err = e.assignmentPrincipal(ctx, c.a.ID); err != nil {
			var ae *arm.Error
			if errors.As(err, &ae) {
				return finish(remFailed, ae.Message)
			}
			return false
		}
	}
	call := &cloud.Call{HTTP: &http.Request{Host: j.Host, Header: http.Header{}}, CorrelationID: j.CorrelationID}
	if j.TLS {
		call.HTTP.TLS = &tls.ConnectionState{}
	}
	// The deployments run as the assignment's managed identity, with the
	// roles granted to it, as on Azure.
	asIdentity := identity.WithPrincipal(ctx, runAs)
	stop := run.deployAll(asIdentity, call, ps, c, todo)
	if ctx.Err() != nil {
		return false
	}
	// The deployments changed resources the assignment's rules look at
	// (deployIfNotExists checks related resources): evaluate again.
	if len(run.deps) > len(kept) {
		if err := e.ScanAssignment(ctx, j.Scope, c.a.ID); err != nil {
			e.log.Warn("re-evaluation after remediation failed", "remediation", j.ID, "err", err)
		}
	}
	// The final counts, whatever order the progress writes landed in.
	if _, err := e.updateRemediation(context.WithoutCancel(ctx), j.ID, run.progress(remRunning)); err != nil && !errors.Is(err, store.ErrNotFound) {
		return false
	}
	state, message := remSucceeded, ""
	switch {
	case stop == stopCanceled:
		state = remCanceled
	case stop == stopThreshold:
		state, message = remFailed, fmt.Sprintf("The remediation stopped: the failure threshold %g was exceeded.", j.Input.Failure)
	case run.failed > 0:
		state, message = remFailed, fmt.Sprintf("%d of %d remediation deployments failed.", run.failed, len(run.deps))
	}
	return finish(state, message)
}

func setState(st string) func(map[string]any) bool {
	return func(p map[string]any) bool {
		p["provisioningState"] = st
		return true
	}
}

// remTarget is a resource to remediate and its index among the targets.
type remTarget struct {
	s *State
	i int
}

// Why a remediation stopped starting deployments.
const (
	stopNone = iota
	stopCanceled
	stopThreshold
)

// remediationRun is the progress of one run: the deployments so far.
type remediationRun struct {
	e     *Engine
	j     *remediationJob
	mu    sync.Mutex
	deps  []remediationDeployment
	total int
	// failed counts the failed deployments; succeeded the others.
	failed, succeeded int
}

// progress writes the deployment counts and, unless the remediation is
// being canceled, the state st.
func (r *remediationRun) progress(st string) func(map[string]any) bool {
	return func(p map[string]any) bool {
		// The counts are taken when the update is written (it is retried on
		// a concurrent write), so the last write holds the latest.
		r.mu.Lock()
		failed, succeeded := 0, 0
		for _, d := range r.deps {
			switch d.Status {
			case "Succeeded":
				succeeded++
			case "Failed":
				failed++
			}
		}
		r.failed, r.succeeded = failed, succeeded
		total := r.total
		r.mu.Unlock()
		if cur := stringOf(p["provisioningState"]); cur != remCancelling && remediationInProgress(cur) {
			p["provisioningState"] = st
		}
		p["deploymentStatus"] = map[string]any{"totalDeployments": total, "successfulDeployments": succeeded, "failedDeployments": failed}
		return true
	}
}

// record stores a deployment's entry (new or updated by resource) and the
// remediation's counts.
func (r *remediationRun) record(ctx context.Context, d remediationDeployment) {
	r.mu.Lock()
	replaced := false
	for i := range r.deps {
		if strings.EqualFold(r.deps[i].RemediatedResourceID, d.RemediatedResourceID) {
			r.deps[i], replaced = d, true
		}
	}
	if !replaced {
		r.deps = append(r.deps, d)
	}
	b, err := json.Marshal(r.deps)
	r.mu.Unlock()
	ctx = context.WithoutCancel(ctx)
	if err == nil {
		err = r.e.cloud.Store().Update(ctx, func(tx store.Tx) error {
			_, err := tx.Put(ctx, tableRemediationDeployments, strings.ToLower(r.j.ID), b, store.Cond{})
			return err
		})
	}
	if err == nil {
		_, err = r.e.updateRemediation(ctx, r.j.ID, r.progress(remRunning))
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		r.e.log.Warn("recording a remediation's progress failed", "remediation", r.j.ID, "err", err)
	}
}

// deployAll remediates the targets, parallelDeployments at a time. No new
// deployment starts once the remediation is being canceled or the failed
// share exceeds the failure threshold; the ones running finish.
func (r *remediationRun) deployAll(ctx context.Context, call *cloud.Call, ps *policies, c *compiled, todo []remTarget) int {
	in := r.j.Input
	var wg sync.WaitGroup
	slots := make(chan struct{}, in.Parallel)
	stop := stopNone
	name := lastName(r.j.ID)
	for _, t := range todo {
		s := t.s
		slots <- struct{}{}
		if ctx.Err() != nil {
			<-slots
			break
		}
		if r.cancelRequested(ctx) {
			<-slots
			stop = stopCanceled
			break
		}
		r.mu.Lock()
		failed := r.failed
		r.mu.Unlock()
		if in.HasFailure && float64(failed)/float64(r.total) > in.Failure {
			<-slots
			stop = stopThreshold
			break
		}
		started := r.e.stamp()
		r.record(ctx, remediationDeployment{RemediatedResourceID: s.ResourceID, ResourceLocation: s.Location, Status: remRunning, CreatedOn: started, LastUpdatedOn: started})
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			d := r.e.remediate(ctx, call, ps, c, in.ReferenceID, s, fmt.Sprintf("PolicyDeployment_%s_%d", name, t.i))
			if ctx.Err() != nil {
				return // interrupted: the next run deploys it again
			}
			d.CreatedOn, d.LastUpdatedOn = started, r.e.stamp()
			r.record(ctx, d)
		}()
	}
	wg.Wait()
	if stop == stopNone && r.cancelRequested(ctx) {
		stop = stopCanceled
	}
	return stop
}

// cancelRequested reads whether the remediation is being canceled.
func (r *remediationRun) cancelRequested(ctx context.Context) bool {
	res, err := r.e.cloud.Get(ctx, r.j.ID)
	if err != nil {
		return false
	}
	props, _ := res.Doc["properties"].(map[string]any)
	return stringOf(props["provisioningState"]) == remCancelling
}

// remediationDeployments reads a remediation's recorded deployments.
func (e *Engine) remediationDeployments(ctx context.Context, id string) ([]remediationDeployment, error) {
	var deps []remediationDeployment
	err := e.cloud.Store().View(ctx, func(tx store.Tx) error {
		rec, err := tx.Get(ctx, tableRemediationDeployments, strings.ToLower(id))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return json.Unmarshal(rec.Value, &deps)
	})
	return deps, err
}

// serveRemediationCancel cancels a remediation that has not ended: it
// moves to Cancelling, no new deployment starts, and the runner records
// it Canceled once the running ones end. An ended remediation cannot be
// canceled (Azure refuses it too).
func (e *Engine) serveRemediationCancel(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	if _, err := e.storedRemediation(ctx, call); err != nil {
		return nil, err
	}
	state := ""
	queued := e.remediationQueued(ctx, call.Target.ID)
	_, err := e.updateRemediation(ctx, call.Target.ID, func(p map[string]any) bool {
		state = stringOf(p["provisioningState"])
		if !remediationInProgress(state) || state == remCancelling {
			return false
		}
		p["provisioningState"] = remCancelling
		if !queued {
			p["provisioningState"] = remCanceled // no runner will end it
		}
		return true
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, arm.Errorf(http.StatusNotFound, "RemediationNotFound", "The remediation '%s' could not be found.", truncate(call.Target.Name, 100))
	}
	if err != nil {
		return nil, err
	}
	if !remediationInProgress(state) {
		return nil, arm.BadRequest("InvalidCancelRemediationRequest", "The remediation '%s' has already ended (%s) and cannot be canceled.", truncate(call.Target.Name, 100), state)
	}
	r, err := e.cloud.Get(ctx, call.Target.ID)
	if err != nil {
		return nil, err
	}
	return &cloud.Response{Status: http.StatusOK, Body: r.Doc, ETag: r.ETag}, nil
}
